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
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from harness.core import files
from harness.stats import bootstrap
from harness.tasks import heads, metrics
from harness.tasks.metrics import Kind

FORMAT = "koenbench.predictions/1"


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
    """Read a predictions file; with ``sha256``, refuse a file that is not the one the record names.

    Every array is checked before it is used (``_checked``): a file cut short, missing a field, or holding
    NaN, out-of-range labels or offsets that do not fit is a PredictionsError naming the file, never a crash.
    """
    path = Path(path)
    try:
        payload = path.read_bytes()
    except OSError as err:
        raise PredictionsError(f"{path}: cannot read the predictions file ({err.strerror}); {RERUN}") from None
    if sha256 is not None and hashlib.sha256(payload).hexdigest() != sha256:
        raise PredictionsError(f"{path}: its sha256 is not the one its record names; the file was changed or "
                               f"belongs to another run; {RERUN}")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
        meta = json.loads(str(arrays["meta"]))
    except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise PredictionsError(f"{path}: not a koenbench predictions file ({type(err).__name__}: {err}); {RERUN}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise PredictionsError(f"{path}: format {found!r}, expected {FORMAT!r}")
    try:
        kept = _checked(meta, arrays)
        kept.for_bootstrap()  # the bootstrap's own checks too, before any interval is made of them
    except ValueError as err:  # _Invalid, or the bootstrap's refusal
        raise PredictionsError(f"{path}: {err}; {RERUN}") from None
    return kept


RERUN = "rerun the task with `bench run --force` to write it again"
TOLERANCE = 0.005  # points: a seed's score recomputed from its predictions equals the record's to the 4 decimals kept


class _Invalid(ValueError):
    pass


def _array(arrays: dict[str, np.ndarray], name: str, ndim: int, integer: bool) -> np.ndarray:
    if name not in arrays:
        raise _Invalid(f"no {name!r} array")
    found = arrays[name]
    if found.ndim != ndim:
        raise _Invalid(f"{name!r} has {found.ndim} dimension(s), expected {ndim}")
    if integer and found.size and not np.issubdtype(found.dtype, np.integer):
        raise _Invalid(f"{name!r} holds {found.dtype}, expected integers")
    if not integer and not (np.issubdtype(found.dtype, np.number) and not np.issubdtype(found.dtype, np.complexfloating)):
        raise _Invalid(f"{name!r} holds {found.dtype}, expected numbers")
    return found


def _in_range(name: str, values: np.ndarray, labels: Optional[list[str]]) -> None:
    high = len(labels) if labels else np.iinfo(np.int16).max + 1
    if values.size and (values.min() < 0 or values.max() >= high):
        raise _Invalid(f"{name!r} holds class indexes outside 0..{high - 1}" + (f" (the {high} labels)" if labels else ""))


def _meta(meta: dict[str, Any]) -> tuple[str, str, str, Optional[list[str]], Optional[float]]:
    kind, task, fingerprint = meta.get("kind"), meta.get("task"), meta.get("validation_fingerprint")
    labels, threshold = meta.get("labels"), meta.get("binarize_threshold")
    if kind not in ("label", "value", "tags"):
        raise _Invalid(f"kind {kind!r}, expected 'label', 'value' or 'tags'")
    if not isinstance(task, str) or not isinstance(fingerprint, str):
        raise _Invalid("no task id or validation fingerprint in its meta")
    if labels is not None and not (isinstance(labels, list) and labels and all(isinstance(x, str) for x in labels)):
        raise _Invalid("labels is not a list of label names")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                  or not np.isfinite(threshold)):
        raise _Invalid("binarize_threshold is not a number")
    return kind, task, fingerprint, labels, threshold


