"""Per-example predictions of every seed, kept beside the result record, so scores can be resampled and paired.

One compressed ``.npz`` per (model, task) next to its record (``<suite>__<task>.predictions.npz``),
named with its sha256 by the record. Inside: every seed's predictions in the form the
metrics take (a class index or a value per example; for NER a tag per scored character,
sentence after sentence), the references, each example's position in the validation
split, and a fingerprint of that split's content. Two models' predictions are paired only
when the fingerprints match: then they scored the same examples in the same order.

numpy's npz rather than parquet: the arrays are plain numeric columns, numpy is already
here, and the file loads without pickle (``allow_pickle=False``). A few hundred kB per task.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Optional, Sequence

import numpy as np

from harness import bootstrap, files

FORMAT = "koenbench.predictions/1"
Kind = Literal["label", "value", "tags"]


class PredictionsError(ValueError):
    """A predictions file that is missing, altered, or not comparable; the message names the file and the fix."""


@dataclass
class TaskPredictions:
    """Every seed of one model on one task's validation split.

    ``predictions[i]`` is seed ``seeds[i]``'s: an array of n labels or values, or for
    ``tags`` a list of n tag lists (the scored characters of each sentence).
    """

    task_id: str
    kind: Kind
    validation_fingerprint: str
    seeds: list[int]
    references: Any
    predictions: list[Any]
    positions: Optional[np.ndarray] = None  # each example's row in the validation split; default 0..n-1
    labels: Optional[list[str]] = None
    binarize_threshold: Optional[float] = None
    _bootstrap: Optional[bootstrap.SeedPredictions] = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.positions is None:
            self.positions = np.arange(len(self.references))
        if len(self.seeds) != len(self.predictions):
            raise ValueError(f"{len(self.seeds)} seeds but {len(self.predictions)} predictions")
        for seed, predicted in zip(self.seeds, self.predictions):
            if len(predicted) != len(self.references):
                raise ValueError(f"seed {seed}: {len(predicted)} predictions for {len(self.references)} examples")

    def for_bootstrap(self) -> bootstrap.SeedPredictions:
        """The same object every call: it keeps the per-example statistics it builds (NER's cost seconds)."""
        if self._bootstrap is None:
            self._bootstrap = bootstrap.SeedPredictions(self.references, list(self.predictions), labels=self.labels,
                                                        binarize_threshold=self.binarize_threshold)
        return self._bootstrap

    def merge(self, other: "TaskPredictions") -> "TaskPredictions":
        """The seeds of both, on the same validation split (how per-seed files become the task's file)."""
        same = (other.task_id, other.kind, other.validation_fingerprint) == (self.task_id, self.kind, self.validation_fingerprint)
        if not same or not np.array_equal(self.positions, other.positions):
            raise ValueError(f"{self.task_id}: cannot merge predictions of different validation splits")
        clash = set(self.seeds) & set(other.seeds)
        if clash:
            raise ValueError(f"{self.task_id}: seeds {sorted(clash)} twice")
        return TaskPredictions(self.task_id, self.kind, self.validation_fingerprint, self.seeds + other.seeds,
                               self.references, self.predictions + other.predictions, self.positions, self.labels,
                               self.binarize_threshold)


def validation_fingerprint(rows: Iterable[dict[str, Any]]) -> str:
    """sha256 of the validation split's content, row after row: equal only for the same examples in the same order.

    Built from the canonical rows (text, tokens, label), not from file paths or hub
    caches, so the same split read on another machine, from the hub or from files, matches.
    """
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def kind_of(head: str) -> Kind:
    return {"sequence-classification": "label", "regression": "value", "token-classification": "tags"}[head]


def _flat(sentences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(sentences) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(s) for s in sentences])
    flat = np.fromiter((t for s in sentences for t in s), dtype=np.int16, count=int(offsets[-1]))
    return flat, offsets


