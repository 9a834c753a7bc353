"""The record store: the one place that reads a results folder and says what a model's records are.

`bench run` (its skip and refusal checks, its summary), `bench compare`, `bench export` and the
site all ask it the same three questions, so they cannot disagree:

- which records a model has: the records whose ``model`` names the same identity (id and
  source) as the ``--model`` the user typed, resolved the way `bench run` resolves it
  (``models.reference``), wherever under the results folder they lie;
- which of them is current for a task: the newest (``started_at``; a tie goes to the later
  path); the others are superseded;
- whether the current one is ranked: it followed its task's protocol, under the task's current
  YAML (spec hash), and is not superseded; otherwise why not, in words. A run that followed a
  protocol of its own (``bench demo``'s) is ranked on that tier's board instead (``tier``).

Hidden folders are not records: ``<model>/.seeds/`` is the per-seed resume cache and
``<model>/.history/`` keeps records a newer revision of the same model replaced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Optional

from harness.results import records
from harness.results.records import FailureRecord, Identity, RecordError, ResultRecord
from harness.run import models

log = logging.getLogger(__name__)

HISTORY = ".history"  # <model folder>/.history/<revision>/<suite>__<task>.json: replaced records, kept
UNRECORDED_PROTOCOL = "the record does not say whether it followed the protocol (written before records said so)"
OLDER_SPEC = "made under an older version of the task's YAML (its spec hash differs from the current one)"


class NoRecords(LookupError):
    """A ``--model`` value with no current records under a results folder; the message says why."""


@dataclass(frozen=True)
class Stored:
    """One readable result record and the file it was read from."""

    path: Path
    record: ResultRecord

    @property
    def task_id(self) -> str:
        return self.record.task.id


@dataclass
class Store:
    results_dir: Path
    records: list[Stored] = field(default_factory=list)
    failures: list[tuple[Path, FailureRecord]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, why it is not a record)

    # ----------------------------------------------------------------------------------
    # Which records a model has, and which is current
    # ----------------------------------------------------------------------------------

    def model_ids(self) -> list[str]:
        return sorted({s.record.model.id for s in self.records})

    def of_model(self, identity: Identity) -> list[Stored]:
        return [s for s in self.records if identity.matches(s.record)]

    def current(self, identity: Identity) -> dict[str, Stored]:
        """The current record of each task of the model (task id -> record), in task order."""
        return latest(self.of_model(identity))

    def current_of(self, model: str) -> dict[str, Stored]:
        """The current record of each task of ``model``: any ``--model`` value `bench run` takes, resolved as it
        resolves it (``models.record_identity``). NoRecords, naming the models that have records here, when the
        value names no model or that model has none."""
        try:
            identity = models.record_identity(model)
        except models.ModelUnavailable as err:
            raise NoRecords(str(err)) from None
        current = self.current(identity)
        if not current:
            known = self.model_ids()
            there = f"models with records there: {', '.join(known)}" if known else "there are no records there"
            raise NoRecords(f"no result records of model {identity.id!r} under {self.results_dir} ({there})")
        return current

    def failures_of(self, identity: Identity) -> list[tuple[Path, FailureRecord]]:
        return [(p, f) for p, f in self.failures if f.model.id == identity.id]

    def standing(self, stored: Stored, spec_sha256: Mapping[str, Optional[str]]) -> list[str]:
        """Why ``stored`` is not ranked ([] when it is), given each task's current spec hash."""
        reasons = not_ranked(stored.record, spec_sha256.get(stored.task_id))
        newest = self.current(Identity(stored.record.model.id, stored.record.model.source)).get(stored.task_id)
        if newest is not None and newest.path != stored.path:
            reasons.append(f"superseded by a newer run (started {newest.record.started_at})")
        return reasons


def latest(found: list[Stored]) -> dict[str, Stored]:
    """task id -> the newest record among ``found`` (by started_at, then path), tasks in sorted order."""
    newest: dict[str, Stored] = {}
    for stored in sorted(found, key=lambda s: (started(s.record), str(s.path))):
        newest[stored.task_id] = stored
    return {task: newest[task] for task in sorted(newest)}


def started(record: ResultRecord) -> datetime:
    """When the run started, as a UTC time (records write ISO 8601; one that does not parse counts as oldest)."""
    try:
        when = datetime.fromisoformat(record.started_at.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


TASK_TIER = "task"  # the board of runs that followed their task's protocol
DEMO_TIER = "demo"  # bench demo's runs (its settings on the bundled samples): a board of their own


def tier(record: ResultRecord, current_spec_sha256: Optional[str]) -> Optional[str]:
    """The board a current record is ranked on: TASK_TIER, a tier of its own (records.Protocol.tier, e.g. bench
    demo's), or None (not ranked; ``not_ranked`` says why). Either way under the task's current YAML."""
    if current_spec_sha256 and record.task.spec_sha256 != current_spec_sha256:
        return None
    if record.protocol is not None and record.protocol.followed:
        return TASK_TIER
    return record.protocol.tier if record.protocol is not None else None


def not_ranked(record: ResultRecord, current_spec_sha256: Optional[str]) -> list[str]:
    """Why a record is kept out of the task protocol's ranking on its own terms: its protocol and its spec."""
    if record.protocol is None:
        reasons = [UNRECORDED_PROTOCOL]
    else:
        reasons = [f"deviates from the protocol: {d}" for d in record.protocol.deviations]
        if not record.protocol.followed and not reasons:
            reasons.append("deviates from the protocol")
    if current_spec_sha256 and record.task.spec_sha256 != current_spec_sha256:
        reasons.append(OLDER_SPEC)
    return reasons


def scan(results_dir: Path) -> Store:
    """Every ``*.json`` under ``results_dir`` (hidden folders left out), read once through ``harness.results.records``."""
    results_dir = Path(results_dir)
    store = Store(results_dir)
    if not results_dir.is_dir():
        return store
    for path in sorted(results_dir.rglob("*.json")):
        if any(part.startswith(".") for part in path.relative_to(results_dir).parts):
            continue
        try:
            if path.name.endswith(".failed.json"):
                store.failures.append((path, records.read_failure(path)))
            else:
                store.records.append(Stored(path, records.read_result(path)))
        except RecordError as err:
            store.skipped.append((path, str(err).removeprefix(f"{path}: ")))
    return store


def archive(path: Path, replaced: ResultRecord) -> Path:
    """Move a record that a run of another revision of the same model replaces into ``.history/``: kept, not current."""
    revision = replaced.model.revision.removeprefix("sha256:")[:12]
    target = path.parent / HISTORY / revision / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    path.replace(target)
    for companion in path.parent.glob(f"{path.name.removesuffix('.json')}.predictions.*"):
        companion.replace(target.parent / companion.name)
    return target


def history(results_dir: Path, model_dir: str, task_file: str) -> list[Path]:
    """The kept earlier records of one model folder and task file (``<suite>__<task>.json``)."""
    return sorted((Path(results_dir) / model_dir / HISTORY).glob(f"*/{task_file}"))
