"""Bootstrap intervals and paired comparisons for every metric in harness.tasks.metrics.

Each metric says how it is resampled (``Metric.statistic`` in harness/tasks/metrics.py): a
function of example weights, mostly ``weights @ per_example`` sums, so a resample is one
matrix product. This module draws the weights.

A score is a mean over seeds, so its interval has two levels. The validation examples
(sentences for NER) are resampled, the same draws for every seed, as all seeds score the same
split; each model's seed effect is then added with its variance treated as estimated from
seeds - 1 degrees of freedom, not as known (``with_seed_level``): with 3 seeds a variance
rests on 2 degrees of freedom.
A comparison of two models uses the same example draws for both (paired, Koehn 2004); their
seeds count separately, since seed 42 of one model has nothing to do with seed 42 of another.
A model with one seed has no seed variance: its interval covers the examples alone, and no
verdict is given (``seeds_problem``). Intervals and p-values are one rule
(``inverted_interval``); the tests of one comparison are a family (Holm 1979, ``adjust``).
docs/statistics.md gives the method, its sources and its measured calibration.

scipy.stats.bootstrap does the plain one-level, one-statistic case; it calls the statistic
once per resample or over an (n_resamples, n) array of data, which for our metrics would
mean a seqeval or scikit-learn call per resample. The tests check our intervals against it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Iterator, Literal, Optional, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from harness.tasks import metrics
from harness.tasks.metrics import Statistic, SummedStatistic

CONFIDENCE = 0.95
RESAMPLES = 10_000
CHUNK_CELLS = 250_000  # weights held at once (resamples x examples): 2 MB, so a chunk's passes stay in cache (4x faster than 32 MB)


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

    def __post_init__(self) -> None:
        _refuse_non_finite("the references", self.references)
        for index, predicted in enumerate(self.seeds):
            _refuse_non_finite(f"seed {index + 1} of {len(self.seeds)}", predicted)

    @property
    def n_examples(self) -> int:
        return len(self.references)

    def statistics(self, metric: str) -> list[Statistic]:
        """One statistic per seed, built once per metric (for NER it is the costly part)."""
        if metric not in self._built:
            statistic = metrics.get(metric).statistic
            options = {"labels": self.labels, "binarize_threshold": self.binarize_threshold}
            self._built[metric] = [statistic(seed, self.references, **options) for seed in self.seeds]
        return self._built[metric]

    def seed_scores(self, metric: str) -> np.ndarray:
        """Each seed's score on every example."""
        ones = np.ones((1, self.n_examples))
        return np.array([s.scores(ones)[0] for s in self.statistics(metric)])

    def point(self, metric: str) -> float:
        """The score as the record reports it: the mean over seeds of the metric on every example."""
        return float(self.seed_scores(metric).mean())


def _refuse_non_finite(what: str, values: Sequence) -> None:
    """A NaN prediction has no score: the metric would be NaN, or (a correlation) read as 0. Refused, saying where."""
    if len(values) == 0 or not isinstance(values[0], (int, float, np.number)):
        return  # NER: lists of tag ids, integers by construction
    array = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(array))
    if len(bad):
        raise ValueError(f"{what}: {len(bad)} of {len(array)} values are NaN or infinite (the first at example "
                         f"{int(bad[0])}); a score of such predictions is undefined, so no interval or comparison is made")


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


# ---------------------------------------------------------------------------------------------
# the seed level: each model's seed variance is estimated from its seeds - 1 degrees of freedom

MIN_SEEDS = 2  # a seed variance needs two seeds; with two it rests on 1 degree of freedom (Student's t: 12.7 at 95%)


@dataclass(frozen=True)
class SeedSpread:
    """What one model's seeds on one task say about the seed effect, and that model's weight in a quantity.

    ``variance`` is the sample variance of the seed scores (seeds - 1 degrees of freedom). It
    holds the seed effect (how much a seed moves the whole score) plus each seed's own
    per-example noise, ``per_example``, which resampling the examples already counts. ``weight``
    is the coefficient of this model's score in the quantity: +1 or -1 in a difference, 1/k in
    an average over k tasks.
    """

    seeds: int
    variance: float
    per_example: float
    weight: float = 1.0

    @property
    def known(self) -> bool:
        return self.seeds >= MIN_SEEDS

    @property
    def effect(self) -> float:
        """The seed effect's variance: the spread less the per-example noise, clipped at 0 (a method-of-moments estimate)."""
        return max(0.0, self.variance - self.per_example) if self.known else 0.0


