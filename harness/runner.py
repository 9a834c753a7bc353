"""Run the grid: for each task, every seed, then one result record per (model, task).

Finished seeds are kept in a hidden cache beside the records, so an interrupted run
resumes where it stopped; a record is written only when all its seeds are done.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import datasets
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness import data as data_module
from harness import environment, features, results
from harness.finetune import finetune
from harness.models import ResolvedModel
from harness.spec import Hyperparameters, SpecError, TaskSpec


@dataclass
class RunOptions:
    seeds: list[int] = field(default_factory=lambda: [42])
    output_dir: Path = Path("reports/results")
    data_dir: Optional[Path] = None  # None: the hub
    train_split: Optional[str] = None
    eval_split: Optional[str] = None
    overrides: dict[str, Any] = field(default_factory=dict)  # --set key=value
    device: str = "auto"
    force: bool = False


@dataclass
class TaskOutcome:
    task_id: str
    status: str  # done | skipped | failed
    scores: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    path: Optional[Path] = None
    error: Optional[str] = None
    wall_s: float = 0.0


def hyperparameters(spec: TaskSpec, overrides: dict[str, Any]) -> Hyperparameters:
    """The spec's hyperparameters with --set overrides, validated by the same schema."""
    unknown = set(overrides) - set(Hyperparameters.model_fields)
    if unknown:
        raise SpecError(
            f"--set {', '.join(sorted(unknown))}: unknown hyperparameter; known: {', '.join(Hyperparameters.model_fields)}"
        )
    try:
        return Hyperparameters.model_validate({**spec.hyperparameters.model_dump(), **overrides})
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise SpecError(f"--set: {problems}") from None


