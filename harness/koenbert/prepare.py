"""Step 2's corpora, prepared once before training: each language's text cut into chunks of student ids and
written to a file in the run's work folder, which every process then memory-maps.

Preparing is its own step. `bench koenbert distill --prepare-only` (or `build --prepare-only`) runs it alone,
e.g. on a CPU node before the GPU job; otherwise the first `distill` runs it in the main process while the
others wait at a barrier (up to ``process_group_timeout`` seconds, not PyTorch's 10 minutes).

- Streamed: the text is read, tokenized and packed batch by batch (corpus.ChunkStream) and the chunks are
  written as they are made, uint16 ids where the vocabulary fits (uint32 otherwise), so memory does not grow
  with the corpus; the file is the cache.
- Capped at the run's budget: a language's text is read only up to the chunks the run will draw of it
  (``chunk_budget``); the rest is never tokenized.
- Screened: a line equal to a validation text of one of the eight tasks is dropped and counted; lines equal to
  a train text are kept and counted (corpus.TaskScreen). The counts go into distill.json.

A cache is reused while what it was made from (files, who cut them, seq_len, budget) is unchanged; a resumed run
must read the very chunks its checkpoints were cut from, so a changed cache is then an error.
"""

from __future__ import annotations

import json
import os
import time
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from harness.koenbert.corpus import (ChunkStream, CorpusError, StudentIds, TaskIndex, TaskScreen, id_dtype, open_chunks,
                                     read_texts, task_texts, write_chunks)
from harness.koenbert.settings import LANGS, DistillConfig
from harness.koenbert.sources import shown
from harness.run.models import portable_id

PACKING = "a [SEP] after every line"


def work_dir(cfg: DistillConfig) -> Path:
    """Where the run keeps what is not the model: ``work``, or ``<out>.work`` beside the published folder."""
    if cfg.work:
        return Path(cfg.work)
    out = Path(cfg.out)
    if out.name in ("", ".", ".."):
        out = out.resolve()
    return out.with_name(out.name + ".work")


def is_korean(cfg: DistillConfig, micro_step: int) -> bool:
    # A function of (seed, micro_step) alone: the same on every process, and nothing to save for resume.
    return bool(np.random.default_rng([cfg.seed, 2, micro_step]).random() < cfg.p_ko)


def chunk_budget(cfg: DistillConfig, processes: int) -> dict[str, int]:
    """Chunks the run draws of each language: its micro-steps of that language (the coins are fixed by the seed)
    times the global batch; at least one global batch, so that every corpus is checked."""
    korean = sum(is_korean(cfg, i) for i in range(cfg.steps * cfg.grad_accum))
    batch = cfg.batch_size * processes
    return {"ko": max(korean, 1) * batch, "en": max(cfg.steps * cfg.grad_accum - korean, 1) * batch}


def data_dir(cfg: DistillConfig) -> Optional[Path]:
    """The task data the corpora are screened against (None: the hub)."""
    from harness.core.paths import SHARED_DATA

    if cfg.data_dir == "hub":
        return None
    return Path(cfg.data_dir) if cfg.data_dir else SHARED_DATA


@lru_cache(maxsize=2)
def screened_tasks(folder: Optional[Path]) -> TaskIndex:
    """The eight tasks' texts, indexed (built once a process); an error if any task's data is missing."""
    found, missing = task_texts(folder)
    if missing:
        where = "the hub (--data-dir hub)" if folder is None else f"--data-dir {folder}"
        listed = "; ".join(f"{task}: {reason}" for task, reason in missing.items())
        raise CorpusError(f"{where}: the validation text of {len(missing)} task(s) cannot be read ({listed}); the corpora "
                          "are checked against every task's validation text before training: point --data-dir at the "
                          "KLUE/GLUE files (laid out as for `bench run --data-dir`), or pass --data-dir hub")
    return TaskIndex(found)


def made_from(cfg: DistillConfig, lang: str, files: list[Path], cutter: str, budget: int) -> dict:
    """What a language's cache is made from; a cache made from anything else is not this run's."""
    return {"files": [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files],
            "cut_by": cutter,  # who cuts the text (cfg.segmentation), by id@revision; the chunks hold student ids either way
            "packing": PACKING, "seq_len": cfg.seq_len, "max_chunks": budget}


def cache_paths(work: Path, lang: str) -> tuple[Path, Path]:
    return work / "chunks" / f"{lang}.bin", work / "chunks" / f"{lang}.json"


def cached(work: Path, lang: str) -> Optional[dict]:
    """The manifest of a whole cache (both files there, the data as long as the manifest says), else None."""
    data, manifest_path = cache_paths(work, lang)
    if not (data.is_file() and manifest_path.is_file()):
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    whole = data.stat().st_size == manifest["chunks"] * manifest["seq_len"] * np.dtype(manifest["dtype"]).itemsize
    return manifest if whole else None


