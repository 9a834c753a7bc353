"""Carving train and validation out of one split, and checking what the scored split holds.

A task whose data has one labelled file (KLUE-NLI, KLUE-NER and QNLI offline) names both
of its splits in that file: ``validation[:80%]`` and ``validation[80%:]``. Taken in file
order, a file sorted by label puts one class on each side. ``carve_order`` instead
gives the rows one fixed order in which every prefix holds each class in (nearly) the
proportion of the whole file, so any ``[a%:b%]`` slice of it is stratified and the slices
stay disjoint.

The order is hand-written rather than taken from scikit-learn's ``train_test_split``:
one permutation serves every slice of the same file (``[:80%]``, ``[80%:]``, ``[10%:20%]``),
and it depends only on SHA-256 and integer arithmetic, so it is the same on every
machine and every version of numpy (a test pins it).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from fractions import Fraction
from typing import Hashable, Optional, Sequence

from datasets import Dataset

CARVE_SEED = 0
CARVE_METHOD = "stratified shuffle v1, seed 0"  # part of every carved load's fingerprint: a new method reruns


def _row_key(seed: int, row: int) -> bytes:
    return hashlib.sha256(f"{seed}:{row}".encode()).digest()[:8]


def carve_order(num_rows: int, strata: Optional[Sequence[Hashable]] = None, seed: int = CARVE_SEED) -> list[int]:
    """A seeded permutation of ``range(num_rows)``; with ``strata``, every prefix is stratified by it.

    Rows of each stratum are shuffled by a hash of (seed, row), then spread evenly: the
    k-th of a stratum's m rows sits at position (k + 1/2) / m of the whole order. A prefix
    of any length n then holds n * m / num_rows rows of that stratum, to within one.
    Positions are exact fractions, not floats, so no rounding differs between machines.
    """
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for row in range(num_rows):
        groups[strata[row] if strata is not None else None].append(row)
    placed = []
    for members in groups.values():
        members.sort(key=lambda row: _row_key(seed, row))
        size = len(members)
        for rank, row in enumerate(members):
            placed.append((Fraction(2 * rank + 1, 2 * size), _row_key(seed, row), row))
    placed.sort()
    return [row for _, _, row in placed]


def column_values(dataset: Dataset, *names: str) -> list[list]:
    """Whole columns as Python lists, in one batch (iterating ``dataset[name]`` row by row is ~100x slower)."""
    batch = dataset.select_columns(list(names))[:]
    return [batch[name] for name in names]


def label_counts(dataset: Dataset, kind: str, labels: Optional[Sequence[str]]) -> dict[str, int]:
    """Rows per label (``kind`` label) or tokens per tag (tags), every label listed; {} for values (heads.Head.kind)."""
    if labels is None or kind == "value":
        return {}
    if kind == "tags":
        counts = Counter(tag for tags in column_values(dataset, "tags")[0] for tag in tags)
    else:
        counts = Counter(column_values(dataset, "label")[0])
    return {name: counts.get(index, 0) for index, name in enumerate(labels)}


def _row_texts(dataset: Dataset, kind: str) -> list[tuple]:
    if kind == "tags":
        return [tuple(tokens) for tokens in column_values(dataset, "tokens")[0]]
    names = ["text_a", "text_b"] if "text_b" in dataset.column_names else ["text_a"]
    return list(zip(*column_values(dataset, *names)))


def rows_also_in_train(train: Dataset, scored: Dataset, kind: str) -> int:
    """Scored rows whose text (both sentences of a pair; all tokens) appears exactly in train."""
    seen = set(_row_texts(train, kind))
    return sum(text in seen for text in _row_texts(scored, kind))


def scored_split_warnings(counts: dict[str, dict[str, int]], shared: int, scored_rows: int, where: str) -> list[str]:
    """What a reader of the score must know about the scored split: labels it lacks, rows it shares with train."""
    warnings = []
    missing = [name for name, n in counts.get("validation", {}).items() if n == 0]
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        warnings.append(f"the scored split ({where}) has no rows labelled {shown}; its score says nothing about them")
    if shared:
        warnings.append(f"{shared} of {scored_rows} scored rows ({where}) also appear in train with the same text; "
                        "the score partly measures memory")
    return warnings


def single_class(counts: dict[str, int]) -> Optional[str]:
    """The one label a scored split holds, when it holds only one."""
    present = [name for name, n in counts.items() if n > 0]
    return present[0] if len(present) == 1 else None


__all__ = ["CARVE_METHOD", "CARVE_SEED", "carve_order", "column_values", "label_counts", "rows_also_in_train", "scored_split_warnings",
           "single_class"]
