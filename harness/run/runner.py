"""One task of a `bench run`, as a chain of typed values: PreparedTask -> SeedResult -> ResultRecord.

``prepare`` loads a task's data once and fixes everything its scores depend on (the run
key); ``train_seed`` fine-tunes one seed and keeps its result in a hidden seed cache beside
the records, so an interrupted run resumes where it stopped; ``assemble`` writes the record
once every seed is there; ``record_failure`` writes the failure record. Which seeds run
where (this process, N per GPU, a shard) is harness/run/grid.py's business.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import datasets
import torch
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from harness.core import environment
from harness.results import predictions, records, store
from harness.results.records import FailureRecord, RecordError, ResultRecord, SeedResult
from harness.run import baselines, features
from harness.run.finetune import finetune
from harness.run.models import ResolvedModel
from harness.run.runconfig import RunOptions
from harness.tasks import data as data_module
from harness.tasks import heads
from harness.tasks.spec import Hyperparameters, TaskSpec


@dataclass
class TaskOutcome:
    task_id: str
    status: str  # done | skipped | failed | pending (other shards' seeds)
    scores: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    path: Optional[Path] = None
    error: Optional[str] = None
    wall_s: float = 0.0
    baseline: dict[str, float] = field(default_factory=dict)  # the untrained floor's scores (harness.run.baselines)
    warnings: list[str] = field(default_factory=list)  # about this run's scores (the seeds'), for the console


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class PreparedTask:
    """A task made ready to run: built once per task per invocation, the only place its data is loaded."""

    spec: TaskSpec
    model: ResolvedModel
    opts: RunOptions
    hp: Hyperparameters
    loaded: data_module.LoadedData
    key: str  # everything a seed's score depends on besides the seed; a change reruns it
    deviations: list[str] = field(default_factory=list)  # how this run departs from the task's protocol
    unk_sentences: Optional[int] = None  # token tasks: validation sentences holding an unknown piece (set by encode)

    @property
    def record_path(self) -> Path:
        return records.record_path(self.opts.output_dir, self.model.record_dir, self.spec.id)

    @property
    def failure_path(self) -> Path:
        return records.failure_path(self.opts.output_dir, self.model.record_dir, self.spec.id)

    def seed_cache(self, seed: int) -> Path:
        stem = records.task_file_stem(self.spec.id)
        return Path(self.opts.output_dir) / self.model.record_dir / ".seeds" / stem / f"{self.key}-seed{seed}.json"

    def has_seed(self, seed: int, console: Optional[Console] = None) -> bool:
        """Whether the seed's result is in the cache; a damaged file is named, removed and the seed runs again."""
        path = self.seed_cache(seed)
        if not path.exists():
            return False
        try:
            records.read_seed(path)
            return True
        except RecordError as err:
            path.unlink(missing_ok=True)
            if console is not None:
                console.print(Text(f"  {err}: removed; seed {seed} runs again", style="yellow"))
            return False

    def finished_record(self) -> Optional[ResultRecord]:
        """The record on disk, if it holds exactly these seeds under this run key."""
        if not self.record_path.exists():
            return None
        try:
            record = records.read_result(self.record_path)
        except RecordError:
            return None  # rewritten by this run
        same_seeds = sorted(s.seed for s in record.seeds) == sorted(self.opts.seeds)
        return record if same_seeds and record.run_key == self.key else None


def prepare(spec: TaskSpec, model: ResolvedModel, opts: RunOptions) -> PreparedTask:
    hp = opts.hyperparameters(spec)
    loaded = data_module.load(spec, opts.data_dir, opts.train_split, opts.eval_split, opts.limit, opts.eval_limit,
                              allow_single_class=opts.allow_single_class)
    splits = (opts.train_split, opts.eval_split, loaded.note)
    payload = json.dumps([model.revision, spec.sha256, hp.model_dump(), loaded.fingerprint, splits], sort_keys=True)
    key = hashlib.sha256(payload.encode()).hexdigest()[:16]
    return PreparedTask(spec, model, opts, hp, loaded, key, protocol_deviations(spec, opts, loaded))


