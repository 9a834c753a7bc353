"""SiteData -> the markdown pages, the SVG and the static assets of a mkdocs docs dir (jinja2)."""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from harness.site import escape, svg
from harness.site.aggregate import OVERALL, add_averages, language_groups, primary_wide
from harness.site.inputs import SiteInputError
from harness.site.tables import (
    SYNTHETIC_MARK, Cell, Column, Table, average, comparison_table, failed, fmt, fmt_reported, leaderboard_table, metric_label, missing, model_cell, present,
    average_interval, reported, score, score_interval, slug_of_task, text, tie_mark,
)

ASSETS = "assets/koenbench"  # where site/static lands inside the docs dir
PLOT = "korean-vs-english"
LANGUAGE_NAMES = {"ko": "Korean", "en": "English"}


@dataclass
class SiteData:
    tasks: pd.DataFrame  # aggregate.tasks_frame
    models: dict[str, dict[str, Any]]  # id -> models.yaml entry + name, slug
    latest: pd.DataFrame  # aggregate.latest_records of the runs that followed the protocol: the ranked ones
    others: pd.DataFrame  # aggregate.latest_records of every other run, with ``why`` it is not ranked
    long: pd.DataFrame  # aggregate.scores_long of latest
    board: pd.DataFrame  # aggregate.leaderboard, index model id
    reported: pd.DataFrame  # aggregate.reported_long
    reported_board: pd.DataFrame  # aggregate.leaderboard, index (model id, source)
    sources: dict[str, dict[str, Any]]
    failures: pd.DataFrame  # aggregate.failures_frame
    skipped: list[tuple[str, str]] = field(default_factory=list)
    built_at: str = ""
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict)  # harness.run.baselines.by_task: shown, never ranked
    statistics: Any = None  # compare.LeaderboardStatistics of the ranked records: intervals, ties with the best
    comparisons: dict[str, list[Any]] = field(default_factory=dict)  # model id -> compare.Comparison per reference
    demo: pd.DataFrame = field(default_factory=pd.DataFrame)  # bench demo's current runs: its own tier, ranked apart
    demo_board: pd.DataFrame = field(default_factory=pd.DataFrame)  # aggregate.leaderboard of demo

    @property
    def groups(self) -> list[str]:
        return [*self.tasks["suite"].unique(), OVERALL]

    @property
    def synthetic_models(self) -> set[str]:
        return set(self.latest.loc[self.latest["synthetic"].astype(bool), "model_id"])

    @property
    def failure_map(self) -> dict[tuple[str, str], str]:
        return {(f.model_id, f.task_id): f.error for f in self.failures.itertuples()}


def environment(templates_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        finalize=escape.text,  # every printed value is escaped for markdown and HTML unless it is Markup already
    )
    env.filters.update(fmt=fmt, fmt_reported=fmt_reported, metric=metric_label, when=_when, duration=_duration,
                       short=_short, url=escape.safe_url, anchor=escape.anchor,
                       page_title=escape.page_title)
    env.globals.update(link=escape.link)
    return env


