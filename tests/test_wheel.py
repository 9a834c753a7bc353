"""The wheel: built from the tree, installed (not editable) into a fresh venv, run from a folder far
from the clone. It must carry every file the tool reads (tasks, site, models.yaml, reported.yaml)."""

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from harness.core import paths

pytestmark = pytest.mark.slow  # about three minutes on 2 busy, shared cores: a build, a venv, five `bench` processes

ALL_TASKS = ["glue/mrpc", "glue/qnli", "glue/sst2", "glue/stsb", "klue/ner", "klue/nli", "klue/sts", "klue/ynat"]

USER_TASK = """\
name: Toy sentiment
suite: mine
language: en
description: A user's own task, outside the clone.
dataset:
  labels: [negative, positive]
  local:
    files:
      train: {path: toy/train.jsonl, format: jsonl, columns: {text_a: text, label: label}}
      validation: {path: toy/dev.jsonl, format: jsonl, columns: {text_a: text, label: label}}
head: sequence-classification
metrics: {primary: accuracy}
hyperparameters: {learning_rate: 1.0e-4, batch_size: 8, epochs: 1, max_length: 32}
"""


def _source_tree(dest: Path) -> Path:
    """The files git knows (tracked, or new and not ignored): no build output of the clone leaks in."""
    listed = subprocess.run(["git", "-C", str(paths.REPO_ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (paths.REPO_ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(paths.REPO_ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """A venv with the wheel installed; its dependencies (torch, ...) come from this interpreter's
    site-packages through a .pth line, which adds the folder without running that folder's .pth
    files, so an editable install of the clone there stays invisible."""
    root = tmp_path_factory.mktemp("wheel")
    # no PYTHONPATH from the caller: with the clone on it, pip would find the clone's koenbench.egg-info and
    # skip the install as "already satisfied"
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    src = _source_tree(root / "src")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(root / "dist"),
                    str(src)], check=True, env=clean)
    (wheel,) = (root / "dist").glob("koenbench-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=clean)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, env=clean)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True, env=clean).stdout.strip()
    assert (Path(purelib) / "harness" / "__init__.py").is_file(), "the wheel was not installed into the fresh venv"
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    Path(purelib, "koenbench-test-deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    work = root / "work"  # the user's folder: nowhere near the clone
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", paths.TASKS_PATH_ENV, "KOENBENCH_SHARED_DATA")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", COLUMNS="200")
    return {"bench": str(venv / "bin" / "bench"), "python": str(python), "work": work, "env": env, "wheel": wheel}


def _bench(installed: dict, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([installed["bench"], *args], cwd=installed["work"], env=installed["env"], capture_output=True,
                          text=True, timeout=timeout)


def test_the_installed_package_is_the_wheel_not_the_clone(installed):
    probe = ("import json, sys, harness, harness.core.paths as p; "
             "print(json.dumps({'file': harness.__file__, 'clone': p.FROM_CLONE, 'tasks': str(p.TASKS_DIR), 'path': sys.path}))")
    out = json.loads(subprocess.run([installed["python"], "-c", probe], cwd=installed["work"], env=installed["env"],
                                    capture_output=True, text=True, check=True).stdout)
    clone = str(paths.REPO_ROOT)
    assert not out["clone"] and not out["file"].startswith(clone) and "site-packages" in out["file"]
    assert out["tasks"].endswith(os.path.join("harness", "bundled", "tasks"))
    # the clone's own folders stay off the path; a venv inside the clone (as CI makes it) lends only its site-packages
    assert not [p for p in out["path"] if (p == clone or p.startswith(clone + os.sep)) and "site-packages" not in p]
    from zipfile import ZipFile

    names = set(ZipFile(installed["wheel"]).namelist())
    for name in ("harness/py.typed", "harness/bundled/models.yaml", "harness/bundled/reports/reported.yaml",
                 "harness/bundled/site/mkdocs.yml", "harness/bundled/site/templates/home.md.j2",
                 "harness/bundled/site/static/koenbench.css", *(f"harness/bundled/tasks/{t}.yaml" for t in ALL_TASKS)):
        assert name in names, name
    assert not [n for n in names if n.startswith("harness/bundled/") and "/results/" in n or "bundled/site/build/" in n]
    # every module of every subpackage, the tiny models `bench demo` builds included
    clone_modules = {p.relative_to(paths.REPO_ROOT).as_posix() for p in (paths.REPO_ROOT / "harness").rglob("*.py")}
    assert sorted(clone_modules - names) == []
    assert "harness/testing/tiny.py" in names and "harness/tasks/data/readers.py" in names


def test_installed_bench_lists_runs_builds_and_takes_user_tasks(installed, tiny_english_bert, shared_data):
    work = installed["work"]
    listed = _bench(installed, "tasks")
    assert listed.returncode == 0, listed.stderr
    assert [t for t in ALL_TASKS if t in listed.stdout] == ALL_TASKS

    run = _bench(installed, "run", "--model", str(tiny_english_bert), "--tasks", "glue/sst2", "--data-dir", str(shared_data),
                 "--limit", "32", "--eval-limit", "32", "--set", "epochs=1", "--device", "cpu")
    assert run.returncode == 0, run.stdout + run.stderr
    (record_file,) = (work / "reports" / "results").glob("*/glue__sst2.json")
    record = json.loads(record_file.read_text(encoding="utf-8"))
    assert record["task"]["id"] == "glue/sst2" and record["data"]["train_examples"] == 32

    built = _bench(installed, "site", "build")
    assert built.returncode == 0, built.stderr
    site_dir = work / "site" / "build"
    assert (site_dir / "index.html").exists() and (site_dir / "tasks" / "klue__ner.html").exists()
    assert "koenbert" in (site_dir / "reported.html").read_text(encoding="utf-8")  # the shipped reported.yaml

    user = work / "my-tasks"
    (user / "mine").mkdir(parents=True)
    (user / "mine" / "toy.yaml").write_text(USER_TASK, encoding="utf-8")
    data_dir = work / "my-data"
    (data_dir / "toy").mkdir(parents=True)
    rows = [{"text": f"{word} film number {i}", "label": label} for i in range(12)
            for word, label in (("a wonderful", "positive"), ("a dreadful", "negative"))]
    for name, part in (("train.jsonl", rows[:16]), ("dev.jsonl", rows[16:])):
        (data_dir / "toy" / name).write_text("".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")
    mine = _bench(installed, "run", "--model", str(tiny_english_bert), "--tasks-dir", str(user), "--tasks", "mine/toy",
                  "--data-dir", str(data_dir), "--device", "cpu")
    assert mine.returncode == 0, mine.stdout + mine.stderr
    (toy_file,) = (work / "reports" / "results").glob("*/mine__toy.json")
    toy = json.loads(toy_file.read_text(encoding="utf-8"))
    assert toy["task"]["id"] == "mine/toy" and toy["data"]["validation_examples"] == 8
