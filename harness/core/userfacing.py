"""How every `bench` command reports a user's mistake: one message saying what to change, no traceback."""

from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

USER_ERROR = 2  # bad input (a flag, a file, a model id); 1 is kept for work that ran and failed


def fail(message: str) -> NoReturn:
    console = Console(stderr=True, soft_wrap=True)  # soft wrap: a file path in the message stays whole
    # Text, not markup: a message quotes file names and values, and '[/x]' must print as written
    console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False)
    raise typer.Exit(code=USER_ERROR)
