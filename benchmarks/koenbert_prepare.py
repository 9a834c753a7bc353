"""How fast `bench koenbert distill` prepares its corpora, and in how much memory (harness/koenbert/prepare.py).

English: synthetic word salad (24 whole words of bert-base-uncased's vocabulary a line, one piece each),
as many lines as --lines; Korean: the shared KLUE raw sentences (real text). Both are prepared as a run's first
step would prepare them: screened against the eight tasks' validation text, cut by the student's tokenizer (here
all-MiniLM-L6-v2's, bert-base-uncased's vocabulary), packed into chunks of --seq-len, written as uint16.

    python benchmarks/koenbert_prepare.py --lines 2000000 --work /tmp/koenbert-prepare

Prints one JSON object: tokens, seconds, tokens/s, the process's resident memory before preparing and its peak
while preparing (sampled every 5 ms), and the bytes a token of the chunk file. Run it under `/usr/bin/time -v` for the whole process.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
from pathlib import Path


REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def korean(path: Path, data_dir: Path) -> None:
    with open(data_dir / "raw/ko/train-raw-sent.tsv", encoding="utf-8", newline="") as f:
        rows = [r[1] for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if len(r) >= 2 and r[1].strip()]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    from transformers import AutoTokenizer

    from harness.core.paths import SHARED_DATA
    from harness.koenbert import prepare
    from harness.koenbert.corpus import corpus_files
    from harness.koenbert.settings import DistillConfig
    from harness.testing import tiny
    from harness.testing.scale import PeakRSS, word_salad

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000, help="English lines of 24 words (~25 tokens each)")
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--work", type=Path, required=True, help="where the corpora and the chunk files go")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA, help="the eight tasks' data (the screen)")
    args = parser.parse_args(argv)

    args.work.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(tiny.minilm_dir())
    word_salad(args.work / "en.txt", tokenizer, args.lines)
    korean(args.work / "ko.txt", args.data_dir)
    cfg = DistillConfig(student="fixture/student", ko_teacher="fixture/ko", en_teacher="fixture/en",
                        ko_corpus=[str(args.work / "ko.txt")], en_corpus=[str(args.work / "en.txt")],
                        out=str(args.work / "model"), data_dir=str(args.data_dir), seq_len=args.seq_len, batch_size=64,
                        steps=(args.lines * 26 // args.seq_len) // 32 + 100)  # a budget beyond the English text
    files = {lang: corpus_files(getattr(cfg, f"{lang}_corpus"), f"--{lang}-corpus") for lang in ("ko", "en")}
    started = time.perf_counter()
    prepare.screened_tasks(args.data_dir)
    screen_s = time.perf_counter() - started
    for stale in (args.work / "model.work" / "chunks").glob("*"):
        stale.unlink()
    started = time.perf_counter()
    with PeakRSS(interval_s=0.005) as rss:
        manifests = prepare.prepare(cfg, files, {lang: ("fixture/student@0", lambda: tokenizer) for lang in files},
                                    tokenizer, processes=1, resuming=False,
                                    log=lambda message: print(message, file=sys.stderr))
    seconds = time.perf_counter() - started
    before, peak = rss.start, rss.peak
    tokens = {lang: m["chunks"] * m["seq_len"] for lang, m in manifests.items()}
    data = {lang: prepare.cache_paths(prepare.work_dir(cfg), lang)[0].stat().st_size for lang in manifests}
    print(json.dumps({
        "tokens": tokens, "seconds": round(seconds, 1), "tokens_per_s": round(sum(tokens.values()) / seconds),
        "screen_index_s": round(screen_s, 1), "rss_before_prepare_mib": round(before / 2**20, 1),
        "peak_rss_while_preparing_mib": round(peak / 2**20, 1),
        "peak_rss_of_the_process_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10, 1),
        "peak_above_before_bytes_per_token": round((peak - before) / sum(tokens.values()), 3),
        "file_bytes_per_token": {lang: data[lang] / tokens[lang] for lang in data},
        "reports": {lang: m["report"] for lang, m in manifests.items()},
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
