"""`bench compare` on synthetic records: models fixture/model-a and fixture/model-b, predictions drawn at known accuracies."""

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.results import compare, predictions, records
from harness.site.escape import text as esc
from harness.tasks import metrics

FINGERPRINT = "a" * 64


def _write(folder, model_id, task_id, seed_predictions, gold, fingerprint=FINGERPRINT, keep_predictions=True):
    """A synthetic record of ``model_id`` on ``task_id`` (primary: accuracy) with its predictions file."""
    seeds = [records.SeedResult(seed=42 + i, scores={"accuracy": round(metrics.accuracy(p, gold), 4)}, epoch=1, train_s=1.0)
             for i, p in enumerate(seed_predictions)]
    path = folder / f"{task_id.replace('/', '__')}.json"
    ref = None
    if keep_predictions:
        kept = predictions.TaskPredictions(task_id, "label", fingerprint, [s.seed for s in seeds], gold, seed_predictions)
        digest = predictions.save(predictions.file_for(path), kept)
        ref = records.PredictionsRef(path=predictions.file_for(path).name, sha256=digest)
    record = records.ResultRecord.from_seeds(
        seeds, model=records.ModelIdentity(id=model_id, revision="synthetic", source="local"),
        task=records.TaskIdentity(id=task_id, spec_sha256="s" * 8, primary_metric="accuracy"),
        hyperparameters={}, data=records.DataProvenance(source="local", train_examples=1, validation_examples=len(gold)),
        env={}, started_at="2026-11-28T10:00:00Z", wall_s=1.0, synthetic=True, predictions=ref)
    records.write(path, record)
    return path


def _draw(rng, gold, accuracy):
    return np.where(rng.random(len(gold)) < accuracy, gold, 1 - gold)


@pytest.fixture
def two_models(tmp_path):
    """B is clearly better on klue/x (95% vs 70%), the same on klue/y and glue/z (80%), on 600 examples, 3 seeds."""
    rng = np.random.default_rng(0)
    accuracy = {"klue/x": (0.70, 0.95), "klue/y": (0.8, 0.8), "glue/z": (0.8, 0.8)}
    for task_id, (acc_a, acc_b) in accuracy.items():
        gold = rng.integers(0, 2, 600)
        for model, acc in (("model-a", acc_a), ("model-b", acc_b)):
            (tmp_path / model).mkdir(exist_ok=True)
            _write(tmp_path / model, f"fixture/{model}", task_id, [_draw(rng, gold, acc) for _ in range(3)], gold)
    return tmp_path


def test_verdicts_follow_the_truth(two_models):
    a = compare.find_side(str(two_models / "model-a"), two_models)
    b = compare.find_side("fixture/model-b", two_models)  # by id, looked up under the results folder
    result = compare.compare(a, b, compare.select_tasks(a, b, None, "all"), resamples=2000)
    rows = {r.task_id: r for r in result.tasks}
    assert rows["klue/x"].difference.verdict == "B better"
    assert rows["klue/x"].difference.low > 15 and rows["klue/x"].difference.p_value < 0.01
    assert rows["klue/y"].difference.verdict == "no detectable difference"
    assert rows["klue/x"].score_b - rows["klue/x"].score_a == pytest.approx(rows["klue/x"].difference.difference, abs=1e-3)
    (klue,) = result.averages  # glue has one task: its average is that task
    assert klue.suite == "klue" and klue.tasks == ["klue/x", "klue/y"] and klue.of == 2
    expected = np.mean([rows["klue/x"].difference.difference, rows["klue/y"].difference.difference])
    assert klue.difference.difference == pytest.approx(expected)
    assert klue.difference.verdict == "B better"


def test_different_validation_splits_are_not_compared(tmp_path):
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 2, 100)
    for model, fingerprint in (("model-a", "a" * 64), ("model-b", "b" * 64)):
        (tmp_path / model).mkdir()
        _write(tmp_path / model, f"fixture/{model}", "glue/z", [_draw(rng, gold, 0.8)], gold, fingerprint=fingerprint)
    a, b = compare.find_side(str(tmp_path / "model-a"), tmp_path), compare.find_side(str(tmp_path / "model-b"), tmp_path)
    (row,) = compare.compare(a, b, ["glue/z"], resamples=200).tasks
    assert row.difference is None
    assert "different validation examples" in row.problem and "not comparable" in row.problem


