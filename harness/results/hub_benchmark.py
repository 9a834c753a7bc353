"""The koenbench benchmark repo: a Hub dataset repo whose ``eval.yaml`` defines koenbench's eight tasks.

The Hub shows a model's ``.eval_results/*.yaml`` values (on the model page and as a leaderboard)
only when the dataset an entry names is a registered Benchmark: a dataset repo with an
``eval.yaml`` at its root whose ``tasks[].id`` is the entry's ``task_id``
(https://huggingface.co/docs/hub/eval-results). ``klue/klue`` and ``nyu-mll/glue`` have none, and
koenbench's scores are its protocols' (fine-tuned, validation split), not theirs; so
``bench export --benchmark-repo DIR --benchmark ORG/NAME`` writes koenbench's own, and
``bench export --benchmark ORG/NAME`` points the model files at it.

What the folder holds:

- ``eval.yaml``: ``name``, ``description`` and ``tasks``, one per built-in task: ``id`` (the
  koenbench task id, e.g. ``klue/ynat``), ``config`` (its hub dataset's config) and ``split``
  (its validation split). Only the keys the Hub documents; a comment above each task names its
  dataset, the metric its value is (the primary metric) and the task's other metrics.
  ``evaluation_framework`` is left out: the Hub takes only names from its own list
  (huggingface.js ``packages/tasks/src/eval.ts``), which does not hold koenbench.
- ``README.md``: the dataset card (languages, task categories, tags) with a table of the tasks.
- ``tasks/<suite>/<name>.yaml``: each task's protocol file, as koenbench reads it.

It holds no copy of KLUE or GLUE: each task names the dataset it scores.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from harness import __version__
from harness.core import paths
from harness.tasks import heads, metrics, spec
from harness.tasks.spec import TaskSpec

NAME = "koenbench"
EVALUATION_FRAMEWORK = None  # not in the Hub's list of frameworks; a name outside it fails the Hub's check of eval.yaml
DESCRIPTION = (
    "koenbench fine-tunes an encoder on each of eight KLUE and GLUE tasks under one fixed protocol per task "
    "(hyperparameters, epochs, epoch selection: tasks/<suite>/<name>.yaml) and scores it on the task's validation "
    "split. A task's value is its primary metric, in percent (0-100), the mean over seeds. KLUE tasks follow "
    "KLUE-baseline for klue/bert-base, GLUE tasks the koenbert README; the data are the KLUE and GLUE validation "
    "splits on the Hub, not copied here."
)


class BenchmarkError(ValueError):
    """A benchmark repo id the Hub would refuse; the message says what to give."""


def check_repo_id(repo_id: str) -> str:
    """``repo_id`` as the Hub's own check takes it (huggingface_hub's validate_repo_id), and with an owner."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise BenchmarkError(f"--benchmark {repo_id!r}: {err}") from None
    if "/" not in repo_id:
        raise BenchmarkError(f"--benchmark {repo_id!r}: give the dataset repo as owner/name, e.g. koenbench/koenbench")
    return repo_id


def tasks() -> list[TaskSpec]:
    """The tasks the benchmark defines: the built-in ones (tasks/), in their order; a user's own tasks are not its."""
    return [s for s in spec.load_tasks(["all"], [paths.TASKS_DIR]) if s.dataset.hub is not None]


def task_ids() -> set[str]:
    return {s.id for s in tasks()}


def _primary_label(task: TaskSpec) -> str:
    return metrics.get(task.metrics.primary).hub_label(task.metrics.parameters)


def _other_labels(task: TaskSpec) -> list[str]:
    return [metrics.get(m).hub_label(task.metrics.parameters) for m in task.metrics.others]


def eval_yaml_data(specs: list[TaskSpec]) -> dict:
    """eval.yaml as data: the keys the Hub documents, nothing else."""
    data: dict = {"name": NAME, "description": DESCRIPTION}
    if EVALUATION_FRAMEWORK:
        data["evaluation_framework"] = EVALUATION_FRAMEWORK
    data["tasks"] = [{"id": s.id, "config": s.dataset.hub.name or "default", "split": s.dataset.hub.validation}
                     for s in specs if s.dataset.hub is not None]
    return data


