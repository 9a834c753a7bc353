"""The headline command through the real Hugging Face libraries, offline, on a real hub cache.

The cache (tests/hubcache.py, built once a session into this run's HF_HOME) holds all-MiniLM-L6-v2
and the shared KLUE/GLUE files as the hub repos `klue/klue` and `nyu-mll/glue`; huggingface_hub,
transformers and datasets read it with their own code (HF_HUB_OFFLINE=1, nothing patched).
The commands run as a user runs them: `bench` in a subprocess, in a fresh working folder.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import constants, scan_cache_dir

import hubcache
from harness.core.paths import REPO_ROOT
from harness.run import models

MINILM = hubcache.MINILM_ID
SMOKE = ["--limit", "16", "--eval-limit", "16", "--set", "epochs=1"]  # a quick run; the record says it deviates


def bench(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def run_ok(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    done = bench(*args, cwd=cwd)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def read(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


@pytest.fixture
def workdir(tmp_path) -> Path:
    """A user's working folder with no koenbench files in it (records go under it)."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_the_fixture_is_a_cache_huggingface_hub_reads(hub_cache):
    repos = {(r.repo_id, r.repo_type): r for r in scan_cache_dir(constants.HF_HUB_CACHE).repos}
    for repo_id, repo_type in ((MINILM, "model"), ("klue/klue", "dataset"), ("nyu-mll/glue", "dataset")):
        repo = repos[(repo_id, repo_type)]
        assert {rev.commit_hash for rev in repo.revisions} >= {hub_cache[repo_id]}
        assert "main" in repo.refs
    files = {f.file_name for rev in repos[(MINILM, "model")].revisions for f in rev.files}
    assert {"config.json", "model.safetensors", "tokenizer.json", "vocab.txt"} <= files


def test_a_hub_model_is_its_snapshot(hub_cache):
    model = models.resolve(MINILM)
    assert (model.id, model.source, model.revision) == (MINILM, "hub", hub_cache[MINILM])
    folder = Path(model.path)
    assert folder.name == hub_cache[MINILM] and folder.parent.name == "snapshots"
    assert (folder / "model.safetensors").is_file()
    assert not (folder / "onnx").exists()  # only what a run needs is fetched


def test_the_headline_command_writes_the_commits_it_read(hub_cache, workdir):
    """`bench run --model org/name` with hub data, then compare, export and the site by the same --model."""
    run_ok("run", "--model", MINILM, "--tasks", "glue/mrpc,klue/ynat", *SMOKE, "--output", "reports/results", cwd=workdir)
    folder = workdir / "reports/results/sentence-transformers__all-MiniLM-L6-v2"
    mrpc, ynat = read(folder / "glue__mrpc.json"), read(folder / "klue__ynat.json")
    assert mrpc["model"] == ynat["model"] == {"id": MINILM, "revision": hub_cache[MINILM], "source": "hub"}
    assert mrpc["data"]["hub_revision"] == hub_cache["nyu-mll/glue"]
    assert ynat["data"]["hub_revision"] == hub_cache["klue/klue"]
    assert mrpc["data"]["source"] == f"hub:nyu-mll/glue/mrpc@{hub_cache['nyu-mll/glue']}"
    assert str(Path(constants.HF_HUB_CACHE)) not in (folder / "glue__mrpc.json").read_text(encoding="utf-8")

    compared = run_ok("compare", MINILM, MINILM, "--results", "reports/results", "--resamples", "200", cwd=workdir)
    assert "glue/mrpc" in compared.stdout and "klue/ynat" in compared.stdout
    run_ok("export", "--model", MINILM, "--results", "reports/results", "--format", "json", "--out", "exported",
           "--include-deviations", cwd=workdir)  # a smoke run: outside the protocol
    rows = read(workdir / "exported" / "sentence-transformers__all-MiniLM-L6-v2.json")
    assert {(r["task_id"], r["model_revision"]) for r in rows} >= {("glue/mrpc", hub_cache[MINILM]), ("klue/ynat", hub_cache[MINILM])}
    assert {r["dataset_revision"] for r in rows if r["task_id"] == "glue/mrpc"} == {hub_cache["nyu-mll/glue"]}
    run_ok("site", "build", "--reports", "reports", "--out", "site", cwd=workdir)
    page = (workdir / "site/tasks/glue__mrpc.html").read_text(encoding="utf-8")
    assert MINILM in page


