"""Result records -> pandas frames: pure functions, no files, no HTML.

Averages are never taken silently over fewer tasks: every average comes with the number
of tasks it covers (``n:<group>``) and the number it should cover (``of:<group>``), and
the pages mark it partial when the two differ.
"""

from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from harness.results import store
from harness.results.records import FailureRecord, ResultRecord
from harness.tasks.spec import TaskSpec

RECORD_COLUMNS = [
    "model_id", "task_id", "suite", "scores", "std", "n_seeds", "revision", "harness", "git", "device",
    "precision", "torch", "transformers", "started_at", "wall_s", "data_source", "hyperparameters", "file",
    "synthetic", "protocol", "deviations", "spec_sha256", "warnings", "tier",
]
LONG_COLUMNS = ["model_id", "task_id", "metric", "mean", "std", "n_seeds"]
OVERALL = "overall"
# The suites of the benchmark itself: the overall and per-language averages (and the plot) are over their tasks,
# so a user's own suite (--tasks-dir) gets its own column without moving everyone's overall score.
BENCHMARK_SUITES = ("klue", "glue")


def tasks_frame(tasks: Iterable[TaskSpec], order: Iterable[str] = ()) -> pd.DataFrame:
    """One row per task, index = task id, in ``order`` first and then alphabetically."""
    rank = {task_id: i for i, task_id in enumerate(order)}
    rows = [
        {
            "task_id": t.id, "name": t.name, "suite": t.suite, "language": t.language, "description": t.description,
            "primary": t.metrics.primary, "metrics": t.metrics.names, "head": t.head, "selection": t.selection,
            "hyperparameters": t.hyperparameters.model_dump(), "includes": t.includes or "", "changed_keys": t.changed_keys,
        }
        for t in tasks
    ]
    frame = pd.DataFrame(rows, columns=["task_id", "name", "suite", "language", "description", "primary", "metrics",
                                        "head", "selection", "hyperparameters", "includes", "changed_keys"])
    frame["rank"] = [rank.get(t, len(rank)) for t in frame["task_id"]]
    return frame.sort_values(["rank", "task_id"]).drop(columns="rank").set_index("task_id")


def benchmark_tasks(tasks: pd.DataFrame) -> pd.DataFrame:
    """The tasks of KLUE and GLUE; every task when there are none of those (a site of one's own suites only)."""
    core = tasks[tasks["suite"].isin(BENCHMARK_SUITES)]
    return core if len(core) else tasks


def suite_groups(tasks: pd.DataFrame) -> dict[str, list[str]]:
    """{suite: its task ids, ..., 'overall': the benchmark's task ids}, suites in the order of their first task."""
    groups = {suite: list(ids) for suite, ids in tasks.groupby("suite", sort=False).groups.items()}
    return {**groups, OVERALL: list(benchmark_tasks(tasks).index)}


def language_groups(tasks: pd.DataFrame) -> dict[str, list[str]]:
    """{language: the benchmark's task ids in it}: a user's own suite does not move the per-language averages."""
    return {lang: list(ids) for lang, ids in benchmark_tasks(tasks).groupby("language", sort=False).groups.items()}


def records_frame(records: list[tuple[str, ResultRecord]]) -> pd.DataFrame:
    """One row per valid record (file, record) with its scores and provenance.

    ``protocol`` is True or False as the record says, None for records written before protocols were recorded.
    """
    rows = []
    for file, r in records:
        env = r.env
        rows.append({
            "model_id": r.model.id, "task_id": r.task.id, "suite": r.task.id.split("/")[0],
            "scores": dict(r.scores), "std": dict(r.std), "n_seeds": len(r.seeds), "revision": r.model.revision,
            "harness": env.get("koenbench"), "git": env.get("git"), "device": env.get("device"),
            "precision": env.get("precision"), "torch": env.get("torch"), "transformers": env.get("transformers"),
            "started_at": r.started_at, "wall_s": r.wall_s, "data_source": r.data.source,
            "hyperparameters": dict(r.hyperparameters), "file": file, "synthetic": r.synthetic,
            "protocol": r.protocol.followed if r.protocol else None,
            "deviations": list(r.protocol.deviations) if r.protocol else [],
            "spec_sha256": r.task.spec_sha256, "warnings": list(r.warnings),
            "tier": r.protocol.tier if r.protocol else None,
        })
    frame = pd.DataFrame(rows, columns=RECORD_COLUMNS)
    frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True, errors="coerce", format="ISO8601")
    return frame


