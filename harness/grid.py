"""The (task, seed) grid: shards for cluster job arrays, and N concurrent runs per GPU.

One fine-tuning run of a base-size encoder is bound by per-step overhead and leaves a
large GPU mostly idle, so several runs share each card, each in its own process (a
crash or a CUDA error stays in its process). Workers only compute seeds into the seed
cache; the parent then writes one record per (model, task) from those seeds.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import Optional

import torch
from rich.console import Console

from harness import runner
from harness.models import ResolvedModel
from harness.spec import TaskSpec

GIB = 1024**3
RUN_MEMORY_GIB = 10  # a base-size encoder's fine-tuning run at batch 32 in bf16, with headroom (NER at 510 tokens the most)
MAX_JOBS_PER_GPU = 8


@dataclass(frozen=True)
class Job:
    task_id: str
    seed: int


def plan(specs: list[TaskSpec], seeds: list[int]) -> list[Job]:
    return [Job(spec.id, seed) for spec in specs for seed in seeds]


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


_slots: Optional[mp.Queue] = None


def _init_worker(slots: mp.Queue, threads: int) -> None:
    global _slots
    _slots = slots
    # as many threads as the parent: float sums then run in the same order, so scores equal --jobs 1's
    torch.set_num_threads(threads)


def _run_job(job: Job, spec: TaskSpec, model: ResolvedModel, opts: runner.RunOptions) -> runner.TaskOutcome:
    from transformers import AutoTokenizer

    device = _slots.get()  # a free slot: its device is ours until the job ends
    try:
        tokenizer = AutoTokenizer.from_pretrained(model.path)
        return runner.run_task(spec, model, replace(opts, seeds=[job.seed]), tokenizer, console=Console(quiet=True),
                               device=device, assemble=False)
    finally:
        _slots.put(device)


def run_parallel(specs: list[TaskSpec], model: ResolvedModel, opts: runner.RunOptions, jobs: list[Job], workers: int,
                 console: Console) -> dict[Job, runner.TaskOutcome]:
    """Compute the seeds of ``jobs`` in ``workers`` processes; returns each job's outcome."""
    from transformers import AutoTokenizer

    by_id = {spec.id: spec for spec in specs}
    tokenizer = AutoTokenizer.from_pretrained(model.path)
    for task_id in dict.fromkeys(job.task_id for job in jobs):
        # tokenize once here, so the workers all read the same on-disk cache instead of racing to write it
        runner.prepare_features(by_id[task_id], model, opts, tokenizer)
    devices = worker_devices(workers, opts.device)
    context = mp.get_context("spawn")  # CUDA cannot be used in forked children
    slots = context.Queue()
    for device in devices:
        slots.put(device)
    threads = torch.get_num_threads()
    outcomes: dict[Job, runner.TaskOutcome] = {}
    with ProcessPoolExecutor(len(devices), mp_context=context, initializer=_init_worker, initargs=(slots, threads)) as pool:
        futures = {pool.submit(_run_job, job, by_id[job.task_id], model, opts): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                outcomes[job] = future.result()
            except Exception as err:  # the worker process itself died
                outcomes[job] = runner.TaskOutcome(job.task_id, "failed", error=f"{type(err).__name__}: {err}")
            status = outcomes[job].status
            console.print(f"  {job.task_id} seed {job.seed}: {status}" + (f" ({outcomes[job].error})" if status == "failed" else ""))
    return outcomes