def seed_spread(per_seed: np.ndarray, seed_scores: np.ndarray) -> SeedSpread:
    """The seeds' spread and its per-example part, from the per-seed scores on each example resample.

    Seeds and examples are crossed (every seed scores every example). Resampling both the seeds
    and the examples would count each seed's per-example noise twice (at 3 seeds, an interval
    1.3x too wide), so it is read off the resamples and kept apart: one seed's score varies more
    than the seed mean's, by (1 - 1/S) of it.
    """
    n_seeds = len(seed_scores)
    if n_seeds < 2:
        return SeedSpread(n_seeds, 0.0, 0.0)
    noise = n_seeds / (n_seeds - 1) * (per_seed.var(axis=0).mean() - per_seed.mean(axis=1).var())
    return SeedSpread(n_seeds, float(np.var(seed_scores, ddof=1)), max(float(noise), 0.0))


def seed_variance(per_seed: np.ndarray, seed_scores: np.ndarray) -> float:
    """The variance of the seed effect (``SeedSpread.effect``), 0 for one seed."""
    return seed_spread(per_seed, seed_scores).effect


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class Draws:
    """Bootstrap draws of one quantity (a score, a difference of two, an average over tasks) before its seed level.

    ``examples``: the quantity on each resample of the validation examples, every seed kept;
    ``spreads``: the seeds of each model score in it; ``bounds``: where the quantity can lie.
    Sums, differences and scalings carry the spreads with their weights, so the seed level of
    a difference or an average is drawn once, for the quantity itself (``with_seed_level``).
    """

    point: float
    examples: np.ndarray
    spreads: tuple[SeedSpread, ...]
    bounds: tuple[float, float]

    @property
    def seeds_known(self) -> bool:
        """False when a model in it has one seed: its seed variance is unknown."""
        return all(s.known for s in self.spreads)

    def scaled(self, weight: float) -> "Draws":
        low, high = sorted((weight * self.bounds[0], weight * self.bounds[1]))
        return Draws(weight * self.point, weight * self.examples,
                     tuple(replace(s, weight=weight * s.weight) for s in self.spreads), (low, high))

    def __neg__(self) -> "Draws":
        return self.scaled(-1.0)

    def __add__(self, other: "Draws") -> "Draws":
        return Draws(self.point + other.point, self.examples + other.examples, self.spreads + other.spreads,
                     (self.bounds[0] + other.bounds[0], self.bounds[1] + other.bounds[1]))

    def __sub__(self, other: "Draws") -> "Draws":
        return self + (-other)


def average(parts: Sequence[Draws]) -> Draws:
    """The mean of several quantities (tasks resampled independently): a suite's average."""
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total.scaled(1.0 / len(parts))


def with_seed_level(draws: Draws, rng: np.random.Generator) -> np.ndarray:
    """The quantity's bootstrap draws with the seed level added, each seed variance treated as estimated.

    A model's mean over S seeds varies, beyond the examples, by variance / S, where variance is
    that of one seed's score, estimated by the seeds' sample variance on S - 1 degrees of
    freedom (2 with 3 seeds). Each resample draws the quantity's total seed variance
    V = sum(weight^2 * variance / S) from its sampling distribution given the observed one,
    V * df / chi2_df (a scaled inverse chi-square: Student's t for one model; Welch-Satterthwaite
    degrees of freedom where several models' seeds enter), takes off the per-example part
    that resampling the examples already holds, clipped at 0, and adds a normal seed effect of
    that variance. Where the seeds agree by chance the draw still allows a seed effect; taking
    the estimate as known gave 10-13% false positives at 3 seeds (docs/statistics.md).
    A model with one seed adds nothing: its seed variance is unknown (``Draws.seeds_known``).
    """
    known = [s for s in draws.spreads if s.known]
    total = sum(s.weight ** 2 * s.variance / s.seeds for s in known)
    if total == 0:
        return draws.examples.copy()
    held = sum(s.weight ** 2 * s.per_example / s.seeds for s in known)
    df = total ** 2 / sum((s.weight ** 2 * s.variance / s.seeds) ** 2 / (s.seeds - 1) for s in known)
    drawn = total * df / rng.chisquare(df, size=len(draws.examples))
    return draws.examples + np.sqrt(np.maximum(drawn - held, 0.0)) * rng.standard_normal(len(draws.examples))


