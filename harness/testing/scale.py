"""What a test or a benchmark measures preparation at scale with: a word-salad corpus and a resident-memory gauge.

Shared by tests/koenbert/test_prepare.py (which asserts memory per token) and benchmarks/koenbert_prepare.py
(which reports it), so that the test and the benchmark measure the same thing on the same text.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

PAGE = 4096  # bytes of a page in /proc/self/statm (Linux x86-64 and arm64)


def word_salad(path: Path, tokenizer, lines: int, seed: int = 0) -> None:
    """``lines`` lines of 24 whole English words of the tokenizer's vocabulary (one piece each; synthetic by look)."""
    words = np.array(sorted(w for w in tokenizer.get_vocab() if w.isascii() and w.isalpha() and len(w) >= 3))
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8") as f:
        for start in range(0, lines, 10_000):  # a block at a time: the text never sits in memory whole
            picks = words[rng.integers(0, len(words), size=(min(10_000, lines - start), 24))]
            f.write("\n".join(" ".join(row) for row in picks) + "\n")


def rss_bytes() -> int:
    """This process's resident memory now."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE


class PeakRSS:
    """Resident memory sampled every ``interval_s`` while the block runs: its start, its peak and the growth.

    RSS counts what tracemalloc cannot see (the Rust tokenizer's encodings, numpy's and the allocator's own
    pages); ru_maxrss would also hold the peak of what came before the block. A spike shorter than the
    interval is missed."""

    def __init__(self, interval_s: float = 0.001):
        self.interval_s = interval_s

    def __enter__(self) -> "PeakRSS":
        self.start = self.peak = rss_bytes()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, rss_bytes())

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.interval_s)

    @property
    def growth(self) -> int:
        return self.peak - self.start