def test_records_without_predictions_say_how_to_get_them(tmp_path):
    rng = np.random.default_rng(2)
    gold = rng.integers(0, 2, 100)
    for model, keep in (("model-a", True), ("model-b", False)):
        (tmp_path / model).mkdir()
        _write(tmp_path / model, f"fixture/{model}", "glue/z", [_draw(rng, gold, 0.8)], gold, keep_predictions=keep)
    a, b = compare.find_side(str(tmp_path / "model-a"), tmp_path), compare.find_side(str(tmp_path / "model-b"), tmp_path)
    (row,) = compare.compare(a, b, ["glue/z"], resamples=200).tasks
    assert "no per-example predictions for fixture/model-b" in row.problem and "--force" in row.problem


def test_cli_prints_the_table_and_writes_json(two_models, tmp_path):
    out = tmp_path / "cmp"
    result = CliRunner().invoke(app, ["compare", "fixture/model-a", "fixture/model-b", "--results", str(two_models),
                                      "--suite", "klue", "--resamples", "500", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "klue/x" in result.output and "B better" in result.output
    assert "glue/z" not in result.output
    assert re.search(r"┃ task +┃ metric +┃", result.output)
    assert re.search(r"klue average \(2 of 2 tasks\) .*(B better|no detectable difference) +│$", result.output, re.MULTILINE)
    written = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert written["model_a"] == "fixture/model-a" and [t["task_id"] for t in written["tasks"]] == ["klue/x", "klue/y"]
    assert written["resamples"] == 500
    assert "| klue/x | accuracy |" in (out / "compare.md").read_text(encoding="utf-8")
    again = compare.compare(*(compare.find_side(m, two_models) for m in ("fixture/model-a", "fixture/model-b")), ["klue/y"],
                            resamples=200)
    compare.write(again, out)  # into the same folder again: replaced
    assert [t["task_id"] for t in json.loads((out / "compare.json").read_text(encoding="utf-8"))["tasks"]] == ["klue/y"]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["fixture/nobody", "fixture/model-b"],
      "not a folder of records, and no result records of model 'fixture/nobody' under {results} "
      "(models with records there: fixture/model-a, fixture/model-b)"),
     (["fixture/model-a", "fixture/model-b", "--tasks", "klue/q"], "neither model has a record of it"),
     (["fixture/model-a", "fixture/model-b", "--suite", "kor"], "no records of that suite; suites with records: glue, klue"),
     (["fixture/model-a", "fixture/model-b", "--resamples", "5"], "at least 100")],
)
def test_usage_mistakes_exit_2_with_the_fix(two_models, args, message):
    result = CliRunner().invoke(app, ["compare", *args, "--results", str(two_models)])
    assert result.exit_code == 2
    assert message.format(results=two_models) in " ".join(result.output.split())


def test_an_empty_results_folder_is_named_as_such(tmp_path):
    result = CliRunner().invoke(app, ["compare", "fixture/model-a", "fixture/model-b", "--results", str(tmp_path)])
    assert result.exit_code == 2 and "(there are no records there)" in " ".join(result.output.split())


def test_records_of_different_task_specs_are_compared_with_a_note(two_models):
    path = two_models / "model-b" / "klue__x.json"
    record = records.read_result(path)
    records.write(path, record.model_copy(update={"task": record.task.model_copy(update={"spec_sha256": "t" * 8})}))
    a, b = (compare.find_side(m, two_models) for m in ("fixture/model-a", "fixture/model-b"))
    row = compare.compare_task("klue/x", a, b, resamples=200)
    assert row.difference is not None
    assert row.notes == ["task specs differ (hyperparameters or protocol); the examples are the same"]


def test_a_predictions_error_names_files_relative_to_the_results_folder(two_models):
    """The site shows these messages: never the folders of the machine that built it."""
    path = two_models / "model-a" / "klue__x.json"
    predictions.file_for(path).unlink()
    with pytest.raises(predictions.PredictionsError) as err:
        compare.CachedLoader(two_models)(path, records.read_result(path))
    assert str(err.value).startswith("model-a/klue__x.predictions.npz: cannot read the predictions file")
    assert str(two_models) not in str(err.value)