def _dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def eval_yaml(specs: list[TaskSpec]) -> str:
    """eval.yaml's text: ``eval_yaml_data`` with a comment above each task (its dataset and metrics)."""
    data = eval_yaml_data(specs)
    lines = ["# koenbench as a Hub Benchmark (https://huggingface.co/docs/hub/eval-results), written by",
             f"# `bench export --benchmark-repo` (koenbench {__version__}). A task's protocol: tasks/<id>.yaml here.",
             _dump({k: v for k, v in data.items() if k != "tasks"}).rstrip("\n"), "tasks:"]
    by_id = {s.id: s for s in specs}
    for task in data["tasks"]:
        found = by_id[task["id"]]
        others = ", ".join(_other_labels(found)) or "none"
        lines.append(f"  # {found.name}: {found.dataset.hub.path} ({task['config']}), {task['split']} split; "
                     f"value: {_primary_label(found)}; other metrics: {others}")
        item = _dump([task]).rstrip("\n").splitlines()
        lines += ["  " + line for line in item]
    return "\n".join(lines) + "\n"


def card(specs: list[TaskSpec], repo_id: str) -> str:
    """README.md: the dataset card, its metadata written by huggingface_hub, a table of the tasks and how to report."""
    from huggingface_hub import DatasetCard, DatasetCardData

    languages = sorted({lang for s in specs for lang in s.language.split("-")})
    data = DatasetCardData(
        pretty_name=NAME, language=languages, license="apache-2.0",
        task_categories=sorted({heads.get(s.head).hub_task_type for s in specs}),
        tags=["benchmark", "evaluation", "koenbench", *sorted({s.suite for s in specs})],
    )
    rows = [f"| `{s.id}` | {s.name} | [{s.dataset.hub.path}](https://huggingface.co/datasets/{s.dataset.hub.path}) "
            f"| {s.dataset.hub.name or 'default'} | {s.dataset.hub.validation} | {_primary_label(s)} "
            f"| {', '.join(_other_labels(s)) or '-'} | [tasks/{s.id}.yaml](tasks/{s.id}.yaml) |" for s in specs]
    body = [
        f"# {NAME}", "", DESCRIPTION, "",
        "This repo defines the benchmark for the Hub (`eval.yaml`): a model's `.eval_results/*.yaml` that names "
        f"`{repo_id}` and one of the task ids below is shown on the model's page and on this benchmark's "
        "leaderboard once the repo is on the Hub's list of benchmarks. It holds no data; each task names the "
        "dataset it scores, under that dataset's license.", "",
        "## Tasks", "",
        "| task id | task | dataset | config | split | value (primary metric) | other metrics | protocol |",
        "|---|---|---|---|---|---|---|---|", *rows, "",
        "## Reporting a score", "",
        "```bash",
        "bench run --model ORG/MODEL                      # the eight tasks, under their protocols",
        f"bench export --model ORG/MODEL --out out/ --benchmark {repo_id} --push ORG/MODEL --create-pr",
        "```", "",
        "Only runs that followed the protocols are exported. Each value's notes give the koenbench version, the "
        "seeds, mean ± std and the record it came from (path and sha256).", "",
    ]
    return str(DatasetCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body)))


def task_files(specs: list[TaskSpec]) -> dict[str, str]:
    """tasks/<suite>/<name>.yaml: each task's protocol file as written (an ``include:`` names a task beside it)."""
    out = {}
    for s in specs:
        if s.path is None:
            raise BenchmarkError(f"task {s.id}: read from no file, so its protocol cannot be copied")
        out[f"tasks/{s.id}.yaml"] = Path(s.path).read_text(encoding="utf-8")
    return out


def repo_files(repo_id: str) -> dict[str, str]:
    """The benchmark repo's files (name relative to the repo -> text)."""
    specs = tasks()
    return {"eval.yaml": eval_yaml(specs), "README.md": card(specs, check_repo_id(repo_id)), **task_files(specs)}
