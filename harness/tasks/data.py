"""One canonical DatasetDict per task, from the hub or from local files, with its fingerprint.

``load(spec)`` returns ``train`` and ``validation`` in one schema per head, whatever
the source:

- sentence tasks: ``text_a`` (str), ``text_b`` (str, only when the spec maps it),
  ``label`` (int index into ``spec.dataset.labels``; float for regression)
- token tasks: ``tokens`` (list of str; KLUE-NER: characters, spaces included, as in
  the official file) and ``tags`` (list of int indexes into ``spec.dataset.labels``)

and what a record needs to say where they came from: the sha256 of every local file
read (named relative to ``--data-dir``) or the hub dataset's commit, one ``fingerprint``
over all of it, the label counts of both sides, and warnings about the scored split.

Labels are mapped by NAME, never by position: the hub's ClassLabel ints become names
through the dataset's features, a local file's raw values go through the spec's
``label_map`` (if any), and the name is then looked up in the spec's label list. The
hub and KLUE-baseline order the NLI and NER labels differently, so position would be
silently wrong.

A split expression is a split name with an optional slice, the same grammar and
rounding as ``datasets``' split slicing: ``train``, ``validation[:80%]``,
``train[:1000]``, ``validation[80%:]``, ``train[10%:20%]``. When a task's own spec
carves train and validation out of one split, the slices are taken from a seeded,
stratified order of its rows (``harness.tasks.carving``), never from file order. A user's
``--train-split``/``--eval-split`` keeps the ``datasets`` meaning: rows in file order.

Local files are read through ``harness.core.checked``: their paths must stay inside
``--data-dir``, and a file that is missing, not UTF-8 or not parseable is named
(relative to ``--data-dir``) in the error, which never quotes its content.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import math
import os
import posixpath
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import datasets
from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value
from rich.console import Console
from rich.text import Text

from harness.core import checked, hub
from harness.core.paths import SHARED_DATA
from harness.tasks import carving, heads
from harness.tasks.spec import LocalFile, TaskSpec

# GLUE and KLUE fields can be long (a whole news paragraph); csv's default cap is 128 KiB.
csv.field_size_limit(sys.maxsize)


class DataError(checked.InputError):
    """Data the user must fix or point at: the message names the file or dataset, the field and the fix."""


class DataUnavailable(DataError):
    """The hub could not be reached (offline, no network); the message says how to use local files."""


@dataclass(frozen=True)
class FileDigest:
    path: str  # relative to --data-dir, with '/' separators: the same on every machine
    sha256: str  # 64 hex digits over the file's bytes


@dataclass(frozen=True)
class LoadedData:
    dataset: DatasetDict  # keys "train" and "validation", canonical schema
    source: str  # "hub:klue/klue/ynat@<commit>" or "local" (the files are in `files`); goes into the record
    train_examples: int
    validation_examples: int
    note: Optional[str] = None  # how train/validation were carved or cut, when they were; None for the plain splits
    splits: tuple[str, str] = ("train", "validation")  # the split expressions read for train and for validation
    files: tuple[FileDigest, ...] = ()  # every local file read
    hub_revision: Optional[str] = None  # the commit of the hub dataset that was read
    fingerprint: str = ""  # sha256 over the files or hub commit, the splits and the carve: equal fingerprints, equal rows
    label_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> label -> rows (token tasks: tokens)
    warnings: tuple[str, ...] = ()  # for the console and the record: what a reader of the score must know
    carved: bool = False  # train and validation came from one split in a seeded, stratified order

# --------------------------------------------------------------------------------------
# Split expressions: "validation[80%:]" -> which rows of which split
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# The public entry point
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# The hub
# --------------------------------------------------------------------------------------


def _load_hub(spec: TaskSpec, train_split: Optional[str], eval_split: Optional[str]) -> LoadedData:
    source = spec.dataset.hub
    if source is None:
        raise DataError(
            f"task {spec.id} has no hub source ({_spec_file(spec)}: dataset.hub); "
            f"pass --data-dir DIR with its local files{_local_file_list(spec)}"
        )
    train_expr = parse_split(train_split or source.train)
    eval_expr = parse_split(eval_split or source.validation)
    name = f"{source.path}/{source.name}" if source.name else source.path
    raw, commit = _load_hub_dataset(spec)
    for expr in (train_expr, eval_expr):
        if expr.split not in raw:
            raise DataError(f"{name} has no split {expr.split!r} (asked for {str(expr)!r}); it has {', '.join(raw)}")
    carved = _is_carve(train_expr, eval_expr, overridden=bool(train_split or eval_split))
    if carved:  # stratifying needs the labels of the whole split
        whole = from_hub_dataset(raw[train_expr.split], spec, where=f"{name} {train_expr.split}")
        train, validation = _carve(whole, spec, train_expr, eval_expr)
    else:  # slice first, then convert: a quick run on train[:1000] should not convert 100k rows
        train = from_hub_dataset(select_split(raw[train_expr.split], train_expr), spec, where=f"{name} {train_expr}")
        validation = from_hub_dataset(select_split(raw[eval_expr.split], eval_expr), spec, where=f"{name} {eval_expr}")
    dataset = DatasetDict(train=train, validation=validation)
    _check_nonempty(dataset, {"train": f"{name} {train_expr}", "validation": f"{name} {eval_expr}"})
    same_split = train_expr.split == eval_expr.split
    return LoadedData(
        dataset=dataset,
        source=f"hub:{name}@{commit}",
        train_examples=len(train),
        validation_examples=len(validation),
        note=_splits_note(train_expr, name, eval_expr, name, carved, heads.get(spec.head).carve_strata),
        splits=(str(train_expr), str(eval_expr)),
        hub_revision=commit,
        warnings=tuple(_shared_rows_warning(train_expr, eval_expr, len(raw[train_expr.split])) if same_split else []),
        carved=carved,
    )


def _load_hub_dataset(spec: TaskSpec) -> tuple[DatasetDict, str]:
    """The hub dataset and the commit it was read at: resolved once to a snapshot of the hub cache
    (``hub.dataset_snapshot``), then read by ``datasets`` from that folder, as the repo lays it out."""
    hub_source = spec.dataset.hub
    name = f"{hub_source.path} (config {hub_source.name})" if hub_source.name else hub_source.path
    try:
        snap = hub.dataset_snapshot(hub_source.path, hub_source.name, hub_source.revision)
    except hub.HubUnavailable as err:
        raise DataUnavailable(f"{err}\nOr run without the hub: --data-dir DIR with the task's local files"
                              f"{_local_file_list(spec)}") from None
    try:
        return datasets.load_dataset(str(snap.folder), hub_source.name), snap.commit
    except Exception as err:  # a wrong config name, files the card names but the snapshot lacks: the spec or the cache
        raise DataError(
            f"could not load the hub dataset {name} at {snap.shown} ({_spec_file(spec)}: dataset.hub): "
            f"{type(err).__name__}: {_without_paths(str(err), snap.folder)}"
        ) from None


def _without_paths(message: str, folder: Path) -> str:
    """A library's message with the cache folder's absolute path cut out (messages end up in failure records)."""
    return message.replace(str(folder), "<snapshot>")


def _spec_file(spec: TaskSpec) -> str:
    """The task file as messages name it; they can end up in published failure records."""
    return checked.shown_path(spec.path) if spec.path else f"the spec of {spec.id}"


def _local_file_list(spec: TaskSpec) -> str:
    """': validation -> klue/ner/...tsv (e.g. the KLUE/GLUE files of ../shared/data: --data-dir ...)'."""
    local = spec.dataset.local
    if local is None:
        return f"; but {_spec_file(spec)} lists none: add a dataset.local section"
    files = ", ".join(f"{split} -> {f.path}" for split, f in local.files.items())
    shared = os.path.relpath(SHARED_DATA) if SHARED_DATA.anchor == Path.cwd().anchor else checked.shown_path(SHARED_DATA)
    hint = f" (e.g. the KLUE/GLUE files of {shared}: --data-dir {shared})" if SHARED_DATA.is_dir() else ""
    return f": {files}{hint}"


def from_hub_dataset(dataset: Dataset, spec: TaskSpec, where: str = "hub dataset") -> Dataset:
    """A hub Dataset -> the canonical schema, labels mapped by name through its ClassLabel features."""
    columns = spec.dataset.hub.columns
    data: dict[str, list] = {}
    class_names: Optional[list[str]] = None
    for canonical, path in columns.items():
        data[canonical] = _hub_column(dataset, path, where)
        if canonical in ("label", "tags"):
            class_names = _class_names(dataset.features, path)
    return _canonical(data, spec, where, class_names=class_names)


def _hub_column(dataset: Dataset, path: str, where: str) -> list:
    """A column by dotted path: 'labels.real-label' reads the struct column 'labels'."""
    if path in dataset.column_names:
        return dataset[path]
    top, _, rest = path.partition(".")
    if not rest or top not in dataset.column_names:
        raise DataError(f"{where}: no column {path!r}; it has {', '.join(dataset.column_names)} (fix dataset.hub.columns)")
    return [_lookup(row, rest, where, i) for i, row in enumerate(dataset[top])]


def _class_names(features: Features, path: str) -> Optional[list[str]]:
    """The names of a ClassLabel column (or of a list of ClassLabels), by dotted path; None if it is not one."""
    feature = _feature_at(features, path)
    while feature is not None and not isinstance(feature, ClassLabel) and hasattr(feature, "feature"):
        feature = feature.feature  # List(ClassLabel) / Sequence(ClassLabel): the tags of a token task
    return list(feature.names) if isinstance(feature, ClassLabel) else None


def _feature_at(feature: Any, path: str) -> Any:
    """The feature a dotted path reaches, found the way ``_lookup`` finds the value: a key that holds a dot wins
    ('meta.gold.label' may name the field 'gold.label' of the struct 'meta'); None where no struct leads there."""
    if not isinstance(feature, dict):  # a Json column holds objects, but its feature names no classes
        return None
    if path in feature:
        return feature[path]
    for i, char in enumerate(path):
        if char == "." and isinstance(feature.get(path[:i]), dict):
            return _feature_at(feature[path[:i]], path[i + 1 :])
    return None


# --------------------------------------------------------------------------------------
# Local files
# --------------------------------------------------------------------------------------


def _load_local(spec: TaskSpec, data_dir: Path, train_split: Optional[str], eval_split: Optional[str]) -> LoadedData:
    local = spec.dataset.local
    if local is None:
        raise DataError(f"task {spec.id} has no local files ({_spec_file(spec)}: dataset.local); run it without --data-dir to use the hub")
    if not data_dir.is_dir():
        raise DataError(f"--data-dir {data_dir}: no such folder")
    train_expr = parse_split(train_split or local.train)
    eval_expr = parse_split(eval_split or local.validation)
    for expr in (train_expr, eval_expr):
        if expr.split not in local.files:
            raise DataError(
                f"task {spec.id}: split {str(expr)!r} names {expr.split!r}, which has no file in "
                f"{_spec_file(spec)}: dataset.local.files (it has: {', '.join(local.files)})"
            )
    # Each file is read and converted once, even when train and validation are carved from it.
    read = {split: _read_local(spec, split, data_dir) for split in dict.fromkeys([train_expr.split, eval_expr.split])}
    whole = {split: ds for split, (ds, _) in read.items()}
    carved = _is_carve(train_expr, eval_expr, overridden=bool(train_split or eval_split))
    if carved:
        train, validation = _carve(whole[train_expr.split], spec, train_expr, eval_expr)
    else:
        train, validation = select_split(whole[train_expr.split], train_expr), select_split(whole[eval_expr.split], eval_expr)
    dataset = DatasetDict(train=train, validation=validation)
    train_file, eval_file = (read[expr.split][1].path for expr in (train_expr, eval_expr))
    _check_nonempty(dataset, {"train": f"{train_expr} of {train_file}", "validation": f"{eval_expr} of {eval_file}"})
    same_split = train_expr.split == eval_expr.split
    return LoadedData(
        dataset=dataset,
        source="local",
        train_examples=len(train),
        validation_examples=len(validation),
        note=_splits_note(train_expr, train_file, eval_expr, eval_file, carved, heads.get(spec.head).carve_strata),
        splits=(str(train_expr), str(eval_expr)),
        files=tuple(digest for _, digest in read.values()),
        warnings=tuple(_shared_rows_warning(train_expr, eval_expr, len(whole[train_expr.split])) if same_split else []),
        carved=carved,
    )


def read_local_file(spec: TaskSpec, split: str, data_dir: Path) -> Dataset:
    """The whole file of ``dataset.local.files.<split>`` in the canonical schema."""
    return _read_local(spec, split, data_dir)[0]


def read_records(path: Path, file: LocalFile, name: Optional[str] = None) -> list[dict]:
    """The rows of one file as ``file`` (a task's file entry: format and options) describes it, read as UTF-8
    through the checked path; ``name`` is how messages call it. Every reader of these formats goes through here:
    a task's local files, and koenbert's Korean text."""
    name = name or file.path
    return READERS[file.format](checked.read_text(path, name=name, error=DataError), name, file)


def _read_local(spec: TaskSpec, split: str, data_dir: Path) -> tuple[Dataset, FileDigest]:
    """A local file, read once through the checked path: its rows in the canonical schema and its digest."""
    file = spec.dataset.local.files[split]
    field = f"dataset.local.files.{split}.path"
    path = checked.relative_inside(Path(data_dir), file.path, field=f"{_spec_file(spec)}: {field}", error=DataError)
    name = posixpath.normpath(file.path.replace("\\", "/"))  # relative to --data-dir: what messages and records show
    if not path.is_file():
        raise DataError(f"{name}: file not found under --data-dir; task {spec.id} names it in {_spec_file(spec)}: {field}")
    raw = checked.read_bytes(path, name=name, error=DataError)
    text = checked.decode_utf8(raw, name=name, error=DataError)
    records = READERS[file.format](text, name, file)
    where = f"{name} (dataset.local.files.{split})"
    data = {canonical: [_lookup(r, column, where, i) for i, r in enumerate(records)] for canonical, column in file.columns.items()}
    dataset = _canonical(data, spec, where, label_map=file.label_map, label_map_field=f"dataset.local.files.{split}.label_map")
    return dataset, FileDigest(name, checked.sha256_hex(raw))


def _read_klue_json(text: str, name: str, file: LocalFile) -> list[dict]:
    """Official KLUE json: one list of example objects."""
    records = checked.parse_json(text, name=name, error=DataError)
    if not isinstance(records, list):
        raise DataError(f"{name}: a klue-json file holds a list of examples, got a JSON {type(records).__name__}")
    return records


def _read_jsonl(text: str, name: str, file: LocalFile) -> list[dict]:
    records = []
    for number, line in enumerate(io.StringIO(text, newline=""), 1):
        if line.strip():
            record = checked.parse_json(line.strip(), name=f"{name}:{number}", error=DataError)  # NaN refused, as everywhere
            if not isinstance(record, dict):
                raise DataError(f"{name}:{number}: a jsonl line holds one JSON object per example, got a JSON "
                                f"{type(record).__name__}")
            records.append(record)
    return records


def _read_klue_ner_tsv(text: str, name: str, file: LocalFile) -> list[dict]:
    """Official KLUE-NER char tsv -> {guid, sentence, tokens, tags} per sentence, tags as names.

    The file opens with '## ' comment lines; each sentence is a '## guid<TAB>marked sentence'
    line, then one 'char<TAB>TAG' line per character (a space is ' <TAB>O'), then a blank
    line. The header is the last '## ' line before the characters, since the comments
    come right before the first sentence's header with no blank line between.
    """
    records: list[dict] = []
    header: Optional[str] = None
    tokens: list[str] = []
    tags: list[str] = []

    def finish() -> None:
        nonlocal header, tokens, tags
        if tokens:
            guid, _, sentence = (header or "").partition("\t")
            records.append({"guid": guid, "sentence": sentence, "tokens": tokens, "tags": tags})
        header, tokens, tags = None, [], []

    for number, line in enumerate(io.StringIO(text, newline=""), 1):  # lines as a file opened with newline=""
        line = line.rstrip("\r\n")  # never strip more: ' \tO' is a space character
        if not line.strip():  # KLUE-baseline also accepts a lone tab as the blank line
            finish()
        elif line.startswith("## ") and not tokens:
            header = line[3:]
        else:
            parts = line.split("\t")
            if len(parts) != 2 or len(parts[0]) != 1 or header is None:
                found = "no '## guid<TAB>sentence' line before it" if header is None else (
                    f"{len(parts)} tab-separated field(s), the first {len(parts[0])} character(s) long")
                raise DataError(f"{name}:{number}: expected 'char<TAB>TAG' after a '## guid<TAB>sentence' line; found {found}")
            tokens.append(parts[0])
            tags.append(parts[1])
    finish()
    return records


def _read_conll(text: str, name: str, file: LocalFile) -> list[dict]:
    """CoNLL columns -> {tokens, tags} per sentence: one token a line, a blank line between sentences.

    The token is field ``token_column`` (default 0) and the tag field ``tag_column`` (default -1,
    the last), fields split by ``separator`` (default any run of spaces or tabs), as CoNLL-2003
    writes 'EU NNP B-NP B-ORG'. '-DOCSTART-' lines (document breaks) are skipped.
    """
    token_at = 0 if file.token_column is None else file.token_column
    tag_at = -1 if file.tag_column is None else file.tag_column
    records: list[dict] = []
    tokens: list[str] = []
    tags: list[str] = []
    for number, line in enumerate(io.StringIO(text, newline=""), 1):
        line = line.rstrip("\r\n")
        fields = line.split(file.separator) if file.separator else line.split()
        if not line.strip() or fields[0] == "-DOCSTART-":
            if tokens:
                records.append({"tokens": tokens, "tags": tags})
            tokens, tags = [], []
            continue
        token, tag = _conll_fields(fields, token_at, tag_at, f"{name}:{number}")
        tokens.append(token)
        tags.append(tag)
    if tokens:
        records.append({"tokens": tokens, "tags": tags})
    return records


def _conll_fields(fields: list[str], token_at: int, tag_at: int, where: str) -> tuple[str, str]:
    """(token, tag) of one CoNLL line. Both must be there, in two different fields: a line of one field has no tag,
    and is never read as a token that is its own tag. A token is kept exactly as written, spaces included (with an
    explicit separator a token may be ' ', as KLUE-NER writes a space); an empty token or tag is refused."""
    size = len(fields)
    if not (-size <= token_at < size and -size <= tag_at < size):
        raise DataError(f"{where}: {size} field(s), but token_column is {token_at} and tag_column {tag_at} "
                        f"(dataset.local.files.*: set them, or separator, to fit the file)")
    if token_at % size == tag_at % size:
        raise DataError(f"{where}: {size} field(s): a token with no tag (token_column {token_at} and tag_column {tag_at} "
                        "are the same field); every token line needs its tag, or set separator to fit the file")
    token, tag = fields[token_at], fields[tag_at]
    if token == "" or not tag.strip():
        raise DataError(f"{where}: an empty {'token' if token == '' else 'tag'}; every token line holds a token and its tag")
    return token, tag


def _read_glue_tsv(text: str, name: str, file: LocalFile) -> list[dict]:
    """GLUE tsv, read with quoting OFF: MRPC holds unbalanced '"', which csv's quoting would
    swallow together with the following rows (MRPC train must stay at 3,668 rows)."""
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE))
    return _rows_to_records(name, file, rows)


def _rows_to_records(name: str, file: LocalFile, rows: list[list[str]]) -> list[dict]:
    if file.header and not rows:
        raise DataError(f"{name}: the file is empty; header is true, so its first line names the columns")
    if file.header:
        names, rows, first = file.names or rows[0], rows[1:], 2
    elif file.names:
        names, first = file.names, 1
    else:
        raise DataError(f"{name}: header is false, so list the column names in the spec's 'names' field")
    records = []
    for number, row in enumerate(rows, first):
        if len(row) != len(names):
            raise DataError(f"{name}:{number}: {len(row)} fields, but the columns are {names}")
        records.append(dict(zip(names, row)))
    return records


def _read_delimited(sep: str) -> Callable[[str, str, LocalFile], list[dict]]:
    def read(text: str, name: str, file: LocalFile) -> list[dict]:
        """Generic csv/tsv with ordinary quoting (pandas writes these: YNAT's train file quotes fields)."""
        import pandas as pd

        if not file.header and not file.names:
            raise DataError(f"{name}: header is false, so list the column names in the spec's 'names' field")
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                header=0 if file.header else None,
                names=file.names,
                dtype=str,  # labels stay raw strings until mapped; regression scores are parsed below
                keep_default_na=False,  # a sentence reading "NA" or "null" is text, not a missing value
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:  # their messages give line numbers, not text
            raise DataError(f"{name}: not a readable {'csv' if sep == ',' else 'tsv'} file: {err}".rstrip()) from None
        if not isinstance(frame.index, pd.RangeIndex):
            # rows wider than the columns: pandas makes their first fields a row label, which to_dict drops,
            # so an unquoted 'Hello, world' would silently train on ' world'
            columns = list(frame.columns)
            raise DataError(
                f"{name}: {frame.index.nlevels + len(columns)} fields in a row, but the columns are {columns}; quote "
                f"each field that holds a {'comma' if sep == ',' else 'tab'}, or name every column in the spec's 'names'"
            )
        return frame.to_dict("records")

    return read


# Each reader gets a file's decoded text, its name for messages (relative to --data-dir) and its spec entry.
READERS: dict[str, Callable[[str, str, LocalFile], list[dict]]] = {
    "klue-json": _read_klue_json,
    "klue-ner-tsv": _read_klue_ner_tsv,
    "glue-tsv": _read_glue_tsv,
    "csv": _read_delimited(","),
    "tsv": _read_delimited("\t"),
    "jsonl": _read_jsonl,
    "conll": _read_conll,
}


# --------------------------------------------------------------------------------------
# Shared by every source: raw columns -> the canonical schema
# --------------------------------------------------------------------------------------


def _lookup(record: Any, path: str, where: str, row: int) -> Any:
    """``record[path]``, where a dotted path reaches into nested dicts ('labels.real-label').

    A key that itself holds a dot ('a.b') wins over the nested reading.
    """
    if isinstance(record, dict):
        if path in record:
            return record[path]
        for i, char in enumerate(path):
            if char == "." and isinstance(record.get(path[:i]), dict):
                return _lookup(record[path[:i]], path[i + 1 :], where, row)
    if isinstance(record, dict):  # the column names, shortened: a hostile file's keys could be anything
        keys = ", ".join(checked.shorten(str(k), 40).strip("'\"") for k in list(record)[:20])
    else:
        keys = f"no columns (a JSON {type(record).__name__}, not an object)"
    raise DataError(f"{where}, row {row}: no column {path!r}; the row has: {keys} (fix the spec's columns mapping)")


def _canonical(
    data: dict[str, list],
    spec: TaskSpec,
    where: str,
    *,
    class_names: Optional[Sequence[str]] = None,
    label_map: Optional[dict[str, str]] = None,
    label_map_field: Optional[str] = None,
) -> Dataset:
    """Raw mapped columns -> a Dataset with the canonical names, types and label indexes (as the head's kind has them)."""
    kind = heads.get(spec.head).kind
    if kind == "tags":
        to_index = _label_indexer(spec, where, class_names, label_map, label_map_field)
        out = {
            "tokens": [_tokens(t, where, i) for i, t in enumerate(data["tokens"])],
            "tags": [[to_index(tag, i) for tag in tags] for i, tags in enumerate(data["tags"])],
        }
        for i, (tokens, tags) in enumerate(zip(out["tokens"], out["tags"])):
            if len(tokens) != len(tags):
                raise DataError(f"{where}, row {i}: {len(tokens)} tokens but {len(tags)} tags")
        features = Features({"tokens": List(Value("string")), "tags": List(Value("int64"))})
        return Dataset.from_dict(out, features=features)

    out = {"text_a": [_text(v, where, i, "text_a") for i, v in enumerate(data["text_a"])]}
    features = {"text_a": Value("string")}
    if "text_b" in data:
        out["text_b"] = [_text(v, where, i, "text_b") for i, v in enumerate(data["text_b"])]
        features["text_b"] = Value("string")
    if kind == "value":
        # float64 keeps the gold score exact for Pearson/Spearman; cast to float32 for the loss
        out["label"] = [_score(v, where, i) for i, v in enumerate(data["label"])]
        features["label"] = Value("float64")
    else:
        to_index = _label_indexer(spec, where, class_names, label_map, label_map_field)
        out["label"] = [to_index(v, i) for i, v in enumerate(data["label"])]
        features["label"] = Value("int64")
    return Dataset.from_dict(out, features=Features(features))


def _label_indexer(
    spec: TaskSpec,
    where: str,
    class_names: Optional[Sequence[str]],
    label_map: Optional[dict[str, str]],
    label_map_field: Optional[str],
) -> Callable[[Any, int], int]:
    """raw label -> name (ClassLabel names, or label_map, or the raw text itself) -> index in spec labels."""
    labels = list(spec.dataset.labels)
    index = {name: i for i, name in enumerate(labels)}
    cache: dict[Any, int] = {}  # raw values repeat: look each one up once

    def to_index(raw: Any, row: int) -> int:
        key = (type(raw), raw)
        if key in cache:
            return cache[key]
        if class_names is not None and isinstance(raw, int) and not isinstance(raw, bool):
            if not 0 <= raw < len(class_names):
                raise DataError(
                    f"{where}, row {row}: label {raw} is not a class of this dataset (a split without gold labels, "
                    f"such as a test split?); its classes are {list(class_names)}"
                )
            name = class_names[raw]
        elif label_map is not None:
            if str(raw) not in label_map:
                raise DataError(
                    f"{where}, row {row}: label {checked.shorten(raw)} is not in the label_map of {_spec_file(spec)} ({label_map_field}); "
                    f"it maps {sorted(label_map)}"
                )
            name = label_map[str(raw)]
        else:
            name = str(raw)
        if name not in index:
            via = f" (raw value {checked.shorten(raw)})" if name != raw else ""
            fix = f", or add it to {label_map_field} to map it" if label_map_field else ""
            raise DataError(
                f"{where}, row {row}: label {checked.shorten(name)}{via} is not one of the task's labels {labels}; "
                f"check {_spec_file(spec)}: dataset.labels{fix}"
            )
        cache[key] = index[name]
        return cache[key]

    return to_index


def _text(value: Any, where: str, row: int, column: str) -> str:
    if not isinstance(value, str):
        raise DataError(f"{where}, row {row}: {column} is {checked.shorten(value)}, expected text")
    return value


def _tokens(value: Any, where: str, row: int) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(t, str) for t in value):
        raise DataError(f"{where}, row {row}: tokens must be a list of strings, got {checked.shorten(value)}")
    return list(value)


def _score(value: Any, where: str, row: int) -> float:
    try:
        score = float(value)
    except (TypeError, ValueError):
        score = math.nan
    if not math.isfinite(score):
        raise DataError(f"{where}, row {row}: the regression label {checked.shorten(value)} is not a number")
    return score


__all__ = [
    "DataError",
    "DataUnavailable",
    "FileDigest",
    "LoadedData",
    "SplitExpr",
    "fingerprint",
    "first_rows",
    "from_hub_dataset",
    "limit_deviations",
    "load",
    "parse_split",
    "read_local_file",
    "select_split",
]
