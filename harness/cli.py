"""The `bench` command line: run, tasks, models, site, koenbert, demo."""

from __future__ import annotations

import typer

from harness.koenbert.cli import app as koenbert_app
from harness.site.cli import app as site_app

app = typer.Typer(
    help="koenbench: fine-tune and score encoders on KLUE and GLUE, build the leaderboard, build koenbert.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(site_app, name="site")
app.add_typer(koenbert_app, name="koenbert")


def main() -> None:
    app()
