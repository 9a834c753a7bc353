"""Split expressions ("validation[80%:]" -> which rows of which split), and what both sources (the hub, local
files) do with them: carve one split in two (``harness.tasks.carving``), say how, check that rows were selected."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from datasets import Dataset, DatasetDict

from harness.tasks import carving, heads
from harness.tasks.data.loaded import DataError
from harness.tasks.spec import TaskSpec


_SPLIT_RE = re.compile(r"^(?P<split>[\w.-]+)(?:\[(?P<start>-?\d+%?)?:(?P<stop>-?\d+%?)?\])?$")


@dataclass(frozen=True)
class SplitExpr:
    """A split name and an optional half-open slice [start:stop), in rows or in percent."""

    split: str
    start: Optional[int] = None
    stop: Optional[int] = None
    percent: bool = False

    def bounds(self, num_rows: int) -> tuple[int, int]:
        """The [start, stop) row range on a split of ``num_rows`` rows, as ``datasets`` computes it."""

        def absolute(bound: Optional[int], default: int) -> int:
            if bound is None:
                return default
            if self.percent:
                # datasets' default "closest" rounding; Python's round() is the one it uses
                bound = int(round(bound * num_rows / 100.0))
            if bound < 0:  # counted from the end, like a Python slice
                bound = max(num_rows + bound, 0)
            return min(bound, num_rows)

        return absolute(self.start, 0), absolute(self.stop, num_rows)

    @property
    def is_whole(self) -> bool:
        return self.start is None and self.stop is None

    def __str__(self) -> str:
        if self.is_whole:
            return self.split
        unit = "%" if self.percent else ""
        start = "" if self.start is None else f"{self.start}{unit}"
        stop = "" if self.stop is None else f"{self.stop}{unit}"
        return f"{self.split}[{start}:{stop}]"


def parse_split(expr: str) -> SplitExpr:
    """``"validation[:80%]"`` -> ``SplitExpr("validation", None, 80, percent=True)``."""
    match = _SPLIT_RE.match(expr.strip())
    if not match:
        raise DataError(
            f"split expression {expr!r} is not understood; write a split name with an optional slice, "
            "e.g. 'train', 'validation[:80%]', 'train[:1000]', 'validation[80%:]', 'train[10%:20%]'"
        )
    start, stop = match["start"], match["stop"]
    units = {b.endswith("%") for b in (start, stop) if b}
    if len(units) > 1:
        raise DataError(f"split expression {expr!r} mixes percent and row counts; use one unit for both ends")
    percent = units == {True}
    values = [None if b is None else int(b.rstrip("%")) for b in (start, stop)]
    if percent and any(v is not None and not -100 <= v <= 100 for v in values):
        raise DataError(f"split expression {expr!r}: a percent boundary lies between -100% and 100%")
    return SplitExpr(match["split"], values[0], values[1], percent)


def select_split(dataset: Dataset, expr: SplitExpr) -> Dataset:
    """The rows ``expr`` names: one contiguous range, in file order, so every run sees the same rows."""
    if expr.is_whole:
        return dataset
    start, stop = expr.bounds(len(dataset))
    if stop <= start:  # an empty slice; datasets' select rejects a range that starts at the end
        return dataset.select([])
    return dataset.select(range(start, stop))


def _splits_note(train: SplitExpr, train_from: str, evaluation: SplitExpr, eval_from: str, carved: bool,
                 strata: Optional[str]) -> Optional[str]:
    """Say how train and validation were made, unless they are two whole, different splits."""
    if train.is_whole and evaluation.is_whole and (train.split, train_from) != (evaluation.split, eval_from):
        return None
    note = f"train = {train} of {train_from}; scored on {evaluation}"
    if eval_from != train_from:
        note += f" of {eval_from}"
    if carved:
        note += f" ({f'stratified by {strata}, ' if strata else ''}after a seeded shuffle: {carving.CARVE_METHOD})"
    return note


def _shared_rows_warning(train: SplitExpr, evaluation: SplitExpr, num_rows: int) -> list[str]:
    """Two slices of one split that overlap: a user may want this for a smoke test, but the score then measures memory."""
    (a, b), (c, d) = train.bounds(num_rows), evaluation.bounds(num_rows)
    shared = max(0, min(b, d) - max(a, c))
    return [f"train ({train}) and the scored split ({evaluation}) share {shared} rows"] if shared else []


def _carve(whole: Dataset, spec: TaskSpec, train: SplitExpr, evaluation: SplitExpr) -> tuple[Dataset, Dataset]:
    """Both sides of a spec's own carve of one split, sliced from its seeded (stratified) order."""
    column = heads.get(spec.head).carve_strata
    strata = carving.column_values(whole, column)[0] if column else None
    order = carving.carve_order(len(whole), strata)
    sides = []
    for expr in (train, evaluation):
        start, stop = expr.bounds(len(whole))
        sides.append(whole.select(order[start:stop]))
    return sides[0], sides[1]


def _is_carve(train: SplitExpr, evaluation: SplitExpr, overridden: bool) -> bool:
    """The spec's own split expressions cut one split in two: carve it, rather than take file order."""
    return not overridden and train.split == evaluation.split and not (train.is_whole and evaluation.is_whole)


def _check_nonempty(dataset: DatasetDict, where: dict[str, str]) -> None:
    for split, ds in dataset.items():
        if len(ds) == 0:
            raise DataError(f"{split} split {where[split]} selects no rows; widen the slice")
