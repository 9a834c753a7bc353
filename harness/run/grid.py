"""The (task, seed) grid of a `bench run`: which seeds run, where, and in what order.

``run`` prepares every selected task of one model once (its data loaded once, its failure
recorded once if it cannot load), refuses usage mistakes before any training, skips finished
work, trains the missing seeds in this process, in N processes per GPU, or only one shard of
the grid (a cluster job array), and then writes one record per task whose seeds are all
done. ``run_many`` is the same loop over a plan across models whose tasks each have their
own options (a ``Unit`` each), in one pool; ``run`` is that plan for one model's tasks.

One fine-tuning run of a base-size encoder is bound by per-step overhead and leaves a
large GPU mostly idle, so several runs share each card, each in its own process (a crash
or a CUDA error stays in its process). Workers get the task's encoded features (memory
mapped from the on-disk cache, never loaded again) and write only their seed's result.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Optional

import datasets
import torch
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.core import environment
from harness.results import records
from harness.run import runner
from harness.run.models import ResolvedModel
from harness.run.preflight import UsageError
from harness.run.runner import PreparedTask, RunOptions, TaskOutcome
from harness.tasks import heads
from harness.tasks.spec import TaskSpec

GIB = 1024**3
RUN_MEMORY_GIB = 10  # a base-size encoder's fine-tuning run at batch 32 in bf16, with headroom (NER at 510 tokens the most)
MAX_JOBS_PER_GPU = 8


@dataclass(frozen=True)
class Unit:
    """One (task, model, options) of a plan across models: what `bench run --model M --tasks T ...` would run."""

    spec: TaskSpec
    model: ResolvedModel
    opts: RunOptions


@dataclass(frozen=True)
class Job:
    task_id: str
    seed: int
    unit: int = 0  # the index of its Unit in the plan

    @property
    def group(self) -> tuple[int, str]:
        """The runs that make one record: a task of one unit."""
        return self.unit, self.task_id


def plan(units: list[Unit]) -> list[Job]:
    """Every (task, seed) of the plan: unit by unit, each with its own seeds."""
    return [Job(u.spec.id, seed, i) for i, u in enumerate(units) for seed in u.opts.seeds]


def parse_shard(text: str) -> tuple[int, int]:
    """'i/n' with 0 <= i < n -> (i, n)."""
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard {text!r}: expected i/n, e.g. --shard 0/4 (SLURM: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)") from None
    if not 0 <= index < count:
        raise ValueError(f"--shard {text!r}: i must satisfy 0 <= i < n")
    return index, count


def shard(jobs: list[Job], index: int, count: int) -> list[Job]:
    """Every count-th job from index: the shards partition the grid and spread each task's seeds."""
    return jobs[index::count]


