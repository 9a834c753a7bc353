"""koenbert step 2: MiniLMv2 distillation from a Korean and an English teacher at once.

The student is step 1's extended Korean model. At every micro-step a coin picks a language:
a Korean batch goes through the Korean teacher (which keeps the student from forgetting its
Korean), an English batch through the English teacher (from which it learns English). Both
teachers are frozen; the loss is the MiniLMv2 Q-Q/K-K/V-V relation KL (see minilm.py) between
one layer of the teacher and one layer of the student, on the same token positions (see
corpus.py).

The file reads top to bottom: the settings with their defaults, setup, the loop, the save.

One process:   bench koenbert distill --student DIR --ko-teacher M --en-teacher M \\
                   --ko-corpus ko.txt --en-corpus en.txt --out runs/x
Several GPUs:  accelerate launch --multi_gpu --num_processes 8 $(which bench) koenbert distill ...
               (the same on CPU cores, over gloo; or torchrun --nproc_per_node 8 $(which bench) ...)
Every process reads its own slice of the same global batch, so N processes with batch B
train exactly like one process with batch N*B (the loss and the updates agree; test_distill.py).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from harness.koenbert.corpus import CorpusError, build_chunks, corpus_files, piece_map

LANGS = ("ko", "en")


class DistillError(ValueError):
    """A setting, an output directory or a model the user must fix; the message names the flag and the fix."""


# ---------------------------------------------------------------------------------------------
# Settings. The defaults are the koenbert-base recipe (issue 5); recipes/koenbert-base.yaml
# spells them out. Units and reasons on each line.
# ---------------------------------------------------------------------------------------------
class DistillConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    student: str  # step 1's output: a Korean BERT whose vocabulary also holds every English piece
    ko_teacher: str  # hub id or directory; frozen; reads the Korean corpus (klue/bert-base)
    en_teacher: str  # hub id or directory; frozen; reads the English corpus (bert-base-uncased)
    ko_corpus: list[str]  # plain-text files (one text per line) or directories of *.txt
    en_corpus: list[str]
    out: str  # the output model directory; checkpoints, chunk cache and log.jsonl go inside it

    seq_len: int = Field(256, ge=3)  # tokens per chunk, [CLS] and [SEP] included
    batch_size: int = Field(16, ge=1)  # chunks per process per micro-step
    grad_accum: int = Field(1, ge=1)  # micro-steps per optimizer step; each draws its own language
    steps: int = Field(100_000, ge=1)  # optimizer steps; the schedule spans them
    lr: float = Field(5e-5, gt=0)  # peak learning rate of AdamW
    betas: tuple[float, float] = (0.9, 0.98)  # AdamW (beta1, beta2); 0.98 as in RoBERTa/MiniLMv2
    weight_decay: float = Field(0.01, ge=0)  # on matrices and embeddings; never on biases and LayerNorm
    warmup: float = Field(0.01, ge=0, le=1)  # share of steps with linear warm-up; then linear decay to 0
    clip: float = Field(1.0, gt=0)  # max global gradient norm
    p_ko: float = Field(0.5, ge=0, le=1)  # probability that a micro-step is Korean, else English
    relation_heads: int = Field(48, ge=1)  # A of MiniLMv2: 768 / 48 = 16 dims per relation head (see the recipe); divides every hidden size
    teacher_layer: int = -1  # which attention layer of the teachers to mimic; -1 = the last
    student_layer: int = -1  # which attention layer of the student learns it; -1 = the last
    seed: int = Field(0, ge=0)  # language coins, chunk order, dropout

    save_every: int = Field(1000, ge=1)  # optimizer steps between checkpoints
    keep_checkpoints: int = Field(2, ge=1)  # the newest N checkpoints stay on disk
    log_every: int = Field(10, ge=1)  # optimizer steps per line of log.jsonl
    precision: Literal["auto", "bf16", "fp32"] = "auto"  # auto: bf16 autocast on a GPU, fp32 on CPU
    stop_at: Optional[int] = Field(None, ge=1)  # checkpoint and stop after this step (time-limited jobs); --resume goes on


# Settings that may change between an interrupted run and its --resume; any other change
# would make the resumed run a different run, so it is refused.
CHANGEABLE_ON_RESUME = {"out", "save_every", "keep_checkpoints", "log_every", "stop_at"}


@dataclass
class TrainState:
    """Where the run is; saved in every checkpoint (Accelerate saves model, optimizer, scheduler and RNGs)."""

    step: int = 0  # optimizer steps done
    micro_step: int = 0  # batches drawn; the language coin of batch i is a function of (seed, i)
    cursor: dict = field(default_factory=lambda: {lang: [0, 0] for lang in LANGS})  # (epoch, offset) per language
    tokens: int = 0  # tokens the student has read, all processes together

    def state_dict(self) -> dict:
        return asdict(self)

    def load_state_dict(self, state: dict) -> None:
        self.__dict__.update(state)


def distill(cfg: DistillConfig, resume: bool = False, show_progress: bool = True) -> dict:
    """Run (or with ``resume``, continue) a distillation; returns the summary also written to distill.json."""
    # Heavy imports here, so that `bench --help` and the recipe schema load without torch.
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from rich.console import Console
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer, get_linear_schedule_with_warmup

    from harness.koenbert.minilm import QKVTap, check_relation_heads, minilm_loss

    # -----------------------------------------------------------------------------------------
    # Setup: check everything that can be wrong before the first step.
    # -----------------------------------------------------------------------------------------
    if cfg.precision == "auto":
        precision = "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
    else:
        precision = {"bf16": "bf16", "fp32": "no"}[cfg.precision]
    # cpu=True without a GPU: Accelerate then joins CPU processes (gloo) started by `accelerate launch
    # --multi_gpu` or torchrun; without it, each would silently train alone.
    accelerator = Accelerator(mixed_precision=precision, cpu=not torch.cuda.is_available())
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched != accelerator.num_processes:
        raise DistillError(
            f"{launched} processes were launched but Accelerate joined {accelerator.num_processes}; on CPU launch with "
            "`accelerate launch --multi_gpu --num_processes N` or `torchrun --nproc_per_node N` (`accelerate launch --cpu` starts one)"
        )
    is_main = accelerator.is_main_process
    console = Console(stderr=True, quiet=not is_main, soft_wrap=True)  # soft_wrap: long paths stay on one line in logs
    out = Path(cfg.out)
    checkpoints = out / "checkpoints"
    latest = check_out(out, resume)
    if latest is not None:
        saved = json.loads((out / "distill-config.json").read_text())
        changed = {k for k in saved if k not in CHANGEABLE_ON_RESUME and saved[k] != cfg.model_dump(mode="json").get(k)}
        if changed:
            diffs = "; ".join(f"{k}: {saved[k]!r} -> {cfg.model_dump(mode='json').get(k)!r}" for k in sorted(changed))
            raise DistillError(
                f"--resume {out}: the settings differ from the run's ({out / 'distill-config.json'}): {diffs}. "
                "An exact resume needs the same settings; change them back, or start a new --out"
            )
    corpora = {lang: corpus_files(getattr(cfg, f"{lang}_corpus"), f"--{lang}-corpus") for lang in LANGS}
    accelerator.wait_for_everyone()  # every process has checked --out before the main one writes into it

    set_seed(cfg.seed)
    student_tokenizer = _load(AutoTokenizer, cfg.student, "--student")
    student = _load(AutoModelForMaskedLM, cfg.student, "--student")
    teachers, tokenizers, tables, taps = {}, {}, {}, {}
    for lang in LANGS:
        name, flag = getattr(cfg, f"{lang}_teacher"), f"--{lang}-teacher"
        tokenizers[lang] = _load(AutoTokenizer, name, flag)
        teachers[lang] = _load(AutoModel, name, flag, quiet=True).eval().requires_grad_(False).to(accelerator.device)
        taps[lang] = QKVTap(teachers[lang], cfg.teacher_layer, f"{flag} {name}")
        check_relation_heads(teachers[lang].config.hidden_size, cfg.relation_heads, f"{flag} {name}")
        _check_positions(teachers[lang].config, cfg.seq_len, f"{flag} {name}")
        tables[lang] = torch.as_tensor(piece_map(tokenizers[lang], student_tokenizer, f"{flag} {name}", f"--student {cfg.student}"))
    student_tap = QKVTap(student, cfg.student_layer, f"--student {cfg.student}")
    check_relation_heads(student.config.hidden_size, cfg.relation_heads, f"--student {cfg.student}")
    _check_positions(student.config, cfg.seq_len, f"--student {cfg.student}")

    # The corpora, tokenized once by each teacher and cached in --out (a resume reads the cache).
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "distill-config.json").write_text(json.dumps(cfg.model_dump(mode="json"), indent=2) + "\n")
    global_batch = cfg.batch_size * accelerator.num_processes  # chunks per micro-step, all processes
    chunks = {}
    with accelerator.local_main_process_first():  # one process per node tokenizes; the others read its cache
        for lang in LANGS:
            chunks[lang] = _chunks(out / "chunks" / f"{lang}.npy", corpora[lang], tokenizers[lang], cfg, lang, console,
                                   resuming=latest is not None)
            if len(chunks[lang]) < global_batch:
                raise CorpusError(
                    f"--{lang}-corpus: {len(chunks[lang])} chunks of {cfg.seq_len} tokens, fewer than one batch "
                    f"({cfg.batch_size} x {accelerator.num_processes} processes = {global_batch}); add text or lower --batch-size"
                )

    # Parameters the loss cannot reach (the MLM head; the distilled layer's attention output and
    # feed-forward; later layers) get no gradient, and DDP refuses parameters that never get one.
    # Freeze them; one backward pass finds them, so any BERT-like student works without a name list.
    student.to(accelerator.device).eval()  # eval: this probe must not draw dropout randomness
    probe = torch.full((1, 4), student_tokenizer.cls_token_id, device=accelerator.device)
    student.base_model(input_ids=probe)
    sum(x.float().sum() for x in student_tap.take()).backward()
    frozen = [n for n, p in student.named_parameters() if p.grad is None]
    for p in student.parameters():
        p.requires_grad_(p.grad is not None)
        p.grad = None
    student.train()

    # AdamW without weight decay on biases and LayerNorm weights (the vectors), as in BERT.
    trainable = [p for p in student.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in trainable if p.ndim >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0},
    ]
    # fused: one kernel for every parameter, on GPU and CPU alike (on CPU ~50x faster than the default loop)
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, fused=accelerator.device.type in ("cuda", "cpu"))
    # Stepped by hand once per optimizer step: Accelerate would step a prepared scheduler once per process.
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(cfg.warmup * cfg.steps), cfg.steps)
    # Only the encoder is wrapped (DDP, autocast): calling the MLM model would compute vocabulary
    # logits (batch x 256 x 62k) that the loss never uses.
    body, optimizer = accelerator.prepare(student.base_model, optimizer)
    state = TrainState()
    accelerator.register_for_checkpointing(scheduler, state)
    log_path = out / "log.jsonl"
    if latest is not None:
        accelerator.load_state(str(latest))  # weights, optimizer, scheduler, TrainState and every process's RNGs
        if is_main:
            _truncate_log(log_path, state.step)  # a crash after the checkpoint left lines the resumed run rewrites
        console.print(f"resumed from {latest} at step {state.step:,} of {cfg.steps:,}")
    elif resume:
        console.print(f"--resume: no checkpoint in {checkpoints}; starting at step 0")
    console.print(
        f"student {cfg.student}: {sum(p.numel() for p in trainable):,} parameters trained, "
        f"{len(frozen)} tensors frozen (unreachable by the loss); {accelerator.num_processes} process(es), "
        f"precision {precision}; chunks: ko {len(chunks['ko']):,}, en {len(chunks['en']):,} of {cfg.seq_len} tokens"
    )

    orders: dict = {}  # (lang, epoch) -> permutation of chunk indices

    def next_batch(lang: str) -> tuple[torch.Tensor, torch.Tensor]:
        """This process's slice of the next global batch of ``lang``: (teacher ids, student ids)."""
        epoch, offset = state.cursor[lang]
        n = len(chunks[lang])
        if offset + global_batch > n:  # the epoch's remainder is smaller than a batch: next epoch
            epoch, offset = epoch + 1, 0
        if (lang, epoch) not in orders:
            orders.clear()
            orders[lang, epoch] = np.random.default_rng([cfg.seed, LANGS.index(lang), epoch]).permutation(n)
        start = offset + accelerator.process_index * cfg.batch_size
        rows = orders[lang, epoch][start : start + cfg.batch_size]
        state.cursor[lang] = [epoch, offset + global_batch]
        teacher_ids = torch.as_tensor(chunks[lang][rows].astype(np.int64))
        return teacher_ids.to(accelerator.device), tables[lang][teacher_ids].to(accelerator.device)

    def is_korean(micro_step: int) -> bool:
        # A function of (seed, micro_step) alone: the same on every process, and nothing to save for resume.
        return bool(np.random.default_rng([cfg.seed, 2, micro_step]).random() < cfg.p_ko)

    # -----------------------------------------------------------------------------------------
    # The loop.
    # -----------------------------------------------------------------------------------------
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    stop = min(cfg.stop_at or cfg.steps, cfg.steps)
    window = {"loss": [], "ko": [], "en": [], "tokens": 0, "t0": time.perf_counter()}
    started, first_loss, last_record, tokens_before = time.perf_counter(), None, {}, state.tokens
    shown: dict = {}  # the newest loss of each language, for the progress bar
    bar = Progress(
        TextColumn("distill"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(), console=console, disable=not (is_main and show_progress),
    )
    with bar:
        task = bar.add_task("distill", total=cfg.steps, completed=state.step, info="")
        while state.step < stop:
            micro_losses = {lang: [] for lang in LANGS}
            step_tokens = 0
            for micro in range(cfg.grad_accum):
                lang = "ko" if is_korean(state.micro_step) else "en"
                state.micro_step += 1
                teacher_ids, student_ids = next_batch(lang)
                mask = torch.ones_like(student_ids)  # packed chunks hold no padding; the loss still takes a mask
                with torch.no_grad(), accelerator.autocast():
                    teachers[lang](input_ids=teacher_ids, attention_mask=mask)
                teacher_qkv = taps[lang].take()
                # DDP averages gradients only on the last micro-step of an optimizer step.
                last = micro == cfg.grad_accum - 1
                with contextlib.nullcontext() if last else accelerator.no_sync(body):
                    body(input_ids=student_ids, attention_mask=mask)
                    loss = minilm_loss(teacher_qkv, student_tap.take(), mask, cfg.relation_heads)
                    accelerator.backward(loss / cfg.grad_accum)
                micro_losses[lang].append(loss.detach())
                step_tokens += student_ids.numel() * accelerator.num_processes  # all real tokens; as many per process
            grad_norm = accelerator.clip_grad_norm_(trainable, cfg.clip)
            lr = optimizer.param_groups[0]["lr"]  # the rate this step uses (0 on the first step of a warm-up)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            state.step += 1

            # Losses averaged over processes (every process drew the same languages, so the lists align).
            for lang in LANGS:
                if micro_losses[lang]:
                    mean = accelerator.reduce(torch.stack(micro_losses[lang]).mean(), "mean").item()
                    window[lang].append(mean)
                    window["loss"].append(mean)
                    first_loss = mean if first_loss is None else first_loss
            state.tokens += step_tokens
            window["tokens"] += step_tokens
            if state.step % cfg.log_every == 0 or state.step == stop:
                seconds = time.perf_counter() - window["t0"]
                last_record = {
                    "step": state.step,
                    "lr": lr,
                    "loss": _mean(window["loss"]),
                    "loss_ko": _mean(window["ko"]),
                    "loss_en": _mean(window["en"]),
                    "grad_norm": float(grad_norm),
                    "tokens": state.tokens,
                    "tokens_per_s": window["tokens"] / seconds,
                    "elapsed_s": time.perf_counter() - started,
                }
                if is_main:
                    with open(log_path, "a") as f:
                        f.write(json.dumps(last_record) + "\n")
                shown.update({k: last_record["loss_" + k] for k in LANGS if last_record["loss_" + k] is not None})
                info = " ".join(f"loss {k} {v:.4f}" for k, v in shown.items())
                bar.update(task, info=f"{info}  {last_record['tokens_per_s']:,.0f} tok/s")
                window = {"loss": [], "ko": [], "en": [], "tokens": 0, "t0": time.perf_counter()}
            bar.update(task, completed=state.step)
            if state.step % cfg.save_every == 0 or state.step == stop:
                _save_checkpoint(accelerator, checkpoints, state.step, cfg.keep_checkpoints)

    # -----------------------------------------------------------------------------------------
    # Save: a plain HF model directory (the student's MLM model and tokenizer) that `bench run` scores.
    # -----------------------------------------------------------------------------------------
    for tap in (*taps.values(), student_tap):
        tap.remove()
    summary = {
        "finished": state.step >= cfg.steps,
        "step": state.step,
        "steps": cfg.steps,
        "first_loss": first_loss,
        "last": last_record,
        "processes": accelerator.num_processes,
        "precision": precision,
        "tokens_per_s": (state.tokens - tokens_before) / (time.perf_counter() - started),  # this session, all processes
        "wall_s": time.perf_counter() - started,
    }
    accelerator.wait_for_everyone()
    if is_main and summary["finished"]:
        student.save_pretrained(out)
        student_tokenizer.save_pretrained(out)
        (out / "distill.json").write_text(json.dumps(summary, indent=2) + "\n")
        console.print(f"saved the distilled student to {out}")
    elif is_main:
        console.print(f"stopped at step {state.step:,} of {cfg.steps:,}; the same command with --resume goes on")
    accelerator.wait_for_everyone()
    return summary


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def check_out(out: Path, resume: bool) -> Optional[Path]:
    """The newest checkpoint in ``out`` (None: start at step 0); refuses to overwrite a run without --resume."""
    latest = _latest_checkpoint(out / "checkpoints")
    ours = (out / "distill-config.json").exists()  # a run started here (maybe stopped before its first checkpoint)
    if not resume and (latest is not None or (out.exists() and any(out.iterdir()) and not ours)):
        raise DistillError(f"--out {out}: exists and is not empty; pass --resume to continue the run in it, or choose another --out")
    return latest


def _mean(values: list) -> Optional[float]:
    return sum(values) / len(values) if values else None


def _load(cls, name: str, flag: str, quiet: bool = False):
    """``cls.from_pretrained(name)``; a failure names the flag. ``quiet``: no load report (a teacher's
    missing pooler or unused MLM head does not matter here)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    try:
        if quiet:
            hf_logging.set_verbosity_error()
        return cls.from_pretrained(name)
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DistillError(f"{flag} {name}: cannot load it ({first}); give a local model directory or a hub id") from None
    finally:
        hf_logging.set_verbosity(verbosity)


def _check_positions(config, seq_len: int, name: str) -> None:
    limit = getattr(config, "max_position_embeddings", None)
    if limit is not None and seq_len > limit:
        raise DistillError(f"{name}: has {limit} positions, fewer than --seq-len {seq_len}; lower --seq-len")


def _chunks(path: Path, files: list[Path], tokenizer, cfg: DistillConfig, lang: str, console, resuming: bool) -> np.ndarray:
    """The cached chunks of one language, built on first use; memory-mapped, so big corpora stay on disk.

    A resumed run must read the very chunks its checkpoint was cut from, so a cache that no longer
    matches the files is an error then; before the first checkpoint it is simply rebuilt."""
    manifest = {
        "files": [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files],
        "teacher": getattr(cfg, f"{lang}_teacher"),
        "seq_len": cfg.seq_len,
    }
    manifest_path = path.with_suffix(".json")
    if path.exists() and manifest_path.exists():
        if json.loads(manifest_path.read_text()) == manifest:
            return np.load(path, mmap_mode="r")
        if resuming:
            raise CorpusError(
                f"--{lang}-corpus: the files or settings changed since {path} was made from them "
                f"(see {manifest_path}); an exact resume needs the same text: restore the files or start a new --out"
            )
    console.print(f"tokenizing --{lang}-corpus ({len(files)} file(s)) with {manifest['teacher']}'s tokenizer")
    chunks = build_chunks(files, tokenizer, cfg.seq_len, f"--{lang}-corpus")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.npy")  # write then rename: a crash never leaves half a cache
    np.save(tmp, chunks)
    os.replace(tmp, path)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return np.load(path, mmap_mode="r")


def _latest_checkpoint(checkpoints: Path) -> Optional[Path]:
    done = sorted(p for p in checkpoints.glob("step-*") if p.is_dir() and p.name[5:].isdigit())
    return done[-1] if done else None


def _save_checkpoint(accelerator, checkpoints: Path, step: int, keep: int) -> None:
    """Write ``checkpoints/step-NNNNNNNN`` via a temporary name, so the newest complete one is always valid."""
    final = checkpoints / f"step-{step:08d}"
    tmp = checkpoints / f"tmp-step-{step:08d}"
    if accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))  # every process writes its own RNG state into it
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        for old in sorted(p for p in checkpoints.glob("step-*") if p.name[5:].isdigit())[:-keep]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()


def _truncate_log(log_path: Path, step: int) -> None:
    if log_path.exists():
        lines = [line for line in log_path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
        log_path.write_text("".join(line + "\n" for line in lines))
