"""The bootstrap against the metrics it resamples, against scipy, and against synthetic truths.

Every prediction here is synthetic: drawn from a known accuracy or noise level, so the
right answer (same predictor, better by a known margin) is known in advance.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from seqeval.metrics import f1_score as seqeval_f1
from seqeval.scheme import IOB2, Entities

from harness.stats import bootstrap
from harness.tasks import data, metrics
from harness.tasks.spec import load_tasks

NER = load_tasks(["klue/ner"])[0]
LABELS = NER.dataset.labels
THRESHOLD = 3.0


def _classification(rng, n, classes=3, accuracy=0.7):
    gold = rng.integers(0, classes, n)
    wrong = rng.random(n) > accuracy
    pred = np.where(wrong, (gold + rng.integers(1, classes, n)) % classes, gold)
    return pred, gold


def _regression(rng, n, noise=1.0):
    gold = np.round(rng.uniform(0, 5, n), 1)  # rounded: ties, as STS gold scores have
    return gold + rng.normal(0, noise, n), gold


def _ner(rng, sentences, flip=0.08):
    """Gold sentences of random entities, and predictions with a share of tags replaced at random."""
    outside = LABELS.index("O")
    gold = []
    for _ in range(sentences):
        tags = [outside] * int(rng.integers(5, 30))
        for _ in range(int(rng.integers(0, 3))):
            kind, start = int(rng.integers(0, 6)), int(rng.integers(0, len(tags) - 3))
            tags[start : start + 3] = [2 * kind, 2 * kind + 1, 2 * kind + 1]
        gold.append(tags)
    pred = [[int(rng.integers(len(LABELS))) if rng.random() < flip else t for t in g] for g in gold]
    return pred, gold


def _inputs(metric, rng, n):
    if metric in ("pearson", "spearman", "binarized_f1"):
        return _regression(rng, n)
    if metric in ("entity_f1", "char_f1"):
        return _ner(rng, n)
    return _classification(rng, n, classes=2 if metric == "f1" else 4)


OPTIONS = {"labels": LABELS, "binarize_threshold": THRESHOLD}


def _metric(metric, predictions, references):
    return metrics.METRICS[metric](predictions, references, **OPTIONS)


@pytest.mark.parametrize("metric", sorted(metrics.METRICS))
def test_weights_score_like_the_metric_on_the_repeated_examples(metric):
    """A resample drawing example i w_i times scores exactly as the metric on the array with example i repeated w_i times."""
    rng = np.random.default_rng(7)
    pred, gold = _inputs(metric, rng, 60)
    statistic = metrics.get(metric).statistic(pred, gold, **OPTIONS)
    weights = np.vstack([np.ones(60), rng.multinomial(60, np.full(60, 1 / 60), size=4)])
    for row, score in zip(weights, statistic.scores(weights)):
        repeat = np.repeat(np.arange(60), row.astype(int))
        expected = _metric(metric, [pred[i] for i in repeat], [gold[i] for i in repeat])
        assert score == pytest.approx(expected, abs=1e-9)


def test_constant_predictions_score_zero_like_metrics_compute():
    gold = np.array([1.0, 2.0, 3.0, 4.0])
    for metric in ("pearson", "spearman"):
        statistic = metrics.get(metric).statistic(np.full(4, 2.5), gold)
        assert statistic.scores(np.ones((1, 4)))[0] == 0.0 == metrics.compute([metric], np.full(4, 2.5), gold)[metric]


@pytest.fixture(scope="module")
def klue_ner_dev(shared_data):
    """The real KLUE-NER dev file: gold tags of the scored (non-space) characters and a perturbed copy."""
    ds = data.read_local_file(NER, "validation", shared_data)
    gold = [[t for ch, t in zip(chars, tags) if not ch.isspace()] for chars, tags in zip(ds["tokens"], ds["tags"])]
    rng = np.random.default_rng(3)
    # a plausible tagger's errors: a share of tags replaced by a random tag, and some entities' B- turned to I-
    perturbed = []
    for sentence in gold:
        tags = [int(rng.integers(len(LABELS))) if rng.random() < 0.04 else t for t in sentence]
        tags = [t + 1 if LABELS[t].startswith("B-") and rng.random() < 0.05 else t for t in tags]
        perturbed.append(tags)
    return perturbed, gold


def test_ner_sentence_statistics_reproduce_seqeval_on_the_klue_dev_file(klue_ner_dev):
    pred, gold = klue_ner_dev
    assert len(gold) == 5000
    statistic = metrics.entity_f1_statistic(pred, gold, labels=LABELS)
    ours = statistic.scores(np.ones((1, len(gold))))[0]
    wrap = lambda sentences: [["O", *(LABELS[t] for t in s), "O"] for s in sentences]  # noqa: E731
    expected = 100.0 * seqeval_f1(wrap(gold), wrap(pred), average="macro", mode="strict", scheme=IOB2)
    assert 50 < expected < 99  # the perturbation leaves a real but imperfect tagger
    assert ours == pytest.approx(expected, abs=1e-9)
    assert metrics.entity_f1(pred, gold, labels=LABELS) == pytest.approx(expected, abs=1e-9)
    # and as KLUE-baseline scores it: the split as one sequence (quadratic in seqeval, so on a slice)
    some = slice(0, 400)
    gold_sequence = [tag for sentence in wrap(gold[some]) for tag in sentence]
    pred_sequence = [tag for sentence in wrap(pred[some]) for tag in sentence]
    expected_slice = 100.0 * seqeval_f1([gold_sequence], [pred_sequence], average="macro", mode="strict", scheme=IOB2)
    sliced = metrics.entity_f1_statistic(pred[some], gold[some], labels=LABELS)
    assert sliced.scores(np.ones((1, 400)))[0] == pytest.approx(expected_slice, abs=1e-9)
    assert metrics.entity_f1(pred[some], gold[some], labels=LABELS) == pytest.approx(expected_slice, abs=1e-9)


def test_entity_extraction_matches_seqeval_strict_iob2_on_tag_soup():
    """Random tags: I- without a B-, B- inside entities, types switching mid-run; the entities are seqeval's."""
    rng = np.random.default_rng(12)
    sentences = [rng.integers(0, len(LABELS), int(rng.integers(0, 25))).tolist() for _ in range(300)]
    sentence, keys, types = metrics.strict_iob2_entities(sentences, LABELS)
    tagged = [["O", *(LABELS[t] for t in s), "O"] for s in sentences]
    expected = Entities(tagged, scheme=IOB2).entities
    assert np.bincount(sentence, minlength=300).tolist() == [len(e) for e in expected]
    entity_types = sorted({name[2:] for name in LABELS if name != "O"})
    found = sorted(zip(sentence.tolist(), [entity_types[t] for t in types]))
    assert found == sorted((e.sent_id, e.tag) for per_sentence in expected for e in per_sentence)
    assert len(set(keys.tolist())) == len(keys)


