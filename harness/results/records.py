"""The result record and the failure record: the one contract between the runner and the site.

One JSON file per (model, task) at ``<output>/<model-dir>/<suite>__<task>.json`` with all
seeds inside, or ``<suite>__<task>.failed.json`` when the run failed. The runner builds
these models, the site and the tests read them; nothing else defines their shape.

Every file carries its schema version. Older versions are read through ``migrate`` (one
function, tested), never by tolerant readers scattered around the code. Types are strict:
a string where a number belongs, a bool score, NaN or infinity is an error that names
the file and the field. Files are plain JSON (no NaN), written atomically.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal, Optional, TypeVar, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from harness.core import checked, files

RESULT_SCHEMA = "koenbench.result/2"
FAILURE_SCHEMA = "koenbench.failure/2"
OLD_RESULT_SCHEMAS = ("koenbench.result/1",)
OLD_FAILURE_SCHEMAS = ("koenbench.failure/1",)


class RecordError(ValueError):
    """A record that cannot be read or built; the message names the file and the field."""


class NewerSchema(RecordError):
    """A record written by a newer koenbench: this one can neither read it nor replace it without losing what it holds."""


# --------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------


def _task_id(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*/[A-Za-z0-9_-][A-Za-z0-9_.-]*", value):
        raise ValueError(f"{value!r} is not a task id like 'suite/name' (letters, digits, _ . -)")
    return value


def _relative_path(value: str) -> str:
    """A path relative to a folder the reader knows (--data-dir, the results folder); never this machine's layout."""
    path = PurePosixPath(value.replace("\\", "/"))
    if not value or path.is_absolute() or re.match(r"^[A-Za-z]:", value) or ".." in path.parts:
        raise ValueError(f"{value!r} must be a relative path inside its folder (no leading '/', drive or '..')")
    return str(path)


def _sha256(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ValueError("expected 64 lowercase hex digits (a sha256)")
    return value


def _timestamp(value: str) -> str:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time like 2026-11-27T10:00:00Z") from None
    return value


def _nonempty_scores(value: dict[str, float]) -> dict[str, float]:
    if not value:
        raise ValueError("needs at least one metric")
    return value


NonEmptyStr = Annotated[StrictStr, Field(min_length=1)]
TaskId = Annotated[StrictStr, AfterValidator(_task_id)]
RelativePath = Annotated[StrictStr, AfterValidator(_relative_path)]
Sha256 = Annotated[StrictStr, AfterValidator(_sha256)]
Timestamp = Annotated[StrictStr, AfterValidator(_timestamp)]
Seconds = Annotated[FiniteFloat, Field(ge=0)]
Count = Annotated[StrictInt, Field(ge=0)]
Scores = Annotated[dict[str, FiniteFloat], AfterValidator(_nonempty_scores)]
Setting = Union[StrictBool, StrictInt, FiniteFloat, StrictStr, None]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True)


_M = TypeVar("_M", bound=BaseModel)


# --------------------------------------------------------------------------------------
# One seed
# --------------------------------------------------------------------------------------


class Evaluation(_Strict):
    """One scoring of the validation split during training."""

    epoch: int = Field(ge=1)
    step: Optional[Count] = None  # optimizer steps done when it was scored
    loss: Optional[FiniteFloat] = None  # mean training loss since the previous evaluation
    train_s: Optional[Seconds] = None  # seconds of training since the previous evaluation (compile time shows here)
    scores: Scores


class RunTimes(_Strict):
    start: FiniteFloat  # unix time, seconds
    end: FiniteFloat
    device: NonEmptyStr


class GpuMemory(_Strict):
    """The run's peak in PyTorch's allocator: what the tensors held, and what the allocator kept from the card."""

    max_allocated_gib: Seconds  # non-negative float, like the seconds
    max_reserved_gib: Seconds