def test_a_folder_of_several_models_is_refused(two_models):
    with pytest.raises(compare.CompareError, match="holds records of 2 models"):
        for model in ("model-a", "model-b"):
            for path in (two_models / model).iterdir():
                path.rename(two_models / f"{model}-{path.name}")
        compare.find_side(str(two_models), two_models)


def test_record_intervals_cover_every_score(two_models):
    path = two_models / "model-a" / "klue__x.json"
    record = records.read_result(path)
    intervals = compare.record_intervals(path, record, resamples=1000)
    assert set(intervals) == {"accuracy"}
    interval = intervals["accuracy"]
    assert interval.low < record.scores["accuracy"] < interval.high
    assert interval.score == pytest.approx(record.scores["accuracy"], abs=1e-3)
    assert 2 < interval.high - interval.low < 15  # 600 examples at 70%: about +-3.7 points


def test_ties_with_the_best(tmp_path):
    """On 1,000 examples, 3 seeds: C and B at 90% (C drawn best), A at 75%: B shows no detectable difference from C,
    A does; D kept no predictions and E has one seed: neither is tested."""
    rng = np.random.default_rng(3)
    gold = rng.integers(0, 2, 1000)
    entries = {}
    for model, accuracy, keep, seeds in (("a", 0.75, True, 3), ("b", 0.90, True, 3), ("c", 0.90, True, 3),
                                         ("d", 0.5, False, 3), ("e", 0.6, True, 1)):
        (tmp_path / model).mkdir()
        path = _write(tmp_path / model, f"fixture/model-{model}", "glue/z", [_draw(rng, gold, accuracy) for _ in range(seeds)],
                      gold, keep_predictions=keep)
        entries[f"fixture/model-{model}"] = (path, records.read_result(path))
    ties = compare.tied_with_best(entries, "accuracy", resamples=2000)
    assert ties.best == "fixture/model-c"
    assert ties.tied == ["fixture/model-b"] and ties.untested == ["fixture/model-d", "fixture/model-e"]
    best_with_one_seed = {m: entries[m] for m in ("fixture/model-a", "fixture/model-e")}
    best_with_one_seed["fixture/model-e"][1].scores["accuracy"] = 99.0  # E (one seed) best: nothing tested against it
    assert compare.tied_with_best(best_with_one_seed, "accuracy", resamples=200) == compare.Ties(
        "fixture/model-e", [], ["fixture/model-a"])
    assert compare.tied_with_best({"fixture/model-d": entries["fixture/model-d"]}, "accuracy") is None  # no predictions


def test_a_model_scored_on_other_rows_of_the_same_size_is_not_tied_with_the_best(tmp_path):
    """Same number of validation examples, other examples (another --eval-split, another carve): pairing them row by
    row would compare unrelated examples, so the model is untested, never marked tied."""
    rng = np.random.default_rng(4)
    gold = rng.integers(0, 2, 1000)
    entries = {}
    for model, accuracy, fingerprint in (("best", 0.90, FINGERPRINT), ("same-rows", 0.895, FINGERPRINT),
                                         ("other-rows", 0.90, "b" * 64)):
        (tmp_path / model).mkdir()
        path = _write(tmp_path / model, f"fixture/model-{model}", "glue/z", [_draw(rng, gold, accuracy) for _ in range(3)],
                      gold, fingerprint=fingerprint)  # three seeds: with one, nothing is tested against the best
        entries[f"fixture/model-{model}"] = (path, records.read_result(path))
    best = entries["fixture/model-best"][1].scores["accuracy"]
    assert entries["fixture/model-other-rows"][1].scores["accuracy"] < best  # model-best is the best: the others are tested against it
    ties = compare.tied_with_best(entries, "accuracy", resamples=2000)
    assert ties.best == "fixture/model-best"
    assert ties.tied == ["fixture/model-same-rows"] and ties.untested == ["fixture/model-other-rows"]


def test_average_interval_is_narrower_than_its_tasks(two_models):
    entries = [(p, records.read_result(p)) for p in sorted((two_models / "model-b").glob("*.json"))]
    average = compare.average_interval(entries, resamples=1000)
    singles = [compare.record_intervals(p, r, resamples=1000)["accuracy"] for p, r in entries]
    assert average.score == pytest.approx(np.mean([r.scores["accuracy"] for _, r in entries]), abs=1e-3)
    assert average.low < average.score < average.high
    assert average.high - average.low < min(s.high - s.low for s in singles)  # three independent tasks average out
    _write(two_models / "model-b", "fixture/model-b", "glue/w", [np.zeros(10, int)], np.zeros(10, int), keep_predictions=False)
    with_missing = entries + [(two_models / "model-b" / "glue__w.json", records.read_result(two_models / "model-b" / "glue__w.json"))]
    assert compare.average_interval(with_missing, resamples=200) is None


