"""records -> frames: the fixture records (tests/data/records, see make_fixtures.py) and small hand-made frames."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from harness.core.paths import TASKS_DIR
from harness.site import aggregate, inputs, tables

KLUE = ["klue/ynat", "klue/sts", "klue/nli", "klue/ner"]
GLUE = ["glue/mrpc", "glue/stsb", "glue/sst2", "glue/qnli"]
# From the bundled samples these three have no train file: the runner trains on 80% of the validation file and says
# the run is outside the protocol, so model-a's row holds the other five.
CARVED = ["klue/nli", "klue/ner", "glue/qnli"]
ON_PROTOCOL = [t for t in KLUE + GLUE if t not in CARVED]


@pytest.fixture(scope="module")
def tasks():
    return aggregate.tasks_frame(inputs.load_tasks(TASKS_DIR), KLUE + GLUE)


@pytest.fixture(scope="module")
def results(fixture_reports):
    return inputs.load_results(fixture_reports / "results")


@pytest.fixture(scope="module")
def specs():
    return {s.id: s for s in inputs.load_tasks(TASKS_DIR)}


@pytest.fixture(scope="module")
def split(results, specs):
    return aggregate.split_protocol(aggregate.records_frame(results.records), {t: s.sha256 for t, s in specs.items()})


@pytest.fixture(scope="module")
def latest(split):
    return aggregate.latest_records(split[0])


@pytest.fixture(scope="module")
def board(latest, tasks):
    return aggregate.leaderboard(aggregate.scores_long(latest), tasks)


@pytest.fixture(scope="module")
def protocol_board(latest):
    """The leaderboard of the five tasks the samples hold train files for: model-a's row is complete there."""
    return aggregate.leaderboard(aggregate.scores_long(latest),
                                 aggregate.tasks_frame([t for t in inputs.load_tasks(TASKS_DIR) if t.id in ON_PROTOCOL]))


def _folder(file: str) -> str:
    """The first folder under results/: a model's folder, or archive/, older-spec/, other-runs/."""
    return file.split("results/", 1)[1].split("/")[0]


def _record(results, model_id, task_id, folder=None):
    """The fixture record of (model, task), from ``folder`` when given, else the one outside archive/ and older-spec/."""
    found = [r for f, r in results.records if r.model.id == model_id and r.task.id == task_id
             and (_folder(f) == folder if folder else not any(k in f for k in ("archive/", "older-spec/")))]
    assert len(found) == 1, (model_id, task_id, folder)
    return found[0]


def test_bad_files_are_skipped_with_a_warning_naming_each(fixture_reports, caplog):
    with caplog.at_level("WARNING"):
        results = inputs.load_results(fixture_reports / "results")
    skipped = {p.split("results/", 1)[1]: why for p, why in results.skipped}
    assert set(skipped) == {"broken.json", "foreign/mteb-result.json", "invalid/klue__ynat.json",
                            "invalid/klue__nli.failed.json"}
    assert "not readable JSON" in skipped["broken.json"]
    assert "schema" in skipped["foreign/mteb-result.json"] and "koenbench.result/2" in skipped["foreign/mteb-result.json"]
    assert "primary_metric" in skipped["invalid/klue__ynat.json"]
    assert "schema" in skipped["invalid/klue__nli.failed.json"]  # the field is named, not just "not a failure"
    for name in skipped:
        assert any(name in r.getMessage() for r in caplog.records), f"no warning names {name}"
    assert len(results.records) == 8 + 3 + 1 + 1 + 1  # model-a, model-b, archive, model-c, older-spec


def test_every_fixture_record_is_synthetic_and_neutrally_named(results):
    assert all(r.synthetic for _, r in results.records) and all(f.synthetic for _, f in results.failures)
    assert {r.model.id for _, r in results.records} == {"fixture/model-a", "fixture/model-b", "fixture/model-c"}


def test_failed_runs_are_failures_not_records(results):
    assert [(f.model.id, f.task.id) for _, f in results.failures] == [("fixture/model-b", "klue/ner")]
    frame = aggregate.failures_frame(results.failures)
    assert frame.loc[0, "error"].startswith("FloatingPointError: the training loss became NaN")


