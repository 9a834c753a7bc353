"""TaskSpec: one typed schema for every task YAML, and the registry of task folders.

The registry is the folder: ``<tasks dir>/klue/ynat.yaml`` is the task ``klue/ynat``, and its
``suite:`` must be its folder. The search path is the built-in tasks, then
``$KOENBENCH_TASKS_PATH``, then each ``--tasks-dir`` (``harness.core.paths.task_dirs``); an id found
in two folders is an error naming both files.

A task file may start from another: ``include: klue/ner`` takes that task's spec, then the keys
given here (mappings merged key by key, any other value replaced), and validates the result as
one spec; ``TaskSpec.includes`` and ``TaskSpec.changed_keys`` record what the variant changed.

A malformed file raises ``SpecError`` naming the file, every bad field and what was expected.
``Registry.load_all`` (``bench tasks``, the site) reports every bad file and goes on;
``Registry.select`` (``bench run``) refuses if any selected task is bad.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Sequence, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.core import checked, paths
from harness.tasks import heads

# A suite or task name: it becomes a folder, a file name and part of the site's URLs.
NAME_PATTERN = r"[a-z0-9][a-z0-9_-]*"
_NAME = re.compile(NAME_PATTERN + r"\Z")
_TASK_ID = re.compile(NAME_PATTERN + "/" + NAME_PATTERN + r"\Z")
# Fields the loader fills in; a task file that sets them is told so.
_LOADER_FIELDS = ("id", "path", "sha256", "includes", "changed_keys")

TASKS_DIR_HELP = (f"More task folders, each laid out like tasks/ (<suite>/<name>.yaml), searched after the built-in "
                  f"tasks and ${paths.TASKS_PATH_ENV}; repeatable.")

TasksDirs = Union[Path, Sequence[Path], None]  # one folder, a search path, or None for paths.task_dirs()


class SpecError(checked.InputError):
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
    format: Literal["klue-json", "klue-ner-tsv", "glue-tsv", "csv", "tsv", "jsonl", "conll"]
    columns: dict[str, str]  # canonical name -> the reader's field (conll: defaults to tokens/tags)
    header: bool = True  # csv/tsv/glue-tsv: does the first row name the columns?
    names: Optional[list[str]] = None  # csv/tsv/glue-tsv without header: the column names
    label_map: Optional[dict[str, str]] = None  # raw label in the file -> label name of the spec
    token_column: Optional[int] = None  # conll: the field holding the token (default 0, the first)
    tag_column: Optional[int] = None  # conll: the field holding the tag (default -1, the last)
    separator: Optional[str] = None  # conll: between fields (default: any run of spaces or tabs)

    @model_validator(mode="before")
    @classmethod
    def _conll_columns(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("format") == "conll" and "columns" not in data:
            return {**data, "columns": {"tokens": "tokens", "tags": "tags"}}
        return data

    @model_validator(mode="after")
    def _conll_options(self):
        if self.format != "conll":
            given = [n for n in ("token_column", "tag_column", "separator") if getattr(self, n) is not None]
            if given:
                raise ValueError(f"{', '.join(given)}: only for format conll; remove them")
        return self


class LocalSource(_Strict):
    files: dict[str, LocalFile]  # split name -> file
    train: str = "train"  # split expression, e.g. "validation[:80%]" when no train file exists
    validation: str = "validation"


class DatasetSpec(_Strict):
    labels: Optional[list[str]] = None  # class or tag names, in the order the model's outputs use
    hub: Optional[HubSource] = None
    local: Optional[LocalSource] = None

    @field_validator("labels")
    @classmethod
    def _unique_labels(cls, labels: Optional[list[str]]) -> Optional[list[str]]:
        repeated = sorted({name for name in labels or [] if labels.count(name) > 1})
        if repeated:
            raise ValueError(f"label names must be unique; {repeated} appear more than once")
        return labels

    @model_validator(mode="after")
    def _has_a_source(self):
        if self.hub is None and self.local is None:
            raise ValueError("needs at least one source: 'hub' or 'local'")
        return self


class MetricsSpec(_Strict):
    primary: str
    others: list[str] = Field(default_factory=list)
    # Every other field is a parameter some metric takes (``Metric.parameters`` in harness/tasks/metrics.py).
    binarize_threshold: Optional[float] = None  # for binarized_f1 (KLUE-STS: 3.0)

    @property
    def names(self) -> list[str]:
        return [self.primary, *self.others]

    @property
    def parameters(self) -> dict[str, Any]:
        """The metric parameters this task sets, as the metrics take them: ``{"binarize_threshold": 3.0}``."""
        return {name: value for name, value in self if name not in ("primary", "others") and value is not None}


class Hyperparameters(_Strict):
    learning_rate: float = Field(gt=0)
    batch_size: int = Field(gt=0)
    epochs: int = Field(gt=0)
    warmup_ratio: float = Field(default=0.0, ge=0, le=1)
    weight_decay: float = Field(default=0.0, ge=0)
    max_length: int = Field(gt=1)
    eval_batch_size: int = Field(default=256, gt=0)
    evals_per_epoch: int = Field(default=1, gt=0)  # validation scorings per epoch (KLUE-baseline: 4); selection picks among all

    @field_validator("*", mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):  # pydantic would read true as 1: `--set epochs=true` must not train one epoch
            raise ValueError(f"expected a number, got {str(value).lower()}")
        return value


class TaskSpec(_Strict):
    id: str
    name: str
    suite: str
    language: Literal["ko", "en", "ko-en"]
    description: str
    dataset: DatasetSpec
    head: str  # a name in harness/tasks/heads.py's HEADS
    metrics: MetricsSpec
    hyperparameters: Hyperparameters
    selection: Literal["best", "last"] = "last"
    selection_metric: Optional[str] = None  # the metric "best" selects by; default: metrics.primary
    path: Optional[str] = None  # where it was read from; set by load_spec
    sha256: Optional[str] = None  # spec_sha256: of the parsed spec, after include:; a changed value reruns its tasks
    includes: Optional[str] = None  # the task this one starts from (include:), if any
    changed_keys: list[str] = Field(default_factory=list)  # dotted keys this file changes on top of `includes`

    def file_fields(self) -> dict[str, Any]:
        """The spec as a task file would write it: without the fields the loader fills in."""
        return self.model_dump(exclude=set(_LOADER_FIELDS), exclude_none=True)

    @field_validator("id")
    @classmethod
    def _plain_id(cls, value: str) -> str:
        if not _TASK_ID.match(value):
            raise ValueError(f"{value!r} is not <suite>/<name> with both parts matching {NAME_PATTERN} "
                             "(lowercase letters, digits, '_' and '-'); rename the folder or the file")
        return value

    @field_validator("head")
    @classmethod
    def _known_head(cls, value: str) -> str:
        if value not in heads.HEADS:
            raise ValueError(f"unknown head {value!r}; use one of {', '.join(heads.HEADS)}")
        return value

    @field_validator("suite")
    @classmethod
    def _plain_suite(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r} is not a plain name matching {NAME_PATTERN} (no '/', '..' or spaces)")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        problems = self._metric_problems() + self._column_problems()
        regression = heads.get(self.head).kind == "value"  # its targets are numbers, not names
        if not regression and not self.dataset.labels:
            problems.append("dataset.labels: a classification task lists its label names")
        if regression and self.dataset.labels:
            problems.append("dataset.labels: a regression task has no label names; remove the list")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _metric_problems(self) -> list[str]:
        from harness.tasks.metrics import METRICS  # the metric registry owns the names and the kinds they score

        problems = []
        labels = self.dataset.labels or []
        kind = heads.get(self.head).kind
        parameters = self.metrics.parameters
        for name in self.metrics.names:
            metric = METRICS.get(name)
            if metric is None:
                problems.append(f"metrics: unknown metric {name!r}; known: {', '.join(sorted(METRICS))}")
            elif kind not in metric.kinds:
                fits = sorted(n for n, m in METRICS.items() if kind in m.kinds)
                problems.append(f"metrics: {name!r} does not score a {self.head} task; use one of {', '.join(fits)}")
            else:
                problems += [f"metrics.{p}: {name} needs {metric.parameters[p]}" for p in metric.missing(parameters)]
                problems += metric.label_problems(labels) if labels else []
        if self.selection_metric is not None and self.selection_metric not in self.metrics.names:
            problems.append(f"selection_metric: {self.selection_metric!r} is not among metrics {self.metrics.names}")
        return list(dict.fromkeys(problems))  # entity_f1 and char_f1 both need an O: said once

    def _column_problems(self) -> list[str]:
        allowed, required = heads.get(self.head).columns, heads.get(self.head).required
        mappings = []
        if self.dataset.hub:
            mappings.append(("dataset.hub.columns", self.dataset.hub.columns))
        if self.dataset.local:
            for split, f in self.dataset.local.files.items():
                mappings.append((f"dataset.local.files.{split}.columns", f.columns))
        problems = []
        for where, columns in mappings:
            unknown = set(columns) - allowed
            if unknown:
                problems.append(f"{where}: {sorted(unknown)} are not columns of a {self.head} task; use {sorted(allowed)}")
            if required - set(columns):
                problems.append(f"{where}: missing {sorted(required - set(columns))}")
        return problems


# --------------------------------------------------------------------------------------
# One file: read, resolve include:, validate
# --------------------------------------------------------------------------------------


def _read_mapping(path: Path) -> dict[str, Any]:
    raw = checked.read_yaml(path, error=SpecError)
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a task file is a YAML mapping (key: value lines), got {type(raw).__name__}")
    return raw


def _deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` on top: mappings merge key by key, any other value is replaced."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _changed_keys(base: dict[str, Any], changes: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted keys whose value ``changes`` sets differently from ``base``."""
    keys = []
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            keys += _changed_keys(base[key], value, f"{prefix}{key}.")
        elif key not in base or base[key] != value:
            keys.append(f"{prefix}{key}")
    return keys


