"""`bench compare A B`: which differences between two models are real, per task and per suite average.

Per task, the paired bootstrap of B - A on the primary metric (the same validation
examples resampled for both, each model's seed variance estimated from its own seeds), its
95% interval, a p-value and a verdict; then the same for each suite's average, by averaging
the tasks' paired draws. The tasks and averages of one comparison are one family: Holm's
adjusted p-values beside the raw ones, and the verdicts from the adjusted ones
(``bootstrap.adjust``). A model with one seed on a task gets no verdict there. Records may
come from different machines: what must match is the fingerprint of the validation split,
which each predictions file carries.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from harness.results import predictions, records, store
from harness.stats import bootstrap
from harness.tasks import metrics

log = logging.getLogger(__name__)

METHOD = ("paired bootstrap of the validation examples (Koehn 2004); each model's seed variance estimated from "
          "its seeds and drawn from its sampling distribution (Bouthillier et al. 2021 on seed variance); "
          "Holm's correction over the comparison's tests; see docs/statistics.md")

# how a record's predictions are read: (record file, the record) -> its predictions (checked against it) or None
Loader = Callable[[Path, records.ResultRecord], Optional[predictions.TaskPredictions]]


class CachedLoader:
    """``predictions.for_record``, each file read once: the site pairs one record with many others.

    The cached objects keep their bootstrap statistics too (NER's are the costly part), so
    every interval, tie and comparison of a build reuses them. A file that cannot be used is
    named in one warning, and every later use of it gets the same error without reading it again.
    """

    def __init__(self, root: Optional[Path] = None) -> None:
        self._kept: dict[tuple[str, str], Optional[predictions.TaskPredictions]] = {}
        self._failed: dict[tuple[str, str], str] = {}
        self._root = f"{root}/" if root is not None else None  # errors name files under it relative to it

    def __call__(self, record_path: Path, record: records.ResultRecord) -> Optional[predictions.TaskPredictions]:
        if record.predictions is None:
            return None
        key = (str(record_path), record.predictions.sha256)
        if key in self._failed:
            raise predictions.PredictionsError(self._failed[key])
        if key not in self._kept:
            try:
                self._kept[key] = predictions.for_record(record_path, record)
            except predictions.PredictionsError as err:
                # pages show the message: never this machine's folders
                self._failed[key] = str(err).replace(self._root, "") if self._root else str(err)
                log.warning("%s: its intervals, ties and comparisons are left out", self._failed[key])
                raise predictions.PredictionsError(self._failed[key]) from None
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
    problem: Optional[str] = None  # why there is no difference: missing predictions, different validation splits, one seed
    notes: list[str] = field(default_factory=list)
    seeds_a: Optional[int] = None
    seeds_b: Optional[int] = None
    draws: Optional[bootstrap.Draws] = field(default=None, repr=False)  # B - A before its seed level, for the averages


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
    margin: Optional[float] = None  # --margin: each difference also tested for equivalence within it

    @property
    def family(self) -> int:
        """How many tests Holm's correction counts: every task with a verdict and every average."""
        return sum(t.difference is not None for t in self.tasks) + len(self.averages)

    def to_json(self) -> dict:
        tasks = [{k: v for k, v in asdict(t).items() if k != "draws"} for t in self.tasks]
        return {"model_a": self.model_a, "model_b": self.model_b, "resamples": self.resamples, "margin": self.margin,
                "method": METHOD, "family": self.family, "tasks": tasks, "averages": [asdict(a) for a in self.averages]}


def _is_record_file(path: Path) -> bool:
    return path.suffix == ".json" and not path.name.endswith(".failed.json") and not path.name.startswith(".")


def find_side(ref: str, results_dir: Path) -> Side:
    """A model's current records (the record store's answer): ``ref`` is a folder of one model's records, or
    any ``--model`` value `bench run` takes (hub id, local model folder, models.yaml name), found under ``results_dir``."""
    folder = Path(ref)
    if folder.is_dir() and any(_is_record_file(p) for p in folder.glob("*.json")):
        found = store.scan(folder)
        ids = sorted({s.record.model.id for s in found.records})
        if len(ids) != 1:
            raise CompareError(f"{ref}: holds records of {len(ids)} models ({', '.join(ids) or 'none readable'}); "
                               f"give one model's record folder or a model id")
        return Side(ids[0], {t: (s.path, s.record) for t, s in store.latest(found.records).items()})
    try:
        current = store.scan(Path(results_dir)).current_of(ref)
    except store.NoRecords as err:
        raise CompareError(f"{ref!r}: not a folder of records, and {err}; give a record folder, a model id, "
                           "or --results DIR") from None
    model_id = next(iter(current.values())).record.model.id  # the identity's id: the store matched on it
    return Side(model_id, {t: (s.path, s.record) for t, s in current.items()})


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
                 load: Loader = predictions.for_record, margin: Optional[float] = None) -> TaskComparison:
    """B - A on one task's primary metric, or the reason it cannot be compared."""
    (path_a, rec_a), (path_b, rec_b) = a.records[task_id], b.records[task_id]
    metric = rec_a.task.primary_metric
    row = TaskComparison(task_id, metric, rec_a.scores.get(metric), rec_b.scores.get(metric))
    if rec_b.task.primary_metric != metric:
        row.problem = f"primary metrics differ ({metric} vs {rec_b.task.primary_metric})"
        return row
    if metric not in metrics.METRICS:
        row.problem = (f"metric {metric!r} is not one this koenbench knows ({', '.join(metrics.METRICS)}); "
                       "compare with the koenbench version that wrote the records")
        return row
    if rec_a.task.spec_sha256 != rec_b.task.spec_sha256:
        row.notes.append("task specs differ (hyperparameters or protocol); the examples are the same")
    try:
        pred_a, pred_b = load(path_a, rec_a), load(path_b, rec_b)
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
    row.seeds_a, row.seeds_b = len(pred_a.seeds), len(pred_b.seeds)
    row.problem = bootstrap.seeds_problem({a.model_id: row.seeds_a, b.model_id: row.seeds_b})
    if row.problem is None:
        # one stream of resamples per task, so a task's row does not depend on which other tasks are compared
        rng = np.random.default_rng([seed, *task_id.encode()])
        row.draws = bootstrap.paired_draws(pred_a.for_bootstrap(), pred_b.for_bootstrap(), metric, resamples, rng)
        row.difference = bootstrap.summarize(row.draws, rng, margin=margin)
    return row


