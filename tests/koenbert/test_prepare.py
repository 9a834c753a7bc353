"""Preparing a run's corpora (harness/koenbert/prepare.py) at a scale where memory would show: millions of tokens
streamed into the chunk file, with memory that does not grow with the corpus; and the benchmark's validation text
kept out of it, line by line."""

import json
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from transformers import AutoTokenizer

from harness.koenbert import prepare
from harness.koenbert.corpus import build_chunks, corpus_files, task_texts
from harness.koenbert.settings import DistillConfig
from harness.testing.scale import PeakRSS, word_salad

SEQ_LEN = 128


def settings(root: Path, en_corpus: Path, **overrides) -> DistillConfig:
    values = dict(student="fixture/student", ko_teacher="fixture/ko-teacher", en_teacher="fixture/en-teacher",
                  ko_corpus=[str(root / "ko.txt")], en_corpus=[str(en_corpus)], out=str(root / "model"), seq_len=SEQ_LEN,
                  batch_size=128, steps=2000)  # a budget of ~128k English chunks: beyond every corpus here
    return DistillConfig(**{**values, **overrides})


def run_prepare(cfg: DistillConfig, tokenizer) -> dict:
    files = {lang: corpus_files(getattr(cfg, f"{lang}_corpus"), f"--{lang}-corpus") for lang in ("ko", "en")}
    cutters = {lang: ("fixture/student@0", lambda: tokenizer) for lang in files}
    return prepare.prepare(cfg, files, cutters, tokenizer, processes=1, resuming=False, log=lambda message: None)


@pytest.fixture(scope="module")
def tokenizer(english_model_dir):
    return AutoTokenizer.from_pretrained(english_model_dir)


def test_millions_of_tokens_are_prepared_in_memory_that_does_not_grow_with_the_corpus(tmp_path, tokenizer, shared_data):
    prepare.screened_tasks(shared_data)  # the eight tasks' text, indexed once a process: a fixed cost, paid here
    (tmp_path / "ko.txt").write_text("한국어 문장 하나 .\n" * 200, encoding="utf-8")
    sizes = {"small": 20_000, "large": 120_000}  # lines of 24 words and a [SEP]: ~0.5M and ~3M tokens
    measured = {}
    for name, lines in sizes.items():
        corpus = tmp_path / f"{name}.txt"
        word_salad(corpus, tokenizer, lines, seed=len(name))
        cfg = settings(tmp_path / name, corpus)
        (tmp_path / name).mkdir()
        (tmp_path / name / "ko.txt").write_bytes((tmp_path / "ko.txt").read_bytes())
        tracemalloc.start()
        started = time.perf_counter()
        with PeakRSS() as rss:
            manifests = run_prepare(cfg, tokenizer)
        seconds = time.perf_counter() - started
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        en = manifests["en"]
        tokens = en["chunks"] * SEQ_LEN
        measured[name] = {"tokens": tokens, "traced": traced_peak, "rss": rss.growth}
        print(f"\n{name}: {tokens:,} tokens in {seconds:.1f} s; peak traced by tracemalloc {traced_peak / 2**20:.1f} MiB "
              f"({traced_peak / tokens:.2f} B a token), peak RSS growth {rss.growth / 2**20:.1f} MiB "
              f"({rss.growth / tokens:.2f} B a token); the file: {en['dtype']}, "
              f"{(prepare.cache_paths(prepare.work_dir(cfg), 'en')[0]).stat().st_size / tokens:.0f} B a token")
        assert en["report"]["lines_used"] == lines and not en["report"]["reached_budget"]
    small, large = measured["small"], measured["large"]
    assert large["tokens"] > 3_000_000 and small["tokens"] < large["tokens"] / 5
    # Python and numpy allocations, each seen by tracemalloc: the batch in flight (~4 MiB), never the corpus
    assert large["traced"] < 4 * large["tokens"]
    assert large["traced"] < 1.2 * small["traced"] + 2**20  # six times the tokens, the same memory
    # The whole process, the Rust tokenizer's encodings included (RSS; the first run has warmed the allocator):
    # what six times the tokens add is under 4 bytes a token, and so is the larger run's whole growth.
    assert large["rss"] - small["rss"] < 4 * (large["tokens"] - small["tokens"])
    assert large["rss"] < 4 * large["tokens"]


def test_a_corpus_line_equal_to_a_validation_text_is_dropped_and_one_equal_to_a_train_text_counted(tmp_path, tokenizer,
                                                                                                  shared_data):
    found, missing = task_texts(shared_data)
    assert not missing and len(found) == 8
    sst2, ynat, ner = found["glue/sst2"], found["klue/ynat"], found["klue/ner"]
    lines = ([f"a synthetic line number {i} ." for i in range(300)]
             + sst2.validation[:5]  # scored SST-2 sentences: dropped
             + ["  " + "   ".join(ynat.validation[0].split()) + " "]  # a YNAT title with other spacing: dropped all the same
             + ner.train[:2]  # KLUE-NER is carved from its dev file (no train file): its "train" rows are dropped too
             + sst2.train[:7])  # SST-2 train sentences: kept, and counted
    (tmp_path / "en.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "ko.txt").write_text("\n".join(lines[:300]) + "\n", encoding="utf-8")
    cfg = settings(tmp_path, tmp_path / "en.txt", data_dir=str(shared_data))
    report = run_prepare(cfg, tokenizer)["en"]["report"]
    assert report["lines_read"] == 315 and report["lines_used"] == 307
    assert report["validation_lines_dropped"] == {**{t: 0 for t in found}, "glue/sst2": 5, "klue/ynat": 1, "klue/ner": 2}
    assert report["train_lines_kept"]["glue/sst2"] == 7 and "klue/ner" not in report["train_lines_kept"]
    chunks, manifest = prepare.load(cfg, "en")
    kept = [line for line in lines if line not in sst2.validation[:5] + ner.train[:2] and "  " not in line]
    expected = build_chunks([_lines(tmp_path / "kept.txt", kept)], tokenizer, SEQ_LEN, "--en-corpus")
    assert np.array_equal(chunks, expected)  # exactly the other lines, packed
    assert json.loads((tmp_path / "model.work" / "chunks" / "en.json").read_text())["report"] == report


def _lines(path: Path, lines: list) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_without_every_tasks_validation_text_nothing_is_prepared(tmp_path, tokenizer, shared_data):
    from harness.koenbert.corpus import CorpusError

    partial = tmp_path / "data"  # GLUE only: the KLUE tasks cannot be read
    partial.mkdir()
    (partial / "glue").symlink_to(shared_data / "glue")
    (tmp_path / "en.txt").write_text("a line .\n" * 500, encoding="utf-8")
    (tmp_path / "ko.txt").write_text("a line .\n" * 500, encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        run_prepare(settings(tmp_path, tmp_path / "en.txt", data_dir=str(partial)), tokenizer)
    message = str(caught.value)
    assert message.startswith(f"--data-dir {partial}: the validation text of 4 task(s) cannot be read (klue/ner: ")
    assert "point --data-dir at the KLUE/GLUE files" in message and "--data-dir hub" in message
    assert not (tmp_path / "model.work" / "chunks" / "ko.bin").exists()
