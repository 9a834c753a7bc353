"""Frames -> tables of display cells: the text, the sort key and the marks (partial, missing).

Templates only print these; every formatting decision is here, where tests can see it.
``tier`` keeps missing and partial values below complete ones whichever way a column is
sorted (site/static/sort.js reads ``data-tier``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from harness.results import records
from harness.site.aggregate import OVERALL
from harness.site.escape import anchor
from harness.tasks import metrics

COMPLETE, PARTIAL, MISSING = 0, 1, 2
SYNTHETIC_MARK = "synthetic"  # shown beside every number that was made up for tests or demos


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str = ""  # data-sort: a number, or text for text columns
    tier: int = COMPLETE
    title: str = ""  # hover text
    css: str = ""
    href: str | None = None
    sub: str = ""  # a smaller second line


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "number"  # "number" sorts best-first on the first click, "text" A-Z
    href: str | None = None
    sub: str = ""
    title: str = ""


@dataclass
class Table:
    id: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    foot: list[list[Cell]] = field(default_factory=list)  # summary rows (averages) that sorting leaves in place
    filterable: bool = False  # a search box above it hides the rows that do not hold what is typed (sort.js)


def metric_label(name: str) -> str:
    return metrics.label(name)  # the registry's short name; a metric this version lacks shows as named


def present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def fmt(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def fmt_reported(value: float) -> str:
    """As published: 91.0 stays 91.0, 85.73 stays 85.73 (no invented digits)."""
    text = f"{value:.4f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


TIE_MARKS = {  # mark -> (css class, what the hover says); measured scores only: reported numbers have no predictions
    "best": ("kb-best", "the best score on this task"),
    "tied": ("kb-tied", "no detectable difference from the best (not a finding of equality): paired bootstrap with "
                        "each model's seed variance, Holm's p over every pair of models on this task not below 0.05"),
}


def interval_text(interval: Any) -> str:
    if interval is None:
        return ""
    alone = " (examples only: one seed)" if getattr(interval, "examples_only", False) else ""
    return f"95% {fmt(interval.low)}–{fmt(interval.high)}{alone}"


def score(mean: float | None, std: float | None = None, n_seeds: int = 1, *, missing_title: str = "",
          interval: Any = None, mark: str = "") -> Cell:
    """A measured score; ``interval`` (bootstrap.Interval) and ``mark`` ("best", "tied") when its predictions allow."""
    if not present(mean):
        return missing(missing_title)
    spread = f"± {fmt(std)}" if present(std) and n_seeds > 1 else ""
    css, said = TIE_MARKS.get(mark, ("", ""))
    title = "; ".join(part for part in (f"mean of {n_seeds} seeds" if n_seeds > 1 else "one seed", said) if part)
    text = fmt(mean) + (" ≈" if mark == "tied" else "")
    return Cell(text, sort=repr(float(mean)), sub=" · ".join(p for p in (spread, interval_text(interval)) if p),
                title=title, css=css)


def reported(value: float | None, source: str) -> Cell:
    if not present(value):
        return missing(f"not reported by source {source}")
    return Cell(fmt_reported(value), sort=repr(float(value)), css="kb-reported", title=f"reported by source {source}")


def missing(title: str = "") -> Cell:
    return Cell("—", tier=MISSING, css="kb-missing", title=title or "missing: no result record")


def failed(error: str) -> Cell:
    return Cell("failed", tier=MISSING, css="kb-missing kb-failed", title=f"the run failed: {error}")


def text(value: str, href: str | None = None, sub: str = "", title: str = "") -> Cell:
    return Cell(value, sort=value.lower(), href=href, sub=sub, title=title)


def average(row: pd.Series, group: str, what: str, interval: Any = None) -> Cell:
    """A group average; partial ones show how many tasks they cover and sort below complete ones."""
    n, of = int(row[f"n:{group}"]), int(row[f"of:{group}"])
    value = row[f"avg:{group}"]
    if n == 0:
        return missing(f"no {what} score yet")
    if n < of:
        return Cell(fmt(value), sort=repr(float(value)), tier=PARTIAL, css="kb-partial", sub=f"partial {n}/{of}",
                    title=f"partial: mean over {n} of {of} {what} tasks, not comparable with complete averages")
    return Cell(fmt(value), sort=repr(float(value)), title=f"mean over all {of} {what} tasks", sub=interval_text(interval))


def model_cell(model: dict[str, Any], model_id: str, root: str, synthetic: bool = False) -> Cell:
    """A model's name, linked to its page, with its id below when the name differs and a mark when synthetic."""
    sub = " · ".join(part for part in (SYNTHETIC_MARK if synthetic else "",
                                       model_id if model["name"] != model_id else "") if part)
    return Cell(model["name"], sort=model["name"].lower(), href=f"{root}models/{model['slug']}.html", sub=sub,
                css="kb-synthetic" if synthetic else "",
                title="synthetic: made up for tests or demos, not a measurement" if synthetic else "")