def _checked(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> TaskPredictions:
    """The file's arrays as TaskPredictions, every shape, type, offset and label checked first (NaN and infinity are
    refused by ``bootstrap.SeedPredictions``, which ``load`` builds next, saying where they are)."""
    kind, task, fingerprint, labels, threshold = _meta(meta)
    seeds = _array(arrays, "seeds", 1, integer=True)
    if seeds.size == 0 or len(set(seeds.tolist())) != seeds.size:
        raise _Invalid(f"seeds {seeds.tolist()} are empty or repeat a seed")
    references = _array(arrays, "references", 1, integer=kind != "value")
    predicted = _array(arrays, "predictions", 2, integer=kind != "value")
    if predicted.shape != (seeds.size, references.size):
        raise _Invalid(f"predictions have shape {predicted.shape}, expected {(seeds.size, references.size)} "
                       "(one row per seed, one value per reference)")
    if kind != "value":
        _in_range("references", references, labels)
        _in_range("predictions", predicted, labels)
    examples = references.size
    if kind == "tags":
        offsets = _array(arrays, "offsets", 1, integer=True)
        if offsets.size < 2 or offsets[0] != 0 or offsets[-1] != references.size or np.any(np.diff(offsets) < 0):
            raise _Invalid(f"offsets do not cut the {references.size} tags into sentences (from 0, rising, to the end)")
        examples = offsets.size - 1
    positions = _array(arrays, "positions", 1, integer=True)
    if positions.size != examples or examples == 0 or (positions.size and positions.min() < 0):
        raise _Invalid(f"{positions.size} positions for {examples} examples")
    if kind == "tags":
        references_out, predicted_out = _unflat(references, offsets), [_unflat(row, offsets) for row in predicted]
    else:
        references_out, predicted_out = references, list(predicted)
    return TaskPredictions(task, kind, fingerprint, seeds.tolist(), references_out, predicted_out, positions, labels,
                           threshold)


def check_against(kept: TaskPredictions, record: Any, path: Path) -> None:
    """The predictions are the record's own: its task, its seeds, its number of validation examples, and each
    seed's every score recomputed from them equal to the record's (within the 4 decimals a record keeps)."""
    problems = []
    if kept.task_id != record.task.id:
        problems.append(f"it holds task {kept.task_id!r}, the record {record.task.id!r}")
    recorded = {s.seed: s.scores for s in record.seeds}
    if sorted(kept.seeds) != sorted(recorded):
        problems.append(f"it holds seeds {sorted(kept.seeds)}, the record {sorted(recorded)}")
    elif record.data.validation_examples and len(kept.references) != record.data.validation_examples:
        problems.append(f"it holds {len(kept.references)} examples, the record {record.data.validation_examples}")
    else:
        model = kept.for_bootstrap()
        for metric in [m for m in record.scores if m in metrics.METRICS]:
            for seed, score in zip(kept.seeds, model.seed_scores(metric)):
                if not abs(float(score) - recorded[seed].get(metric, float(score))) <= TOLERANCE:
                    problems.append(f"seed {seed}'s {metric} from its predictions is {score:.4f}, "
                                    f"the record says {recorded[seed][metric]:.4f}")
    if problems:
        raise PredictionsError(f"{path}: does not match its record ({'; '.join(problems[:3])}); the file or the record "
                               f"was changed; {RERUN}")


def file_for(record_path: Path) -> Path:
    """Where a record's predictions go: ``klue__ner.json`` -> ``klue__ner.predictions.npz``, same folder."""
    return Path(record_path).with_suffix(".predictions.npz")


def for_record(record_path: Path, record: Any) -> Optional[TaskPredictions]:
    """The predictions a record names (its ``predictions`` field: path beside it and sha256), checked against the
    record's own scores (``check_against``); None when it names none."""
    reference = record.predictions
    if reference is None:
        return None
    path = Path(record_path).parent / reference.path
    kept = load(path, reference.sha256)
    check_against(kept, record, path)
    return kept


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
    kept = TaskPredictions(spec.id, heads.get(spec.head).kind, split_fingerprint(validation_columns), [result.seed], references,
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