def prepare(cfg: DistillConfig, files: dict[str, list[Path]], cutters: dict[str, tuple[str, Callable]],
            student_tokenizer, processes: int, resuming: bool, log: Callable[[str], None]) -> dict[str, dict]:
    """Make (or keep) each language's cache in the work folder; returns each manifest.

    ``cutters``: lang -> (the cutter's id@revision, a function that loads its tokenizer); ``processes``: the
    processes the run trains on (the budget is per global batch)."""
    work, budget = work_dir(cfg), chunk_budget(cfg, processes)
    manifests = {}
    for lang in LANGS:
        cutter, load_tokenizer = cutters[lang]
        wanted = made_from(cfg, lang, files[lang], cutter, budget[lang])
        manifest = cached(work, lang)
        if manifest is not None and manifest["made_from"] != wanted:
            manifest = None
            if resuming:  # the checkpoints were cut from that cache (a cache half removed is simply built again)
                raise CorpusError(
                    f"--{lang}-corpus: the files or settings changed since {cache_paths(work, lang)[0]} was made from them "
                    f"(see {cache_paths(work, lang)[1]}); an exact resume needs the same text: restore the files or start a new --out")
        if manifest is None:
            log(f"tokenizing --{lang}-corpus ({len(files[lang])} file(s)) with {cutter} into {cache_paths(work, lang)[0]}, "
                f"up to {budget[lang]:,} chunks of {cfg.seq_len} tokens")
            manifest = build(cfg, lang, files[lang], wanted, load_tokenizer(), student_tokenizer, work)
        manifests[lang] = manifest
    return manifests


def build(cfg: DistillConfig, lang: str, files: list[Path], wanted: dict, cutter_tokenizer, student_tokenizer,
          work: Path) -> dict:
    """Stream one language's text into its cache: screened, tokenized, packed, written; then its manifest."""
    started = time.perf_counter()
    flag = f"--{lang}-corpus"
    screen = TaskScreen(screened_tasks(data_dir(cfg)))
    lines = LineCounter(read_texts(files, flag))
    dtype = id_dtype(len(student_tokenizer))
    convert = None if cutter_tokenizer is student_tokenizer else StudentIds(cutter_tokenizer, student_tokenizer, flag)
    stream = ChunkStream(screen(lines), cutter_tokenizer, cfg.seq_len, dtype=dtype, convert=convert,
                         cls_id=student_tokenizer.cls_token_id, sep_id=student_tokenizer.sep_token_id)
    data, manifest_path = cache_paths(work, lang)
    data.parent.mkdir(parents=True, exist_ok=True)
    tmp = data.with_name(f"{data.stem}.tmp{os.getpid()}.bin")  # write then rename: a crash never leaves half a cache
    try:
        chunks = write_chunks(stream, tmp, wanted["max_chunks"], flag, files)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    manifest = {
        "made_from": wanted, "dtype": np.dtype(dtype).name, "seq_len": cfg.seq_len, "chunks": chunks,
        "report": {
            "lines_read": lines.count, "lines_used": stream.lines, "tokens": chunks * cfg.seq_len,
            "budget_chunks": wanted["max_chunks"], "reached_budget": chunks >= wanted["max_chunks"],  # the rest unread
            "screened_against": "the hub's datasets" if cfg.data_dir == "hub" else portable_id(str(data_dir(cfg))),
            **screen.report(), "seconds": round(time.perf_counter() - started, 1)},
    }
    os.replace(tmp, data)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


class LineCounter:
    """The lines of a text stream, counted as they pass."""

    def __init__(self, lines):
        self.lines, self.count = lines, 0

    def __iter__(self):
        for line in self.lines:
            self.count += 1
            yield line


def load(cfg: DistillConfig, lang: str) -> tuple[np.memmap, dict]:
    """One language's prepared chunks, memory-mapped, and its manifest (after ``prepare``)."""
    data, manifest_path = cache_paths(work_dir(cfg), lang)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return open_chunks(data, manifest["dtype"], manifest["seq_len"]), manifest


def cutters(cfg: DistillConfig, models: dict, student_tokenizer, load_tokenizer: Callable) -> dict[str, tuple[str, Callable]]:
    """Who cuts each language's text (cfg.segmentation): the student's tokenizer (the recipe), or each teacher's."""
    if cfg.segmentation == "student":
        return {lang: (shown(models["student"]), lambda: student_tokenizer) for lang in LANGS}
    return {lang: (shown(models[f"{lang}_teacher"]), lambda lang=lang: load_tokenizer(models[f"{lang}_teacher"], f"--{lang}-teacher"))
            for lang in LANGS}
