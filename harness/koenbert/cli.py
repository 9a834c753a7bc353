"""`bench koenbert extend|distill|build`."""

import typer

app = typer.Typer(help="The koenbert recipe: vocabulary extension, then MiniLMv2 distillation.", no_args_is_help=True)

# --- extend (step 1) -------------------------------------------------------

# --- distill and build (step 2) --------------------------------------------
