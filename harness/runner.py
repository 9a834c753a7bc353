"""Run the grid: for each task, every seed, then one result record per (model, task).

Finished seeds are kept in a hidden cache beside the records, so an interrupted run
resumes where it stopped; a record is written only when all its seeds are done.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import datasets
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness import data as data_module
from harness import baselines, environment, features, records, results
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
    compile: str = "off"  # torch.compile the model: on | off | auto (CUDA and enough steps to pay back)
    limit: Optional[int] = None  # --limit: train on the first N rows of each task's train split (a smoke run)
    eval_limit: Optional[int] = None  # --eval-limit: score the first N rows of its validation split
    allow_single_class: bool = False  # --allow-single-class: score a split that holds one label only
    extra_deviations: list[str] = field(default_factory=list)  # said by the caller, e.g. bench demo's settings

    def limit_deviations(self) -> list[str]:
        """How --limit/--eval-limit depart from every task's protocol, in words for the record."""
        return data_module.limit_deviations(self.limit, self.eval_limit)


@dataclass
class TaskOutcome:
    task_id: str
    status: str  # done | skipped | failed | pending (other shards' seeds) | seeds-done (a --jobs worker)
    scores: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    path: Optional[Path] = None
    error: Optional[str] = None
    wall_s: float = 0.0
    baseline: dict[str, float] = field(default_factory=dict)  # the untrained floor's scores (harness.baselines)


def deviations(spec: TaskSpec, opts: RunOptions) -> list[str]:
    """How a run departs from the task's protocol, in words for the record's protocol field; [] when it follows it."""
    protocol = spec.hyperparameters.model_dump()
    found = [f"{key} {value} (protocol: {protocol[key]})" for key, value in sorted(opts.overrides.items())
             if protocol.get(key) != value]
    for flag, value in (("--train-split", opts.train_split), ("--eval-split", opts.eval_split)):
        if value is not None:
            found.append(f"{flag} {value}")
    return found + opts.limit_deviations() + list(opts.extra_deviations)


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


def _prepare(spec: TaskSpec, model: ResolvedModel, opts: RunOptions):
    hp = hyperparameters(spec, opts.overrides)
    loaded = data_module.load(spec, opts.data_dir, opts.train_split, opts.eval_split, opts.limit, opts.eval_limit,
                              allow_single_class=opts.allow_single_class)
    key = _run_key(model, spec, hp, loaded.fingerprint, (opts.train_split, opts.eval_split, loaded.note))
    return hp, loaded, key


def prepare_features(spec: TaskSpec, model: ResolvedModel, opts: RunOptions, tokenizer) -> None:
    """Load and tokenize a task into the on-disk cache (errors surface later, in the task's own run)."""
    try:
        hp, loaded, _ = _prepare(spec, model, opts)
        features.tokenize(loaded.dataset, tokenizer, spec.head, hp.max_length, spec.sha256, loaded.fingerprint)
    except Exception:
        pass


def _task_key(spec: TaskSpec, model: ResolvedModel, opts: RunOptions) -> Optional[str]:
    """The run key of a task, or None when it cannot even load (its run will then record why)."""
    try:
        return _prepare(spec, model, opts)[2]
    except Exception:
        return None


def missing_seeds(spec: TaskSpec, model: ResolvedModel, opts: RunOptions, key: Optional[str]) -> list[int]:
    """Seeds of ``opts.seeds`` not yet in the seed cache (all of them if the task cannot load)."""
    if key is None:
        return list(opts.seeds)
    return [seed for seed in opts.seeds if opts.force or not _seed_cache(opts, model, spec, key, seed).exists()]


def finished(spec: TaskSpec, model: ResolvedModel, opts: RunOptions, key: Optional[str]) -> bool:
    if opts.force or key is None:
        return False
    return _finished_record(results.record_path(opts.output_dir, model.id, spec.id), key, opts.seeds) is not None


class MissingSeeds(RuntimeError):
    """Seeds that a worker was meant to compute are not in the cache (the worker failed)."""


