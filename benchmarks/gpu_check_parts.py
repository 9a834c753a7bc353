"""The measurements of benchmarks/gpu_check.py, one function per part; each runs in its own process.

Every part saves what it has measured after each measurement (``save``), so a part stopped at
its time budget keeps the measurements it finished. The fine-tuning runs go through the
harness's own runner (what `bench run` calls) and HF Trainer through suite_speed.py.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

import torch
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
import suite_speed  # noqa: E402
from gpu_check_setup import Plan, unpack_data  # noqa: E402

from harness.demo import SAMPLES_DIR  # noqa: E402
from harness.run import grid, models, runner  # noqa: E402
from harness.tasks import spec  # noqa: E402
from harness.testing import tiny  # noqa: E402

Save = Callable[[dict], None]
console = Console(width=160)
GIB = 2**30

# Dense bf16 matrix rate of each card by its datasheet, TFLOP/s (no sparsity). Matched in order
# against torch.cuda.get_device_name(); the first name contained in it wins.
BF16_DENSE_TFLOPS = (
    ("H100 PCIe", 756.0), ("H100 NVL", 835.0), ("H200 NVL", 835.0), ("GH200", 989.4), ("H200", 989.4),
    ("H100", 989.4), ("H800", 989.4), ("A100", 312.0), ("A800", 312.0), ("L40S", 362.1), ("L4", 121.0),
    ("B200", 2250.0),
)


def datasheet_bf16_tflops(device_name: str) -> Optional[float]:
    return next((peak for name, peak in BF16_DENSE_TFLOPS if name in device_name), None)


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# ---------------------------------------------------------------------------------------------
# prepare: data, models, tokenization caches
# ---------------------------------------------------------------------------------------------
def data_dir(plan: Plan) -> Path:
    """The full task files: the carried copy on the GPU, the repository's samples in a dry run."""
    return SAMPLES_DIR if plan.dry_run else plan.path("data")


def prepare(plan: Plan, save: Save) -> None:
    out: dict = {}
    if not plan.dry_run:
        unpack_data(Path(plan.carry), plan.path("data"))
    started = time.perf_counter()
    _minilm_fp32(plan)
    suite_speed.random_bert(plan.path("base"), plan.path("minilm"), seed=0, **plan.model_shape)
    for seed, teacher in enumerate(("ko-teacher", "en-teacher"), start=1):  # two models: distill refuses one as both
        suite_speed.random_bert(plan.path(teacher), plan.path("minilm"), seed=seed, with_mlm_head=False, **plan.model_shape)
    out["models_s"] = round(time.perf_counter() - started, 1)
    out["default_jobs_per_gpu"] = grid.default_jobs_per_gpu()  # on the idle card, as `bench run` would choose
    out["run_memory_gib"] = grid.RUN_MEMORY_GIB
    if torch.cuda.is_available():
        free, total = torch.cuda.mem_get_info(0)
        out["gpu_free_gib"], out["gpu_total_gib"] = round(free / GIB, 1), round(total / GIB, 1)
    save(out)
    started = time.perf_counter()
    for name, model, opts, tasks in _warm_targets(plan):
        suite_speed.warm_cache(spec.load_tasks(tasks), model, opts)
    out["tokenize_s"] = round(time.perf_counter() - started, 1)
    save(out)


def _minilm_fp32(plan: Plan) -> None:
    """all-MiniLM-L6-v2 in float32 from the carried float16 copy (dry run: a tiny BERT with its vocabulary).

    transformers loads a checkpoint in its stored dtype, and fine-tuning float16 weights directly
    would be another experiment; the rounding to float16 and back is the only difference left."""
    from transformers import AutoModel, AutoTokenizer

    if plan.dry_run:
        tiny.tiny_bert(tiny.minilm_dir(), plan.path("minilm"), hidden_size=32, layers=2, heads=2, with_mlm_head=False)
        return
    src = Path(plan.carry, "minilm-fp16")
    AutoModel.from_pretrained(src, dtype=torch.float32).save_pretrained(plan.path("minilm"))
    AutoTokenizer.from_pretrained(src).save_pretrained(plan.path("minilm"))


def _warm_targets(plan: Plan):
    yield "quality", minilm(plan), quality_options(plan, "warm"), plan.quality_tasks
    yield "grid", base(plan), grid_options(plan, "warm"), plan.grid_tasks
    yield "compile", base(plan), compile_options(plan, "warm", "off"), plan.compile_tasks


_resolved: dict[Path, models.ResolvedModel] = {}  # local_model hashes every file: once per model and process


