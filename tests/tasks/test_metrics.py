"""Every metric against values computed by hand (the arithmetic is in the comments).

Definitions follow KLUE-baseline's klue_baseline/metrics/functional.py for the KLUE
tasks and GLUE's for the GLUE tasks; scores are in percent.
"""

import numpy as np
import pytest

from harness.tasks import metrics
from harness.tasks.spec import load_tasks

NER_LABELS = load_tasks(["klue/ner"])[0].dataset.labels  # KLUE-baseline's order, O last


def tags(*names):
    return [NER_LABELS.index(n) for n in names]


def test_registry_names():
    assert set(metrics.METRICS) == {"accuracy", "f1", "macro_f1", "pearson", "spearman", "binarized_f1", "entity_f1", "char_f1"}


def test_accuracy():
    # right at positions 0, 1, 3 of 5 -> 3/5
    assert metrics.accuracy(np.array([0, 1, 1, 0, 1]), np.array([0, 1, 0, 0, 0])) == pytest.approx(60.0)


def test_binary_f1_of_the_positive_class():
    # positive = 1: TP 1 (pos 1), FP 2 (pos 2, 4), FN 0 -> P 1/3, R 1 -> F1 2*(1/3)/(4/3) = 1/2
    assert metrics.f1(np.array([0, 1, 1, 0, 1]), np.array([0, 1, 0, 0, 0])) == pytest.approx(50.0)


def test_macro_f1():
    predictions = np.array([0, 1, 1, 1, 2, 0])
    references = np.array([0, 0, 1, 1, 2, 2])
    # class 0: TP 1, FP 1, FN 1 -> F1 1/2
    # class 1: TP 2, FP 1, FN 0 -> P 2/3, R 1 -> F1 4/5
    # class 2: TP 1, FP 0, FN 1 -> P 1, R 1/2 -> F1 2/3
    # macro: (1/2 + 4/5 + 2/3) / 3 = (59/30) / 3 = 59/90
    assert metrics.macro_f1(predictions, references) == pytest.approx(100 * 59 / 90)


def test_pearson():
    # x - 3 = [-2,-1,0,1,2], y - 4 = [-2,0,1,0,1]; sum of products 6, sums of squares 10 and 6
    # r = 6 / sqrt(60)
    assert metrics.pearson(np.array([1.0, 2, 3, 4, 5]), np.array([2.0, 4, 5, 4, 5])) == pytest.approx(100 * 6 / np.sqrt(60))


def test_spearman():
    # ranks [1,3,2,4] vs [1,2,3,4]: sum d^2 = 2 -> rho = 1 - 6*2 / (4*(16-1)) = 0.8
    assert metrics.spearman(np.array([0.1, 0.4, 0.35, 0.8]), np.array([1.0, 2, 3, 4])) == pytest.approx(80.0)
    # ties take their average rank: [1,2,3,4] vs [1,2.5,2.5,4]; centred [-1.5,-.5,.5,1.5] and [-1.5,0,0,1.5]
    # -> 4.5 / sqrt(5 * 4.5)
    assert metrics.spearman(np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 2, 3])) == pytest.approx(100 * 4.5 / np.sqrt(22.5))


def test_binarized_f1_at_3():
    predictions = np.array([3.0, 2.99, 4.0, 1.0, 3.5])
    references = np.array([0.5, 3.0, 4.2, 2.9, 5.0])
    # >= 3 is similar (3.0 itself counts, 2.99 does not): predictions [1,0,1,0,1], references [0,1,1,0,1]
    # TP 2 (pos 2, 4), FP 1 (pos 0), FN 1 (pos 1) -> P = R = 2/3 -> F1 2/3
    assert metrics.binarized_f1(predictions, references, binarize_threshold=3.0) == pytest.approx(100 * 2 / 3)
    with pytest.raises(ValueError, match="binarize_threshold"):
        metrics.binarized_f1(predictions, references)


def test_entity_f1_macro_over_types():
    references = [tags("B-PS", "I-PS", "O", "B-LC", "O"), tags("B-DT", "I-DT", "I-DT", "O", "B-PS")]
    predictions = [tags("B-PS", "I-PS", "O", "B-OG", "O"), tags("B-DT", "I-DT", "O", "O", "B-PS")]
    # gold entities: PS x2, LC, DT (3 chars); predicted: PS x2 (both right), OG (wrong), DT (2 chars: wrong span)
    # per type, over the types seen in gold or predictions: PS 1, LC 0 (missed), OG 0 (spurious), DT 0
    # macro: (1 + 0 + 0 + 0) / 4
    assert metrics.entity_f1(predictions, references, labels=NER_LABELS) == pytest.approx(25.0)
    assert metrics.entity_f1(references, references, labels=NER_LABELS) == pytest.approx(100.0)