def _run_key(model: ResolvedModel, spec: TaskSpec, hp: Hyperparameters, source: str, splits: tuple) -> str:
    """Everything a seed's score depends on besides the seed; a change reruns it."""
    payload = json.dumps([model.revision, spec.sha256, hp.model_dump(), source, splits], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _seed_cache(opts: RunOptions, model: ResolvedModel, spec: TaskSpec, key: str, seed: int) -> Path:
    suite, name = spec.id.split("/")
    return Path(opts.output_dir) / results.model_slug(model.id) / ".seeds" / f"{suite}__{name}" / f"{key}-seed{seed}.json"


def _finished_record(path: Path, key: str, seeds: list[int]) -> Optional[dict[str, Any]]:
    if not path.exists():
        return None
    try:
        record = results.read_record(path)
    except ValueError:
        return None
    same_seeds = sorted(s["seed"] for s in record["seeds"]) == sorted(seeds)
    return record if same_seeds and record.get("run_key") == key else None


def run_task(spec: TaskSpec, model: ResolvedModel, opts: RunOptions, tokenizer, progress: Optional[Progress] = None,
             console: Optional[Console] = None) -> TaskOutcome:
    """All seeds of one task, then its record; any error becomes this task's failure, never the grid's."""
    console = console or Console()
    started_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    started = time.perf_counter()
    record_path = results.record_path(opts.output_dir, model.id, spec.id)
    failure_path = results.failure_path(opts.output_dir, model.id, spec.id)
    try:
        hp = hyperparameters(spec, opts.overrides)
        loaded = data_module.load(spec, opts.data_dir, opts.train_split, opts.eval_split)
        key = _run_key(model, spec, hp, loaded.source, (opts.train_split, opts.eval_split, loaded.note))
        record = None if opts.force else _finished_record(record_path, key, opts.seeds)
        if record is not None:
            return TaskOutcome(spec.id, "skipped", record["scores"], record["std"], record_path)
        encoded = features.tokenize(loaded.dataset, tokenizer, spec.head, hp.max_length, spec.sha256, loaded.source)
        device = environment.pick_device(opts.device)
        seed_results = []
        for seed in opts.seeds:
            cache = _seed_cache(opts, model, spec, key, seed)
            if cache.exists() and not opts.force:
                seed_results.append(json.loads(cache.read_text(encoding="utf-8")))
                continue
            bar = progress.add_task(f"{spec.id} seed {seed}", total=None) if progress else None

            def on_step(s: dict[str, Any], bar=bar) -> None:
                if progress is not None:
                    progress.update(bar, total=s["steps"], completed=s["step"],
                                    description=f"{spec.id} seed {seed} epoch {s['epoch']}/{hp.epochs} "
                                                f"{s['examples_per_s']:.0f} ex/s loss {s['loss']:.3f}")

            result = finetune(spec, model.path, tokenizer, encoded, hp, seed, device, on_step)
            if progress is not None:
                progress.remove_task(bar)
            console.print(f"  {spec.id} seed {seed}: {result['scores']} (epoch {result['epoch']}, {result['train_s']:.0f} s)")
            results.write_json_atomic(cache, result)
            seed_results.append(result)
        record = results.build_record(
            model=model.as_record(),
            task={"id": spec.id, "spec_sha256": spec.sha256, "primary_metric": spec.metrics.primary},
            seed_results=seed_results,
            hyperparameters=hp.model_dump(),
            data={"source": loaded.source, "train_examples": loaded.train_examples,
                  "validation_examples": loaded.validation_examples,
                  "train_split": opts.train_split or _default_split(spec, opts, "train"),
                  "validation_split": opts.eval_split or _default_split(spec, opts, "validation"),
                  "note": loaded.note},
            env=environment.describe(device),
            started_at=started_at,
            wall_s=time.perf_counter() - started,
        )
        record["run_key"] = key
        path = results.write_record(opts.output_dir, record)
        failure_path.unlink(missing_ok=True)
        return TaskOutcome(spec.id, "done", record["scores"], record["std"], path, wall_s=record["wall_s"])
    except KeyboardInterrupt:
        raise
    except Exception as err:  # one task's failure must not stop the others
        message = f"{type(err).__name__}: {err}"
        results.write_json_atomic(failure_path, {
            "schema": results.FAILURE_SCHEMA, "model": model.as_record(), "task": {"id": spec.id},
            "error": message, "traceback": traceback.format_exc(), "started_at": started_at,
        })
        console.print(f"[red]  {spec.id} failed: {message}[/red]")
        return TaskOutcome(spec.id, "failed", error=message, wall_s=time.perf_counter() - started)


def _default_split(spec: TaskSpec, opts: RunOptions, split: str) -> str:
    source = spec.dataset.local if opts.data_dir else spec.dataset.hub
    return getattr(source, split) if source else split


def run(specs: list[TaskSpec], model: ResolvedModel, opts: RunOptions, console: Optional[Console] = None) -> list[TaskOutcome]:
    from transformers import AutoTokenizer

    console = console or Console()
    datasets.disable_progress_bars()  # our own bars say what runs; one per map() call is noise
    tokenizer = AutoTokenizer.from_pretrained(model.path)
    outcomes = []
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        tasks_bar = progress.add_task(f"{model.id}: tasks", total=len(specs))
        for spec in specs:
            outcomes.append(run_task(spec, model, opts, tokenizer, progress, console))
            progress.advance(tasks_bar)
    return outcomes


def summary_table(model_id: str, outcomes: list[TaskOutcome], specs: list[TaskSpec]) -> Table:
    by_id = {s.id: s for s in specs}
    table = Table(title=f"{model_id}")
    for column in ("task", "status", "primary", "score", "± std", "other metrics", "wall s"):
        table.add_column(column, justify="right" if column in ("score", "± std", "wall s") else "left")
    for o in outcomes:
        primary = by_id[o.task_id].metrics.primary
        if o.status == "failed":
            table.add_row(o.task_id, "[red]failed[/red]", primary, "-", "-", o.error or "", f"{o.wall_s:.0f}")
            continue
        others = ", ".join(f"{k} {v:.2f}" for k, v in o.scores.items() if k != primary)
        table.add_row(o.task_id, o.status, primary, f"{o.scores[primary]:.2f}", f"{o.std.get(primary, 0):.2f}", others,
                      f"{o.wall_s:.0f}")
    return table
