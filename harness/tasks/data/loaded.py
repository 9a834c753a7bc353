"""What loading a task's data gives (``LoadedData``, ``FileDigest``) and how it fails (``DataError``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from datasets import DatasetDict

from harness.core import checked
from harness.tasks.spec import TaskSpec


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


def _spec_file(spec: TaskSpec) -> str:
    """The task file as messages name it; they can end up in published failure records."""
    return checked.shown_path(spec.path) if spec.path else f"the spec of {spec.id}"
