"""`bench site build|serve`."""

from __future__ import annotations

import functools
import logging
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

from harness.core import paths
from harness.core.userfacing import USER_ERROR, fail
from harness.site.build import DEFAULT_OUT, SiteBuildError, build_site
from harness.site.inputs import SiteInputError
from harness.tasks.spec import TASKS_DIR_HELP, Registry, SpecError

app = typer.Typer(help="The static leaderboard site built from reports/.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)  # never break a file path across lines


def _logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(message)s", handlers=[RichHandler(console=console, show_path=False)])
    logging.getLogger("harness.site").setLevel(logging.INFO)


def _build(reports: Path, out: Path, models: Path, tasks: list[Path], reported: Optional[Path] = None,
           results: Optional[Path] = None) -> Path:
    if reported is None and reports == paths.REPORTS_DIR:  # installed: the shipped numbers, not ./reports'
        reported = paths.REPORTED_FILE
    _check_results_folder(results if results is not None else reports / "results", given=results is not None)
    try:
        return build_site(reports_dir=reports, out_dir=out, models_file=models, tasks_dir=tasks, reported_file=reported,
                          results_dir=results)
    except (SiteBuildError, SiteInputError, SpecError) as err:
        fail(str(err))


def _check_results_folder(results: Path, given: bool) -> None:
    """A records folder that is not one is a mistake to name, not an empty site to build."""
    if results.exists() and not results.is_dir():
        fail(f"--results {results}: is a file; give the folder `bench run --results` wrote records to")
    if given and not results.is_dir():
        fail(f"--results {results}: no such folder; give the folder `bench run --results` wrote records to")
    if not results.is_dir() and any(results.parent.glob("*/*.json")):
        fail(f"{results.parent} holds records but no results/ folder: it looks like a records folder itself; "
             f"build from it with --results {results.parent}")


@app.command()
def build(
    results: Optional[Path] = typer.Option(None, "--results", help="The records folder (`bench run --results`); default: results/ in --reports."),
    reports: Path = typer.Option(paths.REPORTS_DIR, help="Folder with results/**/*.json and reported.yaml."),
    out: Path = typer.Option(DEFAULT_OUT, help="Where the static site goes (built beside it, then swapped in; only a folder built here is replaced)."),
    models: Path = typer.Option(paths.MODELS_FILE, help="models.yaml: display names, languages, parameters, links."),
    tasks_dir: list[Path] = typer.Option([], "--tasks-dir", help=TASKS_DIR_HELP),
    reported: Optional[Path] = typer.Option(None, help="Numbers published elsewhere (default: reported.yaml in --reports; the shipped one for the default --reports)."),
) -> None:
    """Build the leaderboard into --out; open its index.html from disk or serve the folder anywhere.

    A bad task YAML is named and left out; the site is still built, and the exit status is then 2."""
    _logging()
    dirs = paths.task_dirs(tasks_dir)
    index = _build(reports, out, models, dirs, reported, results)
    console.print(f"site built: open [bold]{index.as_uri()}[/bold]  (or: bench site serve)")
    print(index)
    _exit_if_bad_tasks(dirs)


def _exit_if_bad_tasks(dirs: list[Path]) -> None:
    _, problems = Registry.search(dirs).load_all()
    if problems:
        for problem in problems:
            console.print(Text(f"skipped: {problem}", style="red"))
        console.print(f"{len(problems)} task file(s) were left out of the site; fix them and build again")
        raise typer.Exit(code=USER_ERROR)


@app.command()
def serve(
    out: Path = typer.Option(DEFAULT_OUT, help="The built site folder."),
    port: int = typer.Option(8000, help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; 0.0.0.0 shows it to the network."),
    rebuild: bool = typer.Option(False, "--build/--no-build", help="Build the site from the default reports first (default: only when --out holds no site)."),
) -> None:
    """Preview the built site over HTTP (Ctrl-C stops it); a site built with `bench site build --out` is served as it is."""
    _logging()
    if rebuild or not (out / "index.html").exists():
        _build(paths.REPORTS_DIR, out, paths.MODELS_FILE, paths.task_dirs())
    if not (out / "index.html").exists():
        fail(f"{out}/index.html does not exist; run `bench site build` first")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(out))
    with ThreadingHTTPServer((host, port), handler) as server:
        console.print(f"serving {out} at [bold]http://{host}:{server.server_address[1]}/[/bold] (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
