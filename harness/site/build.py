"""`build_site`: result records -> one pandas frame -> jinja2 pages -> mkdocs-material, into site/build/.

Reads only result records, models.yaml, reports/reported.yaml and the task YAMLs;
it never imports the runner, so the site can be built from fixture records alone.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.core import checked, paths
from harness.results import compare, export, records, store
from harness.run import baselines
from harness.site import aggregate, comparisons, inputs, render
from harness.tasks.spec import TasksDirs

log = logging.getLogger(__name__)

SITE_DIR = paths.SITE_DIR  # mkdocs.yml, templates/, static/
DEFAULT_OUT = paths.SITE_OUT
HOWTO_DIR = paths.HOWTO_DIR
MARKER = ".koenbench-site"  # a build replaces --out: only ever a folder a build made


class SiteBuildError(RuntimeError):
    """The site could not be built; the message names the file or folder and the fix."""


def build_site(
    reports_dir: Path = paths.REPORTS_DIR,
    out_dir: Path = DEFAULT_OUT,
    models_file: Path = paths.MODELS_FILE,
    tasks_dir: TasksDirs = None,
    *,
    reported_file: Path | None = None,
    results_dir: Path | None = None,
) -> Path:
    """Build the static leaderboard into ``out_dir``; returns the path of its index.html.

    Records come from ``results_dir`` (default ``<reports_dir>/results``), read by the record store;
    numbers published elsewhere from ``reported_file`` (default ``<reports_dir>/reported.yaml``; none
    when it does not exist).
    """
    reports_dir, out_dir = Path(reports_dir), Path(out_dir).resolve()
    results_dir = Path(results_dir) if results_dir else reports_dir / "results"
    reported_file = Path(reported_file) if reported_file else reports_dir / "reported.yaml"
    _check_out_dir(out_dir)
    config = checked.read_yaml(SITE_DIR / "mkdocs.yml", error=SiteBuildError)
    task_order = config.get("extra", {}).get("koenbench", {}).get("task_order", [])
    start = time.perf_counter()
    data = collect(results_dir, models_file, tasks_dir, reported_file, task_order)
    _recover(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}{BUILDING}", dir=_made(out_dir.parent)))
    staging.chmod(0o755)  # mkdtemp makes it private; a published site is for everyone to read
    try:  # built beside the published site, then swapped in: a failed or killed build leaves the old site whole
        with tempfile.TemporaryDirectory(prefix="koenbench-site-") as tmp:
            docs_dir = Path(tmp) / "docs"
            render.write_docs(data, docs_dir, SITE_DIR / "templates", SITE_DIR / "static", HOWTO_DIR)
            copy_records(data, results_dir.parent, docs_dir / render.RECORDS)  # each score links its record
            export.write_leaderboard(data.board, data.tasks, docs_dir)  # the home page links them
            _mkdocs_build(docs_dir, staging, render.nav(data))
        (staging / MARKER).write_text("built by `bench site build`; the next build replaces this folder\n", encoding="utf-8")
        _swap_in(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already when swapped in
    log.info("built the site from %d records of %d models in %.1f s", len(data.latest), data.latest["model_id"].nunique(),
             time.perf_counter() - start)
    return out_dir / "index.html"


def collect(results_dir: Path, models_file: Path, tasks_dir: TasksDirs, reported_file: Path,
            task_order: list[str] = ()) -> render.SiteData:
    """Read every input and aggregate it into the frames the pages are made of."""
    base = Path(results_dir).parent  # pages name record files from here: 'results/<model>/<task>.json'
    results = _relative_to(inputs.load_results(Path(results_dir)), base)
    specs = inputs.load_tasks(tasks_dir)
    if not specs:
        raise SiteBuildError(f"no valid task YAMLs found in {tasks_dir or 'the task search path'} "
                             "(expected <tasks dir>/<suite>/<name>.yaml)")
    for task_id in sorted(set(task_order) - {s.id for s in specs}):
        log.warning("task_order in %s names %r, which is not a task; fix or remove it", SITE_DIR / "mkdocs.yml", task_id)
    sources, numbers = inputs.load_reported(reported_file, specs)
    tasks = aggregate.tasks_frame(specs, task_order)

    # the store's rule: the newest record of each (model, task) is current; it is ranked when it followed the
    # task's current protocol, else listed apart with why
    current = aggregate.latest_records(aggregate.records_frame(results.records))
    shas = {s.id: s.sha256 for s in specs}
    latest, apart = aggregate.split_protocol(current, shas)
    demo, others = aggregate.split_tier(apart, store.DEMO_TIER, shas)  # bench demo's runs: a board of their own
    for r in latest[latest["replaced"].map(len) > 0].itertuples():
        log.info("%s · %s: %d older record(s) replaced by the newest, %s", r.model_id, r.task_id, len(r.replaced), r.file)
    if len(others):
        log.info("%d record(s) not ranked: they did not follow their task's current protocol (listed apart)", len(others))
    long = aggregate.scores_long(latest)
    load = compare.CachedLoader(base)  # each predictions file read once for every interval, tie and pair
    entries = ranked_entries(latest, results, base)
    statistics = leaderboard_statistics(entries, tasks, load)
    reported = aggregate.reported_long(numbers)
    failures = aggregate.failures_frame(results.failures)
    model_ids = [*latest["model_id"], *demo["model_id"], *others["model_id"], *reported["model_id"], *failures["model_id"]]
    models = model_table(inputs.load_models(models_file), model_ids, {*latest["model_id"], *demo["model_id"], *others["model_id"]})
    return render.SiteData(
        tasks=tasks,
        models=models,
        latest=latest,
        others=others,
        long=long,
        board=aggregate.leaderboard(long, tasks),
        demo=demo,
        demo_board=aggregate.leaderboard(aggregate.scores_long(demo), tasks),
        reported=reported,
        reported_board=aggregate.leaderboard(reported, tasks, keys=["model_id", "source"]),
        sources=sources,
        failures=failures,
        skipped=results.skipped,
        built_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        baselines={t: b for t, b in baselines.by_task(records.to_json(r) for _, r in results.records).items()
                   if t in tasks.index},
        statistics=statistics,
        comparisons=comparisons.reference_comparisons(entries, comparisons.reference_ids(models), list(tasks.index), load),
    )


def copy_records(data: render.SiteData, base: Path, target: Path) -> None:
    """The record files the pages link (ranked and demo), with their predictions files, into the site as they are."""
    for frame in (data.latest, data.demo):
        for (_, _), href in render.record_links(frame, "").items():
            file = Path(href).relative_to(render.RECORDS)
            source = base / file
            for path in (source, *source.parent.glob(f"{source.name.removesuffix('.json')}.predictions.*")):
                copy = target / file.parent / path.name
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)


def ranked_entries(latest, results: inputs.Results, reports_dir: Path) -> list[tuple[Path, records.ResultRecord]]:
    """(record file, record) of every ranked record: what intervals, ties and comparisons are made of."""
    by_file = dict(results.records)
    return [(reports_dir / file, by_file[file]) for file in latest["file"]]


def leaderboard_statistics(entries: list[tuple[Path, records.ResultRecord]], tasks,
                           load: compare.Loader) -> compare.LeaderboardStatistics:
    """Intervals and ties of the ranked records (those with predictions files); reported numbers never enter."""
    groups = {**aggregate.suite_groups(tasks), **aggregate.language_groups(tasks)}
    return compare.leaderboard_statistics(entries, groups, load=load)


def model_table(entries: list[dict[str, Any]], seen_ids: list[str], measured: set[str]) -> dict[str, dict[str, Any]]:
    """models.yaml entries first, then every other model id met in the inputs, each with a unique page slug."""
    models: dict[str, dict[str, Any]] = {}
    for entry in entries:
        models[entry["id"]] = {"name": entry["id"], "languages": [], "params": None, "links": {}, **entry, "listed": True}
    for model_id in seen_ids:
        models.setdefault(model_id, {"id": model_id, "name": model_id, "languages": [], "params": None, "links": {},
                                     "listed": False})
    taken: set[str] = set()
    for model_id, model in models.items():
        slug, n = records.model_slug(model_id), 2
        while slug in taken:  # two local paths can end in the same two folders
            slug, n = f"{records.model_slug(model_id)}-{n}", n + 1
        taken.add(slug)
        model.update(slug=slug, measured=model_id in measured)
    return models


def _relative_to(results: inputs.Results, base: Path) -> inputs.Results:
    """Pages name files as `results/...` from the results folder's parent: short, and the same on every machine."""
    def short(file: str) -> str:
        try:
            return Path(file).relative_to(base).as_posix()
        except ValueError:
            return file

    return inputs.Results(records=[(short(f), r) for f, r in results.records],
                          failures=[(short(f), r) for f, r in results.failures],
                          skipped=[(short(f), why) for f, why in results.skipped])


