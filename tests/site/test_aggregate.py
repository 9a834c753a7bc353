"""records -> frames: the fixture records (tests/data/records, see make_fixtures.py) and small hand-made frames."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from harness.paths import TASKS_DIR
from harness.site import aggregate, inputs, tables

KLUE = ["klue/ynat", "klue/sts", "klue/nli", "klue/ner"]
GLUE = ["glue/mrpc", "glue/stsb", "glue/sst2", "glue/qnli"]


@pytest.fixture(scope="module")
def tasks():
    return aggregate.tasks_frame(inputs.load_tasks(TASKS_DIR), KLUE + GLUE)


@pytest.fixture(scope="module")
def results(fixture_reports):
    return inputs.load_results(fixture_reports / "results")


@pytest.fixture(scope="module")
def latest(results):
    return aggregate.latest_records(aggregate.records_frame(results.records))


@pytest.fixture(scope="module")
def board(latest, tasks):
    return aggregate.leaderboard(aggregate.scores_long(latest), tasks)


def test_bad_files_are_skipped_with_a_warning_naming_each(fixture_reports, caplog):
    with caplog.at_level("WARNING"):
        results = inputs.load_results(fixture_reports / "results")
    skipped = {p.split("results/", 1)[1]: why for p, why in results.skipped}
    assert set(skipped) == {"broken.json", "foreign/mteb-result.json", "invalid/klue__ynat.json",
                            "invalid/klue__nli.failed.json"}
    assert "not readable JSON" in skipped["broken.json"]
    assert "koenbench.result/1" in skipped["foreign/mteb-result.json"]
    assert "primary_metric" in skipped["invalid/klue__ynat.json"]
    for name in skipped:
        assert any(name in r.getMessage() for r in caplog.records), f"no warning names {name}"
    assert len(results.records) == 24  # 8 + 8 + 5 + 2 + the older duplicate


def test_failed_runs_are_failures_not_records(results):
    assert [(f["model"]["id"], f["task"]["id"]) for _, f in results.failures] == [("bert-base-uncased", "klue/ner")]
    frame = aggregate.failures_frame(results.failures)
    assert frame.loc[0, "error"] == "OutOfMemoryError: CUDA out of memory at max_length 510"


def test_newest_record_wins_and_remembers_the_one_it_replaced(results, latest):
    frame = aggregate.records_frame(results.records)
    assert len(frame[(frame.model_id == "klue/bert-base") & (frame.task_id == "klue/ynat")]) == 2
    row = latest[(latest.model_id == "klue/bert-base") & (latest.task_id == "klue/ynat")]
    assert len(row) == 1
    assert row.iloc[0]["scores"]["macro_f1"] == pytest.approx(86.1)  # 2026-11-27, not the 80.0 of 2026-10-01
    (old_file, old_date), = row.iloc[0]["replaced"]
    assert old_file.endswith("archive/klue__bert-base__klue__ynat.json")
    assert old_date == pd.Timestamp("2026-10-01T08:00:00Z")
    assert not latest.duplicated(["model_id", "task_id"]).any()


def test_newest_wins_whatever_order_the_files_come_in(results):
    frame = aggregate.records_frame(list(reversed(results.records)))
    row = aggregate.latest_records(frame).query("model_id == 'klue/bert-base' and task_id == 'klue/ynat'")
    assert row.iloc[0]["scores"]["macro_f1"] == pytest.approx(86.1)


def test_scores_long_has_every_metric_with_std_and_seeds(latest):
    long = aggregate.scores_long(latest)
    ner = long[(long.model_id == "klue/bert-base") & (long.task_id == "klue/ner")].set_index("metric")
    assert set(ner.index) == {"entity_f1", "char_f1"}
    assert ner.loc["entity_f1", "mean"] == pytest.approx(83.5)
    assert ner.loc["entity_f1", "std"] > 0
    assert ner.loc["entity_f1", "n_seeds"] == 3


def test_leaderboard_complete_rows_first_then_partial(board):
    assert list(board.index) == ["respect5716/koenbert-base", "klue/bert-base", "bert-base-uncased", "./my-model"]
    assert list(board.columns[:8]) == KLUE + GLUE


def test_complete_averages(board):
    klue = board.loc["klue/bert-base"]
    assert klue["avg:klue"] == pytest.approx((86.1 + 90.7 + 81.9 + 83.5) / 4)
    assert klue["avg:overall"] == pytest.approx((86.1 + 90.7 + 81.9 + 83.5 + 86.0 + 85.2 + 88.1 + 87.0) / 8)
    assert (klue["n:klue"], klue["of:klue"], klue["n:overall"]) == (4, 4, 8)


def test_partial_rows_say_how_many_tasks_they_cover(board):
    row = board.loc["bert-base-uncased"]
    assert math.isnan(row["klue/sts"]) and math.isnan(row["klue/ner"])
    assert (row["n:klue"], row["of:klue"]) == (1, 4)
    assert (row["n:glue"], row["of:glue"]) == (4, 4)
    assert aggregate.is_partial(row, "klue") and not aggregate.is_partial(row, "glue")
    assert aggregate.is_partial(row, "overall")
    cell = tables.average(row, "klue", "KLUE")
    assert cell.tier == tables.PARTIAL and cell.sub == "partial 1/4" and "1 of 4" in cell.title
    assert tables.average(row, "glue", "GLUE").tier == tables.COMPLETE


def test_a_model_without_any_score_in_a_group_is_missing_not_zero(tasks):
    wide = pd.DataFrame({t: [float("nan")] for t in tasks.index}, index=["m"])
    wide.loc["m", "glue/sst2"] = 80.0
    row = aggregate.add_averages(wide, aggregate.suite_groups(tasks)).loc["m"]
    assert row["n:klue"] == 0
    cell = tables.average(row, "klue", "KLUE")
    assert cell.tier == tables.MISSING and cell.text == "—"


def test_leaderboard_uses_the_spec_primary_metric_only(tasks):
    long = pd.DataFrame([
        {"model_id": "m", "task_id": "klue/sts", "metric": "binarized_f1", "mean": 99.0, "std": 0, "n_seeds": 1},
        {"model_id": "m", "task_id": "klue/sts", "metric": "pearson", "mean": 90.0, "std": 0, "n_seeds": 1},
    ])
    board = aggregate.leaderboard(long, tasks)
    assert board.loc["m", "klue/sts"] == 90.0


def test_no_records_gives_an_empty_leaderboard_with_all_columns(tasks):
    latest = aggregate.latest_records(aggregate.records_frame([]))
    board = aggregate.leaderboard(aggregate.scores_long(latest), tasks)
    assert board.empty and list(board.columns[:8]) == KLUE + GLUE


def test_reported_numbers_are_keyed_by_source(fixture_reports, tasks):
    sources, numbers = inputs.load_reported(fixture_reports / "reported.yaml", inputs.load_tasks(TASKS_DIR))
    assert set(sources) == {"A", "B", "C"}
    reported = aggregate.reported_long(numbers)
    board = aggregate.leaderboard(reported, tasks, keys=["model_id", "source"])
    assert board.loc[("klue/bert-base", "B"), "klue/ynat"] == pytest.approx(85.73)
    assert board.loc[("klue/bert-base", "A"), "klue/ynat"] == pytest.approx(86.7)
    assert board.loc[("klue/bert-base", "A"), "n:klue"] == 4
    assert board.loc[("bert-base-cased", "C"), "n:glue"] == 2


def test_the_projects_reported_yaml_is_valid_and_complete():
    from harness.paths import REPORTS_DIR

    sources, numbers = inputs.load_reported(REPORTS_DIR / "reported.yaml", inputs.load_tasks(TASKS_DIR))
    assert set(sources) == {"A", "B", "C"}
    by_source = pd.DataFrame(numbers).groupby("source").size().to_dict()
    assert by_source == {"A": 31, "B": 6, "C": 6}  # A: 4x4 + 4x4 minus mBERT-uncased NER (not reported)
    koenbert = {(n["task"], n["metric"]): n["value"] for n in numbers
                if n["model"] == "respect5716/koenbert-base" and n["source"] == "A"}
    assert koenbert[("klue/ner", "entity_f1")] == 84.5 and koenbert[("glue/stsb", "spearman")] == 84.4


def test_a_bad_reported_yaml_lists_every_problem_and_the_file(tmp_path):
    bad = tmp_path / "reported.yaml"
    bad.write_text(
        "sources: {A: {title: t}}\n"
        "numbers:\n"
        "  - {source: Z, model: m, task: klue/ynat, metric: macro_f1, value: 1}\n"
        "  - {source: A, model: m, task: klue/ynat, metric: pearson, value: 1}\n"
        "  - {source: A, model: m, task: klue/nope, metric: f1, value: 1}\n"
        "  - {source: A, model: m, task: klue/ynat, metric: macro_f1, value: high}\n",
        encoding="utf-8")
    with pytest.raises(inputs.SiteInputError) as err:
        inputs.load_reported(bad, inputs.load_tasks(TASKS_DIR))
    message = str(err.value)
    assert str(bad) in message
    for expected in ("numbers[0]: source 'Z'", "numbers[1]: klue/ynat has no metric 'pearson'",
                     "numbers[2]: unknown task 'klue/nope'", "numbers[3]: value must be a number"):
        assert expected in message


def test_models_yaml_problems_name_the_file(tmp_path):
    bad = tmp_path / "models.yaml"
    bad.write_text("models:\n  - {name: no id}\n  - {id: a}\n  - {id: a}\n", encoding="utf-8")
    with pytest.raises(inputs.SiteInputError, match=r"models\.yaml: invalid model list") as err:
        inputs.load_models(bad)
    assert "models[0]: needs an 'id'" in str(err.value) and "models[2]: id 'a' is listed twice" in str(err.value)


def test_reported_values_keep_their_published_digits():
    assert [tables.fmt_reported(v) for v in (91.0, 86.7, 85.73, 90)] == ["91.0", "86.7", "85.73", "90.0"]
