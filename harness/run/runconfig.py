"""What one `bench run` is asked to do, as one typed value: its settings' defaults and checks, once.

`bench run` takes its flags' defaults from ``RunOptions`` and builds one from the flags; preflight
checks it against the tasks and the model before any training; the runner and the grid run it;
`bench demo` and the tests build one directly. This module loads no deep-learning library, so
the command line can read the defaults at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional, Sequence, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core import checked, paths
from harness.tasks.spec import Hyperparameters, SpecError, TaskSpec

Compile = Literal["on", "off", "auto"]  # torch.compile: always, never, or on CUDA when the run is long enough to pay back
COMPILE_MODES: tuple[str, ...] = get_args(Compile)


class RunOptions(BaseModel):
    """Everything a run depends on besides the model and the tasks; each field is a `bench run` flag."""

    model_config = ConfigDict(extra="forbid")

    seeds: list[int] = Field(default_factory=lambda: [42], min_length=1)  # --seeds; scores are mean ± std over them
    output_dir: Path = paths.RESULTS_DIR  # where the records go
    data_dir: Optional[Path] = None  # --data-dir: local task files; None: the hub
    train_split: Optional[str] = None  # --train-split: instead of the task's own
    eval_split: Optional[str] = None  # --eval-split
    overrides: dict[str, Any] = Field(default_factory=dict)  # --set key=value, as YAML values
    device: str = "auto"  # auto, cpu, cuda or cuda:N
    force: bool = False  # rerun tasks whose records exist
    compile: Compile = "auto"
    limit: Optional[int] = Field(default=None, ge=1)  # --limit: train on the first N rows of each task's train split
    eval_limit: Optional[int] = Field(default=None, ge=1)  # --eval-limit: score the first N rows of its validation split
    allow_single_class: bool = False  # --allow-single-class: score a split that holds one label only
    extra_deviations: list[str] = Field(default_factory=list)  # said by the caller, e.g. bench demo's settings
    tier: Optional[str] = None  # the caller's own protocol the run follows (bench demo: "demo"); see records.Protocol

    def hyperparameters(self, spec: TaskSpec) -> Hyperparameters:
        """The spec's hyperparameters with this run's --set overrides, validated by the same schema."""
        unknown = set(self.overrides) - set(Hyperparameters.model_fields)
        if unknown:
            raise SpecError(f"--set {', '.join(sorted(unknown))}: unknown hyperparameter; "
                            f"known: {', '.join(Hyperparameters.model_fields)}")
        try:
            return Hyperparameters.model_validate({**spec.hyperparameters.model_dump(), **self.overrides})
        except ValidationError as err:
            raise SpecError(f"--set {'; '.join(checked.validation_problems(err))}") from None

    def limit_deviations(self) -> list[str]:
        """How --limit/--eval-limit depart from every task's protocol, in words for the record."""
        from harness.tasks import data

        return data.limit_deviations(self.limit, self.eval_limit)


class OptionsError(ValueError):
    """Flags a run cannot take: every problem, one a line, each naming the flag and what to give."""


def parse_overrides(items: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """``--set key=value`` items -> ({key: YAML value}, problems)."""
    overrides, problems = {}, []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(f"--set {item!r}: expected key=value, e.g. --set learning_rate=3e-5")
            continue
        try:
            overrides[key.strip()] = checked.parse_yaml(value, name=f"--set {item!r}")
        except checked.InputError as err:
            problems.append(f"{err}; quote text, e.g. --set {key.strip()}='...'")
    return overrides, problems


def from_flags(set_items: Sequence[str] = (), **flags: Any) -> RunOptions:
    """A run's settings from its flags as typed: ``set_items`` the --set items, ``flags`` the other fields.

    `bench run` builds its RunOptions here, and so do the benchmarks that time it; an item that is not
    key=YAML or a value a field cannot take is an OptionsError listing them all. Whether an override is a
    valid hyperparameter of each task is checked with the tasks (``RunOptions.hyperparameters``, preflight).
    """
    overrides, problems = parse_overrides(set_items)
    if problems:
        raise OptionsError("\n".join(problems))
    try:
        return RunOptions(overrides=overrides, **flags)
    except ValidationError as err:
        problems = checked.describe_validation_error(err, as_flags=True, values=True)
        raise OptionsError(f"invalid options\n{problems}") from None


def default(name: str) -> Any:
    """The default of a ``RunOptions`` field: what `bench run` does when its flag is not given."""
    return RunOptions.model_fields[name].get_default(call_default_factory=True)
