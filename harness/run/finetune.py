"""Fine-tune one model on one task with one seed, scoring the validation split as it goes.

Reads top to bottom: ``finetune`` sets up (model, batches, optimizer), runs the loop
(``train_until``), scores (``evaluate``) a given number of times an epoch, and selects the
evaluation the task's protocol picks. A plain PyTorch loop rather than HF Trainer:
length-bucketed batches, bf16 autocast and fused AdamW, and evaluation in large
length-sorted batches make each step cheap.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import datasets
import numpy as np
import torch
from torch.utils.data import DataLoader
from transformers import set_seed
from transformers.trainer_pt_utils import LengthGroupedSampler

from harness.results.records import Evaluation, SeedResult
from harness.run import optim
from harness.run.runconfig import COMPILE_MODES
from harness.tasks import heads, metrics
from harness.tasks.spec import Hyperparameters, TaskSpec

MODEL_INPUTS = ("input_ids", "token_type_ids", "attention_mask", "labels")
COMPILE_MIN_STEPS = 1000  # below this many steps the compile time (tens of seconds) is not won back
CUDA_CHECK_EVERY = 50  # steps between loss checks on CUDA: each check waits for the GPU, so not every step


class TrainingDiverged(RuntimeError):
    """The loss, the gradients or the weights stopped being finite numbers."""


def should_compile(mode: str, device: torch.device, total_steps: int) -> bool:
    if mode not in COMPILE_MODES:
        raise ValueError(f"--compile {mode!r}: use {', '.join(COMPILE_MODES)}")
    return mode == "on" or (mode == "auto" and device.type == "cuda" and total_steps >= COMPILE_MIN_STEPS)


def model_inputs(ds: datasets.Dataset) -> datasets.Dataset:
    """The columns a model takes (input ids, masks, labels) of an encoded split; the rest stays for scoring."""
    return ds.select_columns([c for c in MODEL_INPUTS if c in ds.column_names])


@dataclass
class Run:
    """One seed's training state, built by ``setup``."""

    spec: TaskSpec
    head: heads.Head
    tokenizer: Any
    hp: Hyperparameters
    device: torch.device
    model: torch.nn.Module
    loader: DataLoader
    optimizer: torch.optim.Optimizer
    scheduler: Any
    check_every: int
    step: int = 0  # optimizer steps done
    train_s: float = 0.0  # seconds spent in training steps, evaluation excluded
    evaluations: list[Evaluation] = field(default_factory=list)
    predictions: list[list[Any]] = field(default_factory=list)  # each evaluation's, for the one selected


def setup(spec: TaskSpec, model_path: str, tokenizer, train: datasets.Dataset, hp: Hyperparameters, seed: int,
          device: torch.device, compile: str) -> Run:
    """The model with a fresh head, length-bucketed batches, AdamW and a linear schedule with warm-up."""
    set_seed(seed)
    head = heads.get(spec.head)
    model = head.build(model_path, spec.dataset.labels).to(device)
    steps_per_epoch = math.ceil(len(train) / hp.batch_size)
    if should_compile(compile, device, hp.epochs * steps_per_epoch):
        # dynamic shapes: length-bucketed batches differ in length, and one graph must serve them all
        model.compile(dynamic=True)
    sampler = LengthGroupedSampler(hp.batch_size, lengths=train["length"], generator=torch.Generator().manual_seed(seed))
    loader = DataLoader(model_inputs(train), batch_size=hp.batch_size, sampler=sampler, collate_fn=head.collator(tokenizer))
    optimizer, scheduler = optim.adamw(model.parameters(), lr=hp.learning_rate, weight_decay=hp.weight_decay,
                                       warmup_ratio=hp.warmup_ratio, total_steps=hp.epochs * len(loader), device=device)
    check_every = 1 if device.type == "cpu" else CUDA_CHECK_EVERY  # on the CPU a check costs nothing
    return Run(spec, head, tokenizer, hp, device, model, loader, optimizer, scheduler, check_every)


def evaluation_steps(steps_per_epoch: int, evals_per_epoch: int) -> list[int]:
    """The steps within an epoch (1-based) after which the validation split is scored; the last is the epoch's end."""
    count = max(1, min(evals_per_epoch, steps_per_epoch))
    return sorted({math.ceil(k * steps_per_epoch / count) for k in range(1, count + 1)})


def finetune(
    spec: TaskSpec,
    model_path: str,
    tokenizer,
    data: datasets.DatasetDict,
    hp: Hyperparameters,
    seed: int,
    device: torch.device,
    on_step: Optional[Callable[[dict[str, Any]], None]] = None,
    compile: str = "off",
) -> SeedResult:
    """Train for ``hp.epochs``, scoring as the protocol says; the seed's result with the evaluation it selects."""
    began = time.time()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)  # this run's peak, not an earlier run's in the same process
    run = setup(spec, model_path, tokenizer, data["train"], hp, seed, device, compile)
    eval_at = evaluation_steps(len(run.loader), hp.evals_per_epoch)
    for epoch in range(1, hp.epochs + 1):
        train_epoch(run, epoch, eval_at, data["validation"], on_step)
    chosen = select(run.evaluations, spec)
    result = SeedResult(
        seed=seed, scores=chosen.scores, epoch=chosen.epoch, step=chosen.step, evaluations=run.evaluations,
        train_s=round(run.train_s, 2),
        examples_per_s=round(hp.epochs * len(data["train"]) / max(run.train_s, 1e-9), 1),
        wall_s=round(time.time() - began, 2),
        ran={"start": began, "end": time.time(), "device": str(device)},
        memory=_peak_memory(device),
    )
    chosen_predictions = run.predictions[run.evaluations.index(chosen)]
    result._predictions = run.head.scored(data["validation"], chosen_predictions, spec.dataset.labels)
    result.warnings = [f"{spec.id} seed {seed}: {note}"
                       for note in metrics.undefined(spec.metrics.names, *result._predictions)]
    return result