def minilm(plan: Plan) -> models.ResolvedModel:
    if plan.path("minilm") not in _resolved:
        _resolved[plan.path("minilm")] = models.local_model(plan.path("minilm"), plan.minilm_id)
    return _resolved[plan.path("minilm")]


def base(plan: Plan) -> models.ResolvedModel:
    if plan.path("base") not in _resolved:
        _resolved[plan.path("base")] = models.local_model(plan.path("base"), plan.base_id)
    return _resolved[plan.path("base")]


def quality_options(plan: Plan, name: str) -> runner.RunOptions:
    return runner.RunOptions(seeds=[42], output_dir=plan.path("runs", name), data_dir=data_dir(plan),
                             overrides=dict(plan.quality_overrides), limit=plan.quality_limit, compile="auto")


def grid_options(plan: Plan, name: str) -> runner.RunOptions:
    return runner.RunOptions(seeds=list(plan.grid_seeds), output_dir=plan.path("runs", name), data_dir=data_dir(plan),
                             overrides=dict(plan.grid_overrides), limit=plan.grid_limit,
                             eval_limit=plan.grid_eval_limit, compile="auto")


def compile_options(plan: Plan, name: str, mode: str) -> runner.RunOptions:
    return runner.RunOptions(seeds=[42], output_dir=plan.path("runs", name), data_dir=data_dir(plan),
                             overrides={"epochs": 2}, limit=plan.compile_limit, eval_limit=plan.grid_eval_limit,
                             compile=mode)


# ---------------------------------------------------------------------------------------------
# 1. quality: all-MiniLM-L6-v2 on full data with the task protocols; MRPC through Trainer too
# ---------------------------------------------------------------------------------------------
def quality(plan: Plan, save: Save) -> None:
    specs = spec.load_tasks(plan.quality_tasks)
    mrpc, others = [s for s in specs if s.id == "glue/mrpc"], [s for s in specs if s.id != "glue/mrpc"]
    out: dict = {}
    out["trainer_mrpc"] = suite_speed.trainer_grid(mrpc, minilm(plan), quality_options(plan, "trainer"),
                                                   plan.path("runs"), console).as_dict()
    save(out)
    out["bench_mrpc"] = suite_speed.bench_grid(mrpc, minilm(plan), quality_options(plan, "quality-mrpc"), 1,
                                               console).as_dict()
    save(out)
    jobs = max(1, min(plan.quality_jobs, len(others)))
    out["bench_others"] = suite_speed.bench_grid(others, minilm(plan), quality_options(plan, "quality-others"), jobs,
                                                 console).as_dict()
    save(out)


# ---------------------------------------------------------------------------------------------
# 2 and 4. the suite grid through Trainer and `bench run --jobs N`; the memory each run takes
# ---------------------------------------------------------------------------------------------
class MemorySampler:
    """The peak of the device memory in use (all processes) while the block runs, sampled every 0.2 s.

    On CPU (the dry run) it samples this process tree's resident memory instead, so the same code runs."""

    def __init__(self):
        self.baseline = self.peak = self._used()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _used() -> int:
        if torch.cuda.is_available():
            free, total = torch.cuda.mem_get_info(0)
            return total - free
        import psutil

        me = psutil.Process()
        return sum(p.memory_info().rss for p in [me, *me.children(recursive=True)] if p.is_running())

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            try:
                self.peak = max(self.peak, self._used())
            except Exception:  # a child ended between listing and reading it
                continue

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def as_dict(self) -> dict:
        return {"what": "device memory in use" if torch.cuda.is_available() else "host RSS of the process tree",
                "baseline_gib": round(self.baseline / GIB, 2), "peak_gib": round(self.peak / GIB, 2)}


def grid_part(plan: Plan, save: Save) -> None:
    specs = spec.load_tasks(plan.grid_tasks)
    out: dict = {"tasks": plan.grid_tasks, "seeds": plan.grid_seeds, "limit": plan.grid_limit,
                 "eval_limit": plan.grid_eval_limit, "overrides": plan.grid_overrides}
    out["trainer"] = suite_speed.trainer_grid(specs, base(plan), grid_options(plan, "grid-trainer"), plan.path("runs"),
                                              console).as_dict()
    save(out)
    for jobs in plan.grid_jobs:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # the memory this process cached for earlier runs is no run's footprint
        with MemorySampler() as memory:
            result = suite_speed.bench_grid(specs, base(plan), grid_options(plan, f"grid-jobs{jobs}"), jobs, console)
        out[f"jobs{jobs}"] = {**result.as_dict(), "jobs": jobs, "device_memory": memory.as_dict()}
        console.print(f"  --jobs {jobs}: {result.wall_s:.1f} s, {result.examples_per_s:.0f} examples/s")
        save(out)


