"""The site's frames on hand-made inputs: one row per failure (old and new record shapes), the task table's order and columns."""

import pandas as pd

from harness import records
from harness.paths import TASKS_DIR
from harness.site import aggregate, inputs


def test_failures_old_and_new_become_one_row_each():
    model = {"id": "fixture/model-a", "revision": "0" * 40, "source": "hub"}
    failures = [
        ("a/fixture__model-a/klue__ner.failed.json", records.parse_failure({
            "schema": records.FAILURE_SCHEMA, "model": model, "task": {"id": "klue/ner"},
            "error": {"type": "OutOfMemoryError", "message": "no memory"}, "started_at": "2026-11-27T10:00:00Z",
            "synthetic": True})),
        ("b.failed.json", records.parse_failure({  # the old shape: one error string
            "schema": "koenbench.failure/1", "model": {"id": "fixture/model-b", "revision": "0" * 40},
            "task": {"id": "glue/mrpc"}, "error": "ValueError: bad", "started_at": "2026-11-28T09:30:00+00:00"})),
    ]
    frame = aggregate.failures_frame(failures)
    assert frame["model_id"].tolist() == ["fixture/model-a", "fixture/model-b"]
    assert frame["task_id"].tolist() == ["klue/ner", "glue/mrpc"]
    assert frame["error"].tolist() == ["OutOfMemoryError: no memory", "ValueError: bad"]
    assert frame["file"].tolist() == [f for f, _ in failures]
    assert frame["synthetic"].tolist() == [True, False]
    assert frame["started_at"].tolist() == [pd.Timestamp("2026-11-27T10:00:00Z"), pd.Timestamp("2026-11-28T09:30:00Z")]


def test_no_failures_is_an_empty_frame_with_the_columns():
    frame = aggregate.failures_frame([])
    assert frame.empty and list(frame.columns) == ["model_id", "task_id", "error", "started_at", "file", "synthetic"]


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
