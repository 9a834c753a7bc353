"""Bootstrap intervals and paired comparisons for every metric in harness.metrics.

Every metric here is a function of sums of per-example statistics (confusion counts for
accuracy and the F1s, per-sentence entity and character counts for NER, moments for
Pearson), so a resample is a vector of example weights and its score is one matrix
product: ``weights @ per_example``. That is why 10,000 resamples of the largest dev set take
about a second, where calling scikit-learn or seqeval once per resample would take minutes.
Spearman is the exception (ranks are not sums); it ranks each resample from its weights.

A score's interval resamples in two levels, as the score is a mean over seeds: per
resample, draw the seeds with replacement, then the validation examples (sentences for
NER); the same examples serve every seed, because all seeds are scored on the same split.
A comparison of two models uses the same example draws for both (paired); their seeds are
drawn independently, since seed 42 of one model has nothing to do with seed 42 of another.

scipy.stats.bootstrap does the plain one-level, one-statistic case; it calls the statistic
once per resample or over an (n_resamples, n) array of data, which for our metrics would
mean a seqeval or scikit-learn call per resample. The tests check our intervals against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Literal, Optional, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

CONFIDENCE = 0.95
RESAMPLES = 10_000
CHUNK_CELLS = 250_000  # weights held at once (resamples x examples): 2 MB, so a chunk's passes stay in cache (4x faster than 32 MB)


# ---------------------------------------------------------------------------------------------
# per-example statistics: each metric as a function of weighted sums


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
    """An undefined score (constant predictions) counts as 0, as metrics.compute does."""
    return np.where(np.isfinite(values), values, 0.0)


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


STATISTICS: dict[str, Callable[..., Statistic]] = {
    "accuracy": accuracy_statistic,
    "f1": f1_statistic,
    "macro_f1": macro_f1_statistic,
    "pearson": pearson_statistic,
    "spearman": spearman_statistic,
    "binarized_f1": binarized_f1_statistic,
    "entity_f1": entity_f1_statistic,
    "char_f1": char_f1_statistic,
}


# ---------------------------------------------------------------------------------------------
# a task's predictions over seeds


@dataclass
class SeedPredictions:
    """Every seed's predictions of one model on one validation split, with the gold references.

    Each entry of ``seeds`` has the form the metric takes: one label or value per example,
    or for NER one list of tags per sentence (its scored characters).
    """

    references: Sequence
    seeds: list[Sequence]
    labels: Optional[Sequence[str]] = None
    binarize_threshold: Optional[float] = None
    _built: dict[str, list[Statistic]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def n_examples(self) -> int:
        return len(self.references)

    def statistics(self, metric: str) -> list[Statistic]:
        """One statistic per seed, built once per metric (for NER it is the costly part)."""
        if metric not in STATISTICS:
            raise ValueError(f"no bootstrap for metric {metric!r}; known: {', '.join(STATISTICS)}")
        if metric not in self._built:
            options = {"labels": self.labels, "binarize_threshold": self.binarize_threshold}
            self._built[metric] = [STATISTICS[metric](seed, self.references, **options) for seed in self.seeds]
        return self._built[metric]

    def seed_scores(self, metric: str) -> np.ndarray:
        """Each seed's score on every example."""
        ones = np.ones((1, self.n_examples))
        return np.array([s.scores(ones)[0] for s in self.statistics(metric)])

    def point(self, metric: str) -> float:
        """The score as the record reports it: the mean over seeds of the metric on every example."""
        return float(self.seed_scores(metric).mean())


# ---------------------------------------------------------------------------------------------
# resampling


