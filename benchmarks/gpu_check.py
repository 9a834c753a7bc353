"""Every GPU claim of the harness, measured in one command on one H100/H200 in under 8 minutes.

Parts, each in its own process with its own time budget (a part that runs out is stopped and
keeps what it measured; the JSON and the markdown table are rewritten after every part):
  prepare  carried data and models unpacked, random bert-base made, tokenization cached
  quality  (1) all-MiniLM-L6-v2 on full MRPC, STS-B, SST-2, KLUE-STS and YNAT with the task
           protocols through the harness's runner; MRPC also through HF Trainer (run_glue.py's
           defaults): scores and wall times side by side
  grid     (2) random-init bert-base, 8 tasks x 3 seeds on train subsets (--limit), through
           Trainer and through `bench run --jobs 8/4/2/1`: examples/s and the ratio;
           (4) the peak memory of each run (torch.cuda.max_memory_allocated in each worker) and
           of the card, against grid.RUN_MEMORY_GIB and the default N
  distill  (5) MiniLMv2 distillation, bert-base student and teachers at 256 tokens, bf16:
           tokens/s and MFU (FLOPs counted by torch.utils.flop_counter)
  compile  (3) --compile off/on per task, compile time separated from the steady state

Here, once (CPU; fills the ignored folder .gpu-carry/ with the task files as .tar.xz,
all-MiniLM-L6-v2 in float16 and the wheels the GPU image lacks; prints the size against 64 MiB):
    python benchmarks/gpu_check.py --pack
On the lent GPU machine, through the device tool (run with carry [".gpu-carry"], timeout_s 580):
    PYTHONUNBUFFERED=1 python3 benchmarks/gpu_check.py --out $OUT
Every code path on CPU with tiny models, in the test suite (tests/benchmarks/test_gpu_check.py):
    python benchmarks/gpu_check.py --dry-run
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpu_check_setup as setup  # noqa: E402  (standard library only: runs before the wheels are installed)

SCHEMA = "koenbench.gpu_check/1"
TIME_LIMIT_S = 480  # all parts; the device call's timeout_s is 580 (package check, start-up and the last part's stop)


def run_part(command: list[str], partial: Path, budget_s: float, env: Optional[dict] = None) -> dict:
    """Run one part's process for at most ``budget_s``; returns its status and whatever it saved to ``partial``."""
    started = time.perf_counter()
    # its own process group: at the budget, the part and every process it started (bench run's workers) stop
    process = subprocess.Popen(command, start_new_session=True, env=env)
    try:
        code = process.wait(timeout=budget_s)
        status = "done" if code == 0 else f"failed (exit status {code})"
    except subprocess.TimeoutExpired:
        _stop_group(process)
        status = f"stopped at its budget of {budget_s:.0f} s"
    results = json.loads(partial.read_text()) if partial.exists() else {}
    return {"status": status, "budget_s": round(budget_s, 1), "used_s": round(time.perf_counter() - started, 1),
            "results": results}