def test_entity_f1_refuses_tags_that_are_not_iob2():
    with pytest.raises(ValueError, match="IOB2"):
        metrics.entity_f1_statistic([[0]], [[0]], labels=["S-PS", "O"])


def test_ner_character_statistics_reproduce_char_f1_on_the_klue_dev_file(klue_ner_dev):
    pred, gold = klue_ner_dev
    ours = metrics.char_f1_statistic(pred, gold, labels=LABELS).scores(np.ones((1, len(gold))))[0]
    assert ours == pytest.approx(metrics.char_f1(pred, gold, labels=LABELS), abs=1e-9)


@pytest.mark.parametrize("metric", sorted(metrics.METRICS))
def test_interval_agrees_with_scipy_percentile_bootstrap(metric):
    """One seed, a plain resample of the examples: our interval and scipy's (calling the real metric) agree within Monte-Carlo error."""
    rng = np.random.default_rng(11)
    ner = metric in ("entity_f1", "char_f1")
    n = 80 if ner else 200
    pred, gold = _inputs(metric, rng, n)
    model = bootstrap.SeedPredictions(gold, [pred], labels=LABELS, binarize_threshold=THRESHOLD)
    ours = bootstrap.score_interval(model, metric, n_resamples=10_000, seed=1)
    draws = bootstrap.bootstrap_draws([model], metric, 10_000, np.random.default_rng(2))[0]

    def statistic(index):
        return _metric(metric, [pred[i] for i in index], [gold[i] for i in index])

    theirs = stats.bootstrap((np.arange(n),), statistic, vectorized=False, paired=True, method="percentile",
                             n_resamples=500, random_state=np.random.default_rng(3))
    spread = draws.std()
    assert spread > 0.5  # a real interval, not a degenerate one
    # the 2.5% quantile of 500 resamples has a Monte-Carlo sd of about 0.12 bootstrap sds; ours (10,000) 0.03
    assert ours.low == pytest.approx(theirs.confidence_interval.low, abs=0.5 * spread)
    assert ours.high == pytest.approx(theirs.confidence_interval.high, abs=0.5 * spread)
    assert ours.score == pytest.approx(statistic(np.arange(n)), abs=1e-9)


def _seeds(rng, gold, accuracy, seeds, seed_sd=0.0):
    """Seeds of one predictor: each example right with probability ``accuracy`` (plus a per-seed shift), independently."""
    out = []
    for _ in range(seeds):
        right = rng.random(len(gold)) < np.clip(accuracy + rng.normal(0, seed_sd), 0, 1)
        out.append(np.where(right, gold, 1 - gold))
    return out


def test_two_draws_of_the_same_predictor_cover_zero_95_percent_of_the_time():
    rng = np.random.default_rng(2024)
    covered = 0
    for replication in range(400):
        gold = rng.integers(0, 2, 300)
        difficulty = rng.beta(4, 1, 300)  # examples differ in how hard they are; both draws share it
        a = bootstrap.SeedPredictions(gold, _seeds(rng, gold, difficulty, 3, seed_sd=0.01))
        b = bootstrap.SeedPredictions(gold, _seeds(rng, gold, difficulty, 3, seed_sd=0.01))
        d = bootstrap.paired_difference(a, b, "accuracy", n_resamples=1000, seed=replication)
        covered += d.low <= 0 <= d.high
    # at least 95% less simulation error; more where, as here, the seeds barely differ: 3 seeds cannot tell that
    # apart from a seed effect as large as the examples' noise, and allow for one (measured: 396 of 400)
    assert 0.93 <= covered / 400


def _detections(rng, n, seeds, accuracy_a, accuracy_b, replications=400):
    verdicts = []
    for replication in range(replications):
        gold = rng.integers(0, 2, n)
        a = bootstrap.SeedPredictions(gold, _seeds(rng, gold, accuracy_a, seeds))
        b = bootstrap.SeedPredictions(gold, _seeds(rng, gold, accuracy_b, seeds))
        verdicts.append(bootstrap.paired_difference(a, b, "accuracy", n_resamples=1000, seed=replication).verdict)
    return verdicts


def _power(n, seeds, margin=0.05):
    """B right 80% of the time, A 75%, every seed's errors independent: the mean over seeds of one example
    has variance p(1-p)/S, so the paired difference has standard error sqrt((0.75*0.25 + 0.8*0.2) / (S n)),
    and a two-sided 5% test finds the margin with probability Phi(margin/se - 1.96) (+ a negligible other tail)."""
    se = np.sqrt((0.75 * 0.25 + 0.80 * 0.20) / (seeds * n))
    return stats.norm.cdf(margin / se - 1.96) + stats.norm.cdf(-margin / se - 1.96)