# ---------------------------------------------------------------------------------------------
# 3. torch.compile on and off: the second epoch is the steady state, the first holds the compile
# ---------------------------------------------------------------------------------------------
def compile_part(plan: Plan, save: Save) -> None:
    out: dict = {"limit": plan.compile_limit, "epochs": 2, "tasks": {}}
    for task_id in plan.compile_tasks:
        runs = {}
        for mode in ("off", "on"):
            opts = compile_options(plan, f"compile-{task_id.replace('/', '-')}-{mode}", mode)
            result = suite_speed.bench_grid(spec.load_tasks([task_id]), base(plan), opts, 1, console)
            runs[mode] = result.runs[0] if result.runs else {"failed": result.failed}
        out["tasks"][task_id] = {**runs, **compile_figures(runs)}
        save(out)


def compile_figures(runs: dict) -> dict:
    """Compile seconds = (epoch 1 - epoch 2) with compile on, minus the same difference with it off."""
    try:
        off, on = runs["off"]["evaluations_train_s"], runs["on"]["evaluations_train_s"]
        steps = math.ceil(runs["on"]["train_examples"] / runs["on"]["batch_size"])
    except KeyError:
        return {"compile_s": None, "why": "a run failed"}
    if len(off) < 2 or None in off[:2] or None in on[:2]:
        return {"compile_s": None, "why": "the records lack each epoch's training time"}
    compile_s = (on[0] - on[1]) - (off[0] - off[1])
    step_off, step_on = off[1] / steps, on[1] / steps
    saving = step_off - step_on
    return {"steps_per_epoch": steps, "compile_s": round(compile_s, 2), "step_ms_off": round(1000 * step_off, 2),
            "step_ms_on": round(1000 * step_on, 2), "steady_speedup": round(step_off / max(step_on, 1e-9), 3),
            "break_even_steps": math.ceil(compile_s / saving) if saving > 0 and compile_s > 0 else None}


# ---------------------------------------------------------------------------------------------
# 5. distillation: tokens/s and MFU of a bert-base student and teachers at 256 tokens, bf16
# ---------------------------------------------------------------------------------------------
def distill_part(plan: Plan, save: Save) -> None:
    corpora = _corpora(plan)
    out: dict = {"seq_len": plan.distill_seq_len, "precision": "bf16" if torch.cuda.is_available() else "fp32",
                 "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"}
    out["datasheet_bf16_tflops"] = datasheet_bf16_tflops(out["device"])
    out["measured_matmul_tflops"] = matmul_tflops()
    save(out)
    out["flops"] = flops_per_token(plan, corpora)
    save(out)
    out["runs"] = []
    for batch in plan.distill_batches:
        rate = distill_rate(plan, corpora, batch, plan.path("runs", f"distill-b{batch}"))
        achieved = rate["tokens_per_s"] * out["flops"]["counted_per_token"] / 1e12 if rate["tokens_per_s"] else None
        rate["tflops"] = round(achieved, 4) if achieved else None
        rate["mfu_datasheet"] = round(achieved / out["datasheet_bf16_tflops"], 3) if achieved and out["datasheet_bf16_tflops"] else None
        rate["mfu_measured_matmul"] = float(f"{achieved / out['measured_matmul_tflops']:.3g}") if achieved else None
        out["runs"].append(rate)
        save(out)


CORPUS_LINES = 20_000  # per language: over 1,000 chunks of 256 tokens, and every distill run tokenizes them anew


def _corpora(plan: Plan) -> dict[str, Path]:
    """Korean text from YNAT's train titles, English from SST-2's train sentences (task files already carried)."""
    from harness.tasks import data

    paths = {}
    for lang, task_id in (("ko", "klue/ynat"), ("en", "glue/sst2")):
        loaded = data.load(spec.load_tasks([task_id])[0], data_dir(plan), limit=CORPUS_LINES)
        paths[lang] = plan.path(f"corpus-{lang}.txt")
        paths[lang].write_text("\n".join(t.replace("\n", " ") for t in loaded.dataset["train"]["text_a"]) + "\n",
                               encoding="utf-8")
    return paths


