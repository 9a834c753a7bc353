"""The result record: the one contract between the runner and the leaderboard site.

One JSON file per (model, task) at ``<output>/<model-slug>/<suite>__<task>.json``,
all seeds inside. The schema is versioned from day one (``SCHEMA``).
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import tempfile
from pathlib import Path
from typing import Any

SCHEMA = "koenbench.result/1"
FAILURE_SCHEMA = "koenbench.failure/1"

# field -> type every valid record has at the top level
REQUIRED_FIELDS: dict[str, type | tuple[type, ...]] = {
    "schema": str,
    "model": dict,
    "task": dict,
    "scores": dict,
    "std": dict,
    "seeds": list,
    "hyperparameters": dict,
    "data": dict,
    "env": dict,
    "started_at": str,
    "wall_s": (int, float),
}


def model_slug(model_id: str) -> str:
    """'respect5716/koenbert-base' -> 'respect5716__koenbert-base'; local paths keep their last two parts."""
    parts = [p for p in re.split(r"[\\/]+", model_id.strip()) if p not in ("", ".", "..")]
    slug = "__".join(parts[-2:]) if parts else "model"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", slug)


def record_path(output_dir: Path, model_id: str, task_id: str) -> Path:
    suite, name = task_id.split("/", 1)
    return Path(output_dir) / model_slug(model_id) / f"{suite}__{name}.json"


def failure_path(output_dir: Path, model_id: str, task_id: str) -> Path:
    return record_path(output_dir, model_id, task_id).with_suffix(".failed.json")


def aggregate_seeds(seed_results: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and sample standard deviation (0 for one seed) of every metric over seeds."""
    names = seed_results[0]["scores"].keys()
    means, stds = {}, {}
    for name in names:
        values = [s["scores"][name] for s in seed_results]
        means[name] = round(statistics.fmean(values), 4)
        stds[name] = round(statistics.stdev(values), 4) if len(values) > 1 else 0.0
    return means, stds


def build_record(
    *,
    model: dict[str, Any],
    task: dict[str, Any],
    seed_results: list[dict[str, Any]],
    hyperparameters: dict[str, Any],
    data: dict[str, Any],
    env: dict[str, Any],
    started_at: str,
    wall_s: float,
) -> dict[str, Any]:
    scores, std = aggregate_seeds(seed_results)
    record = {
        "schema": SCHEMA,
        "model": model,
        "task": task,
        "scores": scores,
        "std": std,
        "seeds": sorted(seed_results, key=lambda s: s["seed"]),
        "hyperparameters": hyperparameters,
        "data": data,
        "env": env,
        "started_at": started_at,
        "wall_s": round(wall_s, 2),
    }
    problems = validate_record(record)
    if problems:
        raise ValueError("built an invalid result record: " + "; ".join(problems))
    return record


def validate_record(record: Any) -> list[str]:
    """Every problem with a record, as readable sentences; empty when it is valid."""
    if not isinstance(record, dict):
        return ["a record is a JSON object"]
    if record.get("schema") != SCHEMA:
        return [f"schema is {record.get('schema')!r}, expected {SCHEMA!r}"]
    problems = []
    for field, kind in REQUIRED_FIELDS.items():
        if field not in record:
            problems.append(f"missing field {field!r}")
        elif not isinstance(record[field], kind):
            problems.append(f"field {field!r} has the wrong type ({type(record[field]).__name__})")
    if problems:
        return problems
    if not isinstance(record["model"].get("id"), str):
        problems.append("model.id must be a string")
    task_id = record["task"].get("id")
    if not isinstance(task_id, str) or "/" not in task_id:
        problems.append("task.id must look like 'suite/name'")
    primary = record["task"].get("primary_metric")
    if primary not in record["scores"]:
        problems.append(f"task.primary_metric {primary!r} is not among scores")
    for name, value in record["scores"].items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            problems.append(f"scores.{name} must be a finite number")
    if not record["seeds"]:
        problems.append("seeds must not be empty")
    for i, seed in enumerate(record["seeds"]):
        if not isinstance(seed, dict) or "seed" not in seed or "scores" not in seed:
            problems.append(f"seeds[{i}] needs 'seed' and 'scores'")
    return problems


def write_json_atomic(path: Path, payload: dict[str, Any]) -> Path:
    """Write to a temporary file beside ``path`` and rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, ensure_ascii=False, indent=2)
            f.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; records are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_record(output_dir: Path, record: dict[str, Any]) -> Path:
    problems = validate_record(record)
    if problems:
        raise ValueError("refusing to write an invalid result record: " + "; ".join(problems))
    return write_json_atomic(record_path(output_dir, record["model"]["id"], record["task"]["id"]), record)


def read_record(path: Path) -> dict[str, Any]:
    """Load and validate one record; raises ValueError naming the file and the problems."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not readable JSON ({err})") from err
    problems = validate_record(record)
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return record
