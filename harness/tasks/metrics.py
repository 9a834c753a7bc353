"""The metric registry: each metric's function, its resampling statistic, and how it is named.

A ``Metric`` is everything the harness knows about one metric: the function that scores
predictions (scores in percent, 0-100, like the papers), the same metric as a function of
example weights for the bootstrap (harness/stats/bootstrap.py), the kinds of predictions it scores
(a head's ``kind``, harness/tasks/heads.py), the task-spec parameters it needs, and its names on the
site and on the Hub. A new metric is one more entry in ``METRICS``; the spec, the training
loop, the bootstrap, `bench export` and the site read it from here.

scikit-learn, scipy and seqeval instead of `evaluate`, which downloads metric code
from the hub at run time and fails offline; imported where a metric runs, so reading the
registry (the site, `bench tasks`) costs nothing. Definitions follow KLUE-baseline's
metrics/functional.py for the KLUE tasks and GLUE's for the GLUE tasks.

Every metric here is a function of sums of per-example statistics (confusion counts for
accuracy and the F1s, per-sentence entity and character counts for NER, moments for
Pearson), so a resample is a vector of example weights and its score is one matrix
product: ``weights @ per_example``. That is why 10,000 resamples of the largest dev set take
about a second, where calling scikit-learn or seqeval once per resample would take minutes.
Spearman is the exception (ranks are not sums); it ranks each resample from its weights.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Optional, Sequence

import numpy as np

# What one example's prediction and reference are, as a head makes them (heads.Head.kind): a class
# index, a number, or one tag per token. A metric scores some kinds; a task's head must be one of them.
Kind = Literal["label", "value", "tags"]
KINDS: tuple[str, ...] = ("label", "value", "tags")
PERCENT, CORRELATION = "%", "x100"  # the unit a Hub name carries


# ---------------------------------------------------------------------------------------------
# the metrics on predictions


def accuracy(predictions: np.ndarray, references: np.ndarray, **_) -> float:
    from sklearn.metrics import accuracy_score

    return 100.0 * accuracy_score(references, predictions)


def f1(predictions: np.ndarray, references: np.ndarray, **_) -> float:
    """Binary F1 of the positive class (label index 1), as GLUE scores MRPC."""
    from sklearn.metrics import f1_score

    return 100.0 * f1_score(references, predictions, average="binary")


def macro_f1(predictions: np.ndarray, references: np.ndarray, **_) -> float:
    from sklearn.metrics import f1_score

    return 100.0 * f1_score(references, predictions, average="macro")


# ---------------------------------------------------------------------------------------------
# scores a metric cannot give: a correlation of a constant column
#
# Pearson and Spearman of a column that holds one value are undefined: scipy returns NaN (and
# warns), and so do KLUE-baseline and run_glue.py, which call it. A record cannot hold NaN (it is
# no JSON number, and a mean or a ranking of it means nothing), so the harness records 0.0, the
# correlation a predictor that knows nothing is expected to have, and says so: ``undefined`` gives
# the note that the record's warnings carry (harness/run/finetune.py), naming the metric and why.
# Constant gold is refused when the data is loaded; constant predictions come from a model that
# collapsed to one output, or from the regression baseline, which predicts the train mean.

UNDEFINED_SCORE = 0.0  # what a record holds for a score its metric cannot give on the input


def _constant_column(predictions, references) -> Optional[str]:
    """Why a correlation of these columns is undefined (one of them holds a single value), or None."""
    for name, column in (("prediction", predictions), ("reference", references)):
        values = np.asarray(column, dtype=np.float64)
        if values.size and np.all(values == values[0]):
            return f"every {name} is the same value ({values[0]:.4g})"
    return None


def _never_undefined(predictions, references) -> Optional[str]:
    return None


def pearson(predictions: np.ndarray, references: np.ndarray, **_) -> float:
    from scipy import stats

    return 100.0 * float(stats.pearsonr(predictions, references)[0])


def spearman(predictions: np.ndarray, references: np.ndarray, **_) -> float:
    from scipy import stats

    return 100.0 * float(stats.spearmanr(predictions, references)[0])


def binarized_f1(predictions: np.ndarray, references: np.ndarray, *, binarize_threshold: Optional[float] = None, **_) -> float:
    """KLUE-STS F1: prediction and gold both binarised at the threshold (>= is similar)."""
    from sklearn.metrics import f1_score

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
    from seqeval.metrics import f1_score as seqeval_f1
    from seqeval.scheme import IOB2

    outside = list(labels).index("O")

    def wrapped(sentences: Sequence[Sequence[int]]) -> list[list[str]]:
        return [[labels[outside], *(labels[i] for i in sentence), labels[outside]] for sentence in sentences]

    return 100.0 * seqeval_f1(wrapped(references), wrapped(predictions), average="macro", mode="strict", scheme=IOB2)


def char_f1(predictions: Sequence[Sequence[int]], references: Sequence[Sequence[int]], *, labels: Sequence[str], **_) -> float:
    """KLUE-NER character F1: scikit-learn macro F1 over every tag, O included; a tag never
    predicted nor seen scores 1 (zero_division=1), as KLUE-baseline's klue_ner_char_macro_f1."""
    from sklearn.metrics import f1_score

    pred = _klue_ner_sequence(predictions, labels)
    gold = _klue_ner_sequence(references, labels)
    return 100.0 * f1_score(gold, pred, labels=list(range(len(labels))), average="macro", zero_division=1)