@dataclass(frozen=True)
class _Resolved:
    raw: dict[str, Any]  # the merged mapping, ready to validate
    includes: Optional[str] = None
    changed_keys: tuple[str, ...] = ()


def _resolve(path: Path, task_id: str, known: Mapping[str, Path], chain: tuple[str, ...] = ()) -> _Resolved:
    raw = _read_mapping(path)
    set_by_loader = [k for k in _LOADER_FIELDS[1:] if k in raw]
    if set_by_loader:
        raise SpecError(f"{path}: {', '.join(set_by_loader)}: set by koenbench when it reads the file; remove them")
    base_id = raw.pop("include", None)
    if base_id is None:
        return _Resolved(raw)
    if not isinstance(base_id, str):
        raise SpecError(f"{path}: include: expected a task id such as klue/ner, got {base_id!r}")
    if base_id in (*chain, task_id):
        raise SpecError(f"{path}: include: {base_id!r} includes itself ({' -> '.join((*chain, task_id, base_id))}); break the loop")
    if base_id not in known:
        raise SpecError(f"{path}: include: unknown task {base_id!r}.{_did_you_mean(base_id, known)}")
    base = _resolve(known[base_id], base_id, known, (*chain, task_id))
    changed = _changed_keys({k: v for k, v in base.raw.items() if k != "id"}, {k: v for k, v in raw.items() if k != "id"})
    base_raw = {k: v for k, v in base.raw.items() if k not in ("id", "suite")}  # both come from the variant's place
    return _Resolved(_deep_merge(base_raw, raw), base_id, tuple(changed))