def test_a_new_commit_is_a_new_record_and_the_old_one_is_kept(hub_cache, english_model_dir, workdir):
    cache = Path(constants.HF_HUB_CACHE)
    first = hubcache.write_model(cache, "fixture/moving-model", english_model_dir, salt="first")
    args = ("run", "--model", "fixture/moving-model", "--tasks", "glue/mrpc", *SMOKE, "--output", "results")
    run_ok(*args, cwd=workdir)
    record = workdir / "results/fixture__moving-model/glue__mrpc.json"
    assert read(record)["model"]["revision"] == first
    assert "skipped" in run_ok(*args, cwd=workdir).stdout  # same commit: nothing to rerun

    second = hubcache.write_model(cache, "fixture/moving-model", english_model_dir, salt="second")  # main moves
    assert second != first
    run_ok(*args, cwd=workdir)
    assert read(record)["model"]["revision"] == second
    kept = workdir / f"results/fixture__moving-model/.history/{first[:12]}/glue__mrpc.json"
    assert read(kept)["model"]["revision"] == first
    assert (kept.parent / "glue__mrpc.predictions.npz").is_file()  # its predictions travel with it

    pinned = run_ok("run", "--model", "fixture/moving-model", "--revision", first, "--tasks", "glue/mrpc", *SMOKE,
                    "--output", "results", cwd=workdir)
    assert first[:19] in pinned.stdout and read(record)["model"]["revision"] == first


def test_offline_without_the_model_is_a_usage_error_before_training(hub_cache, workdir):
    done = bench("run", "--model", "fixture/not-downloaded", "--tasks", "glue/mrpc", "--output", "results", cwd=workdir)
    assert done.returncode == 2, done.stderr
    assert "not in the Hugging Face cache" in done.stderr and "hf download fixture/not-downloaded" in done.stderr
    assert "Traceback" not in done.stderr and not (workdir / "results").exists()


def test_offline_without_the_data_is_a_usage_error_before_training(hub_cache, workdir, tmp_path):
    tasks = tmp_path / "tasks" / "fixture"
    tasks.mkdir(parents=True)
    spec = (REPO_ROOT / "tasks/glue/mrpc.yaml").read_text(encoding="utf-8").replace("nyu-mll/glue", "fixture/absent-data")
    (tasks / "absent.yaml").write_text(spec.replace("name: MRPC", "name: Absent").replace("suite: glue", "suite: fixture"),
                                       encoding="utf-8")
    done = bench("run", "--model", MINILM, "--tasks", "fixture/absent", "--tasks-dir", str(tmp_path / "tasks"),
                 "--output", "results", cwd=workdir)
    assert done.returncode == 2, done.stderr
    assert "hf download fixture/absent-data --repo-type dataset" in done.stderr
    assert "Traceback" not in done.stderr and not (workdir / "results").exists()


def test_an_unknown_revision_is_named(hub_cache, workdir):
    done = bench("run", "--model", MINILM, "--revision", "no-such-branch", "--tasks", "glue/mrpc", cwd=workdir)
    assert done.returncode == 2 and "no-such-branch" in done.stderr and "Traceback" not in done.stderr


def readme_hub_commands() -> list[list[str]]:
    """The `bench run` lines of the README's block of commands that need the hub."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("These read the Hugging Face hub", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("bench run ")]


def test_the_readme_hub_examples_run_against_the_cache(hub_cache, english_model_dir, shared_data, workdir):
    """Each `bench run` of the README's hub block, on a cache holding its model id (all-MiniLM-L6-v2's files under
    that id, written here; never committed), with the smoke flags added and two tasks: it must run as written."""
    commands = readme_hub_commands()
    assert commands, "the README's hub block has no `bench run` line"
    (workdir / "data").symlink_to(shared_data)
    for command in commands:
        model = command[command.index("--model") + 1]
        hubcache.write_model(Path(constants.HF_HUB_CACHE), model, english_model_dir, salt="readme")
        args = [("data" if a == "~/klue_glue_files" else a) for a in command[1:]]
        run_ok(*args, "--tasks", "glue/mrpc,klue/ynat", *SMOKE, "--output", "results", cwd=workdir)
        ref = models.reference(model)
        found = list((workdir / "results").glob(f"{models.hub_dir_name(ref.id)}/*.json"))
        assert {read(p)["task"]["id"] for p in found} == {"glue/mrpc", "klue/ynat"}