def test_entity_f1_keeps_sentences_apart():
    # KLUE-baseline scores [CLS] + characters + the last position per sentence, gold O at both ends,
    # so an I- tag opening a sentence never continues the entity that closed the one before.
    references = [tags("O", "B-PS"), tags("B-PS", "O")]
    predictions = [tags("O", "B-PS"), tags("I-PS", "O")]
    # predicted: the first PS only (a lone I-PS after O is no entity under strict IOB2)
    # PS: TP 1, FP 0, FN 1 -> P 1, R 1/2 -> F1 2/3   (glued together, 'B-PS I-PS' would be one wrong entity: 0)
    assert metrics.entity_f1(predictions, references, labels=NER_LABELS) == pytest.approx(100 * 2 / 3)


def test_strict_iob2_needs_a_b_tag():
    references = [tags("B-QT", "I-QT", "O")]
    predictions = [tags("I-QT", "I-QT", "O")]  # no B-: not an entity in strict mode (lenient mode would count it)
    # QT: TP 0, FP 0, FN 1 -> F1 0
    assert metrics.entity_f1(predictions, references, labels=NER_LABELS) == pytest.approx(0.0)


def test_char_f1_macro_over_all_13_tags():
    references = [tags("B-PS", "I-PS", "O"), tags("B-LC")]
    predictions = [tags("B-PS", "O", "O"), tags("B-OG")]
    # scored as O B-PS I-PS O O | O B-LC O against O B-PS O O O | O B-OG O (an O at each sentence end)
    # O:    gold 5, predicted 6, TP 5 -> F1 2*5 / (2*5 + 1 + 0) = 10/11
    # B-PS: 1;  I-PS, B-LC (missed) and B-OG (spurious): 0
    # the 8 tags neither seen nor predicted: 1 each (zero_division=1)
    # macro: (10/11 + 1 + 0 + 0 + 0 + 8) / 13 = 109/143
    assert metrics.char_f1(predictions, references, labels=NER_LABELS) == pytest.approx(100 * 109 / 143)
    assert metrics.char_f1(references, references, labels=NER_LABELS) == pytest.approx(100.0)


def test_compute_rounds_scores():
    scores = metrics.compute(["accuracy", "macro_f1"], np.array([0, 1, 2]), np.array([0, 1, 1]))
    # accuracy 2/3; macro F1: class 0 1, class 1 (TP 1, FN 1) 2/3, class 2 (FP 1) 0 -> 5/9
    assert scores == {"accuracy": 66.6667, "macro_f1": 55.5556}


def test_a_correlation_of_constant_predictions_is_recorded_as_zero_and_named_undefined():
    """scipy (and KLUE-baseline, run_glue.py through it) give NaN; a record holds 0.0 and a note saying why."""
    import warnings

    from scipy import stats

    constant, gold = np.array([2.5, 2.5, 2.5, 2.5]), np.array([1.0, 2.0, 3.0, 5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(stats.pearsonr(constant, gold)[0]) and np.isnan(stats.spearmanr(constant, gold)[0])
    names = ["spearman", "pearson", "binarized_f1"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no raw scipy warning: the harness says it itself
        scores = metrics.compute(names, constant, gold, binarize_threshold=3.0)
    assert scores == {"spearman": metrics.UNDEFINED_SCORE, "pearson": metrics.UNDEFINED_SCORE, "binarized_f1": 0.0}
    assert metrics.UNDEFINED_SCORE == 0.0
    (note,) = metrics.undefined(names, constant, gold)
    assert note.startswith("spearman and pearson undefined: every prediction is the same value (2.5); recorded as 0.0")
    # the bootstrap's resamples give the same 0.0 (predictions files are checked against the record with them)
    for name in ("pearson", "spearman"):
        resampled = metrics.get(name).statistic(constant, gold).scores(np.ones((2, 4)))
        assert resampled.tolist() == [0.0, 0.0]
    # varied predictions: defined, no note; a nearly constant column is still a number
    assert metrics.undefined(names, np.array([2.5, 2.5, 2.5, 2.6]), gold) == []
    assert metrics.compute(["pearson"], np.array([2.5, 2.5, 2.5, 2.6]), gold)["pearson"] > 0


def test_a_score_that_is_not_a_number_for_another_reason_is_an_error_not_a_zero():
    with pytest.raises(metrics.MetricError, match="'pearson' gave nan on 3 examples"):
        metrics.compute(["pearson"], np.array([np.nan, 1.0, 2.0]), np.array([1.0, 2.0, 3.0]))