def run_task(spec: TaskSpec, model: ResolvedModel, opts: RunOptions, tokenizer, progress: Optional[Progress] = None,
             console: Optional[Console] = None, *, device: Optional[str] = None, train: bool = True,
             assemble: bool = True, skip_finished: Optional[bool] = None) -> TaskOutcome:
    """All seeds of one task, then its record; any error becomes this task's failure, never the grid's.

    ``train=False`` only assembles seeds that other processes computed; ``assemble=False`` only
    computes seeds into the cache (what a --jobs worker does).
    """
    console = console or Console()
    started_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    started = time.perf_counter()
    record_path = results.record_path(opts.output_dir, model.id, spec.id)
    failure_path = results.failure_path(opts.output_dir, model.id, spec.id)
    try:
        hp, loaded, key = _prepare(spec, model, opts)
        skip = (not opts.force) if skip_finished is None else skip_finished
        record = _finished_record(record_path, key, opts.seeds) if skip and assemble else None
        if record is not None:
            return TaskOutcome(spec.id, "skipped", record["scores"], record["std"], record_path,
                               baseline=(record.get("baseline") or {}).get("scores", {}))
        torch_device = environment.pick_device(device or opts.device)
        caches = {seed: _seed_cache(opts, model, spec, key, seed) for seed in opts.seeds}
        todo = [seed for seed, cache in caches.items() if (opts.force and train) or not cache.exists()]
        if todo and not train:
            raise MissingSeeds(f"seeds {todo} did not finish")
        if todo:
            encoded = features.tokenize(loaded.dataset, tokenizer, spec.head, hp.max_length, spec.sha256, loaded.fingerprint)
        for seed in todo:
            bar = progress.add_task(f"{spec.id} seed {seed}", total=None) if progress else None

            def on_step(s: dict[str, Any], bar=bar, seed=seed) -> None:
                if progress is not None:
                    progress.update(bar, total=s["steps"], completed=s["step"],
                                    description=f"{spec.id} seed {seed} epoch {s['epoch']}/{hp.epochs} "
                                                f"{s['examples_per_s']:.0f} ex/s loss {s['loss']:.3f}")

            result = finetune(spec, model.path, tokenizer, encoded, hp, seed, torch_device, on_step, opts.compile)
            if progress is not None:
                progress.remove_task(bar)
            console.print(f"  {spec.id} seed {seed}: {result['scores']} (epoch {result['epoch']}, {result['train_s']:.0f} s)")
            results.write_json_atomic(caches[seed], result)
        if not assemble:
            return TaskOutcome(spec.id, "seeds-done", wall_s=time.perf_counter() - started)
        seed_results = [json.loads(caches[seed].read_text(encoding="utf-8")) for seed in opts.seeds]
        record = results.build_record(
            model=model.as_record(),
            task={"id": spec.id, "spec_sha256": spec.sha256, "primary_metric": spec.metrics.primary},
            seed_results=seed_results,
            hyperparameters=hp.model_dump(),
            data={"source": "local" if loaded.source.startswith("local:") else loaded.source, "train_examples": loaded.train_examples,
                  "validation_examples": loaded.validation_examples,
                  "train_split": opts.train_split or _default_split(spec, opts, "train"),
                  "validation_split": opts.eval_split or _default_split(spec, opts, "validation"),
                  "note": loaded.note},
            env=environment.describe(torch_device),
            started_at=started_at,
            # seeds trained elsewhere (--jobs workers) took their own time; this process only gathered them
            wall_s=(time.perf_counter() - started) if todo else sum(r.get("wall_s", r["train_s"]) for r in seed_results),
            baseline=baselines.compute(spec, loaded.dataset),
            protocol=_protocol(deviations(spec, opts)),
        )
        record["run_key"] = key
        path = results.write_record(opts.output_dir, record)
        failure_path.unlink(missing_ok=True)
        return TaskOutcome(spec.id, "done", record["scores"], record["std"], path, wall_s=record["wall_s"],
                           baseline=record["baseline"]["scores"])
    except KeyboardInterrupt:
        raise
    except Exception as err:  # one task's failure must not stop the others
        message = f"{type(err).__name__}: {err}"
        failure = records.FailureRecord(model=model.as_record(), task={"id": spec.id},
                                        error={"type": type(err).__name__, "message": str(err)},
                                        started_at=started_at, seeds=opts.seeds)
        records.write(failure_path, failure)
        traceback.print_exc()
        console.print(f"[red]  {spec.id} failed: {message}[/red]")
        return TaskOutcome(spec.id, "failed", error=message, wall_s=time.perf_counter() - started)


def _protocol(found: list[str]) -> records.Protocol:
    return records.Protocol(followed=not found, deviations=found)