def test_leaderboard_statistics(two_models):
    entries = [(p, records.read_result(p)) for p in sorted(two_models.glob("model-*/*.json"))]
    groups = {"klue": ["klue/x", "klue/y"], "glue": ["glue/z"], "other": ["glue/z", "glue/missing"]}
    stats = compare.leaderboard_statistics(entries, groups, resamples=500)
    assert set(stats.intervals) == {(f"fixture/model-{m}", t) for m in "ab" for t in ("klue/x", "klue/y", "glue/z")}
    assert stats.ties["klue/x"].best == "fixture/model-b" and stats.ties["klue/x"].tied == []
    assert len(stats.ties["klue/y"].tied) == 1  # same accuracy: the other model is tied with the best
    assert set(stats.averages) == {(f"fixture/model-{m}", g) for m in "ab" for g in ("klue", "glue")}  # "other" incomplete
    klue_b = stats.averages[("fixture/model-b", "klue")]
    assert klue_b.low < klue_b.score < klue_b.high


HOSTILE_ID = "fixture/x|y\n| injected | row |[click](javascript:alert(1))<script>alert(1)</script>*_`"


def test_markdown_report_keeps_hostile_ids_as_text(tmp_path):
    rng = np.random.default_rng(3)
    gold = rng.integers(0, 2, 100)
    for model, model_id in (("model-a", HOSTILE_ID), ("model-b", "fixture/model-b")):
        (tmp_path / model).mkdir()
        _write(tmp_path / model, model_id, "glue/z", [_draw(rng, gold, 0.8)], gold)
    a, b = compare.find_side(str(tmp_path / "model-a"), tmp_path), compare.find_side(str(tmp_path / "model-b"), tmp_path)
    report = compare.markdown(compare.compare(a, b, ["glue/z"], resamples=200))
    header, _, table = report.partition("\n\n")
    assert "\n" not in header  # the id's newline cannot start a row of its own
    assert "<script>" not in report and "](javascript:" not in report and "[click]" not in report
    rows = table.strip().splitlines()
    assert len(rows) == 3  # header, rule, glue/z (one task: no average row)
    assert {row.count("|") - row.count("\\|") for row in rows} == {11}  # 10 cells in every row, none split
    assert "no verdict" in rows[2]  # one seed each


def test_an_unreadable_predictions_file_costs_only_its_own_statistics(two_models):
    """A record whose predictions file was changed gets no interval, and its task no tie marks; every other
    record keeps its intervals (the leaderboard never shows an interval computed from the wrong file)."""
    (two_models / "model-a" / "klue__x.predictions.npz").write_bytes(b"changed")
    entries = [(p, records.read_result(p)) for p in sorted(two_models.glob("model-*/*.json"))]
    stats = compare.leaderboard_statistics(entries, {"klue": ["klue/x", "klue/y"]}, resamples=200)
    others = {(f"fixture/model-{m}", t) for m in "ab" for t in ("klue/x", "klue/y", "glue/z")} - {("fixture/model-a", "klue/x")}
    assert set(stats.intervals) == others
    assert set(stats.ties) == {"klue/y", "glue/z"}  # klue/x cannot be tested against its best
    assert set(stats.averages) == {("fixture/model-b", "klue")}


def test_each_task_of_an_average_is_resampled_on_its_own(tmp_path):
    """Two tasks with the same predictions on the same number of examples: resampled independently, their average
    varies less than either (about 1/sqrt(2) as much); resampled with the same draws, it would vary as much."""
    rng = np.random.default_rng(6)
    gold = rng.integers(0, 2, 400)
    predicted = _draw(rng, gold, 0.8)
    entries = [(path, records.read_result(path)) for path in
               (_write(tmp_path, "fixture/model-a", task_id, [predicted], gold) for task_id in ("klue/p", "klue/q"))]
    both = compare.average_interval(entries, resamples=1000)
    alone = compare.average_interval(entries[:1], resamples=1000)
    assert both.score == pytest.approx(alone.score)
    assert both.high - both.low < 0.85 * (alone.high - alone.low)