def protocol_deviations(spec: TaskSpec, opts: RunOptions, loaded: data_module.LoadedData) -> list[str]:
    """How a run departs from the task's protocol, in words for the record; [] when it follows it exactly."""
    found = []
    for key, value in opts.overrides.items():
        protocol = getattr(spec.hyperparameters, key)
        if value != protocol:
            found.append(f"{key} {value} (protocol: {protocol})")  # from --set
    hub = spec.dataset.hub
    for flag, given, split in (("--train-split", opts.train_split, "train"), ("--eval-split", opts.eval_split, "validation")):
        if given is not None:
            found.append(f"{flag} {given} (protocol: {getattr(hub, split, split) if hub else split})")
    found += opts.limit_deviations() + list(opts.extra_deviations)
    local = spec.dataset.local
    # a task with a hub source is defined by the hub's splits; a local-only task's own splits are its protocol
    if opts.data_dir is not None and local is not None and hub is not None and not (opts.train_split and opts.eval_split):
        if "[" in local.train or local.train == local.validation:
            found.append(f"trained on {loaded.splits[0]} and scored on {loaded.splits[1]} of the local files "
                         "(no train file there), not on the task's own train and validation splits")
    return found


def encode(task: PreparedTask, tokenizer) -> datasets.DatasetDict:
    """The task's features, from the on-disk cache when they were built before."""
    encoded = features.tokenize(task.loaded.dataset, tokenizer, task.spec.head, task.hp.max_length, task.spec.sha256,
                                task.loaded.fingerprint)
    if heads.get(task.spec.head).kind == "tags" and tokenizer.unk_token_id is not None:
        unk = tokenizer.unk_token_id
        task.unk_sentences = sum(unk in ids for ids in encoded["validation"]["input_ids"])
    return encoded


LOG_EVERY_S = 60.0  # without a terminal (a log file, a batch job), a progress line this often, in seconds


def train_seed(task: PreparedTask, tokenizer, encoded: datasets.DatasetDict, seed: int, device: torch.device,
               progress: Optional[Progress] = None) -> SeedResult:
    """Fine-tune one seed and keep its result in the seed cache."""
    bar = progress.add_task(f"{task.spec.id} seed {seed}", total=None) if progress else None
    last_line = [time.monotonic()]

    def on_step(s: dict[str, Any]) -> None:
        if progress is None:
            return
        said = f"{task.spec.id} seed {seed} epoch {s['epoch']}/{task.hp.epochs} {s['examples_per_s']:.0f} ex/s loss {s['loss']:.3f}"
        progress.update(bar, total=s["steps"], completed=s["step"], description=escape(said))
        if not progress.console.is_terminal and time.monotonic() - last_line[0] >= LOG_EVERY_S:
            last_line[0] = time.monotonic()  # no bars in a log file or a batch job: one line a while instead
            progress.console.print(Text(f"  {said}, step {s['step']}/{s['steps']}"), highlight=False)

    result = finetune(task.spec, task.model.path, tokenizer, encoded, task.hp, seed, device, on_step, task.opts.compile)
    if progress is not None:
        progress.remove_task(bar)
    records.write(task.seed_cache(seed), result)
    predictions.keep_seed(task.seed_cache(seed), task.spec, task.loaded.dataset["validation"].to_dict(), result)
    return result


def assemble(task: PreparedTask, started_at: str, device: torch.device, wall_s: Optional[float] = None) -> TaskOutcome:
    """The record of the task's seeds, all read back from the seed cache; written, and any old failure removed.

    ``wall_s`` None: the seeds' own wall time summed (they ran elsewhere, e.g. in --jobs workers).
    """
    seeds = [records.read_seed(task.seed_cache(seed)) for seed in task.opts.seeds]
    loaded, spec = task.loaded, task.spec
    _keep_replaced(task)
    kept = predictions.gather([predictions.seed_file(task.seed_cache(seed)) for seed in task.opts.seeds], task.record_path)
    record = ResultRecord.from_seeds(
        seeds,
        model=task.model.as_record(),
        task={"id": spec.id, "spec_sha256": spec.sha256, "primary_metric": spec.metrics.primary},
        hyperparameters=task.hp.model_dump(),
        data=_provenance(task),
        env=environment.describe(device),
        started_at=started_at,
        wall_s=round(wall_s if wall_s is not None else sum(s.wall_s or s.train_s for s in seeds), 2),
        run_key=task.key,
        baseline=baselines.compute(spec, loaded.dataset),
        protocol={"followed": not task.deviations, "deviations": task.deviations, "tier": task.opts.tier},
        warnings=[*loaded.warnings, *(w for s in seeds for w in s.warnings)],
        predictions={"path": kept[0], "sha256": kept[1]} if kept else None,
    )
    path = records.write(task.record_path, record)
    task.failure_path.unlink(missing_ok=True)
    return TaskOutcome(spec.id, "done", record.scores, record.std, path, wall_s=record.wall_s,
                       baseline=record.baseline.scores, warnings=[w for s in seeds for w in s.warnings])


