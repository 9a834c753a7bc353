"""The public entry point: ``load(spec)``, then the checks of the scored split, the fingerprint and ``--limit``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Callable, Optional

from datasets import Dataset, DatasetDict
from rich.console import Console
from rich.text import Text

from harness.core import checked
from harness.tasks import carving, heads
from harness.tasks.data.hub_source import _load_hub
from harness.tasks.data.loaded import DataError, LoadedData
from harness.tasks.data.local_files import _load_local
from harness.tasks.spec import TaskSpec


def load(
    spec: TaskSpec,
    data_dir: Optional[Path] = None,
    train_split: Optional[str] = None,
    eval_split: Optional[str] = None,
    limit: Optional[int] = None,
    eval_limit: Optional[int] = None,
    *,
    allow_single_class: bool = False,
    warn: Optional[Callable[[str], None]] = None,
) -> LoadedData:
    """Train and validation of ``spec`` in the canonical schema, with their provenance.

    ``data_dir`` None reads the hub (``spec.dataset.hub``); otherwise the spec's local
    files under ``data_dir``. ``train_split``/``eval_split`` (the CLI's
    ``--train-split``/``--eval-split``) replace the spec's split expressions;
    ``limit``/``eval_limit`` (``--limit``/``--eval-limit``) then keep the first rows of each.

    A classification task whose scored split holds one label only is refused (any score
    on it is meaningless) unless ``allow_single_class``. Each warning goes to ``warn``
    (default: the console, on stderr) and into ``LoadedData.warnings``.
    """
    if data_dir is None:
        loaded = _load_hub(spec, train_split, eval_split)
    else:
        loaded = _load_local(spec, Path(data_dir), train_split, eval_split)
    loaded = _checked(first_rows(loaded, limit, eval_limit), spec, allow_single_class)
    for message in loaded.warnings:
        (warn or _print_warning)(f"{spec.id}: {message}")  # several tasks load in one run: each warning names its own
    return loaded


def _print_warning(message: str) -> None:
    Console(stderr=True, soft_wrap=True).print(Text(f"warning: {message}", style="yellow"))


def _checked(loaded: LoadedData, spec: TaskSpec, allow_single_class: bool) -> LoadedData:
    """Label counts, warnings about the scored split, the single-class refusal and the fingerprint."""
    train, scored = loaded.dataset["train"], loaded.dataset["validation"]
    kind = heads.get(spec.head).kind
    counts = {split: carving.label_counts(ds, kind, spec.dataset.labels) for split, ds in loaded.dataset.items()}
    counts = {split: c for split, c in counts.items() if c}
    where = loaded.splits[1]
    if kind == "label" and not allow_single_class:
        only = carving.single_class(counts["validation"])
        if only is not None:
            raise DataError(
                f"task {spec.id}: the scored split ({where}, {len(scored)} rows) holds only the label {checked.shorten(only)}, "
                "so its score would mean nothing; score on a split with several labels, or opt in with "
                "`bench run --allow-single-class` if that is what you want"
            )
    if kind == "value":
        _check_regression_scores(scored, spec, where)
    shared = carving.rows_also_in_train(train, scored, kind)
    warnings = [*loaded.warnings, *carving.scored_split_warnings(counts, shared, len(scored), where)]
    if kind == "label" and (only_train := carving.single_class(counts.get("train", {}))):
        warnings.append(f"the train split ({loaded.splits[0]}, {len(train)} rows) holds only the label "
                        f"{checked.shorten(only_train)}: the model can learn nothing but that label")
    loaded = dataclasses.replace(loaded, label_counts=counts, warnings=tuple(warnings))
    return dataclasses.replace(loaded, fingerprint=fingerprint(loaded))


def _check_regression_scores(scored: Dataset, spec: TaskSpec, where: str) -> None:
    """Pearson and Spearman need two rows and gold scores that vary: otherwise they are undefined, never 0.00."""
    gold = scored["label"]
    if len(gold) < 2:
        raise DataError(f"task {spec.id}: the scored split ({where}) has {len(gold)} row(s); a correlation needs at least 2 "
                        "(and far more to mean anything); score on a larger split (--eval-split, --eval-limit)")
    if min(gold) == max(gold):
        raise DataError(f"task {spec.id}: every gold score of the scored split ({where}, {len(gold)} rows) is {gold[0]:g}; "
                        "Pearson and Spearman of a constant are undefined; score on a split whose gold scores vary")


def fingerprint(loaded: LoadedData) -> str:
    """sha256 over everything that decides which rows were loaded: equal fingerprints, equal data."""
    payload = {
        "source": loaded.source,
        "files": [[f.path, f.sha256] for f in loaded.files],
        "hub_revision": loaded.hub_revision,
        "splits": list(loaded.splits),
        "carve": carving.CARVE_METHOD if loaded.carved else None,
        "note": loaded.note,  # --limit and --eval-limit are said here
        "rows": [loaded.train_examples, loaded.validation_examples],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def first_rows(loaded: LoadedData, limit: Optional[int], eval_limit: Optional[int]) -> LoadedData:
    """The first ``limit`` train and ``eval_limit`` validation rows, after the task's own carve (a smoke run).

    One row count fits every task, where a split expression like 'train[:64]' names a split some
    tasks do not have. The note says what was kept, so the run key and the record differ from a full run.
    """
    dataset, notes = DatasetDict(loaded.dataset), [loaded.note] if loaded.note else []
    for split, n, flag in (("train", limit, "--limit"), ("validation", eval_limit, "--eval-limit")):
        if n is None:
            continue
        if n < 1:
            raise DataError(f"{flag} {n}: give 1 or more rows")
        kept = min(n, len(dataset[split]))
        dataset[split] = dataset[split].select(range(kept))
        notes.append(f"{flag} {n}: the first {kept} of {len(loaded.dataset[split])} {split} rows")
    if len(notes) == (1 if loaded.note else 0):
        return loaded
    return dataclasses.replace(loaded, dataset=dataset, train_examples=len(dataset["train"]),
                               validation_examples=len(dataset["validation"]), note="; ".join(notes))


def limit_deviations(limit: Optional[int], eval_limit: Optional[int]) -> list[str]:
    """The protocol deviation of a smoke run, in words; [] for a full run."""
    parts = []
    if limit is not None:
        parts.append(f"trained on at most the first {limit} train rows (--limit {limit})")
    if eval_limit is not None:
        parts.append(f"scored on at most the first {eval_limit} validation rows (--eval-limit {eval_limit})")
    return [f"smoke run: {'; '.join(parts)}, not the task's full splits"] if parts else []