def _default_split(spec: TaskSpec, opts: RunOptions, split: str) -> str:
    source = spec.dataset.local if opts.data_dir else spec.dataset.hub
    return getattr(source, split) if source else split


def run(specs: list[TaskSpec], model: ResolvedModel, opts: RunOptions, console: Optional[Console] = None,
        jobs: int = 1, shard: Optional[tuple[int, int]] = None) -> list[TaskOutcome]:
    """Every task of ``specs`` with every seed: in this process, or in ``jobs`` processes per GPU, or one shard of the grid."""
    from transformers import AutoTokenizer

    console = console or Console()
    datasets.disable_progress_bars()  # our own bars say what runs; one per map() call is noise
    if jobs == 1 and shard is None:
        tokenizer = AutoTokenizer.from_pretrained(model.path)
        outcomes = []
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=console, transient=True) as progress:
            tasks_bar = progress.add_task(f"{model.id}: tasks", total=len(specs))
            for spec in specs:
                outcomes.append(run_task(spec, model, opts, tokenizer, progress, console))
                progress.advance(tasks_bar)
        return outcomes
    return _run_grid(specs, model, opts, console, jobs, shard)


def _run_grid(specs, model, opts, console, jobs, shard) -> list[TaskOutcome]:
    from harness import grid

    planned = grid.plan(specs, opts.seeds)
    if shard is not None:
        planned = grid.shard(planned, *shard)
        console.print(f"shard {shard[0]}/{shard[1]}: {len(planned)} of {len(specs) * len(opts.seeds)} (task, seed) runs")
    keys = {spec.id: _task_key(spec, model, opts) for spec in specs}  # loads each task's data once
    done_tasks = {spec.id for spec in specs if finished(spec, model, opts, keys[spec.id])}
    missing = {spec.id: set(missing_seeds(spec, model, opts, keys[spec.id])) for spec in specs if spec.id not in done_tasks}
    todo = [job for job in planned if job.task_id in missing and job.seed in missing[job.task_id]]
    console.print(f"{len(todo)} run(s) to do in {jobs} process(es) per device")
    job_outcomes = grid.run_parallel(specs, model, opts, todo, jobs, console) if todo else {}
    errors = {job.task_id: o.error for job, o in job_outcomes.items() if o.status == "failed"}

    gathered = replace(opts, force=False)  # the seeds are fresh now; only gather them
    mine = {job.task_id for job in planned}
    outcomes = []
    for spec in specs:
        if spec.id not in mine and spec.id not in done_tasks:
            continue  # another shard's task
        if spec.id in errors:  # the worker wrote this task's failure record
            outcomes.append(TaskOutcome(spec.id, "failed", error=errors[spec.id]))
        elif missing_seeds(spec, model, gathered, keys[spec.id]):
            outcomes.append(TaskOutcome(spec.id, "pending", error="seeds of other shards not finished yet"))
        else:
            outcomes.append(run_task(spec, model, gathered, None, console=console, train=False,
                                     skip_finished=not opts.force and spec.id in done_tasks))
    return outcomes


def summary_table(model_id: str, outcomes: list[TaskOutcome], specs: list[TaskSpec]) -> Table:
    by_id = {s.id: s for s in specs}
    table = Table(title=f"{model_id}", caption="baseline: the primary metric of a constant guess on the same validation "
                  "rows (majority class of train, train mean, or all O), never trained; a floor, not a rank")
    for column in ("task", "status", "primary", "score", "± std", "baseline", "other metrics", "wall s"):
        table.add_column(column, justify="right" if column in ("score", "± std", "baseline", "wall s") else "left")
    for o in outcomes:
        primary = by_id[o.task_id].metrics.primary
        baseline = f"[dim]{o.baseline[primary]:.2f}[/dim]" if primary in o.baseline else "-"
        if o.status in ("failed", "pending"):
            status = "[red]failed[/red]" if o.status == "failed" else "[yellow]pending[/yellow]"
            table.add_row(o.task_id, status, primary, "-", "-", baseline, escape(o.error or ""), f"{o.wall_s:.0f}")
            continue
        others = ", ".join(f"{k} {v:.2f}" for k, v in o.scores.items() if k != primary)
        table.add_row(o.task_id, o.status, primary, f"{o.scores[primary]:.2f}", f"{o.std.get(primary, 0):.2f}", baseline,
                      others, f"{o.wall_s:.0f}")
    return table
