"""scripts/slurm: the job array's shards and the merge step, run here with SLURM's array variables set."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.paths import REPO_ROOT
from harness.demo import SAMPLES_DIR
from harness.results import records

SLURM = REPO_ROOT / "scripts" / "slurm"
TASKS = "glue/mrpc,glue/stsb"


def _bench() -> str:
    """The `bench` entry point of this interpreter's environment (pip install -e . puts it beside python)."""
    found = shutil.which("bench", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"no `bench` beside {sys.executable}; install the project (bash scripts/setup.sh --test)")
    return found


def _env(model: Path, output: Path, **extra: str) -> dict:
    return {**os.environ, "MODEL": str(model), "TASKS": TASKS, "SEEDS": "1,2", "DATA_DIR": str(SAMPLES_DIR),
            "OUTPUT": str(output), "BENCH": _bench(), "JOBS": "1",
            "EXTRA": "--set epochs=1 --limit 24 --eval-limit 24 --device cpu",
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]), **extra}


def _scores(output: Path) -> dict:
    by_task = {}
    for task in TASKS.split(","):
        record = records.to_json(records.read_result(next(output.rglob(f"{task.replace('/', '__')}.json"))))
        by_task[task] = {s["seed"]: s["scores"] for s in record["seeds"]}
    return by_task


@pytest.mark.slow
def test_array_shards_then_merge_equal_one_unsharded_run(tmp_path, tiny_english_bert):
    sharded, plain = tmp_path / "sharded", tmp_path / "plain"
    for index in range(3):  # --array=0-2: SLURM sets these three in each array task
        array = {"SLURM_ARRAY_TASK_ID": str(index), "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "0"}
        shard = subprocess.run(["bash", str(SLURM / "grid.sbatch")], env=_env(tiny_english_bert, sharded, **array),
                               capture_output=True, text=True)
        assert shard.returncode == 0, shard.stdout + shard.stderr
        assert f"shard {index}/3" in shard.stdout
    seeds = {p: p.stat().st_mtime_ns for p in sharded.rglob(".seeds/*/*.json")}
    assert len(seeds) == 4  # 2 tasks x 2 seeds, each trained by exactly one shard
    for record in sharded.rglob("*__*.json"):  # as if the shards that finished each task died before writing it
        if ".seeds" not in record.parts:
            record.unlink()

    merge = subprocess.run(["bash", str(SLURM / "merge.sbatch")], env=_env(tiny_english_bert, sharded),
                           capture_output=True, text=True)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    assert {p: p.stat().st_mtime_ns for p in sharded.rglob(".seeds/*/*.json")} == seeds, "the merge trained again"
    alone = subprocess.run([_bench(), "run", "--model", str(tiny_english_bert), "--tasks", TASKS, "--seeds", "1,2",
                            "--data-dir", str(SAMPLES_DIR), "--output", str(plain), "--jobs", "1", "--set", "epochs=1",
                            "--limit", "24", "--eval-limit", "24", "--device", "cpu"],
                           env=_env(tiny_english_bert, plain), capture_output=True, text=True)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert _scores(sharded) == _scores(plain)


def test_an_array_with_a_step_is_refused_before_any_run(tmp_path, tiny_english_bert):
    env = _env(tiny_english_bert, tmp_path, SLURM_ARRAY_TASK_ID="2", SLURM_ARRAY_TASK_COUNT="4",
               SLURM_ARRAY_TASK_STEP="2", BENCH="false")
    done = subprocess.run(["bash", str(SLURM / "grid.sbatch")], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "leaves shards out" in done.stderr


def test_the_shard_index_counts_from_the_arrays_first_task(tmp_path, tiny_english_bert):
    # --array=1-3: ids 1..3 are shards 0..2 of 3; BENCH=echo shows the command instead of running it
    env = _env(tiny_english_bert, tmp_path, SLURM_ARRAY_TASK_ID="3", SLURM_ARRAY_TASK_COUNT="3",
               SLURM_ARRAY_TASK_MIN="1", BENCH="echo")
    done = subprocess.run(["bash", str(SLURM / "grid.sbatch")], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "--shard 2/3" in done.stdout.splitlines()[-1]


def test_a_missing_array_variable_is_named(tmp_path, tiny_english_bert):
    env = {k: v for k, v in _env(tiny_english_bert, tmp_path).items() if not k.startswith("SLURM_")}
    done = subprocess.run(["bash", str(SLURM / "grid.sbatch")], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "SLURM_ARRAY_TASK_ID" in done.stderr and "job array" in done.stderr


def test_distill_launcher_starts_one_torchrun_per_node_joined_on_the_first(tmp_path):
    # a stand-in torchrun that prints its arguments: the launcher's command line is what is checked here;
    # the data-parallel distillation itself is tested in tests/koenbert/test_distill.py
    fake = tmp_path / "bin" / "torchrun"
    fake.parent.mkdir()
    fake.write_text("#!/usr/bin/env bash\necho \"torchrun $*\"\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}", "SRUN": "", "MASTER_ADDR": "node-a",
           "SLURM_NNODES": "2", "SLURM_JOB_ID": "77", "GPUS_PER_NODE": "4", "BENCH": _bench(),
           "RECIPE": "harness/koenbert/recipes/koenbert-base.yaml"}
    done = subprocess.run(["bash", str(SLURM / "distill.sbatch")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        f"torchrun --nnodes 2 --nproc_per_node 4 --rdzv_backend c10d --rdzv_endpoint node-a:29500 --rdzv_id 77 "
        f"{_bench()} koenbert build --recipe harness/koenbert/recipes/koenbert-base.yaml")
    missing = subprocess.run(["bash", str(SLURM / "distill.sbatch")], env={k: v for k, v in env.items() if k != "RECIPE"},
                             capture_output=True, text=True)
    assert missing.returncode != 0 and "set RECIPE" in missing.stderr
