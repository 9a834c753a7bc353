"""benchmarks/suite_speed.py runs both sides on a tiny model and reports comparable numbers."""

import json
import sys

from harness.demo import SAMPLES_DIR
from harness.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import suite_speed  # noqa: E402


def test_trainer_and_bench_run_side_by_side(tmp_path, tiny_english_bert):
    out = tmp_path / "speed.json"
    code = suite_speed.main(["--model", str(tiny_english_bert), "--tasks", "glue/mrpc", "--seeds", "1",
                             "--data-dir", str(SAMPLES_DIR), "--set", "epochs=1", "--jobs", "1", "--json", str(out)])
    assert code == 0
    summary = json.loads(out.read_text())
    assert summary["trainer"]["wall_s"] > 0 and summary["bench"]["wall_s"] > 0
    assert summary["speedup"] == round(summary["trainer"]["wall_s"] / summary["bench"]["wall_s"], 2)
    trainer, bench = summary["scores"]["glue/mrpc"]["trainer"], summary["scores"]["glue/mrpc"]["bench"]
    assert len(trainer) == len(bench) == 1 and 0 <= trainer[0] <= 100 and 0 <= bench[0] <= 100
