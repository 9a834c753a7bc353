"""The old dict-based record API, kept while callers move to ``harness.records``.

Everything here goes through the pydantic models in ``harness.records``; records come
back as plain dicts in the current schema (older files are migrated on read).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import records
from harness.records import FAILURE_SCHEMA, RESULT_SCHEMA, model_slug, write_json_atomic

SCHEMA = RESULT_SCHEMA

__all__ = ["SCHEMA", "FAILURE_SCHEMA", "build_record", "read_record", "write_record", "record_path", "failure_path",
           "model_slug", "write_json_atomic"]


def build_record(*, model: dict[str, Any], seed_results: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """A validated record (as a dict) from plain dicts; a model without ``source`` is inferred as old records were."""
    seeds = [records.parse_seed(s) for s in seed_results]
    model = records.migrate({"schema": records.OLD_RESULT_SCHEMAS[0], "model": model})["model"]
    return records.to_json(records.ResultRecord.from_seeds(seeds, model=model, **fields))


def record_path(output_dir: Path, model_id: str, task_id: str) -> Path:
    """The old place of a record: the model id's slug (bench run now writes under ``ResolvedModel.record_dir``)."""
    return records.record_path(output_dir, model_slug(model_id), task_id)


def failure_path(output_dir: Path, model_id: str, task_id: str) -> Path:
    return records.failure_path(output_dir, model_slug(model_id), task_id)


def read_record(path: Path) -> dict[str, Any]:
    return records.to_json(records.read_result(path))


def write_record(output_dir: Path, record: dict[str, Any]) -> Path:
    parsed = records.parse_result(record)
    return records.write(record_path(output_dir, parsed.model.id, parsed.task.id), parsed)
