"""benchmarks/suite_speed.py runs both sides on a tiny model and reports comparable numbers."""

import json
import sys

from harness.demo import SAMPLES_DIR
from harness.paths import REPO_ROOT

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


def test_trainer_logits_become_the_harness_predictions():
    import numpy as np

    logits = np.array([[[0.1, 0.9], [0.8, 0.2], [0.0, 1.0]], [[0.7, 0.3], [0.2, 0.8], [0.9, 0.1]]])
    assert suite_speed.trainer_predictions("token-classification", logits, [2, 3]) == [[1, 0], [0, 1, 0]]
    assert suite_speed.trainer_predictions("sequence-classification", logits[:, 0, :], [1, 1]) == [1, 0]
    assert suite_speed.trainer_predictions("regression", np.array([[2.5], [0.5]]), [1, 1]) == [2.5, 0.5]