def default_jobs_per_gpu() -> int:
    if not torch.cuda.is_available():
        return 1
    free, _ = torch.cuda.mem_get_info(0)
    return max(1, min(MAX_JOBS_PER_GPU, int(free // (RUN_MEMORY_GIB * GIB))))


def worker_devices(jobs_per_gpu: int, device: str) -> list[str]:
    """One device name per worker slot: jobs_per_gpu slots on every visible GPU, or on the CPU."""
    if device == "cpu" or (device == "auto" and not torch.cuda.is_available()):
        return ["cpu"] * jobs_per_gpu
    if device.startswith("cuda:"):
        return [device] * jobs_per_gpu
    return [f"cuda:{i}" for i in range(torch.cuda.device_count()) for _ in range(jobs_per_gpu)]


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------


def run(specs: list[TaskSpec], model: ResolvedModel, opts: RunOptions, console: Optional[Console] = None,
        jobs: int = 1, shard_range: Optional[tuple[int, int]] = None) -> list[TaskOutcome]:
    """Every task of ``specs`` with every seed: in this process, in ``jobs`` processes per device, or one shard.

    One outcome per task in the order of ``specs``; a task of another shard whose record is not
    finished has none.
    """
    return _schedule([Unit(spec, model, opts) for spec in specs], console or Console(), jobs, shard_range)


def run_many(units: list[Unit], console: Optional[Console] = None, jobs: int = 1) -> list[TaskOutcome]:
    """Several models' tasks, each with its own options (its own --train-split, say), one outcome per unit.

    Each unit runs as `bench run` runs it (finished records skipped, usage refused before any
    training, a record written once its seeds are done); with ``jobs`` > 1 the seeds of every
    unit share one pool of that many processes per device, so no model waits for another's
    last seed. Every unit then runs on one device (the first unit's ``--device``).
    """
    return _schedule(units, console or Console(), jobs, None)


def _schedule(units: list[Unit], console: Console, jobs: int,
              shard_range: Optional[tuple[int, int]]) -> list[TaskOutcome]:
    """The loop of ``run`` and ``run_many``: each unit prepared once, usage refused before any training,
    finished units skipped, this shard's missing seeds trained here or in workers, one outcome per unit."""
    from transformers import AutoTokenizer

    if not units:
        return []
    datasets.disable_progress_bars()  # our own bars say what runs; one per map() call is noise
    started_at = runner.now()
    tokenizers = {u.model.path: AutoTokenizer.from_pretrained(u.model.path) for u in units}
    prepared, outcomes = _prepare_all(units, console, started_at)
    planned = _my_share(plan(units), shard_range, console)
    _refuse_or_warn(prepared, console)
    outcomes.update(_skip_finished(prepared))
    mine = {job.unit for job in planned}
    prepared = {i: task for i, task in prepared.items() if i in mine and i not in outcomes}  # not finished, not another shard's
    todo = [job for job in planned if job.unit in prepared and _needs(prepared[job.unit], job.seed, console)]
    if jobs == 1:
        outcomes.update(_run_here(prepared, todo, tokenizers, console))
    else:
        outcomes.update(_run_in_workers(prepared, todo, tokenizers, jobs, units[0].opts.device, console, started_at))
    return [outcomes[i] for i in range(len(units)) if i in outcomes]


def _my_share(planned: list[Job], shard_range: Optional[tuple[int, int]], console: Console) -> list[Job]:
    """The runs of the plan this process does: all of them, or its shard's."""
    if shard_range is None:
        return planned
    mine = shard(planned, *shard_range)
    console.print(f"shard {shard_range[0]}/{shard_range[1]}: {len(mine)} of {len(planned)} (task, seed) runs")
    return mine


def _refuse_or_warn(prepared: dict[int, PreparedTask], console: Console) -> None:
    """Before any training: raise UsageError if a record must not be replaced; name each damaged record."""
    refusals = [why for task in prepared.values() if (why := refusal(task))]
    if refusals:  # nothing is written
        raise UsageError(refusals)
    for task in prepared.values():
        if (why := damaged(task)) is not None:
            console.print(Text(f"{why}: this run writes a new record in its place", style="yellow"))


def _skip_finished(prepared: dict[int, PreparedTask]) -> dict[int, TaskOutcome]:
    """A "skipped" outcome for each unit whose record already holds its seeds under its run key (unless --force)."""
    skipped = {}
    for i, task in prepared.items():
        record = None if task.opts.force else task.finished_record()
        if record is not None:
            skipped[i] = TaskOutcome(task.spec.id, "skipped", record.scores, record.std, task.record_path,
                                     baseline=record.baseline.scores if record.baseline else {})
    return skipped


def _needs(task: PreparedTask, seed: int, console: Console) -> bool:
    return task.opts.force or not task.has_seed(seed, console)


def refusal(task: PreparedTask) -> Optional[str]:
    """Why this run must not replace the record (or failure record) already at the task's place, or None."""
    for path, read in ((task.record_path, records.read_result), (task.failure_path, records.read_failure)):
        try:
            if path.exists():
                read(path)
        except records.NewerSchema as err:
            return f"{err}; this older koenbench will not replace it. Upgrade koenbench, or write to another --results folder"
        except records.RecordError:
            pass  # unreadable: named by damaged(), and this run writes a good one in its place
    if not task.record_path.exists():
        return None
    try:
        existing = records.read_result(task.record_path)
    except records.RecordError:
        return None
    conflict = task.model.conflict(existing.model.model_dump(), str(task.record_path))
    if conflict:
        return conflict
    had, asked = {s.seed for s in existing.seeds}, set(task.opts.seeds)
    if asked < had:
        return (f"{task.record_path} holds seeds {sorted(had)}; this run asks for {sorted(asked)} and would replace "
                f"it with fewer. Ask for --seeds {','.join(map(str, sorted(had)))} (finished seeds are reused), or "
                "write to another --results folder")
    return None


def damaged(task: PreparedTask) -> Optional[str]:
    """The record at the task's place when it cannot be read (cut short, edited by hand), with why; None otherwise."""
    if not task.record_path.exists():
        return None
    try:
        records.read_result(task.record_path)
    except records.RecordError as err:
        return f"not a readable record: {err}"
    return None


def _prepare_all(units: list[Unit], console: Console,
                 started_at: str) -> tuple[dict[int, PreparedTask], dict[int, TaskOutcome]]:
    """Each unit prepared once; a unit that cannot be prepared is failed here, once, with its reason."""
    prepared, failed = {}, {}
    for i, u in enumerate(units):
        try:
            prepared[i] = runner.prepare(u.spec, u.model, u.opts)
        except KeyboardInterrupt:
            raise
        except Exception as err:  # this task's data or settings: recorded as its failure, the others go on
            failed[i] = runner.record_failure(u.spec, u.model, u.opts, err, started_at, console)
    return prepared, failed


def _run_here(prepared: dict[int, PreparedTask], todo: list[Job], tokenizers: dict[str, object],
              console: Console) -> dict[int, TaskOutcome]:
    """Seeds in this process, unit by unit; each unit's record is written as soon as its seeds are done."""
    seeds_of = {i: [job.seed for job in todo if job.unit == i] for i in prepared}
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    outcomes = {}
    with Progress(*columns, console=console, transient=True) as progress:
        tasks_bar = progress.add_task("tasks", total=len(prepared))
        for i, task in prepared.items():
            progress.update(tasks_bar, description=f"{escape(task.model.id)}: tasks")
            outcomes[i] = _run_task_here(task, seeds_of[i], tokenizers[task.model.path],
                                         environment.pick_device(task.opts.device), console, progress, runner.now())
            progress.advance(tasks_bar)
    return outcomes


def _run_task_here(task: PreparedTask, seeds: list[int], tokenizer, device: torch.device, console: Console,
                   progress: Progress, started_at: str) -> TaskOutcome:
    began = time.perf_counter()
    try:
        if seeds:
            encoded = runner.encode(task, tokenizer)
        for seed in seeds:
            result = runner.train_seed(task, tokenizer, encoded, seed, device, progress)
            console.print(f"  {escape(task.spec.id)} seed {seed}: {result.scores} "
                          f"(epoch {result.epoch}, {result.train_s:.0f} s)", highlight=False)
        return _gather(task, tokenizer, device, started_at, time.perf_counter() - began if seeds else None)
    except KeyboardInterrupt:
        raise
    except Exception as err:  # one task's failure must not stop the others
        return runner.record_failure(task.spec, task.model, task.opts, err, started_at, console,
                                     time.perf_counter() - began)


def _gather(task: PreparedTask, tokenizer, device: torch.device, started_at: str, wall_s: Optional[float]) -> TaskOutcome:
    """The task's record when all its seeds are cached; otherwise it waits for other shards."""
    missing = [seed for seed in task.opts.seeds if not task.has_seed(seed)]
    if missing:
        return TaskOutcome(task.spec.id, "pending", error=f"seeds {missing} of other shards not finished yet")
    if heads.get(task.spec.head).kind == "tags" and task.unk_sentences is None:
        runner.encode(task, tokenizer)  # from the cache: counts the unknown pieces
    return runner.assemble(task, started_at, device, wall_s)


# --------------------------------------------------------------------------------------
# Worker processes
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedJob:
    """What a worker needs for one seed: the prepared task without its raw data, and its features."""

    task: PreparedTask
    encoded: datasets.DatasetDict
    seed: int
    unit: int = 0  # Job.unit


_slots: Optional[mp.Queue] = None  # free devices: a worker takes one for each job
_started: Optional[mp.SimpleQueue] = None  # (task id, seed) of each job a worker begins, for the parent to see


def _init_worker(slots: mp.Queue, started: mp.SimpleQueue, threads: int, parent: Optional[int] = None) -> None:
    global _slots, _started
    _slots, _started = slots, started
    # as many threads as the parent: float sums then run in the same order, so scores equal --jobs 1's
    torch.set_num_threads(threads)
    if parent is not None:
        die_with_parent(parent)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """End this worker when the `bench run` that started it (pid ``parent``) dies, even by kill -9: a worker holds a
    model and its data (hundreds of MB) and must not live on as an orphan. Linux delivers SIGKILL at once
    (prctl PR_SET_PDEATHSIG); elsewhere a thread checks every second whether the parent is still there."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:  # the parent died before the signal was asked for
                os._exit(1)
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _run_job(job: SeedJob) -> None:
    """In a worker: train one seed into the seed cache. Errors travel back to the parent as exceptions."""
    mark_started(job)
    train(job)


def mark_started(job: SeedJob) -> None:
    _started.put((job.task.spec.id, job.seed, job.unit))  # a SimpleQueue writes at once: seen even if the process dies next


def train(job: SeedJob) -> None:
    from transformers import AutoTokenizer

    device = _slots.get()  # a free slot: its device is ours until the job ends
    try:
        tokenizer = AutoTokenizer.from_pretrained(job.task.model.path)
        runner.train_seed(job.task, tokenizer, job.encoded, job.seed, environment.pick_device(device))
    finally:
        _slots.put(device)


def _run_in_workers(prepared: dict[int, PreparedTask], todo: list[Job], tokenizers: dict[str, object], workers: int,
                    device: str, console: Console, started_at: str) -> dict[int, TaskOutcome]:
    """Seeds in worker processes on ``device``; then one record per unit whose seeds all finished."""
    outcomes: dict[int, TaskOutcome] = {}
    seed_jobs = {}
    for i in dict.fromkeys(job.unit for job in todo):
        task = prepared[i]
        try:  # encoded here, once, so the workers share one on-disk cache instead of racing to write it
            encoded = runner.encode(task, tokenizers[task.model.path])
        except Exception as err:  # this unit's features: recorded as its failure, the others go on
            outcomes[i] = runner.record_failure(task.spec, task.model, task.opts, err, started_at, console)
            continue
        lean = _lean(task)
        seed_jobs.update({job: SeedJob(lean, encoded, job.seed, i) for job in todo if job.unit == i})
    console.print(f"{len(seed_jobs)} run(s) to do in {workers} process(es) per device")
    errors = run_parallel(seed_jobs, workers, device, console)
    picked = environment.pick_device(device)
    for i, task in prepared.items():
        if i in outcomes:
            continue
        if (i, task.spec.id) in errors:
            outcomes[i] = runner.record_failure(task.spec, task.model, task.opts, errors[i, task.spec.id], started_at,
                                                console)
        else:
            # the seeds took their own time in the workers; this process only gathers them
            outcomes[i] = _gather_or_fail(task, tokenizers[task.model.path], picked, started_at, console)
    return outcomes


def _lean(task: PreparedTask) -> PreparedTask:
    """The task as a worker gets it: the raw validation rows only (predictions are stored with them), no train rows."""
    loaded = task.loaded
    return replace(task, loaded=replace(loaded, dataset=datasets.DatasetDict(validation=loaded.dataset["validation"])))


def _gather_or_fail(task: PreparedTask, tokenizer, device: torch.device, started_at: str,
                    console: Console) -> TaskOutcome:
    try:
        return _gather(task, tokenizer, device, started_at, None)
    except Exception as err:  # a seed cache that cannot be read: this task's failure
        return runner.record_failure(task.spec, task.model, task.opts, err, started_at, console)


class WorkerDied(RuntimeError):
    """The process running a seed ended without a result (killed, out of memory, a crash in native code)."""


def run_parallel(seed_jobs: dict[Job, SeedJob], workers: int, device: str, console: Console) -> dict[tuple[int, str], BaseException]:
    """Run ``seed_jobs`` in ``workers`` processes; returns the first error of each task (``Job.group``) that had one.

    A dead worker breaks its whole process pool. The jobs it held are retried alone, one
    process each, so a job that kills its process fails only itself; the rest go on in a
    fresh pool.
    """
    errors: dict[tuple[int, str], BaseException] = {}
    pending, suspects = list(seed_jobs), []
    while pending or suspects:
        if suspects:
            batch, size = [suspects.pop(0)], 1
        else:
            batch, size, pending = pending, workers, []
        finished, in_flight, not_started = _pool_round(batch, size, seed_jobs, device, console)
        for job, err in finished.items():
            if err is not None:
                errors.setdefault(job.group, err)
        if size == 1:
            for job in in_flight + not_started:
                errors.setdefault(job.group, WorkerDied(f"the process running seed {job.seed} died "
                                                          "(killed, or out of memory)"))
        elif in_flight:
            suspects.extend(in_flight)
            pending.extend(not_started)
        else:  # the pool died before any job began: try each alone, so every round makes progress
            suspects.extend(not_started)
    return errors


def _pool_round(batch: list[Job], size: int, seed_jobs: dict[Job, SeedJob], device: str,
                console: Console) -> tuple[dict[Job, Optional[BaseException]], list[Job], list[Job]]:
    """One process pool over ``batch``: (finished jobs -> error or None, jobs in flight when a worker died, jobs never started)."""
    devices = worker_devices(size, device)
    context = mp.get_context("spawn")  # CUDA cannot be used in forked children
    slots, started = context.Queue(), context.SimpleQueue()
    for name in devices:
        slots.put(name)
    finished: dict[Job, Optional[BaseException]] = {}
    with ProcessPoolExecutor(len(devices), mp_context=context, initializer=_init_worker,
                             initargs=(slots, started, torch.get_num_threads(), os.getpid())) as pool:
        futures = {pool.submit(_run_job, seed_jobs[job]): job for job in batch}
        for future in as_completed(futures):
            if isinstance(future.exception(), BrokenProcessPool):
                break
            finished[futures[future]] = future.exception()
            _report(console, futures[future], future.exception())
    if len(finished) == len(batch):
        return finished, [], []
    for future, job in futures.items():  # done before the pool broke, but not yet collected
        if job not in finished and not isinstance(future.exception(), BrokenProcessPool):
            finished[job] = future.exception()
    began = set()
    while not started.empty():
        began.add(Job(*started.get()))
    in_flight = [job for job in batch if job not in finished and job in began]
    return finished, in_flight, [job for job in batch if job not in finished and job not in began]


def _report(console: Console, job: Job, err: Optional[BaseException]) -> None:
    status = "done" if err is None else f"failed ({type(err).__name__}: {err})"
    console.print(f"  {escape(job.task_id)} seed {job.seed}: {escape(status)}", highlight=False)