def test_runs_outside_the_protocol_are_set_apart_with_the_reason(split):
    ranked, apart = split
    reasons = {(r.model_id, r.task_id, _folder(r.file)): r.why for r in apart.itertuples()}
    model_a = {_folder(r.file) for r in ranked.itertuples() if r.model_id == "fixture/model-a"}
    assert len(model_a) == 1
    carved = {("fixture/model-a", task_id, *model_a) for task_id in CARVED}
    assert set(reasons) == {("fixture/model-c", "glue/sst2", "other-runs"), ("fixture/model-a", "glue/mrpc", "older-spec"),
                            *carved}
    assert reasons[("fixture/model-c", "glue/sst2", "other-runs")] == ["epochs 1 (protocol: 3)"]  # from --set epochs=1
    assert "older version of the task's YAML" in reasons[("fixture/model-a", "glue/mrpc", "older-spec")][0]
    for key in carved:
        assert reasons[key] == ["trained on validation[:80%] and scored on validation[80%:] of the local files (no train "
                                "file there), not on the task's own train and validation splits"]
    assert "fixture/model-c" not in set(ranked["model_id"])
    assert not set(CARVED) & set(ranked["task_id"])


def test_a_record_that_does_not_say_its_protocol_is_not_ranked(results, specs):
    _, record = results.records[0]
    unknown = record.model_copy(update={"protocol": None})
    ranked, apart = aggregate.split_protocol(aggregate.records_frame([("old.json", unknown)]),
                                             {t: s.sha256 for t, s in specs.items()})
    assert ranked.empty and "does not say whether it followed the protocol" in apart.loc[0, "why"][0]


def test_newest_record_wins_and_remembers_the_one_it_replaced(results, latest):
    row = latest[(latest.model_id == "fixture/model-b") & (latest.task_id == "klue/ynat")]
    assert len(row) == 1
    newest = _record(results, "fixture/model-b", "klue/ynat")
    older = _record(results, "fixture/model-b", "klue/ynat", folder="archive")
    assert row.iloc[0]["scores"] == newest.scores and row.iloc[0]["n_seeds"] == 2
    (old_file, old_date), = row.iloc[0]["replaced"]
    assert _folder(old_file) == "archive" and old_date == pd.Timestamp(older.started_at)
    assert not latest.duplicated(["model_id", "task_id"]).any()


def test_newest_wins_whatever_order_the_files_come_in(results, latest):
    frame = aggregate.records_frame(list(reversed(results.records)))
    row = aggregate.latest_records(frame).query("model_id == 'fixture/model-b' and task_id == 'klue/ynat'")
    assert row.iloc[0]["n_seeds"] == 2  # the newer record, with two seeds; the archived one has one


def test_scores_long_has_every_metric_with_std_and_seeds(results, latest):
    long = aggregate.scores_long(latest)
    sst2 = long[(long.model_id == "fixture/model-b") & (long.task_id == "glue/sst2")].set_index("metric")
    record = _record(results, "fixture/model-b", "glue/sst2")
    assert set(sst2.index) == set(record.scores) == {"accuracy"}
    assert sst2.loc["accuracy", "mean"] == pytest.approx(record.scores["accuracy"])
    assert sst2.loc["accuracy", "std"] == pytest.approx(record.std["accuracy"])
    assert sst2.loc["accuracy", "n_seeds"] == 2


def test_fixture_leaderboard_complete_rows_first_then_partial(board, protocol_board):
    assert list(board.columns[:8]) == KLUE + GLUE
    assert (board["n:overall"] < 8).all()  # no complete row over all eight tasks: three of model-a's are apart
    assert list(protocol_board.index) == ["fixture/model-a", "fixture/model-b"]
    assert protocol_board.loc["fixture/model-a", "n:overall"] == 5 and protocol_board.loc["fixture/model-b", "n:overall"] == 3