def _stop_group(process: subprocess.Popen) -> None:
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait_s)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def environment(dry_run: bool) -> dict:
    import platform

    import torch
    import transformers

    env = {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
           "cuda": torch.version.cuda, "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
           "cpu_count": os.cpu_count(), "dry_run": dry_run}
    try:
        from harness.core.environment import git_commit

        env["git"] = git_commit()
    except ImportError:
        pass
    return env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny models, the repository's samples")
    parser.add_argument("--pack", action="store_true", help="fill .gpu-carry/ here for the device call, then stop")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or setup.REPO_ROOT / "runs" / "gpu_check"))
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a folder under /tmp)")
    parser.add_argument("--carry", type=Path, default=setup.CARRY_DIR)
    parser.add_argument("--parts", default=",".join(setup.PARTS), help="comma list of parts to run, in order")
    parser.add_argument("--time-limit", type=float, default=None,
                        help=f"seconds for all parts together (default {TIME_LIMIT_S}; a dry run: its budgets' sum)")
    parser.add_argument("--shared-data", type=Path, default=setup.REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--part", help=argparse.SUPPRESS)  # internal: run one part in this process
    parser.add_argument("--plan", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.part:
        return _child(args.part, args.plan)
    if args.pack:
        setup.pack(args.shared_data, args.carry)
        return 0
    unknown = [p for p in args.parts.split(",") if p not in setup.PARTS]
    if unknown:
        parser.error(f"--parts: unknown {', '.join(unknown)}; choose from {', '.join(setup.PARTS)}")
    setup.check_packages(None if args.dry_run else args.carry / "wheels", dry_run=args.dry_run)
    setup.use_site(setup.SITE_DIR)  # the part processes import harness (and the installed wheels, if any)
    setup.import_check()
    work = args.work or Path(f"/tmp/koenbench-gpu-check-{os.getpid()}")
    plan = setup.dry_plan(work) if args.dry_run else setup.gpu_plan(work, args.carry.resolve())
    time_limit = args.time_limit or (sum(plan.budgets.values()) if args.dry_run else TIME_LIMIT_S)
    return orchestrate(plan, args.parts.split(","), args.out, time_limit)


def orchestrate(plan: setup.Plan, parts: list[str], out: Path, time_limit: float) -> int:
    """Each part in its own process within its budget; the report is rewritten after each."""
    work = Path(plan.work)
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    (work / "plan.json").write_text(json.dumps(asdict(plan), indent=1))
    env = {**os.environ, "KOENBENCH_CACHE": str(work / "cache"), "HF_DATASETS_CACHE": str(work / "hf-datasets"),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
    if plan.dry_run:
        # inductor's C++ build of even a tiny model takes minutes on a busy CPU: the dry run takes
        # the --compile on path with compilation switched off (torch's own switch)
        env["TORCH_COMPILE_DISABLE"] = "1"
    report = {"schema": SCHEMA, "env": environment(plan.dry_run), "plan": asdict(plan), "parts": {}}
    deadline = time.perf_counter() + time_limit
    for name in parts:
        left = deadline - time.perf_counter()
        if left < 5:
            report["parts"][name] = {"status": "not started: the time limit was spent", "budget_s": 0, "results": {}}
            continue
        print(f"== {name} (budget {min(plan.budgets[name], left):.0f} s)", flush=True)
        partial = work / f"part-{name}.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--part", name, "--plan", str(work / "plan.json")]
        report["parts"][name] = run_part(command, partial, min(plan.budgets[name], left), env)
        if name == "grid":
            report["parts"]["memory"] = {"status": "read off the grid", "results": memory_summary(report["parts"])}
        write_report(report, out)
    print(markdown(report), flush=True)
    return 0 if all(p["status"] in ("done", "read off the grid") for p in report["parts"].values()) else 1


def _child(name: str, plan_path: Path) -> int:
    import gpu_check_parts

    plan = setup.Plan(**json.loads(plan_path.read_text()))
    gpu_check_parts.run(name, plan, Path(plan.work) / f"part-{name}.json")
    return 0


# ---------------------------------------------------------------------------------------------
# The report: one JSON, one markdown table
# ---------------------------------------------------------------------------------------------
def memory_summary(parts: dict) -> dict:
    """(4) Per --jobs N: the largest run's peak (allocated, reserved) and the card's peak per run."""
    prepared = parts.get("prepare", {}).get("results", {})
    grid_results = parts.get("grid", {}).get("results", {})
    rows = []
    for key, result in grid_results.items():
        if not key.startswith("jobs"):
            continue
        mems = [(r.get("memory") or {}, r["task"]) for r in result.get("runs", [])]
        known = [(m, task) for m, task in mems if m.get("max_reserved_gib") is not None]
        largest = max(known, key=lambda mt: mt[0]["max_reserved_gib"], default=({}, None))
        device = result.get("device_memory", {})
        per_run = (device.get("peak_gib", 0) - device.get("baseline_gib", 0)) / result["jobs"] if device else None
        rows.append({"jobs": result["jobs"], "runs": len(mems), "max_allocated_gib": largest[0].get("max_allocated_gib"),
                     "max_reserved_gib": largest[0].get("max_reserved_gib"), "largest_task": largest[1],
                     "device_peak_per_run_gib": round(per_run, 2) if per_run is not None else None,
                     "device_measure": device.get("what")})
    worst = max((r["device_peak_per_run_gib"] or 0 for r in rows), default=None)
    budget = prepared.get("run_memory_gib")
    return {"rows": rows, "run_memory_gib": budget, "default_jobs_per_gpu": prepared.get("default_jobs_per_gpu"),
            "largest_per_run_gib": worst,
            "estimate_holds": (worst <= budget) if worst is not None and budget is not None else None}


def write_report(report: dict, out: Path) -> None:
    for name, text in (("gpu_check.json", json.dumps(report, indent=1, default=str)), ("gpu_check.md", markdown(report))):
        tmp = out / (name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out / name)


def markdown(report: dict) -> str:
    import gpu_check_report

    return gpu_check_report.render(report)


if __name__ == "__main__":
    sys.exit(main())
