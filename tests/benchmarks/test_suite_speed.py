"""benchmarks/suite_speed.py runs both sides on a tiny model and reports comparable numbers."""

import json
import sys

import pytest

from harness.core.paths import REPO_ROOT
from harness.demo import SAMPLES_DIR

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import suite_speed  # noqa: E402


def test_trainer_and_bench_run_side_by_side(tmp_path, tiny_english_bert):
    out = tmp_path / "speed.json"
    code = suite_speed.main(["--model", str(tiny_english_bert), "--tasks", "glue/mrpc,glue/stsb", "--seeds", "1",
                             "--data-dir", str(SAMPLES_DIR), "--set", "epochs=1", "--limit", "48", "--jobs", "1",
                             "--interleave", "--json", str(out)])
    assert code == 0
    summary = json.loads(out.read_text())
    trainer, bench = summary["trainer"], summary["bench"]
    assert trainer["wall_s"] > 0 and bench["wall_s"] > 0
    assert summary["speedup"] == round(trainer["wall_s"] / bench["wall_s"], 2)
    assert trainer["examples"] == bench["examples"] == 2 * 48, "both sides train on the same rows"
    for task, primary in (("glue/mrpc", "f1"), ("glue/stsb", "spearman")):
        a, b = trainer["scores"][task], bench["scores"][task]
        assert len(a) == len(b) == 1 and all(-100 <= x[0] <= 100 for x in (a, b))  # spearman can be negative
        assert [r["primary"] for r in trainer["runs"] if r["task"] == task] == [primary]
    # interleaved: each side's wall time is the sum of its per-task timings
    assert {r["task"] for r in bench["runs"]} == {"glue/mrpc", "glue/stsb"}


def test_its_flags_are_parsed_by_bench_runs_own_parser(capsys):
    """--set and the other run settings go through runconfig.from_flags: the same mistakes, the same words."""
    with pytest.raises(SystemExit) as caught:
        suite_speed.main(["--tasks", "glue/mrpc", "--set", "epochs", "--set", "batch_size=[8"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "--set 'epochs': expected key=value, e.g. --set learning_rate=3e-5" in err and "--set 'batch_size=[8'" in err


def test_it_holds_no_copy_of_the_products_predictions_data_preparation_or_flag_parsing():
    source = (REPO_ROOT / "benchmarks" / "suite_speed.py").read_text(encoding="utf-8")
    for copied in ("def trainer_predictions", "argmax", "data.load(", "features.tokenize(", "yaml.safe_load",
                   "DataCollator", "ProcessPoolExecutor", "def majority"):
        assert copied not in source, copied