def _peak_memory(device: torch.device) -> Optional[dict[str, float]]:
    if device.type != "cuda":
        return None
    gib = 2**30
    return {"max_allocated_gib": round(torch.cuda.max_memory_allocated(device) / gib, 3),
            "max_reserved_gib": round(torch.cuda.max_memory_reserved(device) / gib, 3)}


def train_epoch(run: Run, epoch: int, eval_at: list[int], validation: datasets.Dataset,
                on_step: Optional[Callable[[dict[str, Any]], None]]) -> None:
    """One pass over the batches; the validation split is scored after each step in ``eval_at``."""
    run.model.train()
    started, seen, last_eval = time.perf_counter(), 0, 0
    loss_sum = torch.zeros((), dtype=torch.float64, device=run.device)  # summed on the device: no sync per step
    bad = torch.zeros((), dtype=torch.bool, device=run.device)  # a loss or gradient norm was not finite
    for step, batch in enumerate(run.loader, start=1):
        loss, grad_norm = _train_step(run, batch)
        run.step += 1
        seen += batch["input_ids"].shape[0]
        loss_sum += loss.detach().double()
        bad |= ~torch.isfinite(loss.detach()) | ~torch.isfinite(grad_norm)
        if step % run.check_every == 0 or step in eval_at:
            _check_finite(bad, epoch, step)
            if on_step:
                on_step({"epoch": epoch, "step": step, "steps": len(run.loader), "examples": seen,
                         "examples_per_s": seen / max(time.perf_counter() - started, 1e-9),
                         "loss": float(loss_sum) / (step - last_eval)})
        if step in eval_at:  # _check_finite above waited for the device, so the clock covers its work
            segment_s = time.perf_counter() - started
            run.train_s += segment_s
            _check_weights(run, epoch, step)
            mean_loss = round(float(loss_sum) / (step - last_eval), 5)
            run.evaluations.append(evaluate(run, validation, epoch, mean_loss, segment_s))
            loss_sum.zero_()
            started, last_eval = time.perf_counter(), step
            run.model.train()


def _train_step(run: Run, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    batch = {k: v.to(run.device) for k, v in batch.items()}
    with torch.autocast(run.device.type, dtype=torch.bfloat16, enabled=run.device.type == "cuda"):
        loss = run.model(**batch).loss
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(run.model.parameters(), 1.0)
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    return loss, grad_norm


def _check_finite(bad: torch.Tensor, epoch: int, step: int) -> None:
    if bool(bad):
        raise TrainingDiverged(f"the loss or its gradients stopped being finite by epoch {epoch}, step {step}; "
                               "try a lower learning rate (--set learning_rate=...)")


def _check_weights(run: Run, epoch: int, step: int) -> None:
    """The last optimizer step can turn weights to NaN or infinity after a finite loss; score nothing then."""
    finite = torch.stack([torch.isfinite(p).all() for p in run.model.parameters()]).all()
    if not bool(finite):
        raise TrainingDiverged(f"the weights stopped being finite by epoch {epoch}, step {step}; "
                               "try a lower learning rate (--set learning_rate=...)")


def evaluate(run: Run, validation: datasets.Dataset, epoch: int, loss: float, train_s: Optional[float] = None) -> Evaluation:
    predictions = predict(run.model, validation, run.spec, run.tokenizer, run.device, run.hp.eval_batch_size)
    run.predictions.append(predictions)
    return Evaluation(epoch=epoch, step=run.step, loss=loss, scores=score(run.spec, validation, predictions),
                      train_s=None if train_s is None else round(train_s, 3))


def select(evaluations: list[Evaluation], spec: TaskSpec) -> Evaluation:
    """The evaluation the protocol keeps: the best by its selection metric, or the last."""
    if spec.selection != "best":
        return evaluations[-1]
    metric = spec.selection_metric or spec.metrics.primary
    return max(evaluations, key=lambda e: e.scores[metric])  # the first of equals: the earlier checkpoint


def predict(model, ds: datasets.Dataset, spec: TaskSpec, tokenizer, device: torch.device, batch_size: int) -> list[Any]:
    """Predictions for every row of ``ds``, in its order; batches are sorted by length so little is padding."""
    head = heads.get(spec.head)
    collate = head.collator(tokenizer)
    lengths = np.asarray(ds["length"])
    order = np.argsort(-lengths, kind="stable")
    # sorted once, read a batch at a time as columns: no per-row Python work on large dev sets (YNAT: 9,107 rows)
    inputs = model_inputs(ds).remove_columns([c for c in ("labels",) if c in ds.column_names]).select(order)
    outputs: list[Any] = [None] * len(ds)
    model.eval()
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        for start in range(0, len(order), batch_size):
            columns = inputs[start : start + batch_size]
            batch = collate([dict(zip(columns, row)) for row in zip(*columns.values())])
            logits = model(**{k: v.to(device) for k, v in batch.items()}).logits.float().cpu()
            if not torch.isfinite(logits).all():
                raise TrainingDiverged("the model's outputs on the validation split are not finite numbers")
            idx = order[start : start + batch_size]
            for i, prediction in zip(idx.tolist(), head.predictions(logits, lengths[idx].tolist())):
                outputs[i] = prediction
    return outputs


def score(spec: TaskSpec, ds: datasets.Dataset, predictions: list[Any]) -> dict[str, float]:
    return heads.get(spec.head).score(spec.metrics.names, ds, predictions, spec.dataset.labels, **spec.metrics.parameters)
