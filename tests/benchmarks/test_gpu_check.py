"""benchmarks/gpu_check.py: the dry run takes every code path on CPU, so the GPU run can fail only for GPU reasons."""

import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile

import pytest

from harness.core.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import gpu_check  # noqa: E402
import gpu_check_report  # noqa: E402
import gpu_check_setup  # noqa: E402


@pytest.mark.slow
def test_dry_run_measures_every_part_and_writes_the_report(tmp_path, monkeypatch):
    # the script puts the repository (and its wheel folder) on PYTHONPATH and sys.path for its parts: undone afterwards
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    monkeypatch.setattr(sys, "path", list(sys.path))
    out, work = tmp_path / "out", tmp_path / "work"
    assert gpu_check.main(["--dry-run", "--out", str(out), "--work", str(work)]) == 0
    report = json.loads((out / "gpu_check.json").read_text())
    parts = report["parts"]
    assert report["env"]["dry_run"] is True
    assert {name: p["status"] for name, p in parts.items()} == {
        "prepare": "done", "quality": "done", "grid": "done", "memory": "read off the grid", "compile": "done",
        "distill": "done"}

    quality = parts["quality"]["results"]
    trainer_mrpc, bench_mrpc = quality["trainer_mrpc"]["runs"][0], quality["bench_mrpc"]["runs"][0]
    assert trainer_mrpc["task"] == bench_mrpc["task"] == "glue/mrpc" and trainer_mrpc["seed"] == bench_mrpc["seed"]
    assert 0 <= trainer_mrpc["scores"]["f1"] <= 100 and 0 <= bench_mrpc["scores"]["f1"] <= 100
    assert [r["task"] for r in quality["bench_others"]["runs"]] == ["glue/stsb"]

    grid = parts["grid"]["results"]
    sides = [grid["trainer"], grid["jobs2"], grid["jobs1"]]
    assert len({s["examples"] for s in sides}) == 1, "every path must do the same training work"
    assert all(len(s["runs"]) == 4 and not s["failed"] and s["examples_per_s"] > 0 for s in sides)
    # --jobs 2 and --jobs 1 train the same seeds the same way: the same scores
    assert grid["jobs2"]["scores"] == grid["jobs1"]["scores"]
    memory = parts["memory"]["results"]
    assert [row["jobs"] for row in memory["rows"]] == [2, 1] and memory["default_jobs_per_gpu"] == 1
    assert all(row["device_peak_per_run_gib"] >= 0 for row in memory["rows"])

    compiled = parts["compile"]["results"]["tasks"]["glue/mrpc"]
    assert compiled["on"]["train_s"] > 0 and compiled["off"]["train_s"] > 0
    # each evaluation's training seconds are in the records, so the compile time is separated
    assert compiled["steps_per_epoch"] == 1 and compiled["compile_s"] is not None
    assert all(len(run["evaluations_train_s"]) == 1 and run["evaluations_train_s"][0] > 0 for run in grid["jobs1"]["runs"])

    distill = parts["distill"]["results"]
    assert distill["flops"]["counted_per_token"] > 0 and distill["measured_matmul_tflops"] > 0
    run = distill["runs"][0]
    assert run["tokens_per_s"] > 0 and run["steps"] == 4 and run["mfu_measured_matmul"] > 0
    assert run["mfu_datasheet"] is None  # no datasheet peak for a CPU

    page = (out / "gpu_check.md").read_text()
    for heading in ("## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "dry run"):
        assert heading in page


def test_a_part_over_its_budget_is_stopped_with_its_children_and_keeps_what_it_saved(tmp_path):
    partial, pid_file = tmp_path / "part.json", tmp_path / "child.pid"
    script = (
        "import json, subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        f"open({str(partial)!r}, 'w').write(json.dumps({{'first': 1.5}}))\n"
        "time.sleep(120)\n"
    )
    started = time.perf_counter()
    outcome = gpu_check.run_part([sys.executable, "-c", script], partial, budget_s=4)
    assert time.perf_counter() - started < 60
    assert outcome["status"] == "stopped at its budget of 4 s" and outcome["results"] == {"first": 1.5}
    time.sleep(0.5)
    assert not _running(int(pid_file.read_text())), "the part's own child outlived the budget"


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan waits as a zombie until its new parent reaps it)."""
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_failing_part_is_reported_with_its_exit_status(tmp_path):
    outcome = gpu_check.run_part([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "none.json", budget_s=30)
    assert outcome == {**outcome, "status": "failed (exit status 3)", "results": {}}


def _wheel(directory, name, version, requires=()):
    """A minimal pure-Python wheel (PEP 427) of a fixture distribution."""
    module = name.replace("-", "_")
    path = directory / f"{module}-{version}-py3-none-any.whl"
    dist_info = f"{module}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{module}/__init__.py", f"VERSION = {version!r}\n")
        z.writestr(f"{dist_info}/METADATA", metadata)
        z.writestr(f"{dist_info}/WHEEL", "Wheel-Version: 1.0\nGenerator: fixture\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{dist_info}/RECORD", "")
    return path


def test_a_missing_package_is_installed_from_its_carried_wheel(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))  # the install puts its folder on the path: undone afterwards
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    wheels.mkdir()
    _wheel(wheels, "koenbench-fixture-pkg", "1.2.0", requires=["numpy>=99"])
    printed = []
    rows = gpu_check_setup.check_packages(wheels, dry_run=True, needed=("koenbench-fixture-pkg", "numpy"), site=site,
                                          print_=printed.append)
    assert [(r.name, r.action) for r in rows] == [("koenbench-fixture-pkg", "install from wheel"), ("numpy", "present")]
    assert any(line.startswith("warning: koenbench-fixture-pkg asks for numpy>=99") for line in printed)
    assert any("would run" in line and "koenbench_fixture_pkg-1.2.0" in line for line in printed) and not site.exists()

    gpu_check_setup.check_packages(wheels, dry_run=False, needed=("koenbench-fixture-pkg",), site=site, print_=printed.append)
    # the child processes (parts, bench run's workers) find it through PYTHONPATH
    found = subprocess.run([sys.executable, "-c", "import koenbench_fixture_pkg as m; print(m.VERSION)"],
                           capture_output=True, text=True)
    assert found.stdout.strip() == "1.2.0" and str(site) in os.environ["PYTHONPATH"].split(os.pathsep)


def test_a_carried_wheel_is_installed_where_the_image_misses_a_need_and_a_gap_is_named(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels, "koenbench-fixture-pkg", "1.0", requires=["koenbench-fixture-dep>=2", "numpy<1.0",
                                                             "colorama; sys_platform == 'win32'"])
    _wheel(wheels, "koenbench-fixture-dep", "2.1")
    chosen, warnings = gpu_check_setup.resolve_needs(wheels, ["koenbench-fixture-pkg"])
    assert chosen == ["koenbench-fixture-pkg", "koenbench-fixture-dep"]  # the dep only because nothing here has it
    assert warnings == [f"koenbench-fixture-pkg asks for numpy<1.0; found {gpu_check_setup.installed_version('numpy')} "
                        "here, no wheel carried"]
    with pytest.raises(SystemExit, match=r"koenbench-fixture-pkg-absent missing"):
        gpu_check_setup.check_packages(wheels, dry_run=True, needed=("koenbench-fixture-pkg-absent",),
                                       print_=lambda line: None)


def test_the_carried_data_unpacks_to_the_shared_layout_byte_for_byte(tmp_path, shared_data):
    archive = gpu_check_setup.pack_data(shared_data, tmp_path / "carry")
    names = gpu_check_setup.task_files(shared_data)
    assert "klue/ner/klue-ner-v1.1_dev.tsv" in names and "glue/SST-2/train.tsv" in names
    assert archive.stat().st_size < 6 * 2**20  # ~19 MB of text, small enough to carry beside the model
    unpacked = gpu_check_setup.unpack_data(tmp_path / "carry", tmp_path / "data")
    for name in names:
        assert (unpacked / name).read_bytes() == (shared_data / name).read_bytes()
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == names


def test_the_datasheet_peak_is_looked_up_by_device_name():
    import gpu_check_parts

    assert gpu_check_parts.datasheet_bf16_tflops("NVIDIA H100 PCIe") == 756.0
    assert gpu_check_parts.datasheet_bf16_tflops("NVIDIA H100 80GB HBM3") == 989.4
    assert gpu_check_parts.datasheet_bf16_tflops("NVIDIA H200") == 989.4
    assert gpu_check_parts.datasheet_bf16_tflops("NVIDIA A100-SXM4-80GB") == 312.0
    assert gpu_check_parts.datasheet_bf16_tflops("cpu") is None


def test_compile_time_is_the_first_epochs_extra_time_over_the_uncompiled_run():
    import gpu_check_parts

    runs = {"off": {"evaluations_train_s": [11.0, 10.0], "train_examples": 3200, "batch_size": 32},
            "on": {"evaluations_train_s": [45.0, 5.0], "train_examples": 3200, "batch_size": 32}}
    figures = gpu_check_parts.compile_figures(runs)
    # compile = (45 - 5) - (11 - 10) = 39 s; 100 steps an epoch: 100 ms -> 50 ms a step; 39 / 0.05 = 780 steps
    assert figures == {"steps_per_epoch": 100, "compile_s": 39.0, "step_ms_off": 100.0, "step_ms_on": 50.0,
                       "steady_speedup": 2.0, "break_even_steps": 780}
    assert gpu_check_parts.compile_figures({"off": {"failed": {}}, "on": {}})["compile_s"] is None


def test_report_cells_keep_text_from_errors_as_text():
    assert gpu_check_report.cell("a|b *x* <br>") == "a\\|b \\*x\\* \\<br\\>"
    assert gpu_check_report.cell(1234.5678) == "1,234.57" and gpu_check_report.cell(None) == "-"
