"""Synthetic result records (marked so) built through harness.results.records' models, so they are always valid."""

from __future__ import annotations

import random
from pathlib import Path

from harness.results import records
from harness.results.records import write_json_atomic
from harness.tasks.spec import TaskSpec

ENV = {"koenbench": "0.1.0", "git": "a12753b0c4f1e2d3b4a5968778695a4b3c2d1e0f", "torch": "2.13.0",
       "transformers": "4.57.0", "device": "NVIDIA H200", "precision": "bf16"}


def build_record(*, model: dict, seed_results: list[dict], **fields) -> dict:
    """A validated record (as a dict) from plain dicts; a model without ``source`` is inferred as old records were."""
    seeds = [records.parse_seed(s) for s in seed_results]
    model = records.migrate({"schema": records.OLD_RESULT_SCHEMAS[0], "model": model})["model"]
    return records.to_json(records.ResultRecord.from_seeds(seeds, model=model, **fields))


def record_path(results_dir: Path, model_id: str, task_id: str) -> Path:
    return records.record_path(results_dir, records.model_slug(model_id), task_id)


def failure_path(results_dir: Path, model_id: str, task_id: str) -> Path:
    return records.failure_path(results_dir, records.model_slug(model_id), task_id)


def make_record(
    model_id: str,
    task: TaskSpec,
    primary: float,
    *,
    seeds: int = 3,
    spread: float = 0.3,  # +- points around the mean, over the seeds
    started_at: str = "2026-11-27T10:00:00Z",
    wall_s: float = 310.4,
    env: dict | None = None,
    revision: str = "0123456789abcdef0123456789abcdef01234567",
) -> dict:
    """A record whose primary metric has mean ``primary``; other metrics sit a little below it."""
    offsets = [0.0] if seeds == 1 else [spread * (2 * i / (seeds - 1) - 1) for i in range(seeds)]
    seed_results = [
        {"seed": 42 + i,
         "scores": {m: round(primary + off - 1.5 * j, 4) for j, m in enumerate(task.metrics.names)},
         "epoch": task.hyperparameters.epochs, "train_s": round(wall_s / seeds, 1)}
        for i, off in enumerate(offsets)
    ]
    return build_record(
        model={"id": model_id, "revision": revision},
        task={"id": task.id, "spec_sha256": task.sha256, "primary_metric": task.metrics.primary},
        seed_results=seed_results,
        hyperparameters=task.hyperparameters.model_dump(),
        data={"source": f"hub:{task.dataset.hub.path}@main" if task.dataset.hub else "local",
              "train_examples": 1000, "validation_examples": 200},
        env=env or ENV,
        started_at=started_at,
        wall_s=wall_s,
        protocol={"followed": True, "deviations": []},
        synthetic=True,
    )


def write_record(results_dir: Path, record: dict, path: Path | None = None) -> Path:
    return write_json_atomic(path or record_path(results_dir, record["model"]["id"], record["task"]["id"]), record)


def synthetic_reports(reports_dir: Path, n_models: int, tasks: list[TaskSpec], seed: int = 0) -> int:
    """``n_models`` x every task, random but plausible scores; returns the number of records written."""
    rng = random.Random(seed)
    count = 0
    for m in range(n_models):
        skill = rng.uniform(60, 92)
        for task in tasks:
            record = make_record(f"synthetic/model-{m:03d}", task, round(skill + rng.uniform(-4, 4), 2),
                                 seeds=3, spread=rng.uniform(0.1, 0.8))
            write_record(Path(reports_dir) / "results", record)
            count += 1
    return count
