"""Metric registry: plain functions over numpy arrays, scores in percent (0-100) like the papers.

scikit-learn, scipy and seqeval instead of `evaluate`, which downloads metric code
from the hub at run time and fails offline. Definitions follow KLUE-baseline's
metrics/functional.py for the KLUE tasks and GLUE's for the GLUE tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def _klue_ner_sequence(sentences: Sequence[Sequence[int]], labels: Sequence[str]) -> list[int]:
    """All sentences as one sequence, each wrapped in an O on both sides, as KLUE-baseline scores them.

    KLUE-baseline (models/named_entity_recognition.py) scores, per sentence, the
    prediction at [CLS], one per non-space character, and the prediction at the last
    position, against gold O at both ends; both ends are trained as O, so O stands in
    for the model's prediction there. The O between two sentences also keeps an entity
    that ends one sentence from running into an I- tag that starts the next.
    """
    outside = list(labels).index("O")
    return [tag for sentence in sentences for tag in (outside, *sentence, outside)]


def entity_f1(predictions: Sequence[Sequence[int]], references: Sequence[Sequence[int]], *, labels: Sequence[str], **_) -> float:
    """KLUE-NER entity F1: seqeval, strict IOB2, macro over the entity types seen in gold or predictions.

    KLUE-baseline's klue_ner_entity_macro_f1 scores the whole split as one sequence, each
    sentence wrapped in O; no entity crosses an O, so seqeval's counts are the same with
    one sequence per wrapped sentence, and seqeval's strict mode is quadratic in a
    sequence's length (measured: 125 s for the 5,000 dev sentences as one sequence, 4 s
    as sentences; equal to the last digit, tested).
    """
    outside = list(labels).index("O")

    def wrapped(sentences: Sequence[Sequence[int]]) -> list[list[str]]:
        return [[labels[outside], *(labels[i] for i in sentence), labels[outside]] for sentence in sentences]

    return 100.0 * seqeval_f1(wrapped(references), wrapped(predictions), average="macro", mode="strict", scheme=IOB2)


def char_f1(predictions: Sequence[Sequence[int]], references: Sequence[Sequence[int]], *, labels: Sequence[str], **_) -> float:
    """KLUE-NER character F1: scikit-learn macro F1 over every tag, O included; a tag never
    predicted nor seen scores 1 (zero_division=1), as KLUE-baseline's klue_ner_char_macro_f1."""
    pred = _klue_ner_sequence(predictions, labels)
    gold = _klue_ner_sequence(references, labels)
    return 100.0 * f1_score(gold, pred, labels=list(range(len(labels))), average="macro", zero_division=1)


@dataclass(frozen=True)
class Metric:
    """A registered metric: the function, the heads whose predictions it scores, and what it means."""

    name: str
    fn: Callable[..., float]
    heads: tuple[str, ...]  # heads in harness/spec.py: a task whose head is not here cannot use it
    description: str  # what it computes, in one line; `bench metrics` and the docs show it
    reference: str  # the definition it follows

    def __call__(self, predictions, references, **options) -> float:
        return self.fn(predictions, references, **options)


CLASSIFICATION, REGRESSION, TOKENS = ("sequence-classification",), ("regression",), ("token-classification",)

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", accuracy, CLASSIFICATION, "share of examples whose predicted class is the gold class",
               "sklearn.metrics.accuracy_score; GLUE and KLUE-baseline accuracy"),
        Metric("f1", f1, CLASSIFICATION, "binary F1 of the positive class (the task's second label)",
               "sklearn.metrics.f1_score(average='binary'); GLUE's MRPC/QQP F1"),
        Metric("macro_f1", macro_f1, CLASSIFICATION, "F1 per class, averaged with equal weight per class",
               "sklearn.metrics.f1_score(average='macro'); KLUE-baseline YNAT macro F1"),
        Metric("pearson", pearson, REGRESSION, "Pearson correlation of predicted and gold scores",
               "scipy.stats.pearsonr; GLUE STS-B and KLUE-STS Pearson r"),
        Metric("spearman", spearman, REGRESSION, "Spearman rank correlation of predicted and gold scores",
               "scipy.stats.spearmanr; GLUE STS-B Spearman rho"),
        Metric("binarized_f1", binarized_f1, REGRESSION,
               "F1 after cutting predicted and gold scores at metrics.binarize_threshold (>= is positive)",
               "KLUE-baseline klue_sts_f1 (threshold 3.0)"),
        Metric("entity_f1", entity_f1, TOKENS,
               "F1 over whole entities (strict IOB2: type and both boundaries must match), macro over entity types",
               "seqeval f1_score(mode='strict', scheme=IOB2, average='macro'); KLUE-baseline klue_ner_entity_macro_f1"),
        Metric("char_f1", char_f1, TOKENS,
               "F1 per tag over every token (character for KLUE-NER), O included, macro over all tags",
               "sklearn f1_score(average='macro', zero_division=1); KLUE-baseline klue_ner_char_macro_f1"),
    )
}


def compute(names: Sequence[str], predictions, references, **options) -> dict[str, float]:
    """Every named metric, rounded to 4 decimals; a metric undefined on this input (constant predictions) gives 0.0."""
    scores = {}
    for name in names:
        value = METRICS[name](predictions, references, **options)
        scores[name] = round(float(value), 4) if np.isfinite(value) else 0.0
    return scores
