"""The floor under every score: what a task's metrics give a predictor that learned nothing but a constant.

Each head says its constant (``Head.baseline`` in harness/tasks/heads.py): the majority class of train
for classification, the mean of the train labels for regression, every character O for NER.
It is computed from the loaded data and scored by the task's own metrics (harness.tasks.metrics), on
the same validation rows the model is scored on; nothing is trained. The constant comes from
train, not from validation: a baseline must not look at the rows it is scored on.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable

from harness.results.records import Baseline

if TYPE_CHECKING:
    from datasets import DatasetDict

    from harness.tasks.spec import TaskSpec


def compute(spec: "TaskSpec", dataset: "DatasetDict") -> Baseline:
    """The baseline of ``spec`` on ``dataset['validation']``, its constant taken from ``dataset['train']``."""
    from harness.tasks import heads, metrics  # here, not at the top: the site reads baselines (by_task) without the metric libraries

    constant = heads.get(spec.head).baseline(dataset["train"], dataset["validation"], spec.dataset.labels)
    options = {"labels": spec.dataset.labels, **spec.metrics.parameters}
    scores = _quietly(lambda: metrics.compute(spec.metrics.names, constant.predictions, constant.references, **options))
    return Baseline(kind=constant.kind, predicts=constant.predicts, scores=scores)


def _quietly(fn):
    """scipy (no correlation of a constant) and scikit-learn (no precision for a never-predicted class) warn
    about exactly what a constant predictor is; the scores say it, the warnings would only be noise."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def by_task(record_dicts: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """task id -> the baseline its records carry, for a table beside the scores (the site's; never ranked).

    Each value: ``kind``, ``predicts``, ``scores`` and ``varies`` (True when the task's records carry
    different baselines, i.e. were scored on different validation rows; the newest record's is given).
    Records written before baselines were recorded are skipped.
    """
    newest: dict[str, dict[str, Any]] = {}
    seen: dict[str, set[str]] = {}
    for record in sorted(record_dicts, key=lambda r: r.get("started_at", "")):
        baseline = record.get("baseline")
        if not baseline:
            continue
        task_id = record["task"]["id"]
        newest[task_id] = baseline
        seen.setdefault(task_id, set()).add(json.dumps(baseline["scores"], sort_keys=True))
    return {task_id: {**b, "varies": len(seen[task_id]) > 1} for task_id, b in newest.items()}