def write_docs(data: SiteData, docs_dir: Path, templates_dir: Path, static_dir: Path, howto_dir: Path) -> list[Path]:
    """Write every page into ``docs_dir``; returns the markdown pages written."""
    docs_dir = Path(docs_dir)
    env = environment(templates_dir)
    written: list[Path] = []

    def page(template: str, out: str, **context: Any) -> None:
        root = "../" * out.count("/")
        path = page_path(docs_dir, out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(env.get_template(template).render(data=data, root=root, **context), encoding="utf-8")
        written.append(path)

    page("home.md.j2", "index.md", **home_context(data))
    for suite in data.tasks["suite"].unique():
        page("suite.md.j2", f"{suite}.md", suite=suite, sections=suite_sections(data, suite, root=""))
    for task_id in data.tasks.index:
        page("task.md.j2", f"tasks/{slug_of_task(task_id)}.md", **task_context(data, task_id))
    page("models.md.j2", "models/index.md", table=models_table(data, root="../"))
    for model_id in data.models:
        page("model.md.j2", f"models/{data.models[model_id]['slug']}.md", **model_context(data, model_id))
    points = scatter_points(data)
    plot = svg.scatter(points, "Korean average (KLUE primary scores)", "English average (GLUE primary scores)",
                       "Korean against English average, one point per model")
    (docs_dir / f"{PLOT}.svg").write_text(plot, encoding="utf-8")
    page("plot.md.j2", f"{PLOT}.md", svg=plot, table=points_table(points))
    page("reported.md.j2", "reported.md")
    for name in ("adding-a-model.md", "adding-a-task.md"):
        (docs_dir / "how-to").mkdir(exist_ok=True)
        shutil.copyfile(Path(howto_dir) / name, docs_dir / "how-to" / name)
    shutil.copytree(static_dir, docs_dir / ASSETS, dirs_exist_ok=True)
    return written


def nav(data: SiteData) -> list[Any]:
    """The site's navigation, page by page as ``write_docs`` writes them (a new page is added to both)."""
    # the theme prints nav titles unescaped
    suites = [{html.escape(suite.upper()): f"{suite}.md"} for suite in data.tasks["suite"].unique()]
    tasks = [{html.escape(t.name): f"tasks/{slug_of_task(t.Index)}.md"} for t in data.tasks.itertuples()]
    return [
        {"Leaderboard": "index.md"}, *suites, {"Tasks": tasks}, {"Models": "models/index.md"},
        {"Korean vs English": f"{PLOT}.md"}, {"Reported numbers": "reported.md"},
        {"How-to": [{"Add a model": "how-to/adding-a-model.md"}, {"Add a task": "how-to/adding-a-task.md"}]},
    ]


def page_path(docs_dir: Path, name: str) -> Path:
    """``docs_dir / name``, refused when it would land outside ``docs_dir`` (names come from input files)."""
    path = Path(docs_dir) / name
    if not path.resolve().is_relative_to(Path(docs_dir).resolve()):
        raise SiteInputError(f"refusing to write the page {name!r}: it would land outside the site folder")
    return path


def home_context(data: SiteData) -> dict[str, Any]:
    measured = leaderboard_table("leaderboard", data.board, data.tasks, data.groups, data.models, "",
                                 failures=data.failure_map, synthetic=data.synthetic_models, statistics=data.statistics,
                                 record_links=record_links(data.latest, ""))
    reported = leaderboard_table("reported-leaderboard", data.reported_board, data.tasks, data.groups, data.models, "",
                                 by_source=True)
    replaced = data.latest[data.latest["replaced"].map(len) > 0]
    demo = leaderboard_table("demo-leaderboard", data.demo_board, data.tasks, data.groups, data.models, "",
                             synthetic=data.synthetic_models, record_links=record_links(data.demo, "")) if len(data.demo) else None
    return {"measured": measured, "others": reported, "replaced": replaced, "apart": others_table(data, ""), "demo": demo}


RECORDS = "records"  # the site's copies of the shown records (and their predictions), under their own names


def record_links(frame: pd.DataFrame, root: str) -> dict[tuple[str, str], str]:
    """(model id, task id) -> the address of the record's copy in the site, for the records a page shows."""
    if not len(frame):
        return {}
    return {(r.model_id, r.task_id): f"{root}{RECORDS}/{r.file}" for r in frame.itertuples()
            if not Path(r.file).is_absolute() and ".." not in Path(r.file).parts}


def suite_sections(data: SiteData, suite: str, root: str) -> list[dict[str, Any]]:
    """One section per task of the suite: a measured table and a reported table, every metric."""
    tasks = data.tasks[data.tasks["suite"] == suite]
    return [{"task_id": task_id, "task": task.to_dict(), "href": f"{root}tasks/{slug_of_task(task_id)}.md",
             "measured": measured_table(data, task_id, root), "reported": reported_table(data, task_id, root),
             "apart": others_table(data, root, task_id=task_id)}
            for task_id, task in tasks.iterrows()]


def measured_table(data: SiteData, task_id: str, root: str) -> Table:
    """Every model measured on the task: each metric's mean ± std, seeds, date; best primary first."""
    task = data.tasks.loc[task_id]
    records = data.latest[data.latest["task_id"] == task_id]
    primary = records["scores"].map(lambda s: s.get(task["primary"], float("nan")))
    records = records.assign(_primary=primary).sort_values("_primary", ascending=False, na_position="last")
    columns = [Column("Model", kind="text")]
    columns += [Column(metric_label(m), sub="primary" if m == task["primary"] else "") for m in task["metrics"]]
    columns += [Column("Seeds"), Column("Date", kind="text")]
    table = Table(f"measured-{slug_of_task(task_id)}", columns)
    for r in records.itertuples():
        table.rows.append([
            _model_cell(data, r.model_id, root, synthetic=r.synthetic),
            *[score(r.scores.get(m), r.std.get(m), r.n_seeds, missing_title=f"the record has no {m}",
                    interval=score_interval(data.statistics, r.model_id, task_id, m),
                    mark=tie_mark(data.statistics, r.model_id, task_id) if m == task["primary"] else "")
              for m in task["metrics"]],
            Cell(str(r.n_seeds), sort=str(r.n_seeds)),
            text(_when(r.started_at), sub="newest of %d records" % (len(r.replaced) + 1) if r.replaced else ""),
        ])
    return table


def reported_table(data: SiteData, task_id: str, root: str) -> Table | None:
    task = data.tasks.loc[task_id]
    rows = data.reported[data.reported["task_id"] == task_id]
    if rows.empty:
        return None
    wide = rows.pivot_table(index=["model_id", "source"], columns="metric", values="mean", aggfunc="first")
    columns = [Column("Model", kind="text"), Column("Source", kind="text", href=f"{root}reported.html")]
    columns += [Column(metric_label(m)) for m in task["metrics"]]
    table = Table(f"reported-{slug_of_task(task_id)}", columns)
    for (model_id, source), row in wide.iterrows():
        table.rows.append([
            _model_cell(data, model_id, root),
            text(source, href=f"{root}reported.html#source-{escape.anchor(source)}"),
            *[reported(row.get(m), source) for m in task["metrics"]],
        ])
    return table


def task_context(data: SiteData, task_id: str) -> dict[str, Any]:
    replaced = data.latest[(data.latest["task_id"] == task_id) & (data.latest["replaced"].map(len) > 0)]
    return {"task_id": task_id, "task": data.tasks.loc[task_id].to_dict(), "measured": measured_table(data, task_id, "../"),
            "reported": reported_table(data, task_id, "../"), "replaced": replaced,
            "apart": others_table(data, "../", task_id=task_id), "warnings": record_warnings(data, task_id=task_id)}


def others_table(data: SiteData, root: str, *, task_id: str | None = None, model_id: str | None = None) -> Table | None:
    """The runs that are not ranked, each with its primary score and every reason it is set apart."""
    rows = data.others
    if task_id is not None:
        rows = rows[rows["task_id"] == task_id]
    if model_id is not None:
        rows = rows[rows["model_id"] == model_id]
    if rows.empty:
        return None
    table = Table("not-ranked" + (f"-{slug_of_task(task_id)}" if task_id else ""), [
        Column("Model", kind="text"), Column("Task", kind="text"), Column("Primary score"), Column("Seeds"),
        Column("Date", kind="text"), Column("Why it is not ranked", kind="text")])
    for r in rows.itertuples():
        known = r.task_id in data.tasks.index
        primary = data.tasks.loc[r.task_id, "primary"] if known else next(iter(r.scores))
        table.rows.append([
            _model_cell(data, r.model_id, root, synthetic=r.synthetic),
            text(data.tasks["name"].get(r.task_id, r.task_id), sub=metric_label(primary),
                 href=f"{root}tasks/{slug_of_task(r.task_id)}.html" if known else None),
            score(r.scores.get(primary), r.std.get(primary), r.n_seeds), Cell(str(r.n_seeds), sort=str(r.n_seeds)),
            text(_when(r.started_at)), text("; ".join(r.why)),
        ])
    return table


def record_warnings(data: SiteData, *, task_id: str | None = None, model_id: str | None = None) -> list[dict[str, str]]:
    """What the runs warned about (train/validation overlap, a missing label, ...), ranked or not."""
    frame = pd.concat([data.latest, data.others], ignore_index=True)
    if task_id is not None:
        frame = frame[frame["task_id"] == task_id]
    if model_id is not None:
        frame = frame[frame["model_id"] == model_id]
    return [{"model": data.models[r.model_id]["name"], "task": data.tasks["name"].get(r.task_id, r.task_id),
             "warning": warning, "file": r.file}
            for r in frame.itertuples() for warning in r.warnings]


def model_context(data: SiteData, model_id: str) -> dict[str, Any]:
    root = "../"
    model = data.models[model_id]
    records = data.latest[data.latest["model_id"] == model_id].set_index("task_id")
    failures = data.failures[data.failures["model_id"] == model_id]
    failure_of = dict(zip(failures["task_id"], failures["error"]))

    scores = Table("model-scores", [Column("Task", kind="text"), Column("Suite", kind="text"),
                                    Column("Primary score"), Column("Other metrics", kind="text"), Column("Seeds")])
    for task_id, task in data.tasks.iterrows():
        synthetic = task_id in records.index and records.loc[task_id, "synthetic"]
        task_cell = text(task["name"], href=f"{root}tasks/{slug_of_task(task_id)}.html",
                         sub=metric_label(task["primary"]) + (f" · {SYNTHETIC_MARK}" if synthetic else ""))
        if task_id not in records.index:
            gone = failed(failure_of[task_id]) if task_id in failure_of else missing()
            scores.rows.append([task_cell, text(task["suite"].upper()), gone, text(""), missing()])
            continue
        r = records.loc[task_id]
        others = "; ".join(
            f"{metric_label(m)} {fmt(r.scores[m])}" + (f" ± {fmt(r['std'][m])}" if r.n_seeds > 1 and m in r["std"] else "")
            for m in task["metrics"] if m != task["primary"] and m in r.scores
        )
        scores.rows.append([
            task_cell, text(task["suite"].upper()),
            score(r.scores.get(task["primary"]), r["std"].get(task["primary"]), r.n_seeds,
                  interval=score_interval(data.statistics, model_id, task_id, task["primary"]),
                  mark=tie_mark(data.statistics, model_id, task_id)),
            text(others), Cell(str(r.n_seeds), sort=str(r.n_seeds)),
        ])

    provenance = Table("model-provenance", [Column(h, kind="text") for h in (
        "Task", "Model revision", "Harness", "Git commit", "Hardware", "Precision", "Date", "Wall time", "Data")])
    for task_id, r in records.iterrows():
        name = data.tasks["name"].get(task_id, task_id)
        provenance.rows.append([
            text(name, sub="newest of %d records" % (len(r.replaced) + 1) if r.replaced else ""),
            text(_short(r.revision), title=str(r.revision)), text(str(r.harness or "?")),
            text(_short(r.git), title=str(r.git)), text(str(r.device or "?")), text(str(r.precision or "?")),
            text(_when(r.started_at)), Cell(_duration(r.wall_s), sort=repr(float(r.wall_s))),
            text(str(r.data_source or "?")),
        ])

    averages = None
    if model_id in data.board.index:
        row = data.board.loc[model_id]
        averages = [(g, average(row, g, "overall" if g == OVERALL else g.upper(),
                                average_interval(data.statistics, model_id, g))) for g in data.groups]
    extra = sorted(set(records.index) - set(data.tasks.index))  # records of tasks no longer in tasks/
    own_reported = data.reported[data.reported["model_id"] == model_id]
    against, ids = [], set()
    for c in data.comparisons.get(model_id, []):
        reference = data.models[c.model_a]
        table_id = f"vs-{escape.anchor(reference['slug'])}"
        table_id = table_id if table_id not in ids else f"{table_id}-{len(ids)}"  # slugs that escape alike
        ids.add(table_id)
        against.append({"reference": reference["name"], "reference_id": c.model_a, "href": f"{reference['slug']}.md",
                        "resamples": f"{c.resamples:,}", "table": comparison_table(table_id, c, data.tasks, root)})
    return {"model_id": model_id, "model": model, "scores": scores, "provenance": provenance, "averages": averages,
            "comparisons": against,
            "replaced": records[records["replaced"].map(len) > 0], "failures": failures, "extra_tasks": extra,
            "own_reported": own_reported, "apart": others_table(data, root, model_id=model_id),
            "warnings": record_warnings(data, model_id=model_id),
            "synthetic": bool(records["synthetic"].any()) or bool(data.others.loc[
                data.others["model_id"] == model_id, "synthetic"].any())}


def models_table(data: SiteData, root: str) -> Table:
    n_tasks = len(data.tasks)
    measured = data.latest[data.latest["task_id"].isin(data.tasks.index)].groupby("model_id")["task_id"].nunique()
    sources = data.reported.groupby("model_id")["source"].agg(lambda s: ", ".join(sorted(set(s))))
    table = Table("models", [Column("Model", kind="text"), Column("Languages", kind="text"), Column("Parameters", kind="text"),
                             Column("Tasks measured"), Column("Reported by", kind="text")])
    for model_id, model in data.models.items():
        n = int(measured.get(model_id, 0))
        table.rows.append([
            _model_cell(data, model_id, root), text(", ".join(model.get("languages") or []) or "?"),
            text(str(model.get("params") or "?")),
            Cell(f"{n}/{n_tasks}", sort=str(n), tier=0 if n else 2, css="" if n == n_tasks else "kb-partial"),
            text(sources.get(model_id, "")),
        ])
    return table


def scatter_points(data: SiteData) -> list[svg.Point]:
    """Korean against English average of the primary scores, measured and reported, partial marked."""
    groups = language_groups(data.tasks)
    if "ko" not in groups or "en" not in groups:
        return []
    points = []
    frames = [(False, data.long, ["model_id"]), (True, data.reported, ["model_id", "source"])]
    for is_reported, long, keys in frames:
        wide = add_averages(primary_wide(long, data.tasks, keys), groups)
        for key, row in wide.iterrows():
            if row["n:ko"] == 0 or row["n:en"] == 0:
                continue
            model_id, source = key if is_reported else (key, None)
            partial = {g: row[f"n:{g}"] < row[f"of:{g}"] for g in ("ko", "en")}
            note = ", ".join(f"{LANGUAGE_NAMES[g]} {int(row[f'n:{g}'])}/{int(row[f'of:{g}'])} tasks"
                             for g in ("ko", "en") if partial[g])
            label = data.models[model_id]["name"] + (f" [{source}]" if source else "")
            # reported numbers have no predictions: never an interval
            x_interval, y_interval = (None, None) if is_reported else (
                _bounds(average_interval(data.statistics, model_id, "ko")),
                _bounds(average_interval(data.statistics, model_id, "en")))
            points.append(svg.Point(label, float(row["avg:ko"]), float(row["avg:en"]),
                                    href=f"models/{data.models[model_id]['slug']}.html", reported=is_reported,
                                    partial_x=bool(partial["ko"]), partial_y=bool(partial["en"]),
                                    note=f"partial: {note}" if note else "", x_interval=x_interval, y_interval=y_interval))
    return points


def _bounds(interval: Any) -> Any:
    return (interval.low, interval.high) if interval is not None else None


def points_table(points: list[svg.Point]) -> Table:
    table = Table("plot-points", [Column("Model", kind="text"), Column("Kind", kind="text"),
                                  Column("Korean avg"), Column("English avg")])
    def axis(value: float, partial: bool) -> Cell:
        mark = dict(tier=1, css="kb-partial", sub="partial") if partial else {}
        return Cell(fmt(value), sort=repr(value), **mark)

    for p in sorted(points, key=lambda p: (p.partial, -(p.x + p.y))):
        table.rows.append([text(p.label, href=p.href), text("reported" if p.reported else "measured", title=p.note),
                           axis(p.x, p.partial_x), axis(p.y, p.partial_y)])
    return table


def _model_cell(data: SiteData, model_id: str, root: str, synthetic: bool = False) -> Cell:
    model = data.models[model_id]
    return model_cell(model, model_id, root, synthetic)


def _when(value: Any) -> str:
    if isinstance(value, pd.Timestamp) and not pd.isna(value):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return "unknown date" if not isinstance(value, str) else value


def _duration(seconds: Any) -> str:
    if not present(seconds):
        return "?"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:02.0f} min"


def _short(value: Any, n: int = 12) -> str:
    """Hub commits and sha256 digests, shortened like git does; the full value is on hover."""
    if value is None:
        return "?"
    value = str(value)
    prefix, _, digest = value.rpartition(":")
    return (prefix + ":" if prefix else "") + digest[:n]
