"""The floor under every score: what a task's metrics give a predictor that learned nothing but a constant.

Computed from the loaded data and scored by the task's own metrics (harness.metrics), on the
same validation rows the model is scored on; nothing is trained.

- classification: the majority class of the *train* split (ties: the lower label index),
  predicted for every validation row;
- regression: the mean of the train labels, predicted for every validation row. Pearson and
  Spearman of a constant are undefined; they are reported as 0.0, the value the harness gives
  any constant prediction (``metrics.compute``) and the correlation a guess is expected to have;
- token classification (NER): every character tagged O, scored on the same characters as a
  model (spaces left out, as KLUE-baseline scores them).

The constant comes from train, not from validation: a baseline must not look at the rows it is
scored on. On a balanced validation split the majority baseline is therefore chance level.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any, Iterable

from harness.records import Baseline

if TYPE_CHECKING:
    from datasets import DatasetDict

    from harness.spec import TaskSpec

KIND_BY_HEAD = {
    "sequence-classification": "majority-class",
    "regression": "constant-mean",
    "token-classification": "all-O",
}
UNDEFINED_FOR_CONSTANT = ("pearson", "spearman")  # reported as 0.0 (see the module docstring)


def compute(spec: "TaskSpec", dataset: "DatasetDict") -> Baseline:
    """The baseline of ``spec`` on ``dataset['validation']``, its constant taken from ``dataset['train']``."""
    import numpy as np  # here, not at the top: the site reads baselines (by_task) without the metric libraries

    from harness import heads, metrics

    options = {"labels": spec.dataset.labels, "binarize_threshold": spec.metrics.binarize_threshold}
    train, validation = dataset["train"], dataset["validation"]
    kind = KIND_BY_HEAD[spec.head]
    if spec.head == "token-classification":
        outside = spec.dataset.labels.index("O")
        gold = [[tags[i] for i in heads.scored_positions(tokens)]
                for tokens, tags in zip(validation["tokens"], validation["tags"])]
        predictions = [[outside] * len(sentence) for sentence in gold]
        scores = _quietly(lambda: metrics.compute(spec.metrics.names, predictions, gold, **options))
        return Baseline(kind=kind, predicts="O for every character", scores=scores)
    references = np.asarray(validation["label"])
    if spec.head == "regression":
        mean = float(np.mean(train["label"]))
        constant, predicts = mean, f"{mean:.3f} (mean of the train labels) for every row"
    else:
        counts = Counter(train["label"])
        constant = min(counts, key=lambda label: (-counts[label], label))
        predicts = f"label {spec.dataset.labels[constant]!r} (most frequent in train) for every row"
    predictions = np.full(len(references), constant, dtype=references.dtype if spec.head != "regression" else float)
    scores = _quietly(lambda: metrics.compute(spec.metrics.names, predictions, references, **options))
    return Baseline(kind=kind, predicts=predicts, scores=scores)


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