class SeedResult(_Strict):
    """One seed's run: the scores of the evaluation the task's selection chose, and its history."""

    seed: StrictInt
    scores: Scores
    epoch: int = Field(ge=1)  # the chosen evaluation's epoch
    step: Optional[Count] = None  # the chosen evaluation's optimizer step
    evaluations: list[Evaluation] = Field(default_factory=list)
    train_s: Seconds
    examples_per_s: Optional[Seconds] = None
    wall_s: Optional[Seconds] = None
    ran: Optional[RunTimes] = None
    # what a reader of its scores must know, naming the task and seed (metrics.undefined: a correlation of
    # constant predictions, recorded as 0.0); the task's record carries them among its warnings
    warnings: list[StrictStr] = Field(default_factory=list)
    # the chosen evaluation's (predictions, references) as the metrics take them; in memory only:
    # the runner writes them to a predictions file (harness/results/predictions.py), the record keeps its hash
    _predictions: Optional[tuple[Any, Any]] = PrivateAttr(default=None)
    memory: Optional[GpuMemory] = None  # peak GPU memory of the run (None on CPU)


# --------------------------------------------------------------------------------------
# What the record says it came from
# --------------------------------------------------------------------------------------


class ModelIdentity(_Strict):
    id: NonEmptyStr  # what the leaderboard calls it
    revision: NonEmptyStr  # hub commit, or a content hash of a local model's files
    source: Literal["hub", "local"]


@dataclass(frozen=True)
class Identity:
    """Whose records a reader asks for: the model id as records name it, and where it came from.

    ``models.reference`` makes one from a ``--model`` value; ``harness.results.store`` matches records with it.
    """

    id: str
    source: Optional[str] = None  # "hub" | "local"; None matches either (a bare id typed by a user)

    def matches(self, record: "ResultRecord") -> bool:
        return record.model.id == self.id and self.source in (None, record.model.source)


class TaskIdentity(_Strict):
    id: TaskId
    spec_sha256: NonEmptyStr
    primary_metric: NonEmptyStr


class DataFile(_Strict):
    path: RelativePath  # relative to --data-dir
    sha256: Sha256


class DataProvenance(_Strict):
    source: NonEmptyStr  # "hub:<dataset>@<revision>" or "local"
    train_examples: Count
    validation_examples: Count
    train_split: Optional[StrictStr] = None
    validation_split: Optional[StrictStr] = None
    note: Optional[StrictStr] = None  # how train/validation were carved out of one split
    files: list[DataFile] = Field(default_factory=list)  # every local file read
    hub_revision: Optional[NonEmptyStr] = None
    fingerprint: Optional[NonEmptyStr] = None  # over the files' hashes or the hub revision
    label_counts: dict[str, dict[str, Count]] = Field(default_factory=dict)  # split -> label -> rows
    unk_sentences: Optional[Count] = None  # scored sentences holding an [UNK] piece (token tasks)

    @model_validator(mode="after")
    def _portable(self):
        if self.source.startswith("local:"):
            try:
                _relative_path(self.source.removeprefix("local:"))
            except ValueError as err:
                raise ValueError(f"source: {err}") from None
        return self


class Protocol(_Strict):
    """Whether the run followed the task's protocol exactly; if not, how it differed."""

    followed: StrictBool
    deviations: list[NonEmptyStr] = Field(default_factory=list)
    # A protocol of its own that the run followed exactly, e.g. "demo" (bench demo's settings on the bundled
    # samples): ranked on that tier's board only, never beside runs of the task's protocol. None: no such tier.
    tier: Optional[NonEmptyStr] = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.followed == bool(self.deviations):
            raise ValueError("followed must be true exactly when deviations is empty")
        return self


class Baseline(_Strict):
    """The task's untrained floor on the same validation rows (harness.run.baselines); shown beside scores, never ranked."""

    kind: NonEmptyStr  # what the head's constant is (heads.Constant.kind): majority-class, constant-mean, all-O
    predicts: NonEmptyStr  # the constant, in words
    scores: Scores  # the task's metrics of that constant, percent like every score


