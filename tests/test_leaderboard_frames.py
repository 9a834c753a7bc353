"""The site's frames on hand-made inputs: one row per failure in either record shape, the task table's order and columns."""

import pandas as pd

from harness.paths import TASKS_DIR
from harness.site import aggregate, inputs


def test_failures_of_both_shapes_become_one_row_each():
    failures = [
        ("a/fixture__model-a/klue__ner.failed.json", {"model": {"id": "fixture/model-a"}, "task": {"id": "klue/ner"},
                                                      "error": {"type": "OutOfMemoryError", "message": "no memory"},
                                                      "started_at": "2026-11-27T10:00:00Z"}),
        ("b.failed.json", {"model": {"id": "fixture/model-b"}, "task": {"id": "glue/mrpc"}, "error": "ValueError: bad"}),
        ("c.failed.json", {"model": {"id": "fixture/model-c"}, "task": {"id": "glue/qnli"}, "message": "old shape",
                           "started_at": "not a time"}),
        ("d.failed.json", {"model": {"id": "fixture/model-d"}, "task": {"id": "glue/sst2"}, "error": {"message": "only"}}),
    ]
    frame = aggregate.failures_frame(failures)
    assert list(frame.columns) == ["model_id", "task_id", "error", "started_at", "file"]
    assert frame["model_id"].tolist() == ["fixture/model-a", "fixture/model-b", "fixture/model-c", "fixture/model-d"]
    assert frame["task_id"].tolist() == ["klue/ner", "glue/mrpc", "glue/qnli", "glue/sst2"]
    assert frame["error"].tolist() == ["OutOfMemoryError: no memory", "ValueError: bad", "old shape", "only"]
    assert frame["file"].tolist() == [f for f, _ in failures]
    assert frame.loc[0, "started_at"] == pd.Timestamp("2026-11-27T10:00:00Z")
    assert frame["started_at"].iloc[1:].isna().all()  # missing or unreadable: no time, not an error


def test_no_failures_is_an_empty_frame_with_the_columns():
    frame = aggregate.failures_frame([])
    assert frame.empty and list(frame.columns) == ["model_id", "task_id", "error", "started_at", "file"]


def test_tasks_come_in_the_given_order_then_alphabetically_with_their_protocol():
    tasks = aggregate.tasks_frame(inputs.load_tasks(TASKS_DIR), ["klue/sts", "glue/sst2"])
    assert list(tasks.index) == ["klue/sts", "glue/sst2", "glue/mrpc", "glue/qnli", "glue/stsb", "klue/ner", "klue/nli",
                                 "klue/ynat"]
    assert list(tasks.columns) == ["name", "suite", "language", "description", "primary", "metrics", "head", "selection",
                                   "hyperparameters", "includes", "changed_keys"]
    sts = tasks.loc["klue/sts"]
    spec = next(t for t in inputs.load_tasks(TASKS_DIR) if t.id == "klue/sts")
    assert (sts["name"], sts["description"], sts["changed_keys"]) == (spec.name, spec.description, spec.changed_keys)
    assert (sts["suite"], sts["primary"], sts["head"], sts["selection"]) == ("klue", "pearson", "regression", "best")
    assert sts["metrics"] == ["pearson", "binarized_f1"] and sts["hyperparameters"]["epochs"] == 4
    assert sts["includes"] == "" and sts["language"] == "ko"
    assert aggregate.suite_groups(tasks) == {"klue": ["klue/sts", "klue/ner", "klue/nli", "klue/ynat"],
                                             "glue": ["glue/sst2", "glue/mrpc", "glue/qnli", "glue/stsb"],
                                             "overall": list(tasks.index)}
    assert aggregate.language_groups(tasks) == {"ko": ["klue/sts", "klue/ner", "klue/nli", "klue/ynat"],
                                                "en": ["glue/sst2", "glue/mrpc", "glue/qnli", "glue/stsb"]}