def model_draws(models: Sequence[SeedPredictions], metric: str, n_resamples: int,
                rng: np.random.Generator) -> list[Draws]:
    """Per model, the draws of its score on the same resamples of the validation examples (paired across models)."""
    # one BLAS thread: each product is a thin (chunk x n) @ (n x k), bound by memory, where
    # threads only add synchronisation (measured: 2-4x slower with OpenBLAS's threads on 2 busy cores)
    with threadpool_limits(1, user_api="blas"):
        per_seed = per_seed_draws(models, metric, n_resamples, rng)
    bounds = metrics.get(metric).score_range
    return [Draws(m.point(metric), d.mean(axis=1), (seed_spread(d, m.seed_scores(metric)),), bounds)
            for d, m in zip(per_seed, models)]


def each_seed(model: SeedPredictions) -> list[SeedPredictions]:
    """Each seed of ``model`` as a run of its own (one seed each): a model that is one run, for ``nested_draws``."""
    return [replace(model, seeds=[seed]) for seed in model.seeds]


def nested_draws(models: Sequence[Sequence[SeedPredictions]], metric: str, n_resamples: int,
                 rng: np.random.Generator) -> list[Draws]:
    """Per model, the draws of its score where the model is several runs of its own making, each fine-tuned
    with several seeds (distillation seeds, say): ``models[m][r]`` holds run r's seeds.

    A run's score is the mean of its seeds, the model's the mean of its runs. The seed level is
    estimated from the runs, on runs - 1 degrees of freedom: their spread holds the run-to-run
    variance and the seeds' within each run, so the variance of the mean is that of the nested
    design (run variance / R + seed variance / (R * S)), where taking all R * S fine-tunings as
    seeds of one model would leave out most of the runs' share. A model that is one run gives
    ``each_seed(model)``: then this is ``model_draws``. Every model is resampled on the same examples.
    """
    flat = [run for runs in models for run in runs]
    with threadpool_limits(1, user_api="blas"):
        per_seed = per_seed_draws(flat, metric, n_resamples, rng)
    bounds = metrics.get(metric).score_range
    out, start = [], 0
    for runs in models:
        per_run = np.stack([d.mean(axis=1) for d in per_seed[start : start + len(runs)]], axis=1)  # (resamples, runs)
        run_scores = np.array([run.point(metric) for run in runs])
        start += len(runs)
        out.append(Draws(float(run_scores.mean()), per_run.mean(axis=1), (seed_spread(per_run, run_scores),), bounds))
    return out


def paired_draws(a: SeedPredictions, b: SeedPredictions, metric: str, n_resamples: int,
                 rng: np.random.Generator) -> Draws:
    """B - A on the same example resamples; each model's seeds count on their own (seed 42 of one is not seed 42 of the other)."""
    draws_a, draws_b = model_draws([a, b], metric, n_resamples, rng)
    return draws_b - draws_a


