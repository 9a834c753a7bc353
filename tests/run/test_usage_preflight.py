"""Usage mistakes are found before any work: exit 2, a message naming what to change, nothing written, no traceback."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli import app
from harness.demo import SAMPLES_DIR
from harness.run import models

FIXTURE = Path(__file__).parents[1] / "data" / "records"


def bench(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def said(result) -> str:
    return " ".join(result.output.split())


def run(model: Path, results: Path, *extra: str):
    return bench("run", "--model", str(model), "--data-dir", str(SAMPLES_DIR), "--tasks", "glue/sst2,glue/stsb",
                 "--results", str(results), *extra)


def nothing_written(folder: Path) -> bool:
    return not folder.exists() or not any(folder.rglob("*"))


@pytest.fixture(autouse=True)
def never_trains(monkeypatch):
    from harness.run import runner

    monkeypatch.setattr(runner, "finetune", lambda *a, **k: pytest.fail("trained despite a usage mistake"))


@pytest.mark.parametrize("extra, expected", [
    (["--seeds", "-1"], "--seeds '-1': -1 outside 0..4294967295"),
    (["--seeds", "42,4294967296"], "4294967296 outside 0..4294967295"),
    (["--train-split", "train[:200%]"], "--train-split: split expression 'train[:200%]': a percent boundary lies between"),
    (["--eval-split", "validation[:x]"], "--eval-split: split expression 'validation[:x]' is not understood"),
    (["--eval-split", "test[:10]"], "glue/sst2: --eval-split 'test[:10]' names the split 'test', which has no local file"),
    (["--set", "epochs=true"], "epochs: expected a number, got true"),
    (["--set", "max_length=false"], "max_length: expected a number, got false"),
])
def test_a_bad_flag_is_refused_before_anything_runs(tmp_path, tiny_english_bert, extra, expected):
    result = run(tiny_english_bert, tmp_path / "results", *extra)
    assert result.exit_code == 2, result.output
    assert expected in said(result) and "Traceback" not in result.output
    assert nothing_written(tmp_path / "results")


def test_results_under_a_file_is_refused_before_anything_runs(tmp_path, tiny_english_bert):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine\n", encoding="utf-8")
    for results, words in ((a_file, "is a file, not a folder"), (a_file / "results", "which is a file")):
        for flag in ("--results", "--output"):
            result = bench("run", "--model", str(tiny_english_bert), "--data-dir", str(SAMPLES_DIR), "--tasks", "glue/sst2",
                           flag, str(results))
            assert result.exit_code == 2 and words in said(result) and "Traceback" not in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the file cases above run everywhere")
def test_a_read_only_results_folder_is_refused_before_anything_runs(tmp_path, tiny_english_bert):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = run(tiny_english_bert, locked / "results")
        assert result.exit_code == 2 and "read-only" in said(result), result.output
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("command", [["compare", "fixture/model-a", "fixture/model-b", "--results", str(FIXTURE / "results")],
                                     ["demo"]])
def test_out_given_a_file_is_named(tmp_path, command):
    a_file = tmp_path / "out.txt"
    a_file.write_text("mine\n", encoding="utf-8")
    for flag in ("--out", "--output"):
        result = bench(*command, flag, str(a_file))
        assert result.exit_code == 2 and "is a file, not a folder" in said(result), result.output
        assert "Traceback" not in result.output
    assert a_file.read_text(encoding="utf-8") == "mine\n"


def test_compare_names_a_metric_this_koenbench_lacks(tmp_path):
    results = Path(shutil.copytree(FIXTURE / "results", tmp_path / "results"))
    for path in results.glob("*/glue__sst2.json"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        for seed in raw["seeds"]:
            seed["scores"] = {"f2": seed["scores"]["accuracy"]}
            seed["evaluations"] = [{**e, "scores": {"f2": e["scores"]["accuracy"]}} for e in seed["evaluations"]]
        raw["scores"], raw["std"] = {"f2": raw["scores"]["accuracy"]}, {"f2": raw["std"]["accuracy"]}
        raw["task"]["primary_metric"] = "f2"
        path.write_text(json.dumps(raw), encoding="utf-8")
    result = bench("compare", "fixture/model-a", "fixture/model-b", "--results", str(results), "--tasks", "glue/sst2",
                   "--resamples", "100", "--out", str(tmp_path / "cmp"))
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    (row,) = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))["tasks"]
    assert row["difference"] is None and "metric 'f2' is not one this koenbench knows" in row["problem"]


@pytest.mark.parametrize("field, value", [("model", 123), ("task", ["glue/sst2"]), ("metric", None), ("source", 1.5)])
def test_a_non_string_in_reported_yaml_is_named(tmp_path, field, value):
    reported = yaml.safe_load((FIXTURE / "reported.yaml").read_text(encoding="utf-8"))
    reported["numbers"][0][field] = value
    path = tmp_path / "reported.yaml"
    path.write_text(yaml.safe_dump(reported), encoding="utf-8")
    result = bench("site", "build", "--results", str(FIXTURE / "results"), "--reported", str(path),
                   "--models", str(FIXTURE / "models.yaml"), "--out", str(tmp_path / "site"))
    assert result.exit_code == 2, result.output
    assert f"numbers[0]: {field} must be text" in said(result) and "Traceback" not in result.output
    assert not (tmp_path / "site").exists()


def test_truncated_safetensors_are_named_with_the_file(tmp_path, tiny_english_bert):
    model = Path(shutil.copytree(tiny_english_bert, tmp_path / "model"))
    (weights,) = model.glob("*.safetensors")
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # a copy cut short
    with pytest.raises(models.ModelUnavailable, match=rf"model@[0-9a-f]+/{weights.name}: not a complete safetensors file"):
        models.resolve(str(model))
    result = run(model, tmp_path / "results")
    assert result.exit_code == 2 and f"{weights.name}: not a complete safetensors file" in said(result), result.output
    assert nothing_written(tmp_path / "results")
