"""`bench site build|serve`."""

import typer

app = typer.Typer(help="The static leaderboard site built from reports/.", no_args_is_help=True)