def model_facts(model: dict[str, Any]) -> list[Cell]:
    """The parameter count and languages models.yaml gives, or — where it gives none."""
    params = "" if model.get("params") is None else str(model["params"])
    languages = ", ".join(model.get("languages") or [])
    return [Cell(params, sort=repr(parameter_count(params))) if params else missing("models.yaml gives no parameter count"),
            Cell(languages, sort=languages.lower()) if languages else missing("models.yaml gives no languages")]


def parameter_count(params: str) -> float:
    """'110M' -> 1.1e8, '1.3B' -> 1.3e9, '22.7M' -> 2.27e7; NaN when it is not such a number (sorted last)."""
    found = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*([KMBT]?)", params.strip().upper())
    if found is None:
        return float("nan")
    return float(found[1]) * {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}[found[2]]


def group_label(group: str) -> str:
    return "Overall" if group == OVERALL else f"{group.upper()} avg"


def leaderboard_table(
    table_id: str,
    board: pd.DataFrame,
    tasks: pd.DataFrame,
    groups: list[str],
    models: dict[str, dict[str, Any]],
    root: str,
    *,
    failures: dict[tuple[str, str], str] | None = None,
    by_source: bool = False,
    synthetic: set[str] = frozenset(),
    statistics: Any = None,
    record_links: dict[tuple[str, str], str] | None = None,
) -> Table:
    """Model, [source | parameters and languages], the group averages, then each task's primary score.

    ``statistics`` (compare.LeaderboardStatistics) adds intervals and tie marks to measured scores;
    ``record_links`` ((model id, task id) -> the record file's address) links each measured score to its record.
    """
    failures, record_links = failures or {}, record_links or {}
    columns = [Column("Model", kind="text")]
    if by_source:
        columns.append(Column("Source", kind="text", href=f"{root}reported.html"))
    else:
        columns += [Column("Params", title="parameters, as models.yaml gives them"),
                    Column("Languages", kind="text", title="languages, as models.yaml gives them")]
    columns += [Column(group_label(g), title=_group_title(g, tasks)) for g in groups]
    columns += [Column(t.name, href=f"{root}tasks/{slug_of_task(t.Index)}.html", sub=metric_label(t.primary))
                for t in tasks.itertuples()]
    table = Table(table_id, columns, filterable=True)
    for key, row in board.iterrows():
        model_id, source = key if by_source else (key, None)
        model = models[model_id]
        cells = [model_cell(model, model_id, root, model_id in synthetic)]
        if by_source:
            cells.append(text(source, href=f"{root}reported.html#source-{anchor(source)}", title=f"source {source}"))
        else:
            cells += model_facts(model)
        cells += [average(row, g, "overall" if g == OVERALL else g.upper(),
                          None if by_source else average_interval(statistics, model_id, g)) for g in groups]
        for task_id in tasks.index:
            if by_source:
                cells.append(reported(row[task_id], source))
            elif present(row[task_id]):
                primary = tasks.loc[task_id, "primary"]
                cell = score(row[task_id], interval=score_interval(statistics, model_id, task_id, primary),
                             mark=tie_mark(statistics, model_id, task_id))
                link = record_links.get((model_id, task_id))
                cells.append(replace(cell, href=link, title=cell.title or "the record this score comes from")
                             if link else cell)
            elif (model_id, task_id) in failures:
                cells.append(failed(failures[(model_id, task_id)]))
            else:
                cells.append(missing())
        table.rows.append(cells)
    return table


VERDICTS = {  # bench compare's verdict on B - A, with B the model of the page and A the reference
    "B better": ("better", "kb-better", "Holm's p below 0.05, this model ahead"),
    "A better": ("worse", "kb-worse", "Holm's p below 0.05, the reference ahead"),
    "no detectable difference": ("no detectable difference", "kb-same",
                                 "Holm's p not below 0.05: no difference found, which is not a finding of equality"),
}


