"""`bench run` loses nothing: a record of a newer schema is never replaced by this older program, a damaged record
is named when it is rebuilt, and --jobs workers die with their parent (no orphans holding a model in memory)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.demo import SAMPLES_DIR
from harness.results import records
from harness.run import models

REPO = Path(__file__).resolve().parents[2]


def bench(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def run_args(model: Path, results: Path, *extra: str) -> list[str]:
    return ["run", "--model", str(model), "--data-dir", str(SAMPLES_DIR), "--tasks", "glue/sst2", "--seeds", "1",
            "--set", "epochs=1", "--limit", "32", "--eval-limit", "32", "--results", str(results), *extra]


@pytest.fixture(scope="module")
def model_dir(tiny_english_bert) -> str:
    return models.resolve(str(tiny_english_bert)).record_dir


@pytest.mark.parametrize("kind", ["result", "failure"])
def test_a_record_of_a_newer_schema_is_never_replaced(tmp_path, tiny_english_bert, model_dir, kind, monkeypatch):
    from harness.run import runner

    path = (records.record_path if kind == "result" else records.failure_path)(tmp_path, model_dir, "glue/sst2")
    path.parent.mkdir(parents=True)
    newer = {"schema": f"koenbench.{kind}/3", "model": {"id": "x"}, "a field of the future": [1, 2, 3]}
    path.write_text(json.dumps(newer), encoding="utf-8")
    monkeypatch.setattr(runner, "finetune", lambda *a, **k: pytest.fail("trained despite the refusal"))
    for force in ([], ["--force"]):
        result = bench(*run_args(tiny_english_bert, tmp_path, *force))
        said = " ".join(result.output.split())
        assert result.exit_code == 2, result.output
        assert str(path) in said and f"koenbench.{kind}/3" in said and "newer koenbench" in said
        assert "Traceback" not in said
        assert json.loads(path.read_text(encoding="utf-8")) == newer
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # nothing else written


def test_a_damaged_record_is_named_when_it_is_rebuilt(tmp_path, tiny_english_bert, model_dir):
    path = records.record_path(tmp_path, model_dir, "glue/sst2")
    path.parent.mkdir(parents=True)
    path.write_text('{"schema": "koenbench.result/2", "model": {"id": "x"', encoding="utf-8")  # cut short
    result = bench(*run_args(tiny_english_bert, tmp_path))
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert str(path) in said and "not a readable record" in said and "writes a new record in its place" in said
    assert records.read_result(path).task.id == "glue/sst2"


def workers_of(parent: psutil.Process) -> list[psutil.Process]:
    return [c for c in parent.children() if "spawn_main" in " ".join(c.cmdline())]


def test_jobs_workers_die_with_their_parent(tmp_path, tiny_english_bert):
    """kill -9 of `bench run --jobs 2` while both workers train: no process it started is left."""
    command = [sys.executable, "-m", "harness.cli", *run_args(tiny_english_bert, tmp_path, "--jobs", "2"),
               "--seeds", "1,2", "--set", "epochs=500"]  # long enough to be killed while training
    parent = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watched = psutil.Process(parent.pid)
    descendants: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and parent.poll() is None:
            workers = workers_of(watched)
            if len(workers) == 2 and all(w.cpu_times().user > 5 for w in workers):  # imported torch, and training
                break
            time.sleep(0.5)
        assert parent.poll() is None and len(workers_of(watched)) == 2, "the run ended before its workers trained"
        descendants = watched.children(recursive=True)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(30)
        _, alive = psutil.wait_procs(descendants, timeout=30)
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"left running after their parent was killed: {[p.cmdline()[-3:] for p in alive]}"
    finally:
        for process in [*descendants, watched]:
            try:
                process.kill()
            except psutil.Error:
                pass
