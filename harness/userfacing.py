"""How every `bench` command reports a user's mistake: one message saying what to change, no traceback."""

from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from pydantic import ValidationError

USER_ERROR = 2  # bad input (a flag, a file, a model id); 1 is kept for work that ran and failed


def fail(message: str) -> NoReturn:
    console = Console(stderr=True, soft_wrap=True)  # soft wrap: a file path in the message stays whole
    # Text, not markup: a message quotes file names and values, and '[/x]' must print as written
    console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False)
    raise typer.Exit(code=USER_ERROR)


def validation_problems(err: "ValidationError", as_flags: bool = False, noun: str = "key") -> str:
    """A pydantic error as one indented line per problem: ``distill.seq_len: ...`` for a file's keys, or
    ``--seq-len: ...`` (``as_flags``) for command-line options; unknown and missing ``noun``s say what to do."""
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if as_flags:
            where = "--" + str(e["loc"][0]).replace("_", "-")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = f"unknown {noun}; remove it or check its spelling"
        elif e["type"] == "missing":
            msg = f"required {noun} is missing"
        elif not isinstance(e.get("input"), (dict, list)):
            msg += f" (got {e['input']!r})"
        lines.append(f"  {where}: {msg}")
    return "\n".join(lines)