def difference_cells(difference: Any) -> list[Cell]:
    """This model - the reference, its 95% interval, the raw and Holm p-values and the verdict (a bootstrap.Difference)."""
    said, css, why = VERDICTS[difference.verdict]
    return [Cell(f"{difference.difference:+.2f}", sort=repr(float(difference.difference))),
            Cell(f"{difference.low:+.2f} to {difference.high:+.2f}", sort=repr(float(difference.low)),
                 title="95% interval of the paired bootstrap (validation examples resampled, each model's seed variance "
                       "estimated from its seeds), within the metric's range"),
            Cell(p_text(difference.p_value), sort=repr(float(difference.p_value)), title="two-sided bootstrap p-value"),
            Cell(p_text(difference.p_adjusted), sort=repr(float(difference.p_adjusted)),
                 title="Holm-adjusted over this table's tasks and averages: the verdict's p"),
            Cell(said, sort=said, css=css, title=why)]


def p_text(p_value: float) -> str:
    # 10,000 resamples cannot show a p-value below 1/10,001: print the bound, not a row of zeros.
    # Rounded down, so a p that gives a verdict (below 0.05) never prints as 0.050.
    return "< 0.001" if p_value < 0.001 else f"{math.floor(p_value * 1000) / 1000:.3f}"


def not_compared(why: str) -> list[Cell]:
    return [missing(why), missing(why), missing(why), missing(why),
            Cell("not compared", sort="~", tier=MISSING, css="kb-missing kb-not-compared", sub=why, title=why)]


def comparison_table(table_id: str, result: Any, tasks: pd.DataFrame, root: str) -> Table:
    """One compare.Comparison (A = the reference, B = this model): per task B - A and its verdict, then each suite's average.

    A task that could not be paired (no record or no predictions on one side, other
    validation examples) says why instead of a number.
    """
    table = Table(table_id, [
        Column("Task", kind="text"), Column("This model"), Column("Reference"),
        Column("Difference", sub="this − reference"), Column("95% interval", kind="number"), Column("p"),
        Column("p, Holm"), Column("Verdict", kind="text")])
    names = tasks["name"]
    for row in result.tasks:
        known = row.task_id in tasks.index
        metric = tasks.loc[row.task_id, "primary"] if known else row.metric
        scores = [Cell(fmt(s), sort=repr(float(s))) if present(s) else missing() for s in (row.score_b, row.score_a)]
        cells = difference_cells(row.difference) if row.difference is not None else not_compared(row.problem or "")
        if row.notes and row.difference is not None:
            cells[-1] = replace(cells[-1], sub="; ".join(row.notes))
        table.rows.append([text(names.get(row.task_id, row.task_id), sub=metric_label(metric),
                                href=f"{root}tasks/{slug_of_task(row.task_id)}.html" if known else None),
                           *scores, *cells])
    averages = {a.suite: a for a in result.averages}
    suites = list(dict.fromkeys([*tasks["suite"], *(row.task_id.split("/")[0] for row in result.tasks)]))
    for suite in suites:
        in_suite = [row for row in result.tasks if row.task_id.split("/")[0] == suite]
        if not in_suite:
            continue
        avg = averages.get(suite)
        if avg is None:  # compare.suite_averages averages two or more paired tasks: one is that task's row
            paired = sum(row.difference is not None for row in in_suite)
            table.foot.append([text(f"{suite.upper()} average"), text(""), text(""),
                               *not_compared(f"{paired} of {len(in_suite)} tasks paired; an average needs two")])
            continue
        label = text(f"{suite.upper()} average", sub=f"{len(avg.tasks)} of {avg.of} tasks, each task's primary score")
        table.foot.append([label, text(""), text(""), *difference_cells(avg.difference)])
    return table


def score_interval(statistics: Any, model_id: str, task_id: str, metric: str) -> Any:
    return statistics.intervals.get((model_id, task_id), {}).get(metric) if statistics else None


def average_interval(statistics: Any, model_id: str, group: str) -> Any:
    return statistics.averages.get((model_id, group)) if statistics else None


def tie_mark(statistics: Any, model_id: str, task_id: str) -> str:
    """"best", "tied" (with the best, on the task's primary metric) or ""."""
    ties = statistics.ties.get(task_id) if statistics else None
    if ties is None:
        return ""
    return "best" if model_id == ties.best else "tied" if model_id in ties.tied else ""


def _group_title(group: str, tasks: pd.DataFrame) -> str:
    names = tasks["name"] if group == OVERALL else tasks.loc[tasks["suite"] == group, "name"]
    return "mean of the primary scores of " + ", ".join(names)


def slug_of_task(task_id: str) -> str:
    return records.task_file_stem(task_id)
