"""benchmarks/gpu_check.py's JSON report as one markdown page of tables (standard library only)."""

from __future__ import annotations

import statistics
from typing import Any, Iterable, Optional


def cell(value: Any, digits: int = 2) -> str:
    """A table cell: numbers rounded, text escaped for a markdown table (it may come from error messages)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    text = str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for ch in "*_`<>[]":
        text = text.replace(ch, "\\" + ch)
    return text


def table(header: list[str], rows: Iterable[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines + [""]


def mean_std(values: Optional[list]) -> str:
    if not values:
        return "-"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.2f} ± {std:.2f}"


def render(report: dict) -> str:
    env, parts = report.get("env", {}), report.get("parts", {})
    lines = [f"# gpu_check{' (dry run: tiny models on CPU, not a measurement of the GPU)' if env.get('dry_run') else ''}", ""]
    lines += table(["device", "torch", "transformers", "CUDA", "CPUs", "git"],
                   [[env.get("device"), env.get("torch"), env.get("transformers"), env.get("cuda"), env.get("cpu_count"),
                     env.get("git")]])
    lines += table(["part", "status", "budget s", "used s"],
                   [[name, p.get("status"), p.get("budget_s"), p.get("used_s")] for name, p in parts.items()])
    for title, render_part in (("1. all-MiniLM-L6-v2, full data, task protocols", _quality),
                               ("2. Suite grid, random-init bert-base", _grid), ("3. torch.compile", _compile),
                               ("4. Peak memory per run", _memory), ("5. Distillation", _distill)):
        key = {"1": "quality", "2": "grid", "3": "compile", "4": "memory", "5": "distill"}[title[0]]
        results = parts.get(key, {}).get("results")
        if results:
            lines += [f"## {title}", ""] + render_part(results, report)
    return "\n".join(lines)


def _quality(r: dict, report: dict) -> list[str]:
    rows = []
    for key, label in (("trainer_mrpc", "HF Trainer (run_glue.py defaults)"), ("bench_mrpc", ""), ("bench_others", "")):
        side = r.get(key)
        if not side:
            continue
        label = label if key == "trainer_mrpc" else side["side"]
        for run in side.get("runs", []):
            rows.append([run["task"], label, run.get("primary"), run.get("scores", {}).get(run.get("primary")),
                         run.get("train_s"), run.get("wall_s")])
        for task, error in side.get("failed", {}).items():
            rows.append([task, side["side"], f"failed: {error}", None, None, None])
    return table(["task", "path", "primary", "score", "train s", "wall s"], rows)


def _grid(r: dict, report: dict) -> list[str]:
    sides = [r[k] for k in ("trainer", *sorted((k for k in r if k.startswith("jobs")), key=lambda k: -int(k[4:]))) if k in r]
    trainer = r.get("trainer")
    lines = [f"{len(r.get('tasks', []))} tasks x {len(r.get('seeds', []))} seeds, first {r.get('limit')} train rows "
             f"(--limit), first {r.get('eval_limit')} validation rows, overrides {cell(r.get('overrides'))}; wall "
             "clock of the whole grid, model loads, evaluation and process starts included.", ""]
    rows = [[s["side"], s["wall_s"], s["examples"], s["examples_per_s"],
             round(s["examples_per_s"] / trainer["examples_per_s"], 2) if trainer else None,
             _within_std(s, trainer) if trainer and s is not trainer else None] for s in sides]
    lines += table(["path", "wall s", "examples", "examples/s", "x Trainer", "tasks within 1 Trainer std"], rows)
    tasks = r.get("tasks", [])
    lines += table(["task", *(s["side"] for s in sides)], [[t, *(mean_std(s["scores"].get(t)) for s in sides)] for t in tasks])
    return lines


def _within_std(side: dict, trainer: dict) -> str:
    """How many tasks' mean primary score lies within one seed standard deviation of Trainer's mean."""
    close, total = 0, 0
    for task, ref in trainer["scores"].items():
        got = side["scores"].get(task)
        if not got or len(ref) < 2:
            continue
        total += 1
        close += abs(statistics.fmean(got) - statistics.fmean(ref)) <= statistics.stdev(ref)
    return f"{close}/{total}"


def _compile(r: dict, report: dict) -> list[str]:
    lines = [f"first {r.get('limit')} train rows, 2 epochs, one seed; compile s = (epoch 1 - epoch 2 with compile on) "
             "- (the same with it off); break-even = compile s / steady saving per step "
             "(harness: --compile auto compiles from 1,000 steps).", ""]
    rows = []
    for task, t in r.get("tasks", {}).items():
        rows.append([task, t.get("steps_per_epoch"), t.get("off", {}).get("train_s"), t.get("on", {}).get("train_s"),
                     t.get("step_ms_off"), t.get("step_ms_on"), t.get("steady_speedup"), t.get("compile_s"),
                     t.get("break_even_steps") or t.get("why")])
    return lines + table(["task", "steps/epoch", "train s off", "train s on", "ms/step off", "ms/step on",
                          "steady speed-up", "compile s", "break-even steps"], rows)


def _memory(r: dict, report: dict) -> list[str]:
    lines = [f"`bench run`'s default N on the idle card: {cell(r.get('default_jobs_per_gpu'))} "
             f"(free memory / grid.RUN_MEMORY_GIB = {cell(r.get('run_memory_gib'))} GiB, at most 8). "
             f"Largest footprint per run: {cell(r.get('largest_per_run_gib'))} GiB; the estimate "
             f"{'holds' if r.get('estimate_holds') else 'does not hold' if r.get('estimate_holds') is False else 'was not checked'}.", ""]
    rows = [[m["jobs"], m["runs"], m["max_allocated_gib"], m["max_reserved_gib"], m["largest_task"],
             m["device_peak_per_run_gib"], m["device_measure"]] for m in r.get("rows", [])]
    return lines + table(["N", "runs", "max allocated GiB (one run)", "max reserved GiB", "task",
                          "card peak / N GiB", "card measure"], rows)


def _distill(r: dict, report: dict) -> list[str]:
    flops = r.get("flops", {})
    lines = [f"{cell(r.get('device'))}, {r.get('precision')}, {r.get('seq_len')} tokens per chunk; FLOPs: "
             f"{cell(flops.get('method'))}: {cell(flops.get('counted_per_token'), 0)} per token (6N + 2N' estimate: "
             f"{cell(flops.get('estimate_6n_2n_per_token'), 0)}). Peaks: datasheet dense bf16 "
             f"{cell(r.get('datasheet_bf16_tflops'), 1)} TFLOP/s, measured matrix product {cell(r.get('measured_matmul_tflops'), 1)} TFLOP/s.", ""]
    rows = [[x["batch"], x["tokens_per_step"], x["steps_timed"], x["tokens_per_s"], x["tflops"], x["mfu_datasheet"],
             x["mfu_measured_matmul"], x["max_allocated_gib"]] for x in r.get("runs", [])]
    return lines + table(["batch", "tokens/step", "steps timed", "tokens/s", "TFLOP/s", "MFU (datasheet)",
                          "MFU (measured matmul)", "max allocated GiB"], rows)