def _rendered_rows(table) -> dict[str, list[str]]:
    """The rich table as plain text: first cell -> the row's cells."""
    from rich.console import Console

    console = Console(record=True, width=250)
    console.print(table)
    rows = [line.split("│")[1:-1] for line in console.export_text().splitlines() if line.startswith("│")]
    return {cells[0].strip(): [c.strip() for c in cells] for cells in rows}


def test_rows_that_cannot_be_compared_say_why_in_both_tables(two_models):
    """glue/w: only model-a has a record of it; A = model-b, B = model-a, so klue/x reads 'A better'."""
    rng = np.random.default_rng(5)
    gold = rng.integers(0, 2, 50)
    _write(two_models / "model-a", "fixture/model-a", "glue/w", [_draw(rng, gold, 0.8)], gold)
    a, b = compare.find_side("fixture/model-b", two_models), compare.find_side("fixture/model-a", two_models)
    result = compare.compare(a, b, ["klue/x", "glue/w"], resamples=200)
    rows = _rendered_rows(compare.table(result))
    assert rows["glue/w"] == ["glue/w", "-", "-", "-", "-", "-", "-", "-", "-", "no record for fixture/model-b"]
    assert rows["klue/x"][:4] == ["klue/x", "accuracy", f"{result.tasks[0].score_a:.2f}", f"{result.tasks[0].score_b:.2f}"]
    assert rows["klue/x"][-1] == "A better"
    markdown = compare.markdown(result).splitlines()
    metric = esc("-")  # escaped as every cell from a record is
    assert f"| glue/w | {metric} | - | - | - | - | - | - | - | no record for fixture/model-b |" in markdown


def _equal_models(folder, tasks, seeds=(3, 3), n=400, accuracy=0.8, rng=None):
    """fixture/model-a and fixture/model-b drawn at the same accuracy on each task (synthetic)."""
    rng = rng if rng is not None else np.random.default_rng(7)
    folder.mkdir(exist_ok=True)
    for task_id in tasks:
        gold = rng.integers(0, 2, n)
        for model, count in zip(("model-a", "model-b"), seeds):
            (folder / model).mkdir(exist_ok=True)
            _write(folder / model, f"fixture/{model}", task_id, [_draw(rng, gold, accuracy) for _ in range(count)], gold)
    return folder


def test_one_seed_gives_no_verdict_and_says_how_many_seeds_a_verdict_needs(tmp_path):
    _equal_models(tmp_path, ["glue/z", "glue/w"], seeds=(1, 3))
    result = CliRunner().invoke(app, ["compare", "fixture/model-a", "fixture/model-b", "--results", str(tmp_path),
                                      "--resamples", "300", "--output", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    cells = re.sub(r"[^\w.-]+", " ", result.output)  # the console wraps a cell over lines: compare the words
    assert cells.count("no verdict fixture model-a has 1 seed") == 2 and "variance is unknown" in cells
    assert not any(word in result.output for word in ("A better", "B better", "│ no detectable"))
    written = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))
    assert [t["difference"] for t in written["tasks"]] == [None, None] and written["averages"] == []
    assert [(t["seeds_a"], t["seeds_b"]) for t in written["tasks"]] == [(1, 3), (1, 3)]
    report = (tmp_path / "cmp" / "compare.md").read_text(encoding="utf-8")
    assert report.count("| 1/3 |") == 2 and report.count("no verdict: fixture/model-a has 1 seed") == 2


def test_different_seed_counts_are_compared_and_stated(tmp_path):
    _equal_models(tmp_path, ["glue/z"], seeds=(2, 5))
    a, b = compare.find_side(str(tmp_path / "model-a"), tmp_path), compare.find_side(str(tmp_path / "model-b"), tmp_path)
    (row,) = compare.compare(a, b, ["glue/z"], resamples=500).tasks
    assert (row.seeds_a, row.seeds_b) == (2, 5) and row.difference is not None and row.problem is None
    assert "2/5" in compare.markdown(compare.compare(a, b, ["glue/z"], resamples=200))