def weight_chunks(n_examples: int, n_resamples: int, rng: np.random.Generator,
                  chunk_cells: int = CHUNK_CELLS) -> Iterator[np.ndarray]:
    """Multinomial example weights of a plain bootstrap, (chunk, n) at a time: how often each example is drawn."""
    chunk = max(1, min(n_resamples, chunk_cells // max(n_examples, 1)))
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        draws = rng.integers(0, n_examples, size=(size, n_examples)) + (np.arange(size) * n_examples)[:, None]
        yield np.bincount(draws.ravel(), minlength=size * n_examples).reshape(size, n_examples).astype(np.float64)


def _check_same_examples(models: Sequence[SeedPredictions]) -> int:
    sizes = {m.n_examples for m in models}
    if len(sizes) != 1:
        raise ValueError(f"paired resampling needs the same validation examples; sizes differ: {sorted(sizes)}")
    return sizes.pop()


def _cells(statistics: list[list[Statistic]], n_examples: int) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """Examples whose statistics are equal in every model and seed, grouped: (one example of each cell, cell sizes).

    A classifier's example is one of few kinds (gold class x each seed's prediction), so
    YNAT's 9,107 examples fall into a few hundred cells, and drawing how often each cell is
    drawn (multinomial over cells, p = size / n) is the same bootstrap, far cheaper. None
    when it would not pay (continuous values, Spearman's ranks, mostly distinct sentences).
    """
    flat = [s for per_model in statistics for s in per_model]
    if not all(isinstance(s, SummedStatistic) for s in flat):
        return None
    rows = np.hstack([s.per_example for s in flat])
    _, first, sizes = np.unique(rows, axis=0, return_index=True, return_counts=True)
    return (first, sizes) if len(first) <= n_examples // 4 else None


def _compressed(statistic: Statistic, first: np.ndarray) -> Statistic:
    assert isinstance(statistic, SummedStatistic)
    return SummedStatistic(statistic.per_example[first], statistic.finish)


def cell_weight_chunks(sizes: np.ndarray, n_resamples: int, rng: np.random.Generator,
                       chunk_cells: int = CHUNK_CELLS) -> Iterator[np.ndarray]:
    """How often each cell is drawn in each resample of n = sizes.sum() examples, (chunk, cells) at a time."""
    chunk = max(1, min(n_resamples, chunk_cells // len(sizes)))
    p = sizes / sizes.sum()
    for start in range(0, n_resamples, chunk):
        yield rng.multinomial(int(sizes.sum()), p, size=min(chunk, n_resamples - start)).astype(np.float64)


def per_seed_draws(models: Sequence[SeedPredictions], metric: str, n_resamples: int,
                   rng: np.random.Generator) -> list[np.ndarray]:
    """Per model, (n_resamples, seeds) scores of each seed on the same example resamples (paired across models)."""
    n_examples = _check_same_examples(models)
    statistics = [m.statistics(metric) for m in models]
    cells = _cells(statistics, n_examples)
    if cells is None:
        chunks = weight_chunks(n_examples, n_resamples, rng)
    else:
        first, sizes = cells
        statistics = [[_compressed(s, first) for s in per_model] for per_model in statistics]
        chunks = cell_weight_chunks(sizes, n_resamples, rng)
    out = [np.empty((n_resamples, len(per_model))) for per_model in statistics]
    done = 0
    for weights in chunks:
        for draws, per_model in zip(out, statistics):
            for s, statistic in enumerate(per_model):
                draws[done : done + len(weights), s] = statistic.scores(weights)
        done += len(weights)
    return out


def seed_variance(per_seed: np.ndarray, seed_scores: np.ndarray) -> float:
    """The variance of the seed effect: how much a seed moves the whole score, beyond per-example flips.

    Seeds and examples are crossed (every seed scores every example). The spread of the
    seeds' scores holds the seed effect plus each seed's own per-example noise, which the
    example resampling already counts; resampling both would count it twice (at 3 seeds,
    an interval 1.3x too wide: 100% coverage where 95% is meant). The per-example part is
    read off the resamples themselves: one seed's score varies more than the seed mean's,
    by (1 - 1/S) of it. A method-of-moments estimate, clipped at 0.
    """
    n_seeds = per_seed.shape[1]
    per_example_noise = n_seeds / (n_seeds - 1) * (per_seed.var(axis=0).mean() - per_seed.mean(axis=1).var())
    return max(0.0, float(np.var(seed_scores, ddof=1) - max(per_example_noise, 0.0)))


def two_level_draws(per_seed: np.ndarray, seed_scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap scores of a mean over seeds: examples resampled (per_seed, seeds fixed), plus the seeds resampled.

    The seed level draws the seeds with replacement and adds how far their mean falls from
    the mean of all seeds, scaled so that its variance is the seed effect's alone
    (``seed_variance`` / S). One seed: examples only (one seed says nothing about seeds).
    """
    examples = per_seed.mean(axis=1)
    n_seeds = len(seed_scores)
    spread = np.var(seed_scores, ddof=1) if n_seeds > 1 else 0.0
    if spread == 0:
        return examples
    counts = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=len(examples))
    seed_shift = counts @ seed_scores / n_seeds - seed_scores.mean()  # variance (S-1)/S^2 * spread
    scale = np.sqrt(seed_variance(per_seed, seed_scores) * n_seeds / ((n_seeds - 1) * spread))
    return examples + scale * seed_shift


def bootstrap_draws(models: Sequence[SeedPredictions], metric: str, n_resamples: int = RESAMPLES,
                    rng: Optional[np.random.Generator] = None) -> np.ndarray:
    """(len(models), n_resamples) bootstrap scores, every model scored on the same example draws.

    One model: the two-level bootstrap of its score. Two or more: paired example draws (seeds
    drawn independently per model), so that a row difference is the bootstrap of the score difference.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    # one BLAS thread: each product is a thin (chunk x n) @ (n x k), bound by memory, where
    # threads only add synchronisation (measured: 2-4x slower with OpenBLAS's threads on 2 busy cores)
    with threadpool_limits(1, user_api="blas"):
        draws = per_seed_draws(models, metric, n_resamples, rng)
    return np.stack([two_level_draws(d, m.seed_scores(metric), rng) for d, m in zip(draws, models)])


# ---------------------------------------------------------------------------------------------
# summaries


@dataclass(frozen=True)
class Interval:
    score: float  # the point estimate (mean over seeds on every example), percent
    low: float
    high: float
    confidence: float = CONFIDENCE


Verdict = Literal["A better", "no detectable difference", "B better"]


@dataclass(frozen=True)
class Difference:
    """B - A, its percentile interval and a two-sided bootstrap p-value."""

    difference: float
    low: float
    high: float
    p_value: float
    verdict: Verdict
    confidence: float = CONFIDENCE


def percentile_interval(score: float, draws: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(draws, [tail, 100.0 - tail])
    return Interval(score, float(low), float(high), confidence)


def summarize_difference(observed: float, draws: np.ndarray, confidence: float = CONFIDENCE) -> Difference:
    """The verdict follows the interval: B better when it lies above 0, A better below, else no detectable difference.

    The p-value is the two-sided bootstrap p of the hypothesis of no difference: twice the
    smaller share of draws on either side of 0 (ties count half), with the add-one
    correction so that it is never 0 from a finite number of resamples.
    """
    interval = percentile_interval(observed, draws, confidence)
    below = (np.sum(draws < 0) + 0.5 * np.sum(draws == 0) + 1) / (len(draws) + 1)
    above = (np.sum(draws > 0) + 0.5 * np.sum(draws == 0) + 1) / (len(draws) + 1)
    p_value = float(min(1.0, 2.0 * min(below, above)))
    if interval.low > 0:
        verdict: Verdict = "B better"
    elif interval.high < 0:
        verdict = "A better"
    else:
        verdict = "no detectable difference"
    return Difference(observed, interval.low, interval.high, p_value, verdict, confidence)


def score_interval(model: SeedPredictions, metric: str, n_resamples: int = RESAMPLES, seed: int = 0,
                   confidence: float = CONFIDENCE) -> Interval:
    """The 95% interval of one model's score: seeds and validation examples resampled."""
    draws = bootstrap_draws([model], metric, n_resamples, np.random.default_rng(seed))[0]
    return percentile_interval(model.point(metric), draws, confidence)


def paired_difference(a: SeedPredictions, b: SeedPredictions, metric: str, n_resamples: int = RESAMPLES,
                      seed: int = 0, confidence: float = CONFIDENCE) -> Difference:
    """B - A on the same validation examples, with a paired bootstrap."""
    draws = bootstrap_draws([a, b], metric, n_resamples, np.random.default_rng(seed))
    return summarize_difference(b.point(metric) - a.point(metric), draws[1] - draws[0], confidence)
