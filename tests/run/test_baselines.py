"""Baselines: the constant predictors' scores, from the data and the task's own metrics."""

from collections import Counter

import pytest
from datasets import Dataset, DatasetDict

from harness.demo import SAMPLES_DIR
from harness.run import baselines
from harness.tasks import data, spec


def task(task_id: str):
    return spec.load_tasks([task_id])[0]


def test_majority_class_comes_from_train_and_is_scored_on_validation():
    mrpc = task("glue/mrpc")  # labels [not_equivalent, equivalent]; f1 is of class 1
    dataset = DatasetDict(
        train=Dataset.from_dict({"text_a": ["a"] * 5, "text_b": ["b"] * 5, "label": [0, 0, 0, 1, 1]}),
        validation=Dataset.from_dict({"text_a": ["a"] * 4, "text_b": ["b"] * 4, "label": [1, 1, 1, 0]}),
    )
    result = baselines.compute(mrpc, dataset)
    assert result.kind == "majority-class"
    assert "not_equivalent" in result.predicts  # train's majority, although validation's is 'equivalent'
    assert result.scores == {"f1": 0.0, "accuracy": 25.0}


def test_ties_go_to_the_lower_label_index():
    sst2 = task("glue/sst2")
    dataset = DatasetDict(
        train=Dataset.from_dict({"text_a": ["x"] * 4, "label": [1, 0, 1, 0]}),
        validation=Dataset.from_dict({"text_a": ["x"] * 2, "label": [0, 0]}),
    )
    assert baselines.compute(sst2, dataset).scores == {"accuracy": 100.0}


def test_constant_mean_gives_zero_correlation_and_its_binarized_f1():
    sts = task("klue/sts")  # pearson, binarized_f1 at 3.0
    dataset = DatasetDict(
        train=Dataset.from_dict({"text_a": ["x"] * 2, "text_b": ["y"] * 2, "label": [3.5, 4.5]}),  # mean 4.0 >= 3
        validation=Dataset.from_dict({"text_a": ["x"] * 4, "text_b": ["y"] * 4, "label": [0.0, 1.0, 3.0, 5.0]}),
    )
    result = baselines.compute(sts, dataset)
    assert result.kind == "constant-mean" and result.predicts.startswith("4.000")
    assert result.scores["pearson"] == 0.0  # undefined for a constant: reported as 0.0
    assert result.scores["binarized_f1"] == pytest.approx(100 * 2 * 0.5 * 1 / 1.5, abs=1e-3)  # P 2/4, R 2/2


def test_all_o_on_real_ner_samples_scores_no_entity_and_skips_spaces():
    """The floor beside every NER score, computed here by hand on the non-space characters (KLUE-baseline leaves
    the spaces out; the official file tags them O, so counting them would lift the floor)."""
    ner = task("klue/ner")
    loaded = data.load(ner, SAMPLES_DIR)
    result = baselines.compute(ner, loaded.dataset)
    assert (result.kind, result.predicts) == ("all-O", "O for every character")
    assert result.scores["entity_f1"] == 0.0
    validation = loaded.dataset["validation"]
    outside = ner.dataset.labels.index("O")
    gold = Counter(t for tokens, tags in zip(validation["tokens"], validation["tags"])
                   for ch, t in zip(tokens, tags) if not ch.isspace())
    spaces = sum(ch.isspace() for tokens in validation["tokens"] for ch in tokens)
    assert spaces > 0 and len(gold) > 1  # the samples hold spaces and entities: neither check below is vacuous
    # character F1 is a macro over all 13 tags (zero_division=1), each sentence wrapped in an O at both ends:
    # all-O gets O's F1, 0 for each entity tag in gold, 1 for each tag absent from gold and predictions
    true_o = gold[outside] + 2 * len(validation)
    wrong_o = sum(n for tag, n in gold.items() if tag != outside)
    f1_o = 2 * true_o / (2 * true_o + wrong_o)
    absent = len(ner.dataset.labels) - len(gold)
    assert result.scores["char_f1"] == pytest.approx(100 * (f1_o + absent) / len(ner.dataset.labels), abs=1e-4)


def test_every_task_has_a_baseline_on_the_samples():
    for task_spec in spec.load_tasks(["all"]):
        loaded = data.load(task_spec, SAMPLES_DIR)
        result = baselines.compute(task_spec, loaded.dataset)
        assert set(result.scores) == set(task_spec.metrics.names)
        assert result.scores[task_spec.metrics.primary] < 100.0


def test_by_task_gives_the_newest_baseline_and_says_when_they_differ():
    def record(task_id, when, scores):  # synthetic record fragments: only what by_task reads
        return {"task": {"id": task_id}, "started_at": when,
                "baseline": {"kind": "majority-class", "predicts": "label 'x'", "scores": scores}}

    found = baselines.by_task([
        record("glue/sst2", "2026-01-02T00:00:00Z", {"accuracy": 51.0}),
        record("glue/sst2", "2026-01-01T00:00:00Z", {"accuracy": 50.0}),
        record("glue/mrpc", "2026-01-01T00:00:00Z", {"f1": 81.0, "accuracy": 68.0}),
        {"task": {"id": "klue/ynat"}, "started_at": "2026-01-01T00:00:00Z"},  # before baselines were recorded
    ])
    assert found["glue/sst2"]["scores"] == {"accuracy": 51.0} and found["glue/sst2"]["varies"] is True
    assert found["glue/mrpc"]["varies"] is False
    assert "klue/ynat" not in found