def load_spec(path: Path, task_id: Optional[str] = None, known: Optional[Mapping[str, Path]] = None) -> TaskSpec:
    """The task in ``path``; ``known`` (id -> file) resolves ``include:`` (default: the task search path)."""
    path = Path(path)
    expected_id = task_id or f"{path.parent.name}/{path.stem}"
    resolved = _resolve(path, expected_id, discover() if known is None else known)
    raw = dict(resolved.raw)
    if raw.get("id") not in (None, expected_id):
        raise SpecError(f"{path}: id: is {raw.get('id')!r} but the file's place says {expected_id!r}; the id comes from the path")
    folder = path.parent.name
    if resolved.includes:
        raw.setdefault("suite", folder)
    if "suite" in raw and raw["suite"] != folder:
        raise SpecError(f"{path}: suite: is {raw['suite']!r} but the file is in the folder {folder!r}; "
                        f"the folder is the suite: set suite: {folder} or move the file")
    raw = {**raw, "id": expected_id, "path": str(path),
           "includes": resolved.includes, "changed_keys": list(resolved.changed_keys)}
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError as err:
        via = f" (after include: {resolved.includes})" if resolved.includes else ""
        raise SpecError(f"{path}: invalid task spec{via}\n{checked.describe_validation_error(err)}") from None
    return spec.model_copy(update={"sha256": spec_sha256(spec)})


def spec_sha256(spec: TaskSpec) -> str:
    """sha256 over the parsed spec (includes resolved, defaults filled) in one canonical JSON form.

    Comments, key order and YAML quoting do not change it, so they retrain no one; any
    value does. The fields the loader sets (where the file lies, what it includes) are left out.
    """
    content = spec.model_dump(mode="json", exclude=set(_LOADER_FIELDS) - {"id"})
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


# --------------------------------------------------------------------------------------
# The registry: task folders -> ids -> specs
# --------------------------------------------------------------------------------------


def _did_you_mean(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=3)
    return f" Did you mean {', '.join(close)}?" if close else ""


