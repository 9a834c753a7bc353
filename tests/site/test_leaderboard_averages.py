"""The leaderboard's averages on hand-made scores: a partial average is the mean of the tasks present
(never a missing task counted as zero), and complete rows come before partial ones whatever their averages."""

import math

import pandas as pd
import pytest

from harness.core.paths import TASKS_DIR
from harness.site import aggregate, inputs

KLUE = ["klue/ynat", "klue/sts", "klue/nli", "klue/ner"]
GLUE = ["glue/mrpc", "glue/stsb", "glue/sst2", "glue/qnli"]


@pytest.fixture(scope="module")
def tasks():
    return aggregate.tasks_frame(inputs.load_tasks(TASKS_DIR), KLUE + GLUE)


def long_scores(tasks, scores: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Primary-metric rows as the records give them, plus a non-primary metric that must not count."""
    rows = []
    for model, by_task in scores.items():
        for task, value in by_task.items():
            rows.append({"model_id": model, "task_id": task, "metric": tasks.loc[task, "primary"], "mean": value})
            rows.append({"model_id": model, "task_id": task, "metric": "not-the-primary", "mean": 0.0})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def board(tasks):
    scores = {
        # complete, with the lowest overall average
        "fixture/model-complete": {t: 50.0 for t in KLUE + GLUE},
        # two KLUE tasks and every GLUE task, all far higher
        "fixture/model-partial": {"klue/ynat": 90.0, "klue/nli": 80.0, **{t: 70.0 for t in GLUE}},
        # one GLUE task only
        "fixture/model-one-task": {"glue/sst2": 99.0},
    }
    return aggregate.leaderboard(long_scores(tasks, scores), tasks)


def test_a_partial_average_is_the_mean_of_the_tasks_present(board):
    row = board.loc["fixture/model-partial"]
    assert row["avg:klue"] == pytest.approx(85.0)  # (90 + 80) / 2, not (90 + 80 + 0 + 0) / 4
    assert row["avg:glue"] == pytest.approx(70.0)
    assert row["avg:overall"] == pytest.approx((90 + 80 + 4 * 70) / 6)
    assert (row["n:klue"], row["of:klue"], row["n:overall"], row["of:overall"]) == (2, 4, 6, 8)
    one = board.loc["fixture/model-one-task"]
    assert one["avg:glue"] == pytest.approx(99.0) and one["avg:overall"] == pytest.approx(99.0)
    assert math.isnan(one["avg:klue"]) and one["n:klue"] == 0  # no score at all: missing, not 0
    assert not aggregate.is_partial(one, "klue")  # nothing to average: no partial average is shown either
    assert aggregate.is_partial(one, "glue") and aggregate.is_partial(row, "klue")
    assert not aggregate.is_partial(board.loc["fixture/model-complete"], "overall")


def test_a_complete_average_is_over_every_task(board):
    row = board.loc["fixture/model-complete"]
    assert row["avg:overall"] == pytest.approx(50.0) and row["n:overall"] == 8


def test_complete_rows_come_first_even_with_a_lower_average(board):
    assert list(board.index) == ["fixture/model-complete", "fixture/model-one-task", "fixture/model-partial"]