def bootstrap_draws(models: Sequence[SeedPredictions], metric: str, n_resamples: int = RESAMPLES,
                    rng: Optional[np.random.Generator] = None) -> np.ndarray:
    """(len(models), n_resamples): each model's score draws, its own seed level added (one model's interval).

    A difference of two models is not the difference of two rows: ``paired_draws`` gives it one
    seed level with the degrees of freedom of both models' seeds.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    return np.stack([with_seed_level(d, rng) for d in model_draws(models, metric, n_resamples, rng)])


# ---------------------------------------------------------------------------------------------
# intervals, p-values and verdicts: one rule


@dataclass(frozen=True)
class Interval:
    score: float  # the point estimate (mean over seeds on every example), percent
    low: float
    high: float
    confidence: float = CONFIDENCE
    examples_only: bool = False  # one seed: its seed variance is unknown, the interval covers the examples alone


Verdict = Literal["A better", "no detectable difference", "B better"]


@dataclass(frozen=True)
class Equivalence:
    """Two one-sided tests (TOST) that -margin < B - A < margin: equivalent when both reject."""

    margin: float
    p_value: float  # the larger of the two one-sided p-values
    p_adjusted: float  # Holm over the equivalence tests of one comparison
    equivalent: bool


@dataclass(frozen=True)
class Difference:
    """B - A, its interval, the two-sided bootstrap p-value (raw and Holm-adjusted) and the verdict from the adjusted one."""

    difference: float
    low: float
    high: float
    p_value: float
    verdict: Verdict
    confidence: float = CONFIDENCE
    p_adjusted: Optional[float] = None  # Holm over the comparison's tests; a test alone: the p-value itself
    equivalence: Optional[Equivalence] = None  # only where a margin was given
    sign: int = 1  # +1 where the draws lie mostly above 0 (B ahead), -1 below: the direction a verdict takes


def _shares(draws: np.ndarray, at: float) -> tuple[float, float]:
    """(share of draws below ``at``, share above), a draw equal to ``at`` counting half to each, with the add-one
    correction, so that no finite number of resamples makes a p-value 0."""
    ties = 0.5 * np.count_nonzero(draws == at)
    n = len(draws)
    return (np.count_nonzero(draws < at) + ties + 1) / (n + 1), (np.count_nonzero(draws > at) + ties + 1) / (n + 1)


def p_value(draws: np.ndarray, at: float = 0.0) -> float:
    """Two-sided bootstrap p-value of the hypothesis that the quantity is ``at``: twice the smaller tail share."""
    return float(min(1.0, 2.0 * min(_shares(draws, at))))


def inverted_interval(draws: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Every value that ``p_value`` does not reject at 1 - confidence, as (infimum, supremum).

    The interval and the p-value are one rule: 0 lies strictly inside exactly when p >= 1 -
    confidence. Its ends are draws (order statistics), close to the 2.5th and 97.5th percentiles.
    """
    values, counts = np.unique(draws, return_counts=True)
    n, half = len(draws), (1.0 - confidence) / 2.0
    if 1.0 / (n + 1) >= half:  # too few draws to reject anything
        return -np.inf, np.inf
    at_or_below = np.cumsum(counts)
    at_or_above = n - at_or_below + counts
    low = values[np.flatnonzero((at_or_below + 1) / (n + 1) >= half)[0]]
    high = values[np.flatnonzero((at_or_above + 1) / (n + 1) >= half)[-1]]
    return float(low), float(high)


def _verdict(p: float, sign: int, alpha: float) -> Verdict:
    if p >= alpha:
        return "no detectable difference"
    return "B better" if sign > 0 else "A better"


def _equivalence(draws: np.ndarray, margin: float, alpha: float) -> Equivalence:
    """TOST (Schuirmann 1987): H0 B - A <= -margin rejected when few draws lie at or below it, and likewise above +margin."""
    p = float(max(_shares(draws, -margin)[0], _shares(draws, margin)[1]))
    return Equivalence(margin, p, p, p < alpha)


def summarize_difference(observed: float, draws: np.ndarray, confidence: float = CONFIDENCE,
                         bounds: tuple[float, float] = (-np.inf, np.inf), margin: Optional[float] = None) -> Difference:
    """B - A from its bootstrap draws: interval, p-value and verdict, by one rule (``inverted_interval``).

    The interval is clipped to ``bounds`` (for two scores of one metric, the difference of its
    range), which never moves 0 in or out of it. A test alone: the adjusted p is the p-value;
    ``adjust`` applies Holm's correction over a comparison's tests.
    """
    alpha = 1.0 - confidence
    low, high = inverted_interval(draws, confidence)
    below, above = _shares(draws, 0.0)
    p = float(min(1.0, 2.0 * min(below, above)))
    sign = 1 if above >= below else -1
    equivalence = _equivalence(draws, margin, alpha) if margin is not None else None
    return Difference(observed, max(low, bounds[0]), min(high, bounds[1]), p, _verdict(p, sign, alpha), confidence,
                      p, equivalence, sign)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979): the k-th smallest of m times (m - k + 1), kept
    non-decreasing, capped at 1. Rejecting where the adjusted p < alpha holds the family-wise error at alpha."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order]))
    adjusted = np.empty_like(p)
    adjusted[order] = stepped
    return adjusted