def test_eight_tasks_of_two_equal_models_report_holm_adjusted_p_values(tmp_path):
    tasks = [f"{suite}/t{i}" for suite in ("klue", "glue") for i in range(4)]
    _equal_models(tmp_path, tasks)
    out = tmp_path / "cmp"
    result = CliRunner().invoke(app, ["compare", "fixture/model-a", "fixture/model-b", "--results", str(tmp_path),
                                      "--resamples", "500", "--output", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "p (Holm)" in text and "Holm's p over the 10 tests of this table" in text
    written = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert written["family"] == 10 and "Holm" in written["method"]
    tests = [t["difference"] for t in written["tasks"]] + [a["difference"] for a in written["averages"]]
    assert len(tests) == 10
    raw = [t["p_value"] for t in tests]
    assert [t["p_adjusted"] for t in tests] == pytest.approx(list(holm_by_hand(raw)))
    assert all(t["p_adjusted"] >= t["p_value"] for t in tests)
    for t in tests:
        assert (t["verdict"] == "no detectable difference") == (t["p_adjusted"] >= 0.05)


def holm_by_hand(p):
    """Holm written out as the textbook does, for the test above: the k-th smallest of m times (m - k + 1), running max."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    out, running = [0.0] * len(p), 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - k) * p[i]))
        out[i] = running
    return out


def test_a_margin_tests_equivalence(tmp_path, two_models):
    tmp_path = _equal_models(tmp_path / "equal", ["glue/z"], n=3000, accuracy=0.9)
    result = CliRunner().invoke(app, ["compare", "fixture/model-a", "fixture/model-b", "--results", str(tmp_path),
                                      "--resamples", "1000", "--margin", "5", "--output", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "within ±5" in text and "equivalent (p" in text
    (row,) = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))["tasks"]
    assert row["difference"]["equivalence"]["equivalent"] and row["difference"]["equivalence"]["margin"] == 5.0
    a, b = compare.find_side("fixture/model-a", two_models), compare.find_side("fixture/model-b", two_models)
    far = {r.task_id: r for r in compare.compare(a, b, ["klue/x", "klue/y"], resamples=500, margin=1.0).tasks}
    assert not far["klue/x"].difference.equivalence.equivalent  # 25 points apart
    refused = CliRunner().invoke(app, ["compare", "fixture/model-a", "fixture/model-b", "--results", str(tmp_path),
                                       "--margin", "0"])
    assert refused.exit_code == 2 and "--margin 0.0: give a positive number" in " ".join(refused.output.split())


def test_nan_predictions_are_refused_naming_the_file(tmp_path):
    gold = np.linspace(0.0, 5.0, 50)
    for model in ("model-a", "model-b"):
        folder = tmp_path / model
        folder.mkdir()
        values = [gold + 0.1, gold - 0.1]
        if model == "model-b":
            values[1] = np.where(np.arange(50) == 7, np.nan, values[1])
        path = folder / "glue__s.json"
        kept = predictions.TaskPredictions("glue/s", "value", FINGERPRINT, [42, 43], gold, values)
        digest = predictions.save(predictions.file_for(path), kept)
        # the scores the predictions give (a file that contradicts its record is refused before its values are read)
        seeds = [records.SeedResult(seed=42 + i, scores={"pearson": 100.0}, epoch=1, train_s=1.0) for i in range(2)]
        record = records.ResultRecord.from_seeds(
            seeds, model=records.ModelIdentity(id=f"fixture/{model}", revision="synthetic", source="local"),
            task=records.TaskIdentity(id="glue/s", spec_sha256="s" * 8, primary_metric="pearson"),
            hyperparameters={}, data=records.DataProvenance(source="local", train_examples=1, validation_examples=50),
            env={}, started_at="2026-11-28T10:00:00Z", wall_s=1.0, synthetic=True,
            predictions=records.PredictionsRef(path=predictions.file_for(path).name, sha256=digest))
        records.write(path, record)
    a, b = compare.find_side(str(tmp_path / "model-a"), tmp_path), compare.find_side(str(tmp_path / "model-b"), tmp_path)
    (row,) = compare.compare(a, b, ["glue/s"], resamples=200).tasks
    assert row.difference is None and "glue__s.predictions.npz" in row.problem
    assert "seed 2 of 2: 1 of 50 values are NaN or infinite (the first at example 7)" in row.problem
