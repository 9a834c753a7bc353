"""KLUE-STS's binarized F1 cuts gold and predicted similarity at 3.0, as KLUE-baseline does (klue_sts_f1)."""

import datasets
import pytest

from harness.run import finetune
from harness.tasks.spec import load_tasks


def test_the_threshold_is_3():
    assert load_tasks(["klue/sts"])[0].metrics.binarize_threshold == 3.0


def test_scores_cut_at_3_with_3_itself_similar():
    sts = load_tasks(["klue/sts"])[0]
    gold = datasets.Dataset.from_dict({"labels": [3.0, 2.9, 4.0, 1.0]})
    predicted = [3.0, 3.1, 2.5, 0.5]
    # at 3.0: gold similar = pairs 1 and 3, predicted similar = pairs 1 and 2 -> one hit, one miss, one false alarm
    scores = finetune.score(sts, gold, predicted)
    assert scores["binarized_f1"] == pytest.approx(50.0)