def _as_dirs(tasks_dir: TasksDirs) -> list[Path]:
    if tasks_dir is None:
        return paths.task_dirs()
    if isinstance(tasks_dir, (str, Path)):
        return [Path(tasks_dir)]
    return [Path(d) for d in tasks_dir]


@dataclass
class Registry:
    """Every task id on a search path -> its file; ``misplaced`` are YAMLs that cannot be tasks there."""

    files: dict[str, Path] = field(default_factory=dict)
    misplaced: list[str] = field(default_factory=list)  # one message per file, naming it and the fix

    @classmethod
    def search(cls, tasks_dir: TasksDirs = None) -> "Registry":
        registry = cls()
        for folder in _as_dirs(tasks_dir):
            if not folder.is_dir():
                raise SpecError(f"task folder {folder} does not exist or is not a folder (from --tasks-dir or ${paths.TASKS_PATH_ENV})")
            for path in sorted(folder.glob("*.y*ml")):
                registry.misplaced.append(f"{path}: not in a suite folder; move it to {folder}/<suite>/{path.name}")
            for path in sorted(folder.glob("*/*.y*ml")):
                registry._add(path)
        return registry

    def _add(self, path: Path) -> None:
        task_id = f"{path.parent.name}/{path.stem}"
        if not _TASK_ID.match(task_id):
            self.misplaced.append(f"{path}: the id {task_id!r} comes from the folder and file name, and both must "
                                  f"match {NAME_PATTERN} (lowercase letters, digits, '_' and '-'); rename it")
        elif task_id in self.files:
            raise SpecError(f"task {task_id!r} is defined twice: {self.files[task_id]} and {path}; "
                            "rename or remove one (task ids are unique across all task folders)")
        else:
            self.files[task_id] = path

    @property
    def suites(self) -> list[str]:
        return sorted({t.split("/")[0] for t in self.files})

    def load(self, task_id: str) -> TaskSpec:
        return load_spec(self.files[task_id], task_id, self.files)

    def load_all(self, task_ids: Optional[Sequence[str]] = None) -> tuple[list[TaskSpec], list[str]]:
        """Every task (or those of ``task_ids``) that loads, and one message per file that does not.

        Without ``task_ids``, the misplaced files are among the messages too."""
        specs, problems = [], list(self.misplaced) if task_ids is None else []
        for task_id in self.files if task_ids is None else task_ids:
            try:
                specs.append(self.load(task_id))
            except SpecError as err:
                problems.append(str(err))
        return specs, problems

    def resolve(self, names: Sequence[str]) -> list[str]:
        """Ids ('klue/ner') and suites ('klue', 'all') -> task ids; unknown names list the known ones."""
        ids: list[str] = []
        errors = []
        for name in (n.strip() for n in names):
            if not name:
                continue
            if name == "all":
                ids.extend(self.files)
            elif name in self.suites:
                ids.extend(t for t in self.files if t.startswith(name + "/"))
            elif name in self.files:
                ids.append(name)
            else:
                errors.append(f"unknown task {name!r}.{_did_you_mean(name, [*self.files, *self.suites])}")
        if errors or not ids:
            if not errors:
                errors.append(f"no task selected by {', '.join(map(repr, names)) or 'nothing'}; name task ids or a suite")
            raise SpecError("\n".join(errors) + f"\n{self.known()}")
        return list(dict.fromkeys(ids))

    def known(self) -> str:
        if not self.files:
            return "No tasks found; task folders hold <suite>/<name>.yaml files."
        return f"Known tasks: {', '.join(self.files)} (or a suite: {', '.join(self.suites)}, all)"

    def select(self, names: Sequence[str]) -> list[TaskSpec]:
        """The named tasks, all valid; one SpecError lists every bad one."""
        specs, errors = [], []
        for task_id in self.resolve(names):
            try:
                specs.append(self.load(task_id))
            except SpecError as err:
                errors.append(str(err))
        if errors:
            raise SpecError("\n".join(errors))
        return specs


def discover(tasks_dir: TasksDirs = None) -> dict[str, Path]:
    """Every task id on the search path (default: built-in tasks and $KOENBENCH_TASKS_PATH) -> its YAML file."""
    return Registry.search(tasks_dir).files


def resolve_task_ids(names: list[str], tasks_dir: TasksDirs = None) -> list[str]:
    """Accepts ids ('klue/ner') and suites ('klue', 'glue', 'all'); unknown names list the known ones."""
    return Registry.search(tasks_dir).resolve(names)


def load_tasks(names: list[str], tasks_dir: TasksDirs = None) -> list[TaskSpec]:
    return Registry.search(tasks_dir).select(names)