def split_protocol(frame: pd.DataFrame, spec_sha256: dict[str, str | None]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs that followed the current protocol of their task, every other run with ``why`` it is set apart).

    Only the first are ranked: a run with overrides, one made under an older version of the task YAML,
    or one that does not say whether it followed the protocol is not comparable with them.
    """
    why = []
    for r in frame.itertuples(index=False):
        reasons = list(r.deviations)
        if r.protocol is None:
            reasons.append(store.UNRECORDED_PROTOCOL)
        current = spec_sha256.get(r.task_id)
        if current and r.spec_sha256 != current:
            reasons.append(store.OLDER_SPEC)
        why.append(reasons)
    frame = frame.assign(why=why)
    apart = frame["why"].map(bool).astype(bool)
    return frame.loc[~apart].reset_index(drop=True), frame.loc[apart].reset_index(drop=True)


def split_tier(apart: pd.DataFrame, name: str, spec_sha256: dict[str, str | None]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs set apart from the task protocol's board that followed the protocol tier ``name`` exactly, the rest):
    the store's rule (``store.tier``), on the site's frame."""
    current = apart["task_id"].map(spec_sha256) if len(apart) else apart["task_id"]
    in_tier = (apart["tier"] == name) & ((apart["spec_sha256"] == current) | current.isna())
    return apart.loc[in_tier].reset_index(drop=True), apart.loc[~in_tier].reset_index(drop=True)


def latest_records(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep the newest record (by ``started_at``) of each (model, task).

    The kept rows get ``replaced``: a list of (file, started_at) of the older ones, so
    the pages can say that a newer record won. An unreadable date counts as oldest.
    """
    ordered = frame.sort_values(["started_at", "file"], na_position="first", kind="stable")
    newest = ~ordered.duplicated(["model_id", "task_id"], keep="last")
    kept, older = ordered[newest].copy(), ordered[~newest]
    replaced = {
        key: list(zip(group["file"], group["started_at"]))
        for key, group in older.groupby(["model_id", "task_id"], sort=False)
    }
    kept["replaced"] = [replaced.get(key, []) for key in zip(kept["model_id"], kept["task_id"])]
    return kept.sort_values(["model_id", "task_id"]).reset_index(drop=True)


def scores_long(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, task, metric): mean and std over seeds, number of seeds."""
    rows = [
        {"model_id": r.model_id, "task_id": r.task_id, "metric": metric, "mean": float(value),
         "std": r.std.get(metric), "n_seeds": r.n_seeds}
        for r in frame.itertuples(index=False)
        for metric, value in r.scores.items()
    ]
    return pd.DataFrame(rows, columns=LONG_COLUMNS)


def reported_long(numbers: list[dict[str, Any]]) -> pd.DataFrame:
    """reported.yaml rows -> (source, model_id, task_id, metric, mean)."""
    frame = pd.DataFrame(numbers, columns=["source", "model", "task", "metric", "value"])
    return frame.rename(columns={"model": "model_id", "task": "task_id", "value": "mean"}).astype({"mean": float})


def primary_wide(long: pd.DataFrame, tasks: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows = ``keys`` (e.g. model id), columns = task ids, values = the task's primary metric."""
    is_primary = long["metric"] == long["task_id"].map(tasks["primary"])
    primary = long[is_primary & long["task_id"].isin(tasks.index)]
    wide = primary.pivot_table(index=keys, columns="task_id", values="mean", aggfunc="first")
    return wide.reindex(columns=list(tasks.index)).rename_axis(columns=None)


def add_averages(wide: pd.DataFrame, groups: dict[str, list[str]]) -> pd.DataFrame:
    """For each group: ``avg:<g>`` over the scores present, ``n:<g>`` present, ``of:<g>`` expected."""
    out = wide.copy()
    for name, task_ids in groups.items():
        scores = wide[task_ids]
        out[f"avg:{name}"] = scores.mean(axis=1, skipna=True)
        out[f"n:{name}"] = scores.notna().sum(axis=1)
        out[f"of:{name}"] = len(task_ids)
    return out


def is_partial(row: pd.Series, group: str) -> bool:
    return 0 < row[f"n:{group}"] < row[f"of:{group}"]


def leaderboard(long: pd.DataFrame, tasks: pd.DataFrame, keys: list[str] | None = None) -> pd.DataFrame:
    """Primary scores plus suite and overall averages; complete rows first, best first."""
    keys = keys or ["model_id"]
    table = add_averages(primary_wide(long, tasks, keys), suite_groups(tasks))
    complete = table[f"n:{OVERALL}"] == table[f"of:{OVERALL}"]
    table["_tier"] = (~complete).astype(int) + (table[f"n:{OVERALL}"] == 0).astype(int)
    table = table.sort_values(["_tier", f"avg:{OVERALL}"], ascending=[True, False], kind="stable")
    return table.drop(columns="_tier")


def failures_frame(failures: list[tuple[str, FailureRecord]]) -> pd.DataFrame:
    """One row per failed (model, task): the runner's error and when it ran."""
    rows = [{"model_id": f.model.id, "task_id": f.task.id, "error": f"{f.error.type}: {f.error.message}",
             "started_at": f.started_at, "file": file, "synthetic": f.synthetic} for file, f in failures]
    frame = pd.DataFrame(rows, columns=["model_id", "task_id", "error", "started_at", "file", "synthetic"])
    frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True, errors="coerce", format="ISO8601")
    return frame
