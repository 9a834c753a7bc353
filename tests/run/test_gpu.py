"""`bench run` on a CUDA device: the tiny model trains in bf16 autocast and the record says where and how.

Marked `gpu`: skipped, with the reason, where no CUDA device is visible (every CPU machine and CI)."""

import json

import pytest
import torch
from typer.testing import CliRunner

from harness.cli import app
from harness.demo import SAMPLES_DIR

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible; run on a machine with a GPU"),
]


def test_a_tiny_run_on_cuda_records_the_device_and_bf16(tmp_path, tiny_english_bert):
    result = CliRunner().invoke(app, [
        "run", "--model", str(tiny_english_bert), "--data-dir", str(SAMPLES_DIR), "--tasks", "glue/stsb,klue/ner",
        "--device", "cuda", "--set", "epochs=1", "--limit", "32", "--eval-limit", "32", "--output", str(tmp_path)],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for name in ("glue__stsb.json", "klue__ner.json"):
        (path,) = tmp_path.glob(f"*/{name}")
        record = json.loads(path.read_text(encoding="utf-8"))
        assert record["env"]["precision"] == "bf16"
        assert record["seeds"][0]["ran"]["device"].startswith("cuda")
        assert all(isinstance(v, float) for v in record["scores"].values())
