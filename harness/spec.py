"""TaskSpec: one typed schema for every task YAML under tasks/.

The registry is the folder: ``tasks/klue/ynat.yaml`` is the task ``klue/ynat``.
A malformed file raises ``SpecError`` naming the file, every bad field and what was
expected; a bad file is never skipped quietly.
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.paths import TASKS_DIR

HEADS = ("sequence-classification", "regression", "token-classification")
CANONICAL_COLUMNS = {
    "sequence-classification": {"text_a", "text_b", "label"},
    "regression": {"text_a", "text_b", "label"},
    "token-classification": {"tokens", "tags"},
}


class SpecError(ValueError):
    """A task file or task id the user must fix; the message says where and how."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSource(_Strict):
    path: str
    name: Optional[str] = None
    revision: Optional[str] = None  # pin a dataset commit for reproducibility
    train: str = "train"
    validation: str = "validation"
    columns: dict[str, str]  # canonical name -> column in the hub dataset (dots reach into dicts)


class LocalFile(_Strict):
    path: str  # relative to --data-dir
    format: Literal["klue-json", "klue-ner-tsv", "glue-tsv", "csv", "tsv", "jsonl"]
    columns: dict[str, str]
    header: bool = True  # csv/tsv: does the first row name the columns?
    names: Optional[list[str]] = None  # csv/tsv without header: the column names
    label_map: Optional[dict[str, str]] = None  # raw label in the file -> label name of the spec


class LocalSource(_Strict):
    files: dict[str, LocalFile]  # split name -> file
    train: str = "train"  # split expression, e.g. "validation[:80%]" when no train file exists
    validation: str = "validation"


class DatasetSpec(_Strict):
    labels: Optional[list[str]] = None  # class or tag names, in the order the model's outputs use
    hub: Optional[HubSource] = None
    local: Optional[LocalSource] = None

    @model_validator(mode="after")
    def _has_a_source(self):
        if self.hub is None and self.local is None:
            raise ValueError("needs at least one source: 'hub' or 'local'")
        return self


class MetricsSpec(_Strict):
    primary: str
    others: list[str] = Field(default_factory=list)
    binarize_threshold: Optional[float] = None  # for binarized_f1 (KLUE-STS: 3.0)

    @property
    def names(self) -> list[str]:
        return [self.primary, *self.others]


class Hyperparameters(_Strict):
    learning_rate: float = Field(gt=0)
    batch_size: int = Field(gt=0)
    epochs: int = Field(gt=0)
    warmup_ratio: float = Field(default=0.0, ge=0, le=1)
    weight_decay: float = Field(default=0.0, ge=0)
    max_length: int = Field(gt=1)
    eval_batch_size: int = Field(default=256, gt=0)


class TaskSpec(_Strict):
    id: str
    name: str
    suite: str
    language: Literal["ko", "en", "ko-en"]
    description: str
    dataset: DatasetSpec
    head: Literal["sequence-classification", "regression", "token-classification"]
    metrics: MetricsSpec
    hyperparameters: Hyperparameters
    selection: Literal["best", "last"] = "last"
    path: Optional[str] = None  # where it was read from; set by load_spec
    sha256: Optional[str] = None  # of the file's bytes; a changed spec reruns its tasks

    @model_validator(mode="after")
    def _consistent(self):
        from harness.metrics import METRICS  # the metric registry owns the names

        problems = []
        for name in self.metrics.names:
            if name not in METRICS:
                problems.append(f"metrics: unknown metric {name!r}; known: {', '.join(sorted(METRICS))}")
        if self.head != "regression" and not self.dataset.labels:
            problems.append("dataset.labels: a classification task lists its label names")
        if self.head == "regression" and self.dataset.labels:
            problems.append("dataset.labels: a regression task has no label names; remove the list")
        allowed = CANONICAL_COLUMNS[self.head]
        mappings = []
        if self.dataset.hub:
            mappings.append(("dataset.hub.columns", self.dataset.hub.columns))
        if self.dataset.local:
            for split, f in self.dataset.local.files.items():
                mappings.append((f"dataset.local.files.{split}.columns", f.columns))
        for where, columns in mappings:
            unknown = set(columns) - allowed
            if unknown:
                problems.append(f"{where}: {sorted(unknown)} are not columns of a {self.head} task; use {sorted(allowed)}")
            required = {"tokens", "tags"} if self.head == "token-classification" else {"text_a", "label"}
            if required - set(columns):
                problems.append(f"{where}: missing {sorted(required - set(columns))}")
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _format_validation_error(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field; remove it or check its spelling"
        elif e["type"] == "missing":
            msg = "required field is missing"
        lines.append(f"  {where}: {msg}")
    return "\n".join(lines)


def load_spec(path: Path, task_id: Optional[str] = None) -> TaskSpec:
    path = Path(path)
    raw_bytes = path.read_bytes()
    try:
        raw = yaml.safe_load(raw_bytes)
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a task file is a YAML mapping (key: value lines), got {type(raw).__name__}")
    expected_id = task_id or f"{path.parent.name}/{path.stem}"
    if raw.get("id") not in (None, expected_id):
        raise SpecError(f"{path}: id: is {raw.get('id')!r} but the file's place says {expected_id!r}; the id comes from the path")
    raw = {**raw, "id": expected_id, "path": str(path), "sha256": hashlib.sha256(raw_bytes).hexdigest()}
    try:
        return TaskSpec.model_validate(raw)
    except ValidationError as err:
        raise SpecError(f"{path}: invalid task spec\n{_format_validation_error(err)}") from None


def discover(tasks_dir: Path = TASKS_DIR) -> dict[str, Path]:
    """Every task id under ``tasks_dir`` -> its YAML file."""
    found: dict[str, Path] = {}
    for path in sorted(Path(tasks_dir).glob("*/*.y*ml")):
        task_id = f"{path.parent.name}/{path.stem}"
        if task_id in found:
            raise SpecError(f"task {task_id!r} is defined twice: {found[task_id]} and {path}; remove one")
        found[task_id] = path
    return found


def resolve_task_ids(names: list[str], tasks_dir: Path = TASKS_DIR) -> list[str]:
    """Accepts ids ('klue/ner') and suites ('klue', 'glue', 'all'); unknown names list the known ones."""
    known = discover(tasks_dir)
    suites = sorted({t.split("/")[0] for t in known})
    ids: list[str] = []
    errors = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        if name == "all":
            ids.extend(known)
        elif name in suites:
            ids.extend(t for t in known if t.startswith(name + "/"))
        elif name in known:
            ids.append(name)
        else:
            close = difflib.get_close_matches(name, list(known) + suites, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            errors.append(f"unknown task {name!r}.{hint}")
    if errors:
        raise SpecError("\n".join(errors) + f"\nKnown tasks: {', '.join(known)} (or a suite: {', '.join(suites)}, all)")
    return list(dict.fromkeys(ids))


def load_tasks(names: list[str], tasks_dir: Path = TASKS_DIR) -> list[TaskSpec]:
    known = discover(tasks_dir)
    return [load_spec(known[t], t) for t in resolve_task_ids(names, tasks_dir)]