BUILDING, REPLACED = ".building-", ".replaced-"  # siblings of --out: a build in progress, a site being replaced


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _swap_in(built: Path, out_dir: Path) -> None:
    """Put ``built`` at ``out_dir``: two renames in one folder, the old site removed only once the new one is there."""
    if not out_dir.exists():
        os.rename(built, out_dir)
        return
    replaced = out_dir.with_name(f".{out_dir.name}{REPLACED}{os.getpid()}")
    os.rename(out_dir, replaced)
    os.rename(built, out_dir)
    shutil.rmtree(replaced, ignore_errors=True)


def _recover(out_dir: Path) -> None:
    """Clean up after a build that was killed: its half-built folder goes; a site it was replacing when it died
    (between the two renames of ``_swap_in``) is put back."""
    parent = out_dir.parent
    if not parent.is_dir():
        return
    replaced = sorted(parent.glob(f".{out_dir.name}{REPLACED}*"), key=lambda p: p.stat().st_mtime)
    if replaced and not out_dir.exists() and (replaced[-1] / MARKER).exists():
        os.rename(replaced.pop(), out_dir)
    for leftover in [*replaced, *parent.glob(f".{out_dir.name}{BUILDING}*")]:
        shutil.rmtree(leftover, ignore_errors=True)


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise SiteBuildError(f"--out {out_dir} is a file, not a folder; choose an empty or new folder with --out")
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
        raise SiteBuildError(
            f"{out_dir} is not empty and was not built by `bench site build`, and building replaces it; "
            f"choose an empty or new folder with --out"
        )


def _mkdocs_build(docs_dir: Path, out_dir: Path, site_nav: list[Any]) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    config = load_config(config_file=str(SITE_DIR / "mkdocs.yml"), docs_dir=str(docs_dir), site_dir=str(out_dir),
                         nav=site_nav)
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    except MkDocsException as err:
        raise SiteBuildError(f"mkdocs could not build the site from {SITE_DIR / 'mkdocs.yml'}: {err}") from err
    finally:
        config.plugins.on_shutdown()
