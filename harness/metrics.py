"""Metric registry: plain functions over numpy arrays, scores in percent (0-100) like the papers.

scikit-learn, scipy and seqeval instead of `evaluate`, which downloads metric code
from the hub at run time and fails offline. Definitions follow KLUE-baseline's
metrics/functional.py for the KLUE tasks and GLUE's for the GLUE tasks.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
from scipy import stats
from seqeval.metrics import f1_score as seqeval_f1
from seqeval.scheme import IOB2
from sklearn.metrics import accuracy_score, f1_score


def accuracy(predictions: np.ndarray, references: np.ndarray, **_) -> float:
    return 100.0 * accuracy_score(references, predictions)


def f1(predictions: np.ndarray, references: np.ndarray, **_) -> float:
    """Binary F1 of the positive class (label index 1), as GLUE scores MRPC."""
    return 100.0 * f1_score(references, predictions, average="binary")


def macro_f1(predictions: np.ndarray, references: np.ndarray, **_) -> float:
    return 100.0 * f1_score(references, predictions, average="macro")


def pearson(predictions: np.ndarray, references: np.ndarray, **_) -> float:
    return 100.0 * float(stats.pearsonr(predictions, references)[0])


def spearman(predictions: np.ndarray, references: np.ndarray, **_) -> float:
    return 100.0 * float(stats.spearmanr(predictions, references)[0])


def binarized_f1(predictions: np.ndarray, references: np.ndarray, *, binarize_threshold: Optional[float] = None, **_) -> float:
    """KLUE-STS F1: prediction and gold both binarised at the threshold (>= is similar)."""
    if binarize_threshold is None:
        raise ValueError("binarized_f1 needs metrics.binarize_threshold in the task spec (KLUE-STS: 3.0)")
    return 100.0 * f1_score(np.asarray(references) >= binarize_threshold, np.asarray(predictions) >= binarize_threshold)


def entity_f1(predictions: Sequence[Sequence[int]], references: Sequence[Sequence[int]], *, labels: Sequence[str], **_) -> float:
    """KLUE-NER entity F1: seqeval, strict IOB2, macro over entity types.

    As KLUE-baseline does, all sentences are concatenated into one sequence first.
    """
    pred_tags = [labels[i] for sentence in predictions for i in sentence]
    gold_tags = [labels[i] for sentence in references for i in sentence]
    return 100.0 * seqeval_f1([gold_tags], [pred_tags], average="macro", mode="strict", scheme=IOB2)


def char_f1(predictions: Sequence[Sequence[int]], references: Sequence[Sequence[int]], *, labels: Sequence[str], **_) -> float:
    """KLUE-NER character F1: scikit-learn macro F1 over every tag, O included."""
    pred = np.concatenate([np.asarray(s, dtype=np.int64) for s in predictions])
    gold = np.concatenate([np.asarray(s, dtype=np.int64) for s in references])
    return 100.0 * f1_score(gold, pred, labels=list(range(len(labels))), average="macro", zero_division=1)


METRICS: dict[str, Callable[..., float]] = {
    "accuracy": accuracy,
    "f1": f1,
    "macro_f1": macro_f1,
    "pearson": pearson,
    "spearman": spearman,
    "binarized_f1": binarized_f1,
    "entity_f1": entity_f1,
    "char_f1": char_f1,
}


def compute(names: Sequence[str], predictions, references, **options) -> dict[str, float]:
    """Every named metric, rounded to 4 decimals; a metric undefined on this input (constant predictions) gives 0.0."""
    scores = {}
    for name in names:
        value = METRICS[name](predictions, references, **options)
        scores[name] = round(float(value), 4) if np.isfinite(value) else 0.0
    return scores