class PredictionsRef(_Strict):
    path: RelativePath  # relative to the record's folder
    sha256: Sha256


# --------------------------------------------------------------------------------------
# The records
# --------------------------------------------------------------------------------------


class ResultRecord(_Strict):
    schema_version: Literal["koenbench.result/2"] = Field(RESULT_SCHEMA, alias="schema")
    model: ModelIdentity
    task: TaskIdentity
    scores: Scores  # mean over seeds
    std: Scores  # sample standard deviation over seeds; 0.0 for one seed
    seeds: list[SeedResult] = Field(min_length=1)
    hyperparameters: dict[str, Setting]
    data: DataProvenance
    env: dict[str, StrictStr]
    started_at: Timestamp
    wall_s: Seconds
    run_key: Optional[NonEmptyStr] = None  # everything the scores depend on besides the seeds, hashed
    protocol: Optional[Protocol] = None  # None: written before protocols were recorded
    synthetic: StrictBool = False  # made up for tests or demos, never a measurement
    warnings: list[StrictStr] = Field(default_factory=list)
    predictions: Optional[PredictionsRef] = None
    baseline: Optional[Baseline] = None  # None: written before baselines were recorded

    @model_validator(mode="after")
    def _consistent(self):
        if self.task.primary_metric not in self.scores:
            raise ValueError(f"task.primary_metric {self.task.primary_metric!r} is not among scores {sorted(self.scores)}")
        if set(self.std) != set(self.scores):
            raise ValueError(f"std has metrics {sorted(self.std)}, scores has {sorted(self.scores)}")
        numbers = [s.seed for s in self.seeds]
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"seeds {numbers} repeat a seed")
        means, _ = aggregate_seeds(self.seeds)
        for name, value in self.scores.items():
            if name not in means or abs(means[name] - value) > 1e-3:
                raise ValueError(f"scores.{name} = {value} is not the mean of the seeds' {name} ({means.get(name)})")
        return self

    @classmethod
    def from_seeds(cls, seeds: list[SeedResult], **fields: Any) -> "ResultRecord":
        """The record of ``seeds`` (sorted by seed), with their mean and standard deviation."""
        ordered = sorted(seeds, key=lambda s: s.seed)
        scores, std = aggregate_seeds(ordered)
        try:
            return cls(seeds=ordered, scores=scores, std=std, **fields)
        except ValidationError as err:
            raise RecordError(f"built an invalid result record: {'; '.join(checked.validation_problems(err))}") from None


class FailureError(_Strict):
    type: NonEmptyStr  # the exception's class name
    message: StrictStr


class FailedTask(_Strict):
    id: TaskId


class FailureRecord(_Strict):
    schema_version: Literal["koenbench.failure/2"] = Field(FAILURE_SCHEMA, alias="schema")
    model: ModelIdentity
    task: FailedTask
    error: FailureError
    started_at: Timestamp
    seeds: list[StrictInt] = Field(default_factory=list)  # the seeds the run was asked for
    run_key: Optional[NonEmptyStr] = None
    env: dict[str, StrictStr] = Field(default_factory=dict)
    synthetic: StrictBool = False