def suite_averages(rows: list[TaskComparison], margin: Optional[float] = None, seed: int = 0) -> list[AverageComparison]:
    """Per suite, B - A of the average primary score over the tasks both models could be compared on."""
    out = []
    for suite in sorted({r.task_id.split("/")[0] for r in rows}):
        in_suite = [r for r in rows if r.task_id.split("/")[0] == suite]
        usable = [r for r in in_suite if r.draws is not None]
        if len(usable) < 2:
            continue  # an average of one task is that task
        rng = np.random.default_rng([seed, *f"average {suite}".encode()])
        difference = bootstrap.summarize(bootstrap.average([r.draws for r in usable]), rng, margin=margin)
        out.append(AverageComparison(suite, [r.task_id for r in usable], len(in_suite), difference))
    return out


def judge(model_a: str, model_b: str, rows: list[TaskComparison], resamples: int,
          margin: Optional[float] = None) -> Comparison:
    """The suites' averages of the rows, then every task's and average's test as one family (Holm)."""
    averages = suite_averages(rows, margin)
    tested = [r for r in rows if r.difference is not None]
    adjusted = bootstrap.adjust([r.difference for r in tested] + [a.difference for a in averages])
    for row, difference in zip(tested, adjusted):
        row.difference = difference
    averages = [replace(a, difference=d) for a, d in zip(averages, adjusted[len(tested):])]
    return Comparison(model_a, model_b, rows, averages, resamples, margin)


def compare(a: Side, b: Side, task_ids: Sequence[str], resamples: int = bootstrap.RESAMPLES,
            load: Loader = predictions.for_record, margin: Optional[float] = None) -> Comparison:
    rows = []
    for task_id in task_ids:
        missing = [side.model_id for side in (a, b) if task_id not in side.records]
        if missing:
            rows.append(TaskComparison(task_id, "-", problem=f"no record for {' and '.join(missing)}"))
        else:
            rows.append(compare_task(task_id, a, b, resamples, load=load, margin=margin))
    return judge(a.model_id, b.model_id, rows, resamples, margin)


# ---------------------------------------------------------------------------------------------
# for the leaderboard: intervals of a record's scores, and which models show no detectable difference from the best