def test_a_better_predictor_is_detected_at_the_expected_rate():
    """One seed: the plain paired bootstrap, whose power is known in closed form."""
    expected = _power(900, seeds=1)
    verdicts = _detections(np.random.default_rng(5), 900, 1, 0.75, 0.80)
    assert 0.6 < expected < 0.8
    assert verdicts.count("B better") / 400 == pytest.approx(expected, abs=0.07)  # 3 binomial sds of 400 replications
    assert verdicts.count("A better") <= 2


def test_three_seeds_pay_a_bounded_price_for_guarding_against_seed_effects():
    """Three seeds without any seed effect: about one seed's power, less than a test told there is no seed effect.

    With 3 seeds the seed variance rests on 2 degrees of freedom, which cannot tell "no seed
    effect" from one as large as the examples' noise; the test allows for it (measured: 0.33
    detected, where a test that knew there is no seed effect finds 0.72 and the examples-only
    test of one seed 0.31, which ignores seeds altogether). The price of not knowing.
    """
    verdicts = _detections(np.random.default_rng(6), 300, 3, 0.75, 0.80)
    detected = verdicts.count("B better") / 400
    assert _power(300, seeds=1) - 0.05 < detected < _power(300, seeds=3) + 0.07
    assert verdicts.count("A better") <= 2


def test_seeds_that_disagree_widen_the_interval():
    """A seed that collapsed to one class moves the whole score; the examples alone cannot show that."""
    rng = np.random.default_rng(9)
    gold = rng.integers(0, 2, 500)
    good = _seeds(rng, gold, 0.85, 3)
    steady = bootstrap.score_interval(bootstrap.SeedPredictions(gold, good), "accuracy", 4000)
    collapsed = bootstrap.score_interval(bootstrap.SeedPredictions(gold, good[:2] + [np.zeros(500, int)]), "accuracy", 4000)
    assert (collapsed.high - collapsed.low) > 3 * (steady.high - steady.low)
    assert collapsed.low < collapsed.score < collapsed.high


def test_per_example_seed_noise_is_not_counted_twice():
    """Seeds that differ only by independent per-example flips: their spread is the per-example noise, read off the
    example resamples, and ten of them give about the interval of the examples alone (resampling seeds and examples
    both would count that noise twice)."""
    rng = np.random.default_rng(4)
    gold = rng.integers(0, 2, 2000)
    model = bootstrap.SeedPredictions(gold, _seeds(rng, gold, 0.8, 10))
    per_seed = bootstrap.per_seed_draws([model], "accuracy", 4000, np.random.default_rng(0))[0]
    spread = bootstrap.seed_spread(per_seed, model.seed_scores("accuracy"))
    assert spread.per_example == pytest.approx(100 ** 2 * 0.8 * 0.2 / 2000, rel=0.1)  # one seed's binomial noise
    assert spread.variance == pytest.approx(spread.per_example, rel=0.6)  # 9 degrees of freedom: +-47% at 1 sd
    examples_only = np.subtract(*np.percentile(per_seed.mean(axis=1), [97.5, 2.5]))
    both = np.subtract(*np.percentile(bootstrap.bootstrap_draws([model], "accuracy", 4000, np.random.default_rng(0))[0],
                                      [97.5, 2.5]))
    assert examples_only <= both <= 1.3 * examples_only


def test_pairing_needs_the_same_examples():
    a = bootstrap.SeedPredictions(np.zeros(10, int), [np.zeros(10, int)])
    b = bootstrap.SeedPredictions(np.zeros(12, int), [np.zeros(12, int)])
    with pytest.raises(ValueError, match="same validation examples"):
        bootstrap.paired_difference(a, b, "accuracy", 100)


def test_unknown_metric_is_named():
    with pytest.raises(metrics.UnknownMetric) as err:
        bootstrap.SeedPredictions([0], [[0]]).statistics("bleu")
    assert str(err.value) == ("unknown metric 'bleu'; this koenbench knows accuracy, f1, macro_f1, pearson, spearman, "
                              "binarized_f1, entity_f1, char_f1")


@pytest.mark.parametrize(
    ("draws", "verdict"),
    [(np.linspace(0.5, 3.0, 999), "B better"), (np.linspace(-3.0, -0.5, 999), "A better"),
     (np.linspace(-1.0, 2.0, 999), "no detectable difference")],
)
def test_verdict_follows_the_interval_and_the_p_value(draws, verdict):
    d = bootstrap.summarize_difference(float(np.mean(draws)), draws)
    assert d.verdict == verdict
    assert (d.p_value < 0.05) == (verdict != "no detectable difference")
    assert d.p_value >= 1 / 1000  # never 0 from a finite number of resamples


def test_chunks_bound_memory_and_keep_every_resample():
    rng = np.random.default_rng(0)
    chunks = list(bootstrap.weight_chunks(1000, 2500, rng, chunk_cells=300_000))
    assert [len(c) for c in chunks] == [300] * 8 + [100]
    assert all((c.sum(axis=1) == 1000).all() for c in chunks)