def test_complete_average_is_the_mean_of_all_primary_scores(results, protocol_board, specs):
    primary = {t: _record(results, "fixture/model-a", t).scores[specs[t].metrics.primary] for t in ON_PROTOCOL}
    row = protocol_board.loc["fixture/model-a"]
    klue = [t for t in ON_PROTOCOL if t in KLUE]
    assert row["avg:klue"] == pytest.approx(sum(primary[t] for t in klue) / len(klue))
    assert row["avg:overall"] == pytest.approx(sum(primary.values()) / len(ON_PROTOCOL))
    assert (row["n:klue"], row["of:klue"], row["n:overall"]) == (2, 2, 5)


def test_partial_rows_say_how_many_tasks_they_cover(board):
    row = board.loc["fixture/model-b"]
    assert math.isnan(row["klue/sts"]) and math.isnan(row["klue/ner"])
    assert (row["n:klue"], row["of:klue"], row["n:glue"], row["of:glue"]) == (1, 4, 2, 4)
    assert aggregate.is_partial(row, "klue") and aggregate.is_partial(row, "overall")
    cell = tables.average(row, "klue", "KLUE")
    assert cell.tier == tables.PARTIAL and cell.sub == "partial 1/4" and "1 of 4" in cell.title


def _long(scores: dict[str, dict[str, float]], tasks) -> pd.DataFrame:
    """model -> {task: primary score} as a scores_long frame."""
    return pd.DataFrame([{"model_id": m, "task_id": t, "metric": tasks.loc[t, "primary"], "mean": v, "std": 0.0,
                          "n_seeds": 1} for m, row in scores.items() for t, v in row.items()])


def test_a_partial_average_is_the_mean_of_the_present_tasks_only(tasks):
    board = aggregate.leaderboard(_long({"p": {"klue/ynat": 60.0, "klue/sts": 71.0, "glue/mrpc": 90.0}}, tasks), tasks)
    row = board.loc["p"]
    assert row["avg:klue"] == pytest.approx(65.5)  # (60 + 71) / 2: the missing NLI and NER count as nothing, not 0
    assert row["avg:glue"] == pytest.approx(90.0)
    assert row["avg:overall"] == pytest.approx((60 + 71 + 90) / 3)
    assert (row["n:klue"], row["of:klue"], row["n:overall"], row["of:overall"]) == (2, 4, 3, 8)


def test_complete_rows_rank_above_a_partial_row_with_a_higher_average(tasks):
    every = KLUE + GLUE
    scores = {  # named so that neither the alphabetical nor the average order is the right one
        "a-partial-high": {"glue/sst2": 99.0},  # the best average, over one task
        "b-complete-low": {t: 50.0 for t in every},
        "c-partial-low": {"glue/sst2": 10.0, "klue/ynat": 20.0},
        "d-complete-high": {t: 60.0 for t in every},
    }
    board = aggregate.leaderboard(_long(scores, tasks), tasks)
    assert list(board.index) == ["d-complete-high", "b-complete-low", "a-partial-high", "c-partial-low"]


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
    from harness.core.paths import REPORTS_DIR

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
    assert "models[0].id: required field is missing" in str(err.value) and "models[2].id: 'a' is listed twice" in str(err.value)


def test_reported_values_keep_their_published_digits():
    assert [tables.fmt_reported(v) for v in (91.0, 86.7, 85.73, 90)] == ["91.0", "86.7", "85.73", "90.0"]


def test_a_users_own_suite_stays_out_of_the_overall_and_language_averages(tasks):
    mine = pd.DataFrame({"suite": ["mine"], "language": ["en"], "name": ["Mine"], "primary": ["accuracy"]},
                        index=pd.Index(["mine/paraphrase"], name="task_id"))
    with_mine = pd.concat([tasks, mine.reindex(columns=tasks.columns)])
    groups = aggregate.suite_groups(with_mine)
    assert groups["mine"] == ["mine/paraphrase"]
    assert groups[aggregate.OVERALL] == list(tasks.index)  # KLUE and GLUE only
    assert "mine/paraphrase" not in aggregate.language_groups(with_mine)["en"]
    alone = aggregate.suite_groups(mine.reindex(columns=tasks.columns))  # a site of one's own suite only
    assert alone[aggregate.OVERALL] == ["mine/paraphrase"]
