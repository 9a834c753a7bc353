"""Usage mistakes of a `bench run`, found in one pass over every selected task before any training.

Each check returns sentences that say what is wrong and what to change; `bench run` prints
them all together and exits 2 without writing a record. Only what goes wrong while a task
runs (a NaN, a crash) becomes a failure record.
"""

from __future__ import annotations

from typing import Optional

from harness.core import environment, hub
from harness.run import models
from harness.run.models import ResolvedModel
from harness.run.runconfig import RunOptions
from harness.tasks.spec import SpecError, TaskSpec


class UsageError(ValueError):
    """Mistakes of the invocation, one per line; nothing was trained or written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def task_selection(tasks: Optional[str]) -> list[str]:
    """``--tasks`` -> task ids; an empty list (``--tasks ""`` or ``--tasks ,``) is a mistake, not "all" or "none"."""
    if tasks is None:
        return []
    names = [t.strip() for t in tasks.split(",") if t.strip()]
    if not names:
        raise UsageError([f"no task selected: --tasks {tasks!r} names no task; give ids like --tasks klue/ner,glue/mrpc, "
                          "or leave --tasks out to run a --suite"])
    return names


def check_run(specs: list[TaskSpec], model: ResolvedModel, opts: RunOptions) -> list[str]:
    """Every problem of running ``specs`` on ``model`` as ``opts`` asks."""
    problems = _device_problems(opts.device) + _split_expression_problems(opts.train_split, opts.eval_split)
    max_positions = _max_positions(model)
    offline = hub.is_offline()
    data_dir_given = opts.data_dir is not None
    for spec in specs:
        try:
            hp = opts.hyperparameters(spec)
        except SpecError as err:
            problems.append(f"{spec.id}: {err}")
            continue
        if max_positions is not None and hp.max_length > max_positions:
            problems.append(f"{spec.id}: max_length {hp.max_length} is above the {max_positions} positions of "
                            f"{model.id}; use --set max_length={max_positions} (a deviation from the protocol)")
        problems.extend(_data_problems(spec, data_dir_given, offline))
        problems.extend(_split_name_problems(spec, data_dir_given, opts.train_split, opts.eval_split))
    return list(dict.fromkeys(problems))


def _split_expression_problems(train_split: Optional[str], eval_split: Optional[str]) -> list[str]:
    """--train-split/--eval-split parse (a name, an optional slice, percents within -100%..100%)."""
    from harness.tasks import data

    problems = []
    for flag, given in (("--train-split", train_split), ("--eval-split", eval_split)):
        if given is not None:
            try:
                data.parse_split(given)
            except data.DataError as err:
                problems.append(f"{flag}: {err}")
    return problems


def _split_name_problems(spec: TaskSpec, data_dir_given: bool, train_split: Optional[str],
                         eval_split: Optional[str]) -> list[str]:
    """A split the task's local files lack (knowable before loading; a hub dataset's splits are known once read)."""
    from harness.tasks import data

    local = spec.dataset.local
    if not data_dir_given or local is None:
        return []
    problems = []
    for flag, given in (("--train-split", train_split), ("--eval-split", eval_split)):
        try:
            name = data.parse_split(given).split if given is not None else None
        except data.DataError:
            continue  # said once, by _split_expression_problems
        if name is not None and name not in local.files:
            problems.append(f"{spec.id}: {flag} {given!r} names the split {name!r}, which has no local file "
                            f"(it has: {', '.join(local.files)}); use one of those")
    return problems


def _device_problems(device: str) -> list[str]:
    try:
        environment.pick_device(device)
    except (ValueError, RuntimeError) as err:
        return [str(err)]
    return []


def _data_problems(spec: TaskSpec, data_dir_given: bool, offline: bool) -> list[str]:
    if data_dir_given:
        if spec.dataset.local is None:
            return [f"{spec.id}: has no local files (dataset.local in its YAML); run it without --data-dir"]
        return []
    if spec.dataset.hub is None:
        return [f"{spec.id}: has no hub dataset; give --data-dir with its files ({spec.path or 'its YAML'})"]
    source = spec.dataset.hub
    if offline and hub.cached_commit(source.path, "dataset", source.revision) is None:
        hint = hub.download_hint(source.path, "dataset", source.revision, None)
        return [f"{spec.id}: reads {source.path} (revision {source.revision or 'main'}) from the hub, which is not in the "
                f"Hugging Face cache, and HF_HUB_OFFLINE is set; download it once where the network is ({hint}) "
                "or give --data-dir with the local KLUE/GLUE files"]
    return []


def _max_positions(model: ResolvedModel) -> Optional[int]:
    """The longest input the model takes, in tokens, from its config; None when the config does not say."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(model.path)
    except (OSError, ValueError):
        return None  # models.resolve has checked the model; its own load will name any problem
    return models.max_positions(config)
