"""The site's frames on hand-made inputs: one row per failure (old and new record shapes), the task table's order and columns."""

import pandas as pd

from harness.core.paths import TASKS_DIR
from harness.results import records
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
    # groups come in the order of their first task, as the pages list them
    assert list(aggregate.language_groups(tasks)) == ["ko", "en"] and list(aggregate.suite_groups(tasks)) == ["klue", "glue", "overall"]
    english_first = aggregate.tasks_frame(inputs.load_tasks(TASKS_DIR), ["glue/sst2"])
    assert list(aggregate.language_groups(english_first)) == ["en", "ko"]


def test_no_tasks_is_an_empty_task_table_with_the_columns():
    tasks = aggregate.tasks_frame([])
    assert tasks.empty and list(tasks.columns) == ["name", "suite", "language", "description", "primary", "metrics",
                                                   "head", "selection", "hyperparameters", "includes", "changed_keys"]


def _result(protocol, **changes):
    fields = dict(
        model={"id": "fixture/model-a", "revision": "r" * 40, "source": "hub"},
        task={"id": "klue/sts", "spec_sha256": "s" * 64, "primary_metric": "pearson"},
        hyperparameters={"learning_rate": 2e-5, "epochs": 4},
        data={"source": "local", "train_examples": 8, "validation_examples": 4},
        env={"koenbench": "0.1.0", "git": "abc1234", "device": "cpu", "precision": "fp32", "torch": "2.5.1",
             "transformers": "4.46.0"},
        started_at="2026-11-27T10:00:00+09:00", wall_s=12.5, synthetic=True, protocol=protocol,
        warnings=["validation lacks label 'no'"])
    fields.update(changes)
    seeds = [records.SeedResult(seed=s, scores={"pearson": p, "binarized_f1": 70.0}, epoch=1, train_s=1.0)
             for s, p in ((42, 80.0), (43, 84.0))]
    return records.ResultRecord.from_seeds(seeds, **fields)


def test_a_record_becomes_one_row_with_its_scores_and_provenance():
    record = _result({"followed": False, "deviations": ["--set epochs=1"]})
    frame = aggregate.records_frame([("results/fixture__model-a/klue__sts.json", record)])
    assert list(frame.columns) == aggregate.RECORD_COLUMNS
    row = frame.iloc[0].to_dict()
    assert row == {
        "model_id": "fixture/model-a", "task_id": "klue/sts", "suite": "klue",
        "scores": {"pearson": 82.0, "binarized_f1": 70.0}, "std": {"pearson": 2.8284, "binarized_f1": 0.0},
        "n_seeds": 2, "revision": "r" * 40, "harness": "0.1.0", "git": "abc1234", "device": "cpu",
        "precision": "fp32", "torch": "2.5.1", "transformers": "4.46.0",
        "started_at": pd.Timestamp("2026-11-27T01:00:00Z"), "wall_s": 12.5, "data_source": "local",
        "hyperparameters": {"learning_rate": 2e-5, "epochs": 4}, "file": "results/fixture__model-a/klue__sts.json",
        "synthetic": True, "protocol": False, "deviations": ["--set epochs=1"], "spec_sha256": "s" * 64,
        "warnings": ["validation lacks label 'no'"], "tier": None,
    }


def test_a_record_that_does_not_say_its_protocol_or_environment_has_none():
    frame = aggregate.records_frame([("r.json", _result(None, env={}))])
    row = frame.iloc[0]
    assert row["protocol"] is None and row["deviations"] == []
    assert [row[k] for k in ("harness", "git", "device", "precision", "torch", "transformers")] == [None] * 6
    assert aggregate.records_frame([("r.json", _result({"followed": True}))]).iloc[0]["protocol"] == True  # noqa: E712 (numpy bool)


def test_runs_set_apart_say_why_in_full():
    followed = {"followed": True}
    frame = aggregate.records_frame([
        ("ranked.json", _result(followed)),
        ("overrides.json", _result({"followed": False, "deviations": ["--set epochs=1"]}, model={"id": "fixture/model-b", "revision": "r", "source": "hub"})),
        ("unknown.json", _result(None, model={"id": "fixture/model-c", "revision": "r", "source": "hub"})),
        ("old-spec.json", _result(followed, task={"id": "klue/sts", "spec_sha256": "o" * 64, "primary_metric": "pearson"})),
        ("no-spec.json", _result(followed, task={"id": "glue/gone", "spec_sha256": "o" * 64, "primary_metric": "pearson"})),
    ])
    ranked, apart = aggregate.split_protocol(frame, {"klue/sts": "s" * 64})
    assert ranked["file"].tolist() == ["ranked.json", "no-spec.json"]  # a task without a current spec has no hash to differ from
    assert dict(zip(apart["file"], apart["why"])) == {
        "overrides.json": ["--set epochs=1"],
        "unknown.json": ["the record does not say whether it followed the protocol (written before records said so)"],
        "old-spec.json": ["made under an older version of the task's YAML (its spec hash differs from the current one)"],
    }
    assert list(ranked.index) == [0, 1] and list(apart.index) == [0, 1, 2]
    assert list(ranked.columns) == list(apart.columns) == aggregate.RECORD_COLUMNS + ["why"]  # no old index column