def aggregate_seeds(seeds: list[SeedResult]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and sample standard deviation (0.0 for one seed) of each metric every seed has."""
    names = [name for name in seeds[0].scores if all(name in s.scores for s in seeds)]
    means, stds = {}, {}
    for name in names:
        values = [s.scores[name] for s in seeds]
        means[name] = round(statistics.fmean(values), 4)
        stds[name] = round(statistics.stdev(values), 4) if len(values) > 1 else 0.0
    return means, stds


# --------------------------------------------------------------------------------------
# Migration from older shapes: the one place that knows them
# --------------------------------------------------------------------------------------


def _model_source(model: dict[str, Any]) -> str:
    """Old records did not say; a local model's revision was always a sha256 of its weights."""
    return "local" if str(model.get("revision", "")).startswith("sha256:") else "hub"


def _migrate_model(model: Any) -> Any:
    if not isinstance(model, dict):
        return model
    model = {"revision": "unknown", **model}
    model.setdefault("source", _model_source(model))
    return model


def _migrate_result_v1(raw: dict[str, Any]) -> dict[str, Any]:
    record = {**raw, "schema": RESULT_SCHEMA, "model": _migrate_model(raw.get("model"))}
    data = raw.get("data")
    if isinstance(data, dict) and str(data.get("source", "")).startswith("local:"):
        record["data"] = {**data, "source": "local"}  # it held this machine's absolute data folder
    seeds = raw.get("seeds")
    if isinstance(seeds, list):
        record["seeds"] = [_migrate_seed_v1(s) for s in seeds]
    return record


def _migrate_seed_v1(seed: Any) -> Any:
    if not isinstance(seed, dict) or "epochs" not in seed:
        return seed
    seed = dict(seed)
    seed["evaluations"] = seed.pop("epochs")
    return seed


def _split_error(text: str) -> dict[str, str]:
    """'ValueError: bad thing' -> {type: ValueError, message: bad thing}, as failure/1 wrote it."""
    kind, sep, message = text.partition(": ")
    if sep and re.fullmatch(r"[A-Za-z_][\w.]*", kind):
        return {"type": kind, "message": message}
    return {"type": "Error", "message": text}


def _migrate_failure_v1(raw: dict[str, Any]) -> dict[str, Any]:
    failure = {k: v for k, v in raw.items() if k != "traceback"}  # tracebacks held this machine's paths
    failure["schema"] = FAILURE_SCHEMA
    failure["model"] = _migrate_model(raw.get("model"))
    if isinstance(raw.get("error"), str):
        failure["error"] = _split_error(raw["error"])
    return failure


def migrate(raw: Any) -> Any:
    """An older record or failure record in the current shape; anything else unchanged (validation then says why)."""
    if not isinstance(raw, dict):
        return raw
    if raw.get("schema") in OLD_RESULT_SCHEMAS:
        return _migrate_result_v1(raw)
    if raw.get("schema") in OLD_FAILURE_SCHEMAS:
        return _migrate_failure_v1(raw)
    return raw


# --------------------------------------------------------------------------------------
# Reading and writing
# --------------------------------------------------------------------------------------


def schema_version(schema: Any) -> Optional[tuple[str, int]]:
    """'koenbench.result/2' -> ('koenbench.result', 2); None for anything else."""
    match = re.fullmatch(r"(koenbench\.[a-z]+)/(\d{1,6})", schema) if isinstance(schema, str) else None
    return (match[1], int(match[2])) if match else None


def _check_schema(raw: Any, current: str, older: tuple[str, ...]) -> None:
    if not isinstance(raw, dict):
        raise RecordError(f"a record is a JSON object, not {type(raw).__name__}")
    found, ours = schema_version(raw.get("schema")), schema_version(current)
    if found and ours and found[0] == ours[0] and found[1] > ours[1]:
        raise NewerSchema(f"schema {raw['schema']!r} was written by a newer koenbench, which this one ({current!r}) "
                          "cannot read; upgrade koenbench to read it")
    if raw.get("schema") not in (current, *older):
        found = "missing" if "schema" not in raw else repr(raw["schema"])
        raise RecordError(f"schema: {found}; expected {current!r} (older {', '.join(older)} are migrated)")


def _validate(model: type[_M], raw: Any) -> _M:
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise RecordError("; ".join(checked.validation_problems(err))) from None


def parse_result(raw: Any) -> ResultRecord:
    """A result record from parsed JSON of any known version; RecordError names the field."""
    _check_schema(raw, RESULT_SCHEMA, OLD_RESULT_SCHEMAS)
    return _validate(ResultRecord, migrate(raw))


def parse_failure(raw: Any) -> FailureRecord:
    _check_schema(raw, FAILURE_SCHEMA, OLD_FAILURE_SCHEMAS)
    return _validate(FailureRecord, migrate(raw))


def parse_seed(raw: Any) -> SeedResult:
    return _validate(SeedResult, _migrate_seed_v1(raw))


def read_json(path: Path) -> Any:
    """Parsed JSON of ``path``; RecordError naming the file when it is unreadable, not UTF-8, or not standard JSON."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text, parse_constant=_reject_constant)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise RecordError(f"{path}: not readable JSON ({err})") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number in standard JSON")


def _read(path: Path, parse):
    raw = read_json(path)
    try:
        return parse(raw)
    except RecordError as err:
        raise type(err)(f"{path}: {err}") from None


def read_result(path: Path) -> ResultRecord:
    return _read(path, parse_result)


def read_failure(path: Path) -> FailureRecord:
    return _read(path, parse_failure)


def read_seed(path: Path) -> SeedResult:
    return _read(path, parse_seed)


def to_json(record: BaseModel) -> dict[str, Any]:
    """The plain JSON object of a record, under its field names as written to disk."""
    return record.model_dump(mode="json", by_alias=True)


def write_json_atomic(path: Path, payload: dict[str, Any]) -> Path:
    """Write standard JSON through ``harness.core.files``: readers never see half a file, a failed write keeps the old one."""
    return files.write(Path(path), json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False) + "\n")


def write(path: Path, record: BaseModel) -> Path:
    return write_json_atomic(path, to_json(record))


# --------------------------------------------------------------------------------------
# Where records live
# --------------------------------------------------------------------------------------


def readable_slug(text: str, limit: int = 60) -> str:
    """Text as one file-name part: letters (any script), digits, '.', '-' and '_' kept; '/' and '\\' become '__';
    other runs become '-'; each part's leading and trailing '._-' dropped (so '.' and '..' vanish); NFC first."""
    text = unicodedata.normalize("NFC", text)
    parts = [re.sub(r"[^\w.-]+", "-", p).strip("._-") for p in re.split(r"[\\/]+", text)]
    slug = "__".join(p for p in parts if p)[:limit].strip("._-")
    return slug or "model"


def model_slug(model_id: str) -> str:
    """A model's readable name in file names: 'org/name' -> 'org__name'; a path keeps its last two parts
    ('runs/exp1/best' -> 'exp1__best'); Korean and other letters stay as they are.

    The one owner of "model id -> readable, file-system-safe name". Two names are built on it:
    the site's page and `bench export`'s file names are this slug itself (readable; the site
    numbers two models whose slugs meet, an export holds one model), while a model's record
    folder (``models.hub_dir_name``, ``models.local_dir_name``) starts with it and adds a hash
    where needed, because a record folder must be distinct for every identity and stay the same
    across versions: records already on disk are found, resumed and replaced by that name.
    """
    parts = [p for p in re.split(r"[\\/]+", model_id.strip()) if p not in ("", ".", "..")]
    return readable_slug("/".join(parts[-2:]))


def task_file_stem(task_id: str) -> str:
    """A task's file name (records, seed caches, site pages): 'klue/ynat' -> 'klue__ynat'.

    '__' then stands only between suite and name; an id whose suite or name holds '__' itself
    gets a hash of the whole id as well, so distinct ids never share a file ('glue/a__b' and
    'glue__a/b' are 'glue__a__b-<hash>' with two different hashes).
    """
    suite, name = _task_id(task_id).split("/", 1)
    stem = f"{suite}__{name}"
    if "__" in suite or "__" in name:
        stem += "-" + hashlib.sha256(task_id.encode("utf-8")).hexdigest()[:10]
    return stem


def record_path(output_dir: Path, model_dir: str, task_id: str) -> Path:
    """Where a record goes: ``model_dir`` is the model's folder name (``ResolvedModel.record_dir``)."""
    return Path(output_dir) / model_dir / f"{task_file_stem(task_id)}.json"


def failure_path(output_dir: Path, model_dir: str, task_id: str) -> Path:
    return record_path(output_dir, model_dir, task_id).with_suffix(".failed.json")