def adjust(differences: Sequence[Difference]) -> list[Difference]:
    """The tests of one comparison as a family: Holm over their p-values, each verdict from its adjusted p;
    the equivalence tests (where a margin was given) likewise, as a family of their own."""
    if not differences:
        return []
    adjusted = holm([d.p_value for d in differences])
    out = [replace(d, p_adjusted=float(p), verdict=_verdict(p, d.sign, 1.0 - d.confidence))
           for d, p in zip(differences, adjusted)]
    with_margin = [i for i, d in enumerate(out) if d.equivalence is not None]
    for i, p in zip(with_margin, holm([out[i].equivalence.p_value for i in with_margin])):
        equivalence = replace(out[i].equivalence, p_adjusted=float(p), equivalent=bool(p < 1.0 - out[i].confidence))
        out[i] = replace(out[i], equivalence=equivalence)
    return out


def flip(d: Difference) -> Difference:
    """A - B from B - A: the same test read the other way."""
    verdict: Verdict = {"A better": "B better", "B better": "A better"}.get(d.verdict, d.verdict)  # type: ignore[assignment]
    return replace(d, difference=-d.difference, low=-d.high, high=-d.low, verdict=verdict, sign=-d.sign)


def seeds_problem(seeds: dict[str, int]) -> Optional[str]:
    """Why no verdict can be given (a model with fewer than MIN_SEEDS seeds: its seed variance is unknown), or None."""
    few = [f"{name} has {n} seed{'' if n == 1 else 's'}" for name, n in seeds.items() if n < MIN_SEEDS]
    if not few:
        return None
    return (f"no verdict: {' and '.join(few)}, so the seed-to-seed variance is unknown; a verdict needs at least "
            f"{MIN_SEEDS} seeds of each model, 3 or more for a useful interval (e.g. `bench run --seeds 42,43,44`)")


def interval_of(draws: Draws, rng: np.random.Generator, confidence: float = CONFIDENCE) -> Interval:
    """The interval of a score or an average of scores, its seed level added, clipped to the metric's range."""
    low, high = inverted_interval(with_seed_level(draws, rng), confidence)
    return Interval(draws.point, max(low, draws.bounds[0]), min(high, draws.bounds[1]), confidence,
                    examples_only=not draws.seeds_known)


def summarize(draws: Draws, rng: np.random.Generator, confidence: float = CONFIDENCE,
              margin: Optional[float] = None) -> Difference:
    """A difference's draws (``paired_draws``, or an average of them) summarised, its seed level added."""
    return summarize_difference(draws.point, with_seed_level(draws, rng), confidence, draws.bounds, margin)


def score_interval(model: SeedPredictions, metric: str, n_resamples: int = RESAMPLES, seed: int = 0,
                   confidence: float = CONFIDENCE) -> Interval:
    """The 95% interval of one model's score: validation examples resampled, the seed level added."""
    rng = np.random.default_rng(seed)
    (draws,) = model_draws([model], metric, n_resamples, rng)
    return interval_of(draws, rng, confidence)


def paired_difference(a: SeedPredictions, b: SeedPredictions, metric: str, n_resamples: int = RESAMPLES,
                      seed: int = 0, confidence: float = CONFIDENCE, margin: Optional[float] = None) -> Difference:
    """B - A on the same validation examples: a paired bootstrap with the seed level of both models.

    With one seed on either side this is the paired bootstrap of the examples alone (Koehn
    2004), which says nothing about seeds: `bench compare` gives no verdict then (``seeds_problem``).
    """
    rng = np.random.default_rng(seed)
    return summarize(paired_draws(a, b, metric, n_resamples, rng), rng, confidence, margin)


def differ_from_best(models: Sequence[SeedPredictions], metric: str, best: int, n_resamples: int = RESAMPLES,
                     rng: Optional[np.random.Generator] = None, confidence: float = CONFIDENCE) -> list[bool]:
    """For each model, whether it differs from ``models[best]``: Holm over every pair of the models.

    The best is picked by the same data, so its distance to the worst is the largest of all
    pairs: Holm's guarantee covers the family of every pair, not the pairs with the best
    alone, which the data chose (docs/statistics.md measures both on boards of equal models).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    draws = model_draws(models, metric, n_resamples, rng)
    pairs = list(itertools.combinations(range(len(models)), 2))
    adjusted = dict(zip(pairs, holm([p_value(with_seed_level(draws[j] - draws[i], rng)) for i, j in pairs])))
    alpha = 1.0 - confidence
    return [i != best and bool(adjusted[(min(i, best), max(i, best))] < alpha) for i in range(len(models))]