def test_of_two_records_started_at_the_same_time_the_later_file_name_wins():
    same_time = [("b.json", _result({"followed": True})), ("a.json", _result({"followed": True}, wall_s=99.0))]
    for given in (same_time, same_time[::-1]):
        latest = aggregate.latest_records(aggregate.records_frame(given))
        assert latest["file"].tolist() == ["b.json"]
        assert latest.loc[0, "replaced"] == [("a.json", pd.Timestamp("2026-11-27T01:00:00Z"))]


def test_the_newest_of_three_keeps_the_two_it_replaced_oldest_first_and_rows_are_sorted():
    runs = [("x2.json", _result(None, started_at="2026-11-28T10:00:00Z")),
            ("x1.json", _result(None, started_at="2026-11-27T10:00:00Z")),
            ("x3.json", _result(None, started_at="2026-11-29T10:00:00Z")),
            ("y.json", _result(None, model={"id": "fixture/model-0", "revision": "r", "source": "hub"}))]
    latest = aggregate.latest_records(aggregate.records_frame(runs))
    assert latest["model_id"].tolist() == ["fixture/model-0", "fixture/model-a"] and latest["file"].tolist() == ["y.json", "x3.json"]
    assert latest.loc[1, "replaced"] == [("x1.json", pd.Timestamp("2026-11-27T10:00:00Z")),
                                         ("x2.json", pd.Timestamp("2026-11-28T10:00:00Z"))]
    assert latest.loc[0, "replaced"] == [] and list(latest.index) == [0, 1]
    assert list(latest.columns) == aggregate.RECORD_COLUMNS + ["replaced"]  # no old index column


def test_failure_dates_are_read_in_any_iso_form_and_shown_in_utc():
    model = {"id": "fixture/model-a", "revision": "0" * 40, "source": "hub"}
    failures = [(f"{i}.failed.json", records.parse_failure({
        "schema": records.FAILURE_SCHEMA, "model": model, "task": {"id": "klue/ner"},
        "error": {"type": "ValueError", "message": "m"}, "started_at": when}))
        for i, when in enumerate(["2026-11-27T10:00:00Z", "2026-11-28T09:30:00.123456+09:00"])]
    dates = aggregate.failures_frame(failures)["started_at"]
    assert [str(d) for d in dates] == ["2026-11-27 10:00:00+00:00", "2026-11-28 00:30:00.123456+00:00"]


def test_reported_numbers_keep_only_their_five_columns_even_when_there_are_none():
    rows = [{"source": "paper", "model": "fixture/model-a", "task": "klue/sts", "metric": "pearson", "value": 90,
             "url": "https://example.org"}]
    frame = aggregate.reported_long(rows)
    assert list(frame.columns) == ["source", "model_id", "task_id", "metric", "mean"]
    assert frame.loc[0, "mean"] == 90.0 and isinstance(frame.loc[0, "mean"], float)
    empty = aggregate.reported_long([])
    assert empty.empty and list(empty.columns) == ["source", "model_id", "task_id", "metric", "mean"]


def test_a_number_listed_twice_shows_as_published_never_averaged():
    # a mean of two listed values is a number no source published; the first listed one is shown
    tasks = aggregate.tasks_frame(inputs.load_tasks(TASKS_DIR))
    rows = [{"source": "paper", "model": "fixture/model-a", "task": "klue/sts", "metric": "pearson", "value": v}
            for v in (90.0, 80.0)]
    board = aggregate.leaderboard(aggregate.reported_long(rows), tasks, keys=["model_id", "source"])
    assert board.loc[("fixture/model-a", "paper"), "klue/sts"] == 90.0


def test_record_dates_are_read_in_any_iso_form_and_shown_in_utc():
    runs = [("a.json", _result(None, started_at="2026-11-27T10:00:00Z")),
            ("b.json", _result(None, started_at="2026-11-28T09:30:00.5+09:00"))]
    dates = aggregate.records_frame(runs)["started_at"]
    assert [str(d) for d in dates] == ["2026-11-27 10:00:00+00:00", "2026-11-28 00:30:00.500000+00:00"]