def _unflat(flat: np.ndarray, offsets: np.ndarray) -> list[list[int]]:
    return [flat[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]


def _arrays(p: TaskPredictions) -> dict[str, np.ndarray]:
    meta = {"format": FORMAT, "task": p.task_id, "kind": p.kind, "validation_fingerprint": p.validation_fingerprint,
            "labels": p.labels, "binarize_threshold": p.binarize_threshold}
    arrays = {"meta": np.array(json.dumps(meta, ensure_ascii=False)), "seeds": np.array(p.seeds, dtype=np.int64),
              "positions": np.asarray(p.positions, dtype=np.int64)}
    if p.kind == "tags":
        arrays["references"], arrays["offsets"] = _flat(p.references)
        arrays["predictions"] = np.stack([_flat(s)[0] for s in p.predictions]) if p.predictions else np.zeros((0, 0))
    else:
        dtype = np.float64 if p.kind == "value" else np.int32
        arrays["references"] = np.asarray(p.references, dtype=dtype)
        arrays["predictions"] = np.asarray(p.predictions, dtype=dtype).reshape(len(p.seeds), -1)
    return arrays


def save(path: Path, predictions: TaskPredictions) -> str:
    """Write the file (atomically) and return its sha256, which the record keeps."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **_arrays(predictions))
    payload = buffer.getvalue()
    files.write(Path(path), payload)
    return hashlib.sha256(payload).hexdigest()


def load(path: Path, sha256: Optional[str] = None) -> TaskPredictions:
    """Read a predictions file; with ``sha256``, refuse a file that is not the one the record names."""
    path = Path(path)
    try:
        payload = path.read_bytes()
    except OSError as err:
        raise PredictionsError(f"{path}: cannot read the predictions file ({err.strerror}); rerun the task with "
                               f"`bench run --force` to write it") from None
    if sha256 is not None and hashlib.sha256(payload).hexdigest() != sha256:
        raise PredictionsError(f"{path}: its sha256 is not the one its record names; the file was changed or "
                               f"belongs to another run; rerun the task with `bench run --force`")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
        meta = json.loads(str(arrays["meta"]))
    except (ValueError, KeyError, OSError) as err:
        raise PredictionsError(f"{path}: not a koenbench predictions file ({err})") from None
    if meta.get("format") != FORMAT:
        raise PredictionsError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    try:
        kept = _from_arrays(meta, arrays)
        kept.for_bootstrap()  # refuses NaN or infinite predictions, before any interval is made of them
    except ValueError as err:
        raise PredictionsError(f"{path}: {err}; rerun the task with `bench run --force`") from None
    return kept


def _from_arrays(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> TaskPredictions:
    if meta["kind"] == "tags":
        references = _unflat(arrays["references"], arrays["offsets"])
        predicted = [_unflat(row, arrays["offsets"]) for row in arrays["predictions"]]
    else:
        references, predicted = arrays["references"], list(arrays["predictions"])
    return TaskPredictions(meta["task"], meta["kind"], meta["validation_fingerprint"], arrays["seeds"].tolist(),
                           references, predicted, arrays["positions"], meta.get("labels"), meta.get("binarize_threshold"))


def file_for(record_path: Path) -> Path:
    """Where a record's predictions go: ``klue__ner.json`` -> ``klue__ner.predictions.npz``, same folder."""
    return Path(record_path).with_suffix(".predictions.npz")


def for_record(record_path: Path, reference: Any) -> Optional[TaskPredictions]:
    """The predictions a record names (its ``predictions`` field: path beside it and sha256); None when it names none."""
    if reference is None:
        return None
    return load(Path(record_path).parent / reference.path, reference.sha256)


# ---------------------------------------------------------------------------------------------
# what `bench run` does with them: one file per seed beside the seed cache, one per record


def split_fingerprint(columns: dict[str, list]) -> str:
    """``validation_fingerprint`` of a split given as columns (``datasets.Dataset.to_dict()``)."""
    names = sorted(columns)
    return validation_fingerprint(dict(zip(names, row)) for row in zip(*(columns[n] for n in names)))


def seed_file(seed_cache: Path) -> Path:
    """A seed's predictions beside its cached result: ``<key>-seed42.json`` -> ``<key>-seed42.predictions.npz``."""
    return Path(seed_cache).with_suffix(".predictions.npz")


def keep_seed(seed_cache: Path, spec, validation_columns: dict[str, list], result) -> bool:
    """Write a seed's predictions (``result._predictions``, set by finetune) beside its cached result; False if it has none."""
    if result._predictions is None:
        return False
    predicted, references = result._predictions
    kept = TaskPredictions(spec.id, kind_of(spec.head), split_fingerprint(validation_columns), [result.seed], references,
                           [predicted], labels=list(spec.dataset.labels) if spec.dataset.labels else None,
                           binarize_threshold=spec.metrics.binarize_threshold)
    save(seed_file(seed_cache), kept)
    return True


def gather(seed_files: Sequence[Path], record_path: Path) -> Optional[tuple[str, str]]:
    """Merge the seeds' files into the record's; (file name beside the record, sha256), or None if a seed has none.

    A seed cached before predictions were kept has no file; its record then names none
    (no interval, no comparison) rather than an interval over some of its seeds.
    """
    if not seed_files or not all(Path(f).exists() for f in seed_files):
        Path(file_for(record_path)).unlink(missing_ok=True)  # an older run's file would not match the new record
        return None
    merged = load(seed_files[0])
    for path in seed_files[1:]:
        merged = merged.merge(load(path))
    target = file_for(record_path)
    return target.name, save(target, merged)