def record_intervals(path: Path, record: records.ResultRecord, resamples: int = bootstrap.RESAMPLES,
                     load: Loader = predictions.for_record) -> dict[str, bootstrap.Interval]:
    """The 95% interval of every score of a record (seeds and examples resampled); {} when it kept no predictions."""
    kept = load(path, record)
    if kept is None:
        return {}
    model = kept.for_bootstrap()  # a metric this version lacks has no statistic, so no interval
    return {metric: bootstrap.score_interval(model, metric, resamples) for metric in record.scores if metric in metrics.METRICS}


def average_interval(entries: Sequence[tuple[Path, records.ResultRecord]],
                     resamples: int = bootstrap.RESAMPLES, load: Loader = predictions.for_record) -> Optional[bootstrap.Interval]:
    """The 95% interval of one model's average primary score over several tasks (each task resampled on its own).

    None when any of the records kept no predictions: an interval over part of the average would mislead.
    """
    draws = []
    for path, record in entries:
        kept = load(path, record)
        if kept is None:
            return None
        if record.task.primary_metric not in metrics.METRICS:  # recorded by a version that had it: no statistic
            return None
        rng = np.random.default_rng([0, *record.task.id.encode()])
        draws.extend(bootstrap.model_draws([kept.for_bootstrap()], record.task.primary_metric, resamples, rng))
    if not draws:
        return None
    return bootstrap.interval_of(bootstrap.average(draws), np.random.default_rng([0, *b"average"]))


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
    """On one task: the best model by the metric, the models no test tells from it, and those that were not tested."""

    best: str
    tied: list[str]  # no detectable difference from the best (which is not a finding that they are equal)
    untested: list[str]  # no predictions, one seed, or scored on other examples than the best: neither tied nor different


def tied_with_best(entries: dict[str, tuple[Path, records.ResultRecord]], metric: str,
                   resamples: int = bootstrap.RESAMPLES, load: Loader = predictions.for_record) -> Optional[Ties]:
    """Which models' scores on ``metric`` show no detectable difference from the best one's.

    The rule of `bench compare`: paired bootstrap with each model's seed level, Holm at 5%;
    the family is every pair of the tested models (the best is picked by the same data,
    ``bootstrap.differ_from_best``). ``entries``: model id -> (record file, record), all of
    one task. None when the best model kept no predictions; when it has one seed, no other
    model can be tested against it.
    """
    if not entries or metric not in metrics.METRICS:
        return None
    best = max(entries, key=lambda m: entries[m][1].scores[metric])
    best_kept = load(*entries[best])
    if best_kept is None:
        return None
    if len(best_kept.seeds) < bootstrap.MIN_SEEDS:
        return Ties(best, [], sorted(m for m in entries if m != best))
    tested, untested = {best: best_kept}, []
    for model_id, entry in entries.items():
        if model_id == best:
            continue
        kept = load(*entry)
        usable = kept is not None and kept.validation_fingerprint == best_kept.validation_fingerprint
        if usable and len(kept.seeds) >= bootstrap.MIN_SEEDS:
            tested[model_id] = kept
        else:
            untested.append(model_id)
    ids = sorted(tested)
    rng = np.random.default_rng([0, *metric.encode(), *best.encode()])
    differs = bootstrap.differ_from_best([tested[m].for_bootstrap() for m in ids], metric, ids.index(best),
                                         resamples, rng)
    return Ties(best, [m for m, d in zip(ids, differs) if m != best and not d], sorted(untested))


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


def _p(p: Optional[float]) -> str:
    from harness.site.tables import p_text

    return "-" if p is None else p_text(p)


def _headers(result: Comparison) -> list[str]:
    within = [f"within ±{result.margin:g}"] if result.margin is not None else []
    return ["task", "metric", "A", "B", "seeds A/B", "B - A", "95% interval", "p", "p (Holm)", "verdict", *within]


def _cells(d: bootstrap.Difference, margin: Optional[float]) -> list[str]:
    """B - A, interval, raw and Holm p, verdict, and with a margin whether the equivalence test holds."""
    cells = [f"{d.difference:+.2f}", f"[{d.low:+.2f}, {d.high:+.2f}]", _p(d.p_value), _p(d.p_adjusted), d.verdict]
    if margin is not None and d.equivalence is not None:
        e = d.equivalence
        cells.append(f"{'equivalent' if e.equivalent else 'not shown'} (p {_p(e.p_adjusted)})")
    return cells


