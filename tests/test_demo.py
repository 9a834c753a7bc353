"""`bench demo`'s fast path: a tiny model, 16 training rows a task; records, baselines on screen, deviations marked."""

from typer.testing import CliRunner

from harness import demo
from harness.cli import app
from harness.results import records


# demo_run (tests/conftest.py): `bench demo --limit 16` with a tiny model, shared with the browser test


def test_demo_writes_a_record_with_a_baseline_for_every_task(demo_run):
    output, result = demo_run
    assert result.exit_code == 0, result.output
    found = {r.task.id: r for r in (records.read_result(p) for p in (output / "results").glob("*/*.json"))}
    assert len(found) == 8
    for task_id, record in found.items():
        assert record.baseline is not None and set(record.baseline.scores) == set(record.scores)
        assert record.data.train_examples == 16


def test_demo_settings_are_marked_as_deviations_in_every_record(demo_run):
    output, _ = demo_run
    for path in (output / "results").glob("*/*.json"):
        record = records.read_result(path)
        assert record.protocol is not None and not record.protocol.followed
        text = "; ".join(record.protocol.deviations)
        assert "bench demo" in text and "batch_size 8 (protocol: 32)" in text
        if record.task.id.startswith("klue/"):
            assert "max_length 128" in text and record.hyperparameters["max_length"] == 128
        else:
            assert record.hyperparameters["epochs"] == demo.ENGLISH_SETTINGS["epochs"]


def test_demo_prints_each_score_beside_its_baseline_and_says_the_model_is_english(demo_run):
    output, result = demo_run
    printed = result.output
    assert "the demo model is English" in printed and "baseline" in printed
    sst2 = records.read_result(next((output / "results").glob("*/glue__sst2.json")))
    assert f"{sst2.baseline.scores['accuracy']:.2f}" in printed
    assert f"{sst2.scores['accuracy'] - sst2.baseline.scores['accuracy']:+.2f}" in printed
    assert (output / "site" / "index.html").exists()


def test_demo_rejects_a_limit_below_one_batch(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--output", str(tmp_path), "--limit", "3"])
    assert result.exit_code == 2 and "--limit 3" in result.output
    assert not (tmp_path / "results").exists()


def test_the_demo_ends_on_a_board_of_its_own_with_its_eight_scores(demo_run):
    """Its records are the demo tier: ranked on the home page's demo board, never in the protocol's table."""
    import html
    import re

    output, _ = demo_run
    for path in (output / "results").glob("*/*.json"):
        assert records.read_result(path).protocol.tier == "demo"
    home = (output / "site" / "index.html").read_text(encoding="utf-8")
    board = re.search(r'<table id="demo-leaderboard".*?</table>', home, re.S)
    assert board is not None, "no demo board on the home page"
    shown = html.unescape(re.sub(r"<[^>]+>", " ", board.group(0)))
    found = [records.read_result(p) for p in (output / "results").glob("*/*.json")]
    assert len(found) == 8
    for record in found:  # every task's score, as the record has it, and a link to that record
        assert f" {record.scores[record.task.primary_metric]:.2f} " in shown, record.task.id
    assert board.group(0).count('href="records/results/') == 8
    ranked = re.search(r'<table id="leaderboard".*?</table>', home, re.S).group(0)
    assert "kb-synthetic" not in ranked and "No runs of the tasks' protocols yet" in home
    assert 'id="not-ranked"' not in home  # nothing of the demo is listed as "not ranked"
