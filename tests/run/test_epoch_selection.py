"""Which epoch a record reports, trained for three epochs: the best one on validation under
`selection: best` (KLUE-STS), the last one under `selection: last` (GLUE STS-B)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.demo import SAMPLES_DIR
from harness.tasks.spec import load_tasks


def seed_result(output: Path, task: str) -> tuple[dict, dict]:
    suite, name = task.split("/")
    (path,) = output.glob(f"*/{suite}__{name}.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    (seed,) = record["seeds"]
    return record, seed


@pytest.fixture(scope="module")
def three_epochs(tmp_path_factory, tiny_english_bert) -> Path:
    output = tmp_path_factory.mktemp("three-epochs")
    result = CliRunner().invoke(app, [
        "run", "--model", str(tiny_english_bert), "--data-dir", str(SAMPLES_DIR), "--tasks", "klue/sts,glue/stsb",
        "--set", "epochs=3", "--set", "learning_rate=0.0005", "--limit", "48", "--eval-limit", "32",
        "--set", "evals_per_epoch=1",  # one validation an epoch (KLUE's protocol has 4), so evaluations are epochs
        "--output", str(output)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return output


def test_the_protocols_under_test_select_as_this_file_assumes():
    assert {t.id: t.selection for t in load_tasks(["klue/sts", "glue/stsb"])} == {"klue/sts": "best", "glue/stsb": "last"}


@pytest.mark.parametrize("task", ["klue/sts", "glue/stsb"])
def test_every_epoch_is_scored_and_the_epochs_differ(three_epochs, task):
    _, seed = seed_result(three_epochs, task)
    assert [e["epoch"] for e in seed["evaluations"]] == [1, 2, 3]
    pearsons = [e["scores"]["pearson"] for e in seed["evaluations"]]
    assert len(set(pearsons)) == 3  # otherwise the choice below could not be told apart


def test_selection_best_reports_the_epoch_with_the_highest_primary_score(three_epochs):
    record, seed = seed_result(three_epochs, "klue/sts")
    best = max(seed["evaluations"], key=lambda e: e["scores"]["pearson"])
    assert seed["epoch"] == best["epoch"]
    assert seed["scores"] == best["scores"]
    assert record["scores"] == pytest.approx(best["scores"])  # one seed: the record's score is that epoch's


def test_selection_last_reports_the_last_epoch(three_epochs):
    record, seed = seed_result(three_epochs, "glue/stsb")
    last = seed["evaluations"][-1]
    assert seed["epoch"] == 3
    assert seed["scores"] == last["scores"]
    assert record["scores"] == pytest.approx(last["scores"])
