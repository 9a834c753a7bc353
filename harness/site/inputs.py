"""Read what the site is built from: result records, models.yaml, reported.yaml, task YAMLs.

Result files are many and written by machines, so a bad one is skipped with a warning
naming it and the build goes on. models.yaml and reported.yaml are few and written by
hand, so a mistake there raises one error that lists every problem and its fix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from harness.core import checked
from harness.results import store
from harness.results.records import FailureRecord, ResultRecord
from harness.tasks.spec import Registry, TaskSpec, TasksDirs

log = logging.getLogger(__name__)

REPORTED_FIELDS = ("source", "model", "task", "metric", "value")


class SiteInputError(checked.InputError):
    """A hand-written input file the user must fix; the message names the file and the fix."""


@dataclass
class Results:
    records: list[tuple[str, ResultRecord]] = field(default_factory=list)  # (file, record)
    failures: list[tuple[str, FailureRecord]] = field(default_factory=list)  # (file, failure record)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why)


def load_results(results_dir: Path) -> Results:
    """Every record, failure and unreadable file under ``results_dir``, as the record store reads them
    (``harness.results.store.scan``: hidden folders such as ``<model>/.seeds/`` and ``.history/`` left out)."""
    found = store.scan(Path(results_dir))
    out = Results(records=[(str(s.path), s.record) for s in found.records],
                  failures=[(str(p), f) for p, f in found.failures],
                  skipped=[(str(p), why) for p, why in found.skipped])
    for path, reason in out.skipped:
        log.warning("skipped %s: %s (fix or remove the file; the site is built without it)", path, reason)
    return out


def load_models(models_file: Path) -> list[dict[str, Any]]:
    """The entries of models.yaml (id, name, languages, params, links); [] when there is no file.

    Read and checked by ``harness.run.models``, the one reader of that file, so ``bench run`` and
    the site accept and refuse the same files with the same messages.
    """
    from harness.run.models import ModelUnavailable, leaderboard_models

    try:
        return leaderboard_models(Path(models_file))
    except ModelUnavailable as err:
        raise SiteInputError(str(err)) from None


def load_tasks(tasks_dir: TasksDirs) -> list[TaskSpec]:
    """The tasks on the search path that load; each bad task file is logged, named, and left out."""
    specs, problems = Registry.search(tasks_dir).load_all()
    for problem in problems:
        log.warning("skipped a task file: %s", problem)
    return specs


def load_reported(reported_file: Path, tasks: list[TaskSpec]) -> tuple[dict[str, dict], list[dict]]:
    """reported.yaml -> (sources by key, one row per number); ({}, []) when there is no file."""
    reported_file = Path(reported_file)
    if not reported_file.exists():
        return {}, []
    data = checked.read_yaml(reported_file, error=SiteInputError) or {}
    sources, numbers = (data.get("sources"), data.get("numbers")) if isinstance(data, dict) else (None, None)
    if not isinstance(sources, dict) or not isinstance(numbers, list):
        raise SiteInputError(f"{reported_file}: expected top-level 'sources:' (a mapping) and 'numbers:' (a list)")
    metrics_of = {t.id: t.metrics.names for t in tasks}
    problems = []
    for key, source in sources.items():
        if not isinstance(source, dict) or not source.get("title"):
            problems.append(f"  sources.{key}: needs a 'title' (and ideally 'url' and 'notes')")
    for i, row in enumerate(numbers):
        where = f"  numbers[{i}]"
        if not isinstance(row, dict) or set(row) != set(REPORTED_FIELDS):
            problems.append(f"{where}: needs exactly the fields {', '.join(REPORTED_FIELDS)}")
            continue
        text = [name for name in ("source", "model", "task", "metric") if not isinstance(row[name], str)]
        if text:
            problems.append(f"{where}: {', '.join(text)} must be text (quote it, e.g. model: \"123\")")
            continue
        if row["source"] not in sources:
            problems.append(f"{where}: source {row['source']!r} is not under 'sources:'; add it there")
        if row["task"] not in metrics_of:
            problems.append(f"{where}: unknown task {row['task']!r}; known: {', '.join(metrics_of)}")
        elif row["metric"] not in metrics_of[row["task"]]:
            problems.append(
                f"{where}: {row['task']} has no metric {row['metric']!r}; use one of {', '.join(metrics_of[row['task']])}"
            )
        if not isinstance(row["value"], (int, float)) or isinstance(row["value"], bool):
            problems.append(f"{where}: value must be a number (percent, 0-100)")
    if problems:
        raise SiteInputError(f"{reported_file}: invalid reported numbers\n" + "\n".join(problems))
    return sources, numbers
