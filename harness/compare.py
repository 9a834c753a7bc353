"""`bench compare A B`: which differences between two models are real, per task and per suite average.

Per task, the paired bootstrap of B - A on the primary metric (the same validation
examples resampled for both, each model's seeds resampled on their own), its 95% interval,
a p-value and a verdict; then the same for each suite's average, by averaging the tasks'
paired draws. Records may come from different machines: what must match is the
fingerprint of the validation split, which each predictions file carries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from harness import bootstrap, predictions, records, store


# how a record's predictions are read: (record file, its ``predictions`` field) -> the predictions or None
Loader = Callable[[Path, Any], Optional[predictions.TaskPredictions]]


class CachedLoader:
    """``predictions.for_record``, each file read once: the site pairs one record with many others.

    The cached objects keep their bootstrap statistics too (NER's are the costly part), so
    every interval, tie and comparison of a build reuses them.
    """

    def __init__(self, root: Optional[Path] = None) -> None:
        self._kept: dict[tuple[str, str], Optional[predictions.TaskPredictions]] = {}
        self._root = f"{root}/" if root is not None else None  # errors name files under it relative to it

    def __call__(self, record_path: Path, reference: Any) -> Optional[predictions.TaskPredictions]:
        if reference is None:
            return None
        key = (str(record_path), reference.sha256)
        if key not in self._kept:
            try:
                self._kept[key] = predictions.for_record(record_path, reference)
            except predictions.PredictionsError as err:
                # pages show the message: never this machine's folders
                message = str(err).replace(self._root, "") if self._root else str(err)
                raise predictions.PredictionsError(message) from None
        return self._kept[key]


class CompareError(ValueError):
    """A usage mistake (no such model, a folder of several models); the message says what to change."""


@dataclass
class Side:
    """One model's records, by task id, with the file each came from."""

    model_id: str
    records: dict[str, tuple[Path, records.ResultRecord]]


@dataclass
class TaskComparison:
    task_id: str
    metric: str
    score_a: Optional[float] = None
    score_b: Optional[float] = None
    difference: Optional[bootstrap.Difference] = None
    problem: Optional[str] = None  # why there is no difference: missing predictions, different validation splits
    notes: list[str] = field(default_factory=list)
    draws: Optional[np.ndarray] = field(default=None, repr=False)  # B - A bootstrap draws, for the averages


@dataclass
class AverageComparison:
    suite: str
    tasks: list[str]  # the tasks the average covers
    of: int  # tasks of this suite that either model has
    difference: bootstrap.Difference


@dataclass
class Comparison:
    model_a: str
    model_b: str
    tasks: list[TaskComparison]
    averages: list[AverageComparison]
    resamples: int

    def to_json(self) -> dict:
        tasks = [{k: v for k, v in asdict(t).items() if k != "draws"} for t in self.tasks]
        return {"model_a": self.model_a, "model_b": self.model_b, "resamples": self.resamples,
                "tasks": tasks, "averages": [asdict(a) for a in self.averages]}


def _is_record_file(path: Path) -> bool:
    return path.suffix == ".json" and not path.name.endswith(".failed.json") and not path.name.startswith(".")


def find_side(ref: str, results_dir: Path) -> Side:
    """A model's current records (the record store's answer): ``ref`` is a folder of one model's records, or
    any ``--model`` value `bench run` takes (hub id, local model folder, models.yaml name), found under ``results_dir``."""
    from harness import models

    folder = Path(ref)
    if folder.is_dir() and any(_is_record_file(p) for p in folder.glob("*.json")):
        found = store.scan(folder)
        ids = sorted({s.record.model.id for s in found.records})
        if len(ids) != 1:
            raise CompareError(f"{ref}: holds records of {len(ids)} models ({', '.join(ids) or 'none readable'}); "
                               f"give one model's record folder or a model id")
        return Side(ids[0], {t: (s.path, s.record) for t, s in store.latest(found.records).items()})
    try:
        identity = models.record_identity(ref)
    except models.ModelUnavailable as err:
        raise CompareError(str(err)) from None
    found = store.scan(Path(results_dir))
    current = found.current(identity)
    if not current:
        known = found.model_ids()
        hint = f"models with records there: {', '.join(known)}" if known else "there are no records there"
        raise CompareError(f"{ref!r}: not a folder of records, and no records of that model under {results_dir} "
                           f"({hint}); give a record folder, a model id, or --results DIR")
    return Side(identity.id, {t: (s.path, s.record) for t, s in current.items()})


def select_tasks(a: Side, b: Side, tasks: Optional[Sequence[str]], suite: str) -> list[str]:
    """Task ids of either model, narrowed by --tasks or --suite, in a stable order (suite, then name)."""
    known = sorted(set(a.records) | set(b.records))
    if tasks:
        unknown = [t for t in tasks if t not in known]
        if unknown:
            raise CompareError(f"--tasks {','.join(unknown)}: neither model has a record of it; "
                               f"records exist for {', '.join(known)}")
        return list(tasks)
    if suite != "all":
        chosen = [t for t in known if t.split("/")[0] == suite]
        if not chosen:
            raise CompareError(f"--suite {suite}: no records of that suite; suites with records: "
                               f"{', '.join(sorted({t.split('/')[0] for t in known}))}")
        return chosen
    return known


def compare_task(task_id: str, a: Side, b: Side, resamples: int, seed: int = 0,
                 load: Loader = predictions.for_record) -> TaskComparison:
    """B - A on one task's primary metric, or the reason it cannot be compared."""
    (path_a, rec_a), (path_b, rec_b) = a.records[task_id], b.records[task_id]
    metric = rec_a.task.primary_metric
    row = TaskComparison(task_id, metric, rec_a.scores.get(metric), rec_b.scores.get(metric))
    if rec_b.task.primary_metric != metric:
        row.problem = f"primary metrics differ ({metric} vs {rec_b.task.primary_metric})"
        return row
    if rec_a.task.spec_sha256 != rec_b.task.spec_sha256:
        row.notes.append("task specs differ (hyperparameters or protocol); the examples are the same")
    try:
        pred_a, pred_b = load(path_a, rec_a.predictions), load(path_b, rec_b.predictions)
    except predictions.PredictionsError as err:
        row.problem = str(err)
        return row
    missing = [name for name, p in ((a.model_id, pred_a), (b.model_id, pred_b)) if p is None]
    if missing:
        row.problem = (f"no per-example predictions for {' and '.join(missing)} (record written before they were kept); "
                       f"rerun with `bench run --force`")
        return row
    if pred_a.validation_fingerprint != pred_b.validation_fingerprint:
        row.problem = (f"different validation examples (fingerprint {pred_a.validation_fingerprint[:12]} vs "
                       f"{pred_b.validation_fingerprint[:12]}, {len(pred_a.references)} vs {len(pred_b.references)} examples): "
                       f"not comparable; score both on the same split (--data-dir, --eval-split)")
        return row
    # one stream of resamples per task, so a task's row does not depend on which other tasks are compared
    rng = np.random.default_rng([seed, *task_id.encode()])
    row.difference, row.draws = _paired(pred_a.for_bootstrap(), pred_b.for_bootstrap(), metric, resamples, rng)
    return row


def _paired(a: bootstrap.SeedPredictions, b: bootstrap.SeedPredictions, metric: str, resamples: int,
            rng: np.random.Generator) -> tuple[bootstrap.Difference, np.ndarray]:
    """B - A summarised, and its bootstrap draws."""
    draws = bootstrap.bootstrap_draws([a, b], metric, resamples, rng)
    return bootstrap.summarize_difference(b.point(metric) - a.point(metric), draws[1] - draws[0]), draws[1] - draws[0]


def suite_averages(rows: list[TaskComparison], a: Side, b: Side) -> list[AverageComparison]:
    """Per suite, B - A of the average primary score over the tasks both models could be compared on."""
    out = []
    for suite in sorted({r.task_id.split("/")[0] for r in rows}):
        in_suite = [r for r in rows if r.task_id.split("/")[0] == suite]
        usable = [r for r in in_suite if r.draws is not None]
        if len(usable) < 2:
            continue  # an average of one task is that task
        draws = np.mean([r.draws for r in usable], axis=0)
        observed = float(np.mean([r.difference.difference for r in usable]))
        out.append(AverageComparison(suite, [r.task_id for r in usable], len(in_suite),
                                     bootstrap.summarize_difference(observed, draws)))
    return out


def compare(a: Side, b: Side, task_ids: Sequence[str], resamples: int = bootstrap.RESAMPLES,
            load: Loader = predictions.for_record) -> Comparison:
    rows = []
    for task_id in task_ids:
        missing = [side.model_id for side in (a, b) if task_id not in side.records]
        if missing:
            rows.append(TaskComparison(task_id, "-", problem=f"no record for {' and '.join(missing)}"))
        else:
            rows.append(compare_task(task_id, a, b, resamples, load=load))
    return Comparison(a.model_id, b.model_id, rows, suite_averages(rows, a, b), resamples)


# ---------------------------------------------------------------------------------------------
# for the leaderboard: intervals of a record's scores, and which models are tied with the best


def record_intervals(path: Path, record: records.ResultRecord, resamples: int = bootstrap.RESAMPLES,
                     load: Loader = predictions.for_record) -> dict[str, bootstrap.Interval]:
    """The 95% interval of every score of a record (seeds and examples resampled); {} when it kept no predictions."""
    kept = load(path, record.predictions)
    if kept is None:
        return {}
    model = kept.for_bootstrap()
    return {metric: bootstrap.score_interval(model, metric, resamples) for metric in record.scores}


def average_interval(entries: Sequence[tuple[Path, records.ResultRecord]],
                     resamples: int = bootstrap.RESAMPLES, load: Loader = predictions.for_record) -> Optional[bootstrap.Interval]:
    """The 95% interval of one model's average primary score over several tasks (each task resampled on its own).

    None when any of the records kept no predictions: an interval over part of the average would mislead.
    """
    draws, points = [], []
    for path, record in entries:
        kept = load(path, record.predictions)
        if kept is None:
            return None
        model, metric = kept.for_bootstrap(), record.task.primary_metric
        rng = np.random.default_rng([0, *record.task.id.encode()])
        draws.append(bootstrap.bootstrap_draws([model], metric, resamples, rng)[0])
        points.append(model.point(metric))
    if not draws:
        return None
    return bootstrap.percentile_interval(float(np.mean(points)), np.mean(draws, axis=0))


def outcome_intervals(paths: dict[str, Path], resamples: int = bootstrap.RESAMPLES) -> dict[str, dict[str, bootstrap.Interval]]:
    """Task id -> metric -> interval for the records at ``paths`` (task id -> record file) that kept predictions."""
    found = {}
    for task_id, path in paths.items():
        try:
            found[task_id] = record_intervals(path, records.read_result(path), resamples)
        except (records.RecordError, predictions.PredictionsError):
            continue  # the summary then shows no interval; `bench compare` and the site say why
    return found


@dataclass
class Ties:
    """On one task: the best model by the metric, the models no test can tell from it, and those that were not tested."""

    best: str
    tied: list[str]
    untested: list[str]  # no predictions, or scored on other examples than the best: neither tied nor different


def tied_with_best(entries: dict[str, tuple[Path, records.ResultRecord]], metric: str,
                   resamples: int = bootstrap.RESAMPLES, load: Loader = predictions.for_record) -> Optional[Ties]:
    """Which models' scores on ``metric`` are statistically tied with the best one's (paired bootstrap, 95%).

    ``entries``: model id -> (record file, record), all of one task. None when the best
    model kept no predictions (nothing can be tested against it).
    """
    if not entries:
        return None
    best = max(entries, key=lambda m: entries[m][1].scores[metric])
    best_kept = load(*_ref(entries[best]))
    if best_kept is None:
        return None
    best_model = best_kept.for_bootstrap()
    tied, untested = [], []
    for model_id, entry in entries.items():
        if model_id == best:
            continue
        kept = load(*_ref(entry))
        if kept is None or kept.validation_fingerprint != best_kept.validation_fingerprint:
            untested.append(model_id)
            continue
        rng = np.random.default_rng([0, *model_id.encode()])
        difference, _ = _paired(best_model, kept.for_bootstrap(), metric, resamples, rng)
        if difference.verdict == "no detectable difference":
            tied.append(model_id)
    return Ties(best, sorted(tied), sorted(untested))


def _ref(entry: tuple[Path, records.ResultRecord]):
    path, record = entry
    return path, record.predictions


@dataclass
class LeaderboardStatistics:
    """What the leaderboard shows beside its scores; measured records only (reported numbers have no predictions)."""

    intervals: dict[tuple[str, str], dict[str, bootstrap.Interval]]  # (model, task) -> metric -> 95% interval
    ties: dict[str, Ties]  # task -> the best model on its primary metric and those tied with it
    averages: dict[tuple[str, str], bootstrap.Interval]  # (model, group) -> interval of its average primary score


def leaderboard_statistics(entries: Sequence[tuple[Path, records.ResultRecord]], groups: dict[str, list[str]],
                           resamples: int = bootstrap.RESAMPLES, load: Loader = predictions.for_record) -> LeaderboardStatistics:
    """Intervals of every record's scores, ties with the best per task, and intervals of each model's group averages.

    ``entries``: one record per (model, task), as the leaderboard shows them; ``groups``:
    name -> task ids (suites, languages, overall). A group average gets an interval only
    when the model has every task of the group, each with predictions.
    """
    by_task: dict[str, dict[str, tuple[Path, records.ResultRecord]]] = {}
    intervals = {}
    for path, record in entries:
        by_task.setdefault(record.task.id, {})[record.model.id] = (path, record)
        try:
            intervals[(record.model.id, record.task.id)] = record_intervals(path, record, resamples, load)
        except predictions.PredictionsError:
            continue  # a missing or altered file: no interval rather than a wrong one
    ties = {}
    for task_id, models in by_task.items():
        try:
            found = tied_with_best(models, next(iter(models.values()))[1].task.primary_metric, resamples, load)
        except predictions.PredictionsError:
            found = None
        if found is not None:
            ties[task_id] = found
    averages = {}
    for model_id in {record.model.id for _, record in entries}:
        for group, task_ids in groups.items():
            mine = [by_task[t][model_id] for t in task_ids if model_id in by_task.get(t, {})]
            if task_ids and len(mine) == len(task_ids):
                try:
                    found_average = average_interval(mine, resamples, load)
                except predictions.PredictionsError:
                    found_average = None
                if found_average is not None:
                    averages[(model_id, group)] = found_average
    return LeaderboardStatistics(intervals, ties, averages)


# ---------------------------------------------------------------------------------------------
# output


def _cells(d: bootstrap.Difference) -> list[str]:
    return [f"{d.difference:+.2f}", f"[{d.low:+.2f}, {d.high:+.2f}]", f"{d.p_value:.3f}", d.verdict]


def table(result: Comparison):
    """The comparison as a rich table; ids and problems are data, never markup."""
    from rich.table import Table
    from rich.text import Text

    title = Text(f"B - A, paired bootstrap ({result.resamples} resamples, 95% percentile intervals)\n"
                 f"A = {result.model_a}   B = {result.model_b}")
    out = Table(title=title)
    for column in ("task", "metric", "A", "B", "B - A", "95% interval", "p", "verdict"):
        out.add_column(column, justify="right" if column in ("A", "B", "B - A", "p") else "left")
    style = {"B better": "green", "A better": "red", "no detectable difference": ""}
    for row in result.tasks:
        scores = [f"{s:.2f}" if s is not None else "-" for s in (row.score_a, row.score_b)]
        if row.difference is None:
            out.add_row(Text(row.task_id), row.metric, *scores, "-", "-", "-", Text(row.problem or "", style="yellow"))
            continue
        *numbers, verdict = _cells(row.difference)
        notes = f" ({'; '.join(row.notes)})" if row.notes else ""
        out.add_row(Text(row.task_id), row.metric, *scores, *numbers, Text(verdict + notes, style=style[verdict]))
    for avg in result.averages:
        *numbers, verdict = _cells(avg.difference)
        label = f"{avg.suite} average ({len(avg.tasks)} of {avg.of} tasks)"
        out.add_row(Text(label, style="bold"), "primary", "", "", *numbers, Text(verdict, style=style[verdict]))
    return out


def markdown(result: Comparison) -> str:
    """The same table in markdown, for a report or an issue. Ids and problems come from record files:
    every one is escaped for markdown and HTML (the site's escape), so none can add a link, a row or a tag."""
    from harness.site.escape import text as esc

    lines = [f"B - A, paired bootstrap ({result.resamples} resamples, 95% percentile intervals); "
             f"A = {esc(result.model_a)}, B = {esc(result.model_b)}", "",
             "| task | metric | A | B | B - A | 95% interval | p | verdict |", "|---|---|---:|---:|---:|---|---:|---|"]
    for row in result.tasks:
        scores = [f"{s:.2f}" if s is not None else "-" for s in (row.score_a, row.score_b)]
        cells = _cells(row.difference) if row.difference else ["-", "-", "-", esc(row.problem or "")]
        lines.append("| " + " | ".join([esc(row.task_id), esc(row.metric), *scores, *cells]) + " |")
    for avg in result.averages:
        label = f"**{esc(avg.suite)} average** ({len(avg.tasks)} of {avg.of} tasks)"
        lines.append("| " + " | ".join([label, "primary", "", "", *_cells(avg.difference)]) + " |")
    return "\n".join(lines) + "\n"


def write(result: Comparison, output: Path) -> list[Path]:
    """compare.json (every number) and compare.md under ``output``."""
    from harness.records import write_json_atomic

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    md = output / "compare.md"
    md.write_text(markdown(result), encoding="utf-8")
    return [write_json_atomic(output / "compare.json", result.to_json()), md]