def _keep_replaced(task: PreparedTask) -> None:
    """A record of another revision of this model (a new hub commit, retrained weights) is moved into the
    model folder's ``.history/`` before the new one takes its place: replaced as current, never lost."""
    if not task.record_path.exists():
        return
    try:
        existing = records.read_result(task.record_path)
    except records.RecordError:
        return
    if existing.model.revision != task.model.revision:
        store.archive(task.record_path, existing)


def _provenance(task: PreparedTask) -> dict[str, Any]:
    loaded = task.loaded
    return {
        "source": loaded.source, "train_examples": loaded.train_examples,
        "validation_examples": loaded.validation_examples, "train_split": loaded.splits[0],
        "validation_split": loaded.splits[1], "note": loaded.note,
        "files": [{"path": f.path, "sha256": f.sha256} for f in loaded.files], "hub_revision": loaded.hub_revision,
        "fingerprint": loaded.fingerprint or None, "label_counts": loaded.label_counts,
        "unk_sentences": task.unk_sentences,
    }


def record_failure(spec: TaskSpec, model: ResolvedModel, opts: RunOptions, err: BaseException, started_at: str,
                   console: Console, wall_s: float = 0.0) -> TaskOutcome:
    """The task's failure record, written once; the grid goes on with the other tasks."""
    failure = FailureRecord(model=model.as_record(), task={"id": spec.id},
                            error={"type": type(err).__name__, "message": str(err)}, started_at=started_at,
                            seeds=list(opts.seeds))
    records.write(records.failure_path(opts.output_dir, model.record_dir, spec.id), failure)
    message = f"{type(err).__name__}: {err}"
    console.print(f"  {escape(spec.id)} failed: {escape(message)}", style="red", highlight=False)
    return TaskOutcome(spec.id, "failed", error=message, wall_s=wall_s)


def summary_table(model_id: str, outcomes: list[TaskOutcome], specs: list[TaskSpec],
                  intervals: Optional[dict[str, dict[str, Any]]] = None) -> Table:
    """The run's scores; ``intervals`` (task -> metric -> bootstrap.Interval) adds each score's 95% interval."""
    by_id, intervals = {s.id: s for s in specs}, intervals or {}
    table = Table(title=escape(model_id), caption="baseline: the primary metric of a constant guess on the same "
                  "validation rows (majority class of train, train mean, or all O), never trained; a floor, not a rank")
    for column in ("task", "status", "primary", "score", "95% interval", "± std", "baseline", "other metrics", "wall s"):
        table.add_column(column, justify="right" if column in ("score", "± std", "baseline", "wall s") else "left")
    for o in outcomes:
        primary = by_id[o.task_id].metrics.primary
        baseline = f"[dim]{o.baseline[primary]:.2f}[/dim]" if primary in o.baseline else "-"
        if o.status in ("failed", "pending"):
            status = "[red]failed[/red]" if o.status == "failed" else "[yellow]pending[/yellow]"
            table.add_row(o.task_id, status, primary, "-", "-", "-", baseline, escape(o.error or ""), f"{o.wall_s:.0f}")
            continue
        found = intervals.get(o.task_id, {})

        def interval(metric: str) -> str:
            if metric not in found:
                return "-"
            alone = " examples only: 1 seed" if found[metric].examples_only else ""  # its seed variance is unknown
            return f"[{found[metric].low:.2f}, {found[metric].high:.2f}]{alone}"

        others = ", ".join(f"{k} {v:.2f} {interval(k)}" if k in found else f"{k} {v:.2f}"
                           for k, v in o.scores.items() if k != primary)
        table.add_row(o.task_id, o.status, primary, f"{o.scores[primary]:.2f}", interval(primary),
                      f"{o.std.get(primary, 0):.2f}", baseline, escape(others), f"{o.wall_s:.0f}")
    return table