# ---------------------------------------------------------------------------------------------
# each metric as a function of example weights, for the bootstrap

class Statistic:
    """A metric as a function of example weights: ``scores(weights (B, n)) -> (B,)``, in percent."""

    n_examples: int

    def scores(self, weights: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@dataclass
class SummedStatistic(Statistic):
    """The metric is ``finish(weights @ per_example)``: per-example columns summed, then combined."""

    per_example: np.ndarray  # (n, k)
    finish: Callable[[np.ndarray], np.ndarray]  # (B, k) sums -> (B,) scores in percent

    @property
    def n_examples(self) -> int:
        return self.per_example.shape[0]

    def scores(self, weights: np.ndarray) -> np.ndarray:
        return _finite(self.finish(weights @ self.per_example))


@dataclass
class SpearmanStatistic(Statistic):
    """Spearman's rho of a resample: average ranks computed from the weights, then a weighted Pearson.

    In a resample an example drawn ``w`` times is ``w`` equal values; its average rank is
    (weight of smaller values) + (weight of equal values + 1) / 2, exactly what
    scipy.stats.rankdata gives the resampled array. Ranks are computed once per distinct
    value; the mean rank of n drawn values is always (n + 1) / 2.
    """

    predictions: np.ndarray
    references: np.ndarray

    def __post_init__(self) -> None:
        self._x, self._y = _value_groups(self.predictions), _value_groups(self.references)

    @property
    def n_examples(self) -> int:
        return len(self.references)

    def scores(self, weights: np.ndarray) -> np.ndarray:
        (x_order, x_starts, x_group), (y_order, y_starts, y_group) = self._x, self._y
        x_counts, x_ranks = _group_ranks(weights, x_order, x_starts)
        y_counts, y_ranks = _group_ranks(weights, y_order, y_starts)
        mean = (weights.sum(axis=1, keepdims=True) + 1) / 2
        x_dev, y_dev = x_ranks - mean, y_ranks - mean
        cov = (weights * x_dev[:, x_group] * y_dev[:, y_group]).sum(axis=1)
        var_x = (x_counts * x_dev * x_dev).sum(axis=1)
        var_y = (y_counts * y_dev * y_dev).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return _finite(100.0 * cov / np.sqrt(var_x * var_y))


def _finite(values: np.ndarray) -> np.ndarray:
    """An undefined score (a resample whose predictions are constant) counts as UNDEFINED_SCORE, as compute records it."""
    return np.where(np.isfinite(values), values, UNDEFINED_SCORE)


def _value_groups(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sort order, where each run of equal values starts in it, and each example's run (group)."""
    order = np.argsort(values, kind="stable")
    new_value = np.r_[True, values[order][1:] != values[order][:-1]]
    group = np.empty(len(values), dtype=np.int64)
    group[order] = np.cumsum(new_value) - 1
    return order, np.flatnonzero(new_value), group


def _group_ranks(weights: np.ndarray, order: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B, groups) how often each distinct value is drawn, and its average rank in the resample."""
    counts = np.add.reduceat(weights[:, order], starts, axis=1)
    return counts, np.cumsum(counts, axis=1) - counts + (counts + 1) / 2


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, undefined: float) -> np.ndarray:
    """2tp / (2tp + fp + fn), the F1 of precision and recall; ``undefined`` where nothing was predicted nor true."""
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.where(denominator > 0, denominator, 1), undefined)


def _confusion_columns(gold: np.ndarray, pred: np.ndarray, classes: int) -> np.ndarray:
    """(n, 3 * classes): per example and class, 1 where it is a true positive, false positive, false negative."""
    gold_hot = np.eye(classes)[gold]
    pred_hot = np.eye(classes)[pred]
    return np.hstack([gold_hot * pred_hot, pred_hot * (1 - gold_hot), gold_hot * (1 - pred_hot)])


def _macro_f1_over_present(sums: np.ndarray) -> np.ndarray:
    """Mean F1 over the classes seen in gold or predictions of each resample (scikit-learn's and seqeval's macro)."""
    tp, fp, fn = np.split(sums, 3, axis=1)
    present = (tp + fp + fn) > 0
    f1 = _f1(tp, fp, fn, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * (f1 * present).sum(axis=1) / present.sum(axis=1)


def _binary_f1_statistic(gold: np.ndarray, pred: np.ndarray) -> SummedStatistic:
    gold, pred = gold.astype(bool), pred.astype(bool)
    columns = np.stack([gold & pred, pred & ~gold, gold & ~pred], axis=1).astype(np.float64)
    return SummedStatistic(columns, lambda s: 100.0 * _f1(s[:, 0], s[:, 1], s[:, 2], 0.0))


def accuracy_statistic(predictions, references, **_) -> SummedStatistic:
    correct = (np.asarray(predictions) == np.asarray(references)).astype(np.float64)
    columns = np.stack([correct, np.ones_like(correct)], axis=1)
    return SummedStatistic(columns, lambda s: 100.0 * s[:, 0] / s[:, 1])


def f1_statistic(predictions, references, **_) -> SummedStatistic:
    return _binary_f1_statistic(np.asarray(references) == 1, np.asarray(predictions) == 1)


def macro_f1_statistic(predictions, references, **_) -> SummedStatistic:
    gold, pred = np.asarray(references, dtype=np.int64), np.asarray(predictions, dtype=np.int64)
    classes = int(max(gold.max(), pred.max())) + 1
    return SummedStatistic(_confusion_columns(gold, pred, classes), _macro_f1_over_present)


def pearson_statistic(predictions, references, **_) -> SummedStatistic:
    # centred first: the moments of centred values lose no precision when summed
    x = np.asarray(predictions, dtype=np.float64)
    y = np.asarray(references, dtype=np.float64)
    x, y = x - x.mean(), y - y.mean()
    columns = np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=1)

    def finish(s: np.ndarray) -> np.ndarray:
        n, sx, sy, sxx, syy, sxy = s.T
        cov = sxy - sx * sy / n
        with np.errstate(invalid="ignore", divide="ignore"):
            return 100.0 * cov / np.sqrt((sxx - sx * sx / n) * (syy - sy * sy / n))

    return SummedStatistic(columns, finish)


def spearman_statistic(predictions, references, **_) -> SpearmanStatistic:
    return SpearmanStatistic(np.asarray(predictions, dtype=np.float64), np.asarray(references, dtype=np.float64))


def binarized_f1_statistic(predictions, references, *, binarize_threshold: Optional[float] = None, **_) -> SummedStatistic:
    if binarize_threshold is None:
        raise ValueError("binarized_f1 needs metrics.binarize_threshold in the task spec (KLUE-STS: 3.0)")
    return _binary_f1_statistic(np.asarray(references) >= binarize_threshold, np.asarray(predictions) >= binarize_threshold)


def char_f1_statistic(predictions, references, *, labels: Sequence[str], **_) -> SummedStatistic:
    """Per sentence and tag: character tp/fp/fn, plus the two O's that wrap each sentence in metrics.char_f1."""
    tags = len(labels)
    sentence = np.repeat(np.arange(len(references)), [len(r) for r in references])
    gold = np.concatenate([np.asarray(r, dtype=np.int64) for r in references]) if len(sentence) else np.zeros(0, np.int64)
    pred = np.concatenate([np.asarray(p, dtype=np.int64) for p in predictions]) if len(sentence) else np.zeros(0, np.int64)
    if len(gold) != len(pred):
        raise ValueError("char_f1: predictions and references have different numbers of characters")
    hit = gold == pred
    size = len(references) * tags

    def counts(tag_index: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(sentence[mask] * tags + tag_index[mask], minlength=size).reshape(len(references), tags)

    tp, fp, fn = counts(gold, hit), counts(pred, ~hit), counts(gold, ~hit)
    tp[:, list(labels).index("O")] += 2
    columns = np.hstack([tp, fp, fn]).astype(np.float64)

    def finish(s: np.ndarray) -> np.ndarray:
        stp, sfp, sfn = np.split(s, 3, axis=1)
        return 100.0 * _f1(stp, sfp, sfn, 1.0).mean(axis=1)  # zero_division=1 over every tag

    return SummedStatistic(columns, finish)


def _flatten(sentences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """All tags in one array and the sentence of each; a -1 ends every sentence, so no run crosses into the next."""
    lengths = np.array([len(s) + 1 for s in sentences], dtype=np.int64)
    flat = np.full(int(lengths.sum()), -1, dtype=np.int64)
    ends = np.cumsum(lengths)
    for sentence, end in zip(sentences, ends):
        flat[end - 1 - len(sentence) : end - 1] = sentence
    return flat, np.repeat(np.arange(len(sentences)), lengths)


def strict_iob2_entities(sentences: Sequence[Sequence[int]], labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every entity as (sentence, key, type): a B-T and the run of I-T after it, as seqeval's strict IOB2 finds them.

    Hand-written because seqeval walks the tags one Python object at a time (2 s for the
    5,000 KLUE-NER dev sentences, each seed, each resampling run); this is a few array
    passes. An I-T that follows no B-T or I-T of its type starts nothing, as in seqeval.
    The key identifies the entity's span (start and end in the flat array) and its type.
    """
    kinds = [name[:2] for name in labels]
    bad = [name for name, kind in zip(labels, kinds) if name != "O" and kind not in ("B-", "I-")]
    if bad:
        raise ValueError(f"entity_f1 needs IOB2 tags (B-X, I-X, O); got {bad}")
    types = sorted({name[2:] for name in labels if name != "O"})
    type_of = np.array([types.index(name[2:]) if name != "O" else -1 for name in labels] + [-1])  # [-1]: the separator
    is_begin = np.array([kind == "B-" for kind in kinds] + [False])
    is_inside = np.array([kind == "I-" for kind in kinds] + [False])
    flat, sentence = _flatten(sentences)
    tag_type = type_of[flat]
    continues = np.zeros(len(flat), dtype=bool)
    continues[1:] = is_inside[flat[1:]] & (tag_type[1:] == tag_type[:-1]) & (tag_type[:-1] >= 0)
    # for each position, the first position at or after it that does not continue an entity
    stop = np.where(continues, len(flat), np.arange(len(flat)))
    next_stop = np.minimum.accumulate(stop[::-1])[::-1]
    starts = np.flatnonzero(is_begin[flat])
    ends = next_stop[np.minimum(starts + 1, len(flat) - 1)]
    keys = (starts * (len(flat) + 1) + ends) * len(types) + tag_type[starts]
    return sentence[starts], keys, tag_type[starts]


def entity_f1_statistic(predictions, references, *, labels: Sequence[str], **_) -> SummedStatistic:
    """Per sentence and entity type: entity tp/fp/fn (strict IOB2), summing to seqeval's counts over the split.

    metrics.entity_f1 wraps each sentence in O, so no entity crosses a sentence boundary
    and the split's counts are the sums of the sentences'.
    """
    if [len(p) for p in predictions] != [len(r) for r in references]:
        raise ValueError("entity_f1: predictions and references have different numbers of characters")
    n_types = len({name[2:] for name in labels if name != "O"})
    gold_sentence, gold_keys, gold_type = strict_iob2_entities(references, labels)
    pred_sentence, pred_keys, pred_type = strict_iob2_entities(predictions, labels)
    gold_found = np.isin(gold_keys, pred_keys)
    pred_found = np.isin(pred_keys, gold_keys)
    size = len(references) * n_types

    def counts(sentence: np.ndarray, entity_type: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(sentence[mask] * n_types + entity_type[mask], minlength=size).reshape(len(references), n_types)

    tp = counts(gold_sentence, gold_type, gold_found)
    fp = counts(pred_sentence, pred_type, ~pred_found)
    fn = counts(gold_sentence, gold_type, ~gold_found)
    return SummedStatistic(np.hstack([tp, fp, fn]).astype(np.float64), _macro_f1_over_present)


# ---------------------------------------------------------------------------------------------
# the registry


class MetricError(ValueError):
    """A metric that cannot be used as asked; the message says which and what to change."""


class UnknownMetric(MetricError):
    """A metric name this version of the harness does not know (a typo, or a record made by another version)."""


@dataclass(frozen=True)
class Metric:
    """A registered metric: how it scores, how it is resampled, what it scores, and how it is named."""

    name: str
    fn: Callable[..., float]  # (predictions, references, **options) -> percent
    statistic: Callable[..., Statistic]  # the same metric as a function of example weights (harness/stats/bootstrap.py)
    kinds: tuple[Kind, ...]  # the kinds of predictions it scores; a task's head must make one of them
    description: str  # what it computes, in one line; `bench metrics` and the docs show it
    reference: str  # the definition it follows
    label: str  # its short name on the site's tables
    hub_id: str  # the Hub's metric type (model-index ``metrics[].type``)
    hub_name: str  # a readable name for the Hub, without the unit; ``{parameter}`` is filled from the spec
    unit: str = PERCENT  # what the number is: percent, or a correlation times 100
    score_range: tuple[float, float] = (0.0, 100.0)  # where its scores lie; the bootstrap clips intervals to it
    parameters: Mapping[str, str] = field(default_factory=dict)  # spec ``metrics.<name>`` it needs -> what it is
    label_problems: Callable[[Sequence[str]], list[str]] = lambda labels: []  # what it needs of a task's label names
    # why it has no value on these (predictions, references), in words, or None; compute then gives UNDEFINED_SCORE
    undefined: Callable[[Any, Any], Optional[str]] = _never_undefined

    def __call__(self, predictions, references, **options) -> float:
        return self.fn(predictions, references, **options)

    def missing(self, given: Mapping[str, Any]) -> list[str]:
        """The parameters it needs that ``given`` (a spec's ``metrics.parameters``) does not set."""
        return [name for name in self.parameters if given.get(name) is None]

    def hub_label(self, given: Mapping[str, Any]) -> str:
        """Its name on the Hub with the unit, the spec's parameters filled in: ``F1 of similar/dissimilar at 2.5 (%)``."""
        missing = self.missing(given)
        if missing:
            raise MetricError(f"metric {self.name!r} needs {', '.join(missing)} under the task's metrics:")
        return f"{self.hub_name.format(**{name: given[name] for name in self.parameters})} ({self.unit})"


_THRESHOLD = {"binarize_threshold": "the score at which a pair counts as similar (KLUE-STS: 3.0)"}


def _two_labels(labels: Sequence[str]) -> list[str]:
    return [] if len(labels) == 2 else [
        f"metrics: 'f1' is the F1 of the second of two labels, but there are {len(labels)}; use macro_f1"]


def _outside_tag(labels: Sequence[str]) -> list[str]:
    return [] if "O" in labels else ["dataset.labels: entity_f1 and char_f1 need the outside tag 'O' among the tags"]


def _iob2_tags(labels: Sequence[str]) -> list[str]:
    bad = [t for t in labels if t != "O" and not re.match(r"[BI]-.", t)]
    return _outside_tag(labels) + ([f"dataset.labels: entity_f1 reads IOB2 tags (B-X, I-X, O); {bad} are not"] if bad else [])


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", accuracy, accuracy_statistic, ("label",),
               "share of examples whose predicted class is the gold class",
               "sklearn.metrics.accuracy_score; GLUE and KLUE-baseline accuracy",
               label="accuracy", hub_id="accuracy", hub_name="accuracy"),
        Metric("f1", f1, f1_statistic, ("label",), "binary F1 of the positive class (the task's second label)",
               "sklearn.metrics.f1_score(average='binary'); GLUE's MRPC/QQP F1",
               label="F1", hub_id="f1", hub_name="F1", label_problems=_two_labels),
        Metric("macro_f1", macro_f1, macro_f1_statistic, ("label",),
               "F1 per class, averaged with equal weight per class",
               "sklearn.metrics.f1_score(average='macro'); KLUE-baseline YNAT macro F1",
               label="macro F1", hub_id="f1", hub_name="macro F1"),
        Metric("pearson", pearson, pearson_statistic, ("value",), "Pearson correlation of predicted and gold scores",
               "scipy.stats.pearsonr; GLUE STS-B and KLUE-STS Pearson r",
               label="Pearson", hub_id="pearsonr", hub_name="Pearson r", unit=CORRELATION,
               score_range=(-100.0, 100.0), undefined=_constant_column),
        Metric("spearman", spearman, spearman_statistic, ("value",),
               "Spearman rank correlation of predicted and gold scores", "scipy.stats.spearmanr; GLUE STS-B Spearman rho",
               label="Spearman", hub_id="spearmanr", hub_name="Spearman rho", unit=CORRELATION,
               score_range=(-100.0, 100.0), undefined=_constant_column),
        Metric("binarized_f1", binarized_f1, binarized_f1_statistic, ("value",),
               "F1 after cutting predicted and gold scores at metrics.binarize_threshold (>= is positive)",
               "KLUE-baseline klue_sts_f1 (threshold 3.0)",
               label="F1 (binarized)", hub_id="f1", hub_name="F1 of similar/dissimilar at {binarize_threshold}",
               parameters=_THRESHOLD),
        Metric("entity_f1", entity_f1, entity_f1_statistic, ("tags",),
               "F1 over whole entities (strict IOB2: type and both boundaries must match), macro over entity types",
               "seqeval f1_score(mode='strict', scheme=IOB2, average='macro'); KLUE-baseline klue_ner_entity_macro_f1",
               label="entity F1", hub_id="f1", hub_name="entity macro F1", label_problems=_iob2_tags),
        Metric("char_f1", char_f1, char_f1_statistic, ("tags",),
               "F1 per tag over every token (character for KLUE-NER), O included, macro over all tags",
               "sklearn f1_score(average='macro', zero_division=1); KLUE-baseline klue_ner_char_macro_f1",
               label="char F1", hub_id="f1", hub_name="character macro F1", label_problems=_outside_tag),
    )
}


def get(name: str) -> Metric:
    """The registered metric ``name``; an unknown name is an error naming the known ones, never a KeyError."""
    try:
        return METRICS[name]
    except KeyError:
        raise UnknownMetric(f"unknown metric {name!r}; this koenbench knows {', '.join(METRICS)}") from None


def label(name: str) -> str:
    """A metric's short name for tables; a metric this version does not know is shown by its name."""
    metric = METRICS.get(name)
    return metric.label if metric is not None else name


def compute(names: Sequence[str], predictions, references, **options) -> dict[str, float]:
    """Every named metric, rounded to 4 decimals; a metric undefined on this input (a correlation of constant
    predictions) gives UNDEFINED_SCORE, and ``undefined`` says which and why. Any other score that is not a
    finite number is a MetricError: it would be a bug, never a number to record."""
    scores = {}
    for name in names:
        metric = get(name)
        if metric.undefined(predictions, references) is not None:
            scores[name] = UNDEFINED_SCORE
            continue
        value = float(metric(predictions, references, **options))
        if not np.isfinite(value):
            raise MetricError(f"metric {name!r} gave {value} on {len(references)} examples")
        scores[name] = round(value, 4)
    return scores


def undefined(names: Sequence[str], predictions, references) -> list[str]:
    """A note for each reason some of the named metrics are undefined on this input (their score recorded as
    UNDEFINED_SCORE), e.g. "pearson and spearman undefined: every prediction is the same value (2.5); ..."."""
    why: dict[str, list[str]] = {}
    for name in names:
        reason = get(name).undefined(predictions, references)
        if reason is not None:
            why.setdefault(reason, []).append(name)
    return [f"{' and '.join(found)} undefined: {reason}; recorded as {UNDEFINED_SCORE} (scipy, KLUE-baseline and "
            "run_glue.py give NaN, which a record cannot hold)" for reason, found in why.items()]