def _empty(result: Comparison, problem: str) -> list[str]:
    """The cells after B of a row with no test: dashes, and why in the verdict column."""
    return ["-", "-", "-", "-", problem] + (["-"] if result.margin is not None else [])


def _seeds(row: TaskComparison) -> str:
    return f"{row.seeds_a}/{row.seeds_b}" if row.seeds_a is not None else "-"


def caption(result: Comparison) -> str:
    """What the table's numbers are, in words: the method, the family, and what a verdict does not say."""
    margin = (f"; equivalent within ±{result.margin:g}: both one-sided tests (TOST) reject at 5% after Holm over the "
              f"same tests" if result.margin is not None else "")
    family = (f"verdicts at 5% from Holm's p over the {result.family} tests of this table (tasks and averages)"
              if result.family else "no verdicts")
    return (f"B - A, paired bootstrap ({result.resamples} resamples), each model's seed variance estimated from its "
            f"seeds, not taken as known; 95% intervals per row, within the metric's range; {family}; "
            f"'no detectable difference' is not a finding of equality{margin}")


def table(result: Comparison):
    """The comparison as a rich table; ids and problems are data, never markup."""
    from rich.table import Table
    from rich.text import Text

    headers = _headers(result)
    out = Table(title=Text(f"A = {result.model_a}   B = {result.model_b}"), caption=Text(caption(result)))
    for column in headers:
        out.add_column(column, justify="right" if column in ("A", "B", "B - A", "p", "p (Holm)") else "left")
    verdict_at = headers.index("verdict")
    style = {"B better": "green", "A better": "red", "no detectable difference": ""}

    def add(cells: list[str], verdict_style: str, bold: bool = False) -> None:
        texts = [Text(c) for c in cells]
        texts[verdict_at].stylize(verdict_style)
        if bold:
            texts[0].stylize("bold")
        out.add_row(*texts)

    for row in result.tasks:
        scores = [f"{s:.2f}" if s is not None else "-" for s in (row.score_a, row.score_b)]
        if row.difference is None:
            add([row.task_id, row.metric, *scores, _seeds(row), *_empty(result, row.problem or "")], "yellow")
            continue
        cells = [row.task_id, row.metric, *scores, _seeds(row), *_cells(row.difference, result.margin)]
        cells[verdict_at] += f" ({'; '.join(row.notes)})" if row.notes else ""
        add(cells, style[row.difference.verdict])
    for avg in result.averages:
        label = f"{avg.suite} average ({len(avg.tasks)} of {avg.of} tasks)"
        add([label, "primary", "", "", "", *_cells(avg.difference, result.margin)], style[avg.difference.verdict], bold=True)
    return out


def markdown(result: Comparison) -> str:
    """The same table in markdown, for a report or an issue. Ids and problems come from record files:
    every one is escaped for markdown and HTML (the site's escape), so none can add a link, a row or a tag."""
    from harness.site.escape import text as esc

    headers = _headers(result)
    lines = [f"A = {esc(result.model_a)}, B = {esc(result.model_b)}; {esc(caption(result))}", "",
             "| " + " | ".join(headers) + " |",
             "|" + "|".join("---:" if h in ("A", "B", "B - A", "p", "p (Holm)") else "---" for h in headers) + "|"]
    for row in result.tasks:
        scores = [f"{s:.2f}" if s is not None else "-" for s in (row.score_a, row.score_b)]
        cells = _cells(row.difference, result.margin) if row.difference else _empty(result, esc(row.problem or ""))
        lines.append("| " + " | ".join([esc(row.task_id), esc(row.metric), *scores, _seeds(row), *cells]) + " |")
    for avg in result.averages:
        label = f"**{esc(avg.suite)} average** ({len(avg.tasks)} of {avg.of} tasks)"
        lines.append("| " + " | ".join([label, "primary", "", "", "", *_cells(avg.difference, result.margin)]) + " |")
    return "\n".join(lines) + "\n"


def write(result: Comparison, output: Path) -> list[Path]:
    """compare.json (every number) and compare.md under ``output``."""
    from harness.core import files

    output = Path(output)
    text = json.dumps(result.to_json(), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    return files.write_many({output / "compare.json": text, output / "compare.md": markdown(result)})
