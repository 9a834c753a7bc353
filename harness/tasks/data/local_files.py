"""A task's local files (``dataset.local``) under ``--data-dir``: read once, carved, converted to the canonical schema."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Optional

from datasets import Dataset, DatasetDict

from harness.core import checked
from harness.tasks import heads
from harness.tasks.data.canonical import _canonical, _lookup
from harness.tasks.data.loaded import DataError, FileDigest, LoadedData, _spec_file
from harness.tasks.data.readers import READERS
from harness.tasks.data.splits import (_carve, _check_nonempty, _is_carve, _shared_rows_warning, _splits_note,
                                       parse_split, select_split)
from harness.tasks.spec import TaskSpec


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