def test_grouping_equal_examples_is_the_same_bootstrap(monkeypatch):
    """Classifier examples grouped into cells (multinomial over cells) spread like examples drawn one by one."""
    rng = np.random.default_rng(8)
    gold = rng.integers(0, 3, 3000)
    model = bootstrap.SeedPredictions(gold, [_classification(rng, 3000)[0] for _ in range(2)])
    assert bootstrap._cells([model.statistics("macro_f1")], 3000) is not None
    grouped = bootstrap.per_seed_draws([model], "macro_f1", 4000, np.random.default_rng(0))[0]
    monkeypatch.setattr(bootstrap, "_cells", lambda statistics, n: None)
    one_by_one = bootstrap.per_seed_draws([model], "macro_f1", 4000, np.random.default_rng(1))[0]
    assert grouped.mean(axis=0) == pytest.approx(one_by_one.mean(axis=0), abs=0.1)
    assert grouped.std(axis=0) == pytest.approx(one_by_one.std(axis=0), rel=0.06)  # sd of a 4000-draw sd: ~1.1%


def test_pearson_is_exact_for_float32_scores_far_from_zero():
    # a model's predictions come as float32, and a score scale can sit far from 0: the resampled Pearson
    # must still be the float64 Pearson of those numbers (uncentred float32 moments lose digits)
    rng = np.random.default_rng(5)
    gold = rng.uniform(0, 5, 300)
    pred = gold + rng.normal(0, 1, 300)
    for offset in (0.0, 1e4):
        pred32, gold32 = (pred + offset).astype(np.float32), (gold + offset).astype(np.float32)
        expected = metrics.pearson(pred32.astype(np.float64), gold32.astype(np.float64))
        statistic = metrics.pearson_statistic(pred32, gold32)
        assert statistic.scores(np.ones((1, 300)))[0] == pytest.approx(expected, abs=1e-9)
    far = metrics.pearson_statistic(pred + 1e7, gold - 1e7).scores(np.ones((1, 300)))[0]
    assert far == pytest.approx(metrics.pearson(pred, gold), abs=1e-6)