def distill_config(plan: Plan, corpora: dict, batch: int, steps: int, out: Path):
    from harness.koenbert.distill import DistillConfig

    return DistillConfig(student=str(plan.path("base")), ko_teacher=str(plan.path("ko-teacher")),
                         en_teacher=str(plan.path("en-teacher")), ko_corpus=[str(corpora["ko"])],
                         en_corpus=[str(corpora["en"])], out=str(out), seq_len=plan.distill_seq_len,
                         batch_size=batch, steps=steps, relation_heads=plan.relation_heads,
                         log_every=plan.distill_log_every, save_every=steps, keep_checkpoints=1,
                         data_dir=str(data_dir(plan)))  # the corpora are screened against these tasks' validation text


def matmul_tflops(size: Optional[int] = None, repeats: int = 10) -> float:
    """The rate of a large square matrix product: bf16 8192^3 on a GPU, float32 512^3 on CPU."""
    on_gpu = torch.cuda.is_available()
    size = size or (8192 if on_gpu else 512)
    dtype, dev = (torch.bfloat16, "cuda") if on_gpu else (torch.float32, "cpu")
    a, b = (torch.randn(size, size, dtype=dtype, device=dev) for _ in range(2))
    for _ in range(3):
        a @ b
    if on_gpu:
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if on_gpu:
        torch.cuda.synchronize()
    return round(2 * size**3 * repeats / (time.perf_counter() - started) / 1e12, 3)


def flops_per_token(plan: Plan, corpora: dict) -> dict:
    """FLOPs of one optimizer step counted by torch.utils.flop_counter (a 2-step run minus a 1-step run).

    It counts every matrix product and attention kernel as executed: the student's forward and
    backward, the teacher's forward and the relation products of the loss. The textbook
    estimate 6 N + 2 N' per token (N: the student's, N': the teacher's non-embedding parameters)
    is given beside it."""
    from torch.utils.flop_counter import FlopCounterMode

    from harness.koenbert.distill import distill

    batch = min(plan.distill_batches)
    totals = []
    for steps in (1, 2):
        counter = FlopCounterMode(display=False)
        with counter:
            distill(distill_config(plan, corpora, batch, steps, plan.path("runs", f"flops-{steps}")), show_progress=False)
        totals.append(counter.get_total_flops())
    counted = (totals[1] - totals[0]) / (batch * plan.distill_seq_len)
    from transformers import AutoModel

    student, teacher = (sum(p.numel() for n, p in AutoModel.from_pretrained(plan.path(m)).named_parameters()
                            if "embeddings" not in n) for m in ("base", "ko-teacher"))
    return {"counted_per_token": counted, "estimate_6n_2n_per_token": 6 * student + 2 * teacher,
            "method": "torch.utils.flop_counter.FlopCounterMode over one optimizer step (2-step run minus 1-step run)"}


def distill_rate(plan: Plan, corpora: dict, batch: int, out: Path) -> dict:
    """Tokens/s of `bench koenbert distill` from its own log, leaving out the first logged window (warm-up)."""
    from harness.koenbert.distill import distill
    from harness.koenbert.prepare import work_dir

    started = time.perf_counter()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    cfg = distill_config(plan, corpora, batch, plan.distill_steps, out)
    summary = distill(cfg, show_progress=False)
    log = [json.loads(line) for line in (work_dir(cfg) / "log.jsonl").read_text().splitlines() if line]
    steady = log[1:] if len(log) > 1 else log
    first = log[0] if len(log) > 1 else {"tokens": 0, "elapsed_s": 0.0}
    tokens, seconds = steady[-1]["tokens"] - first["tokens"], steady[-1]["elapsed_s"] - first["elapsed_s"]
    peak = torch.cuda.max_memory_allocated() / GIB if torch.cuda.is_available() else None
    return {"batch": batch, "steps": summary["step"], "tokens_per_step": batch * plan.distill_seq_len,
            "tokens_per_s": round(tokens / seconds, 1) if seconds > 0 else None,
            "steps_timed": steady[-1]["step"] - (log[0]["step"] if len(log) > 1 else 0),
            "wall_s": round(time.perf_counter() - started, 1),
            "max_allocated_gib": round(peak, 2) if peak is not None else None}


PART_FUNCTIONS = {"prepare": prepare, "quality": quality, "grid": grid_part, "compile": compile_part,
                  "distill": distill_part}


def run(name: str, plan: Plan, partial: Path) -> None:
    """Run part ``name``, writing what it has measured to ``partial`` after each measurement."""

    def save(results: dict) -> None:
        tmp = partial.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=1, default=str))
        tmp.replace(partial)

    import datasets

    datasets.disable_progress_bars()  # one bar per map() call is noise in the device's output tail
    PART_FUNCTIONS[name](replace(plan), save)
