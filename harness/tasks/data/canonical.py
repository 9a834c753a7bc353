"""Shared by every source: raw columns -> the canonical schema (names, types, label indexes by name)."""

from __future__ import annotations

import math
from typing import Any, Callable, Optional, Sequence

from datasets import Dataset, Features, List, Value

from harness.core import checked
from harness.tasks import heads
from harness.tasks.data.loaded import DataError, _spec_file
from harness.tasks.spec import TaskSpec


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
