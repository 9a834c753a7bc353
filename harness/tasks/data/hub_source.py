"""A task's hub dataset (``dataset.hub``): resolved once to a snapshot, read by ``datasets``, its labels mapped by name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import datasets
from datasets import ClassLabel, Dataset, DatasetDict, Features

from harness.core import checked, hub
from harness.core.paths import SHARED_DATA
from harness.tasks import heads
from harness.tasks.data.canonical import _canonical, _lookup
from harness.tasks.data.loaded import DataError, DataUnavailable, LoadedData, _spec_file
from harness.tasks.data.splits import (_carve, _check_nonempty, _is_carve, _shared_rows_warning, _splits_note,
                                       parse_split, select_split)
from harness.tasks.spec import TaskSpec


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