def test_undefined_scores_are_zero_without_a_warning():
    # constant predictions leave a correlation undefined: the interval counts 0, quietly (a RuntimeWarning
    # on every `bench compare` would tell the user nothing)
    gold = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 2.0])
    weights = np.vstack([np.ones(6), np.random.default_rng(0).multinomial(6, np.full(6, 1 / 6), size=50)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for constant in (0.1, 2.5, 0.7):
            for metric in ("pearson", "spearman"):
                scores = metrics.get(metric).statistic(np.full(6, constant), gold).scores(weights)
                assert (scores == 0.0).all()


def test_a_prediction_on_the_threshold_is_similar_in_the_bootstrap_too():
    predictions, references = np.array([3.0, 2.99, 4.0, 1.0, 3.5]), np.array([0.5, 3.0, 4.2, 2.9, 5.0])
    statistic = metrics.binarized_f1_statistic(predictions, references, binarize_threshold=3.0)
    assert statistic.scores(np.ones((1, 5)))[0] == pytest.approx(100 * 2 / 3)  # as test_metrics works it out
    message = r"^binarized_f1 needs metrics\.binarize_threshold in the task spec \(KLUE-STS: 3\.0\)$"
    for needs_threshold in (metrics.binarized_f1_statistic, metrics.binarized_f1):
        with pytest.raises(ValueError, match=message):
            needs_threshold(predictions, references)


def test_sentences_without_scored_characters_score_like_char_f1():
    # a sentence of spaces only has no scored characters; its two wrapping O's still count, as in metrics.char_f1
    outside, person = LABELS.index("O"), LABELS.index("B-PS")
    location = LABELS.index("B-LC")
    for references, predictions in (([[], []], [[], []]), ([[], [person, outside]], [[], [person, person]]),
                                     ([[outside]], [[location]])):  # B-LC: one false positive alone, F1 0
        statistic = metrics.char_f1_statistic(predictions, references, labels=LABELS)
        expected = metrics.char_f1(predictions, references, labels=LABELS)
        assert statistic.scores(np.ones((1, len(references))))[0] == pytest.approx(expected, abs=1e-9)


def test_class_labels_given_as_floats_score_like_the_metric():
    # labels read through pandas (a column with a gap) arrive as floats; the metric takes them, so must the bootstrap
    pred, gold = _classification(np.random.default_rng(4), 40, classes=3)
    statistic = metrics.macro_f1_statistic(pred.astype(np.float64), gold.astype(np.float64))
    assert statistic.scores(np.ones((1, 40)))[0] == pytest.approx(metrics.macro_f1(pred, gold), abs=1e-9)


def test_f1_with_no_positive_anywhere_is_zero_like_the_metric():
    none = np.zeros(8, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns that F1 is ill-defined, and says 0
        expected = metrics.f1(none, none)
    assert expected == 0.0 and metrics.f1_statistic(none, none).scores(np.ones((1, 8)))[0] == 0.0


def test_mismatched_ner_inputs_are_refused_saying_why():
    for metric in ("char_f1", "entity_f1"):
        with pytest.raises(ValueError, match=f"^{metric}: predictions and references have different numbers of characters$"):
            metrics.get(metric).statistic([[0, 1]], [[0, 1, 2]], labels=LABELS)


@pytest.mark.parametrize("o_first", [False, True])
def test_entities_end_at_the_sentence_whatever_the_label_order(o_first):
    # an I- tag opening a sentence continues nothing, as in metrics.entity_f1 (each sentence wrapped in O)
    labels = ["O", *[name for name in LABELS if name != "O"]] if o_first else list(LABELS)

    def ids(*sentences):
        return [[labels.index(name) for name in sentence] for sentence in sentences]

    gold = ids(["B-DT"], ["I-DT", "I-DT"], ["B-PS", "I-PS"], ["B-QT"], ["I-QT"])
    pred = ids(["B-DT"], ["O", "O"], ["B-PS", "O"], ["B-QT"], ["O"])
    statistic = metrics.entity_f1_statistic(pred, gold, labels=labels)
    expected = metrics.entity_f1(pred, gold, labels=labels)
    assert statistic.scores(np.ones((1, 5)))[0] == pytest.approx(expected, abs=1e-9) and 0 < expected < 100


def test_a_chunk_holds_one_resample_when_examples_outnumber_its_cells():
    chunks = list(bootstrap.weight_chunks(1000, 3, np.random.default_rng(0), chunk_cells=500))
    assert [c.shape for c in chunks] == [(1, 1000)] * 3


def test_the_seed_effect_is_the_seeds_spread_less_the_per_example_noise():
    # 2 resamples x 3 seeds. Per seed, the variance over resamples: 9, 0, 2.25 -> mean 3.75; the seed mean per
    # resample: 3, 4 -> variance 0.25. Per-example noise: 3/2 * (3.75 - 0.25) = 5.25. Seed scores 0, 6, 12:
    # sample variance 36. Seed effect: 36 - 5.25 = 30.75.
    assert bootstrap.seed_variance(np.array([[0.0, 3, 6], [6, 3, 3]]), np.array([0.0, 6, 12])) == pytest.approx(30.75)
    # seeds that move together: per-seed variance 2.25 each, seed mean variance 2.25 -> noise 0, nothing subtracted
    assert bootstrap.seed_variance(np.array([[0.0, 0, 0], [3, 3, 3]]), np.array([0.0, 6, 12])) == pytest.approx(36.0)
    # noise larger than the spread: clipped at 0, never negative
    assert bootstrap.seed_variance(np.array([[0.0, 3, 6], [6, 3, 3]]), np.array([5.0, 6, 5])) == 0.0


def test_macro_f1_of_a_resample_averages_only_the_classes_it_holds():
    # class 2 has one example; a resample that leaves it out scores the other classes only, as the metric does
    pred, gold = np.array([0, 1, 1, 0, 2, 2]), np.array([0, 1, 0, 0, 1, 2])
    statistic = metrics.macro_f1_statistic(pred, gold)
    for weights in ([1, 1, 1, 1, 0, 0], [1, 1, 1, 2, 0, 1], [0, 1, 0, 0, 1, 0], [2, 0, 0, 0, 0, 0]):
        repeat = np.repeat(np.arange(6), weights)
        expected = metrics.macro_f1(pred[repeat], gold[repeat])
        assert statistic.scores(np.array([weights], dtype=float))[0] == pytest.approx(expected, abs=1e-9), weights


def test_a_resample_without_entities_scores_zero_quietly():
    outside = LABELS.index("O")
    statistic = metrics.entity_f1_statistic([[outside] * 3, [outside] * 2], [[outside] * 3, [outside] * 2], labels=LABELS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert statistic.scores(np.array([[1.0, 1.0], [2.0, 0.0]])).tolist() == [0.0, 0.0]


def test_every_example_is_drawn_equally_often_and_tiny_sets_chunk_by_cells():
    weights = np.vstack(list(bootstrap.weight_chunks(5, 4000, np.random.default_rng(0))))
    assert weights.mean(axis=0) == pytest.approx(np.ones(5), abs=0.06)  # sd of each mean: sqrt(0.8 / 4000) = 0.014
    chunks = list(bootstrap.weight_chunks(1, 10, np.random.default_rng(0), chunk_cells=4))
    assert [len(c) for c in chunks] == [4, 4, 2]


def test_published_intervals_use_seed_0_unless_told():
    # the pages say how to reproduce an interval: the default resampling seed is 0
    rng = np.random.default_rng(2)
    model = bootstrap.SeedPredictions(rng.integers(0, 2, 500), [rng.integers(0, 2, 500) for _ in range(2)])
    other = bootstrap.SeedPredictions(model.references, [rng.integers(0, 2, 500) for _ in range(2)])
    assert bootstrap.score_interval(model, "accuracy", 500) == bootstrap.score_interval(model, "accuracy", 500, seed=0)
    assert bootstrap.score_interval(model, "accuracy", 500) != bootstrap.score_interval(model, "accuracy", 500, seed=1)
    assert (bootstrap.paired_difference(model, other, "accuracy", 500)
            == bootstrap.paired_difference(model, other, "accuracy", 500, seed=0))


def test_a_difference_interval_and_p_value_worked_by_hand():
    draws = np.arange(200) / 10 - 2.0  # -2.0, -1.9, ..., 17.9
    d = bootstrap.summarize_difference(1.0, draws)
    # just above the k-th smallest draw, (k + 1) / 201 of the draws lie below (add-one); 2.5% needs k = 5, so the
    # interval starts at the 5th smallest draw, -1.6, and ends at the 5th largest, 17.5
    assert (d.difference, d.low, d.high, d.confidence) == (1.0, pytest.approx(-1.6), pytest.approx(17.5), 0.95)
    # 0 is the 21st draw: 20 below it and itself half, (20 + 0.5 + 1) / 201; the other side is larger
    assert d.p_value == pytest.approx(2 * 21.5 / 201) and d.p_adjusted == d.p_value
    assert d.verdict == "no detectable difference" and d.sign == 1
    half = bootstrap.summarize_difference(1.0, draws, confidence=0.5)
    assert (half.low, half.high, half.confidence) == (pytest.approx(2.9), pytest.approx(13.0), 0.5)  # k = 49.25 -> 50th
    assert bootstrap.summarize_difference(0.0, np.zeros(4)).p_value == 1.0  # 2 * 3/5 capped at 1
    mostly_below = bootstrap.summarize_difference(-1.0, -draws)
    assert mostly_below.p_value == pytest.approx(2 * 21.5 / 201) and mostly_below.sign == -1
    assert bootstrap.inverted_interval(np.array([-1.0, 0.0, 1.0, 2.0, 3.0])) == (-np.inf, np.inf)  # 5 draws reject nothing


@pytest.mark.parametrize(("shift", "p", "verdict", "low"), [
    (0.35, 2 * 5 / 201, "B better", 0.05),  # 0 between the 4th and 5th draws: 4 below, (4 + 1) / 201 < 2.5%
    (0.40, 2 * 5.5 / 201, "no detectable difference", 0.0),  # 0 is the 5th draw: (4 + 0.5 + 1) / 201 >= 2.5%
    (0.45, 2 * 6 / 201, "no detectable difference", -0.05),  # 0 just above the 5th draw
])
def test_at_the_boundary_the_interval_the_p_value_and_the_verdict_agree(shift, p, verdict, low):
    from harness.site.tables import p_text

    d = bootstrap.summarize_difference(1.0, np.arange(200) / 10 - shift)
    assert d.p_value == pytest.approx(p) and d.verdict == verdict and d.low == pytest.approx(low, abs=1e-9)
    assert (p_text(d.p_value) < "0.050") == (d.p_value < 0.05) == (verdict == "B better")  # 0.0498 prints 0.049


def test_random_draws_give_one_rule_for_interval_p_and_verdict():
    rng = np.random.default_rng(0)
    for _ in range(300):
        draws = rng.normal(rng.normal(0, 2), 1, int(rng.integers(100, 600)))
        d = bootstrap.summarize_difference(float(draws.mean()), draws)
        assert (d.p_value < 0.05) == (d.low > 0 or d.high < 0) == (d.verdict != "no detectable difference")
        assert (d.verdict == "B better") == (d.p_value < 0.05 and d.low > 0)


def test_holm_worked_by_hand_and_verdicts_follow_the_adjusted_p():
    # sorted: 0.01 * 4 = 0.04, 0.03 * 3 = 0.09, 0.04 * 2 = 0.08 -> kept at 0.09, 0.5 * 1 = 0.5
    assert bootstrap.holm([0.01, 0.04, 0.03, 0.5]).tolist() == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert bootstrap.holm([0.4, 0.9]).tolist() == pytest.approx([0.8, 0.9]) and bootstrap.holm([0.6, 0.7]).max() == 1.0
    ahead = bootstrap.summarize_difference(1.0, np.arange(200) / 10 - 0.2, margin=30.0)  # p = 2 * 3 / 201 = 0.030
    behind = bootstrap.flip(ahead)
    assert ahead.verdict == "B better" and behind.verdict == "A better" and behind.p_value == ahead.p_value
    assert (behind.low, behind.high) == (-ahead.high, -ahead.low) and behind.sign == -1
    (alone,) = bootstrap.adjust([ahead])
    assert alone == ahead  # a family of one: nothing changes
    first, second = bootstrap.adjust([ahead, behind])
    assert first.p_adjusted == pytest.approx(2 * ahead.p_value) and first.p_value == ahead.p_value
    assert first.verdict == second.verdict == "no detectable difference"  # 0.06 after Holm
    assert first.equivalence.p_adjusted == pytest.approx(2 * first.equivalence.p_value)
    assert bootstrap.adjust([]) == []


def test_equivalence_needs_both_one_sided_tests():
    near = np.random.default_rng(1).normal(0.1, 0.1, 4000)
    d = bootstrap.summarize_difference(0.1, near, margin=0.5)
    assert d.verdict == "no detectable difference" and d.equivalence.equivalent and d.equivalence.p_value < 0.001
    tight = bootstrap.summarize_difference(0.1, near, margin=0.2).equivalence  # 0.2 is 1 sd above the centre
    assert not tight.equivalent and tight.p_value == pytest.approx(float(np.mean(near >= 0.2)), abs=1e-3)
    assert bootstrap.summarize_difference(0.1, near).equivalence is None


class _FixedDraws:
    """A generator whose chi-square and normal draws are given, recording how it was asked."""

    def __init__(self, chisquare, normal):
        self.chi, self.normal, self.asked = np.array(chisquare), np.array(normal), []

    def chisquare(self, df, size):
        self.asked.append(("chisquare", df, size))
        return self.chi

    def standard_normal(self, size):
        self.asked.append(("normal", size))
        return self.normal


def test_the_seed_variance_is_drawn_from_its_sampling_distribution():
    # one model, 3 seeds: one seed's score varies by 12, of which 3 is per-example noise. Its mean's seed variance,
    # 12 / 3 = 4 on 2 degrees of freedom, is drawn as 4 * 2 / chi2_2, less the per-example part 3 / 3 = 1
    draws = bootstrap.Draws(10.0, np.array([9.0, 11.0]), (bootstrap.SeedSpread(3, 12.0, 3.0),), (0.0, 100.0))
    rng = _FixedDraws([2.0, 0.5], [1.0, -1.0])
    out = bootstrap.with_seed_level(draws, rng)
    assert rng.asked == [("chisquare", pytest.approx(2.0), 2), ("normal", 2)]
    assert out == pytest.approx([9 + np.sqrt(4 * 2 / 2 - 1), 11 - np.sqrt(4 * 2 / 0.5 - 1)])
    # with no per-example part this is Student's t on seeds - 1 degrees of freedom, scaled by sqrt(0.75 / 3)
    pure = bootstrap.Draws(10.0, np.full(200_000, 10.0), (bootstrap.SeedSpread(3, 0.75, 0.0),), (0.0, 100.0))
    wide = bootstrap.with_seed_level(pure, np.random.default_rng(0))
    assert np.percentile(wide, [2.5, 97.5]) == pytest.approx(10 + 0.5 * stats.t.ppf([0.025, 0.975], 2), abs=0.03)
    # B - A with B of 5 seeds (variance 20, per-example 4): seed variance 12/3 + 20/5 = 8, per-example 1 + 0.8,
    # on Welch-Satterthwaite 8^2 / ((12/3)^2 / 2 + (20/5)^2 / 4) = 16/3 degrees of freedom
    b = bootstrap.Draws(30.0, np.array([31.0, 29.0]), (bootstrap.SeedSpread(5, 20.0, 4.0),), (0.0, 100.0))
    difference = b - draws
    assert difference.point == 20.0 and difference.bounds == (-100.0, 100.0)
    assert [s.weight for s in difference.spreads] == [1.0, -1.0] and difference.examples.tolist() == [22.0, 18.0]
    rng = _FixedDraws([16 / 3, 16 / 3], [1.0, 1.0])
    assert bootstrap.with_seed_level(difference, rng).tolist() == pytest.approx([22 + np.sqrt(6.2), 18 + np.sqrt(6.2)])
    assert rng.asked[0][1] == pytest.approx(16 / 3)
    # the mean of the two: weights 1/2, the variances a quarter as large, the same degrees of freedom
    mean = bootstrap.average([draws, b])
    assert mean.point == 20.0 and [s.weight for s in mean.spreads] == [0.5, 0.5] and mean.bounds == (0.0, 100.0)
    rng = _FixedDraws([16 / 3, 16 / 3], [1.0, 1.0])
    assert bootstrap.with_seed_level(mean, rng).tolist() == pytest.approx([20 + np.sqrt(6.2 / 4)] * 2)


def test_one_seed_or_identical_seeds_leave_the_examples_as_they_are():
    for spread in (bootstrap.SeedSpread(1, 0.0, 0.0), bootstrap.SeedSpread(3, 0.0, 0.0)):  # unknown; seeds identical
        draws = bootstrap.Draws(10.0, np.array([9.0, 11.0]), (spread,), (0.0, 100.0))
        rng = _FixedDraws([], [])
        assert bootstrap.with_seed_level(draws, rng).tolist() == [9.0, 11.0] and rng.asked == []
        assert draws.seeds_known == (spread.seeds > 1)
    # seeds that spread less than their per-example noise: no seed effect estimated, yet one drawn where chi2 is small
    quiet = bootstrap.Draws(10.0, np.array([9.0, 11.0]), (bootstrap.SeedSpread(3, 2.0, 3.0),), (0.0, 100.0))
    out = bootstrap.with_seed_level(quiet, _FixedDraws([4.0, 0.5], [1.0, 1.0]))  # (2/3) * 2 / 4 < 1; (2/3) * 2 / 0.5 > 1
    assert out.tolist() == pytest.approx([9.0, 11 + np.sqrt(8 / 3 - 1)])
    assert bootstrap.SeedSpread(1, 5.0, 0.0).effect == 0.0 and bootstrap.SeedSpread(2, 5.0, 1.0).effect == 4.0
    assert bootstrap.SeedSpread(3, 2.0, 3.0).effect == 0.0


def test_a_model_with_one_seed_gets_an_interval_of_the_examples_only_and_no_verdict():
    rng = np.random.default_rng(4)
    gold = rng.integers(0, 2, 300)
    one = bootstrap.score_interval(bootstrap.SeedPredictions(gold, _seeds(rng, gold, 0.8, 1)), "accuracy", 500)
    three = bootstrap.score_interval(bootstrap.SeedPredictions(gold, _seeds(rng, gold, 0.8, 3)), "accuracy", 500)
    assert one.examples_only and not three.examples_only
    assert bootstrap.seeds_problem({"fixture/a": 3, "fixture/b": 2}) is None
    said = bootstrap.seeds_problem({"fixture/a": 1, "fixture/b": 3})
    assert said.startswith("no verdict: fixture/a has 1 seed, so the seed-to-seed variance is unknown")
    assert "at least 2 seeds of each model" in said and "--seeds 42,43,44" in said


def test_intervals_stay_within_the_metrics_range():
    assert {name: m.score_range for name, m in metrics.METRICS.items() if m.score_range != (0.0, 100.0)} == {
        "pearson": (-100.0, 100.0), "spearman": (-100.0, 100.0)}  # correlations; every other metric is a share
    rng = np.random.default_rng(5)
    gold = rng.integers(0, 2, 300)
    # two seeds far apart near the top: Student's t with 1 degree of freedom reaches far past 100
    steady, collapsed = np.where(rng.random(300) < 0.99, gold, 1 - gold), np.where(rng.random(300) < 0.6, gold, 1 - gold)
    wide = bootstrap.score_interval(bootstrap.SeedPredictions(gold, [steady, collapsed]), "accuracy", 2000)
    assert wide.high == 100.0 and 0.0 <= wide.low < 70
    values = rng.uniform(0, 5, 200)
    split = bootstrap.score_interval(bootstrap.SeedPredictions(values, [-values + rng.normal(0, 0.1, 200), values]),
                                     "pearson", 2000)
    assert split.low == -100.0 and split.high == 100.0
    a, b = bootstrap.SeedPredictions(gold, [steady, collapsed]), bootstrap.SeedPredictions(gold, [collapsed, steady])
    assert -100.0 <= bootstrap.paired_difference(a, b, "accuracy", 2000).low


def test_nan_predictions_are_refused_saying_where():
    values = np.array([1.0, 2.0, np.nan, 4.0, np.inf])
    with pytest.raises(ValueError, match=r"^seed 2 of 2: 2 of 5 values are NaN or infinite \(the first at example 2\)"):
        bootstrap.SeedPredictions(np.arange(5.0), [np.arange(5.0), values])
    with pytest.raises(ValueError, match="^the references: 1 of 5"):
        bootstrap.SeedPredictions(np.array([1.0, np.nan, 2, 3, 4]), [np.arange(5.0)])


def test_the_best_is_told_from_a_clearly_worse_model_and_not_from_its_equals():
    rng = np.random.default_rng(6)
    gold = rng.integers(0, 2, 800)
    models = [bootstrap.SeedPredictions(gold, _seeds(rng, gold, accuracy, 3)) for accuracy in (0.80, 0.80, 0.80, 0.70)]
    best = int(np.argmax([m.point("accuracy") for m in models[:3]]))
    assert bootstrap.differ_from_best(models, "accuracy", best, 2000) == [False, False, False, True]


def test_against_itself_a_model_differs_by_zero_a_perfect_one_wins_and_options_reach_the_interval():
    rng = np.random.default_rng(3)
    gold = rng.integers(0, 2, 400)
    a = bootstrap.SeedPredictions(gold, [np.where(rng.random(400) < 0.3, 1 - gold, gold)])
    same = bootstrap.paired_difference(a, a, "accuracy", 300)
    assert (same.difference, same.low, same.high, same.p_value, same.verdict) == (0.0, 0.0, 0.0, 1.0, "no detectable difference")
    perfect = bootstrap.SeedPredictions(gold, [gold])
    better = bootstrap.paired_difference(a, perfect, "accuracy", 300)
    assert better.difference == pytest.approx(100 - a.point("accuracy")) and better.verdict == "B better"
    assert bootstrap.paired_difference(perfect, a, "accuracy", 300).verdict == "A better"
    other = bootstrap.SeedPredictions(gold, [np.where(rng.random(400) < 0.3, 1 - gold, gold)])
    assert bootstrap.paired_difference(a, other, "accuracy", 300, seed=1) != bootstrap.paired_difference(a, other, "accuracy", 300)
    assert bootstrap.score_interval(a, "accuracy", 300, seed=1) != bootstrap.score_interval(a, "accuracy", 300)
    wide, narrow = (bootstrap.paired_difference(a, other, "accuracy", 300, confidence=c) for c in (0.95, 0.5))
    assert narrow.confidence == 0.5 and wide.low < narrow.low < narrow.high < wide.high
    wide, narrow = (bootstrap.score_interval(a, "accuracy", 300, confidence=c) for c in (0.95, 0.5))
    assert narrow.confidence == 0.5 and wide.low < narrow.low < narrow.high < wide.high
    draws = bootstrap.bootstrap_draws([a, perfect], "accuracy", 300)
    assert draws.shape == (2, 300) and (draws[1] == 100).all()
    assert np.array_equal(draws, bootstrap.bootstrap_draws([a, perfect], "accuracy", 300, np.random.default_rng(0)))


def test_cell_draws_are_multinomial_over_cells_in_bounded_chunks():
    sizes = np.array([10, 30, 60])
    chunks = list(bootstrap.cell_weight_chunks(sizes, 2500, np.random.default_rng(0), chunk_cells=3000))
    assert [c.shape for c in chunks] == [(1000, 3), (1000, 3), (500, 3)]
    weights = np.vstack(chunks)
    assert (weights.sum(axis=1) == 100).all() and weights.mean(axis=0) == pytest.approx(sizes, rel=0.03)
    few = list(bootstrap.cell_weight_chunks(sizes, 3, np.random.default_rng(0), chunk_cells=2))
    assert [c.shape for c in few] == [(1, 3)] * 3  # fewer cells allowed than one resample needs: one at a time


def test_runs_of_one_seed_each_draw_as_the_model_itself():
    """A model that is one run (``each_seed``): the nested draws are the plain ones, resample for resample."""
    rng = np.random.default_rng(11)
    gold = rng.integers(0, 2, 300)
    a, b = (bootstrap.SeedPredictions(gold, _seeds(rng, gold, acc, 3)) for acc in (0.7, 0.8))
    plain = bootstrap.model_draws([a, b], "accuracy", 2000, np.random.default_rng(0))
    nested = bootstrap.nested_draws([bootstrap.each_seed(a), bootstrap.each_seed(b)], "accuracy", 2000,
                                    np.random.default_rng(0))
    for p, n in zip(plain, nested):
        assert n.point == pytest.approx(p.point) and np.allclose(n.examples, p.examples)
        assert n.spreads[0].variance == pytest.approx(p.spreads[0].variance)
        assert n.spreads[0].per_example == pytest.approx(p.spreads[0].per_example)


def test_the_spread_between_runs_counts_at_the_run_level():
    """Three runs (distillations) of three fine-tuning seeds, the runs far apart, the seeds within a run close:
    the mean's interval is about as wide as three runs allow, far wider than nine seeds of one model would make it."""
    rng = np.random.default_rng(12)
    gold = rng.integers(0, 2, 1000)
    runs = [bootstrap.SeedPredictions(gold, _seeds(rng, gold, acc, 3)) for acc in (0.66, 0.74, 0.82)]
    nested = bootstrap.nested_draws([runs], "accuracy", 4000, np.random.default_rng(0))[0]
    as_nine = bootstrap.model_draws([bootstrap.SeedPredictions(gold, [s for r in runs for s in r.seeds])], "accuracy",
                                    4000, np.random.default_rng(0))[0]
    assert nested.point == pytest.approx(as_nine.point)
    assert nested.spreads[0].seeds == 3 and nested.spreads[0].variance == pytest.approx(64, rel=0.3)  # the run means' spread
    width = lambda d: np.subtract(*np.percentile(bootstrap.with_seed_level(d, np.random.default_rng(1)), [97.5, 2.5]))  # noqa: E731
    assert width(nested) > 2 * width(as_nine)
    assert width(nested) == pytest.approx(2 * stats.t.ppf(0.975, 2) * np.sqrt(64 / 3), rel=0.5)
