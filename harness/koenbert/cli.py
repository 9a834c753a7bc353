"""`bench koenbert extend|distill|build`."""

import typer

app = typer.Typer(help="The koenbert recipe: vocabulary extension, then MiniLMv2 distillation.", no_args_is_help=True)

# --- extend (step 1) -------------------------------------------------------
from pathlib import Path  # noqa: E402  (this section's imports stay in this section)

from harness.koenbert.init import DEFAULT_INIT, METHODS  # noqa: E402  (numpy only; torch loads when it runs)
from harness.koenbert.vocab import DEFAULT_POLICY, POLICIES  # noqa: E402
from harness.paths import SHARED_DATA  # noqa: E402


@app.command()
def extend(
    ko: str = typer.Option(..., "--ko", help="Korean BERT (WordPiece, MLM head): hub id or local directory, e.g. klue/bert-base."),
    en: str = typer.Option(..., "--en", help="English BERT (WordPiece) whose pieces are added: hub id or local directory, e.g. bert-base-uncased."),
    out: Path = typer.Option(..., "--out", help="Output model directory (tokenizer, weights with MLM head, koenbert_extend_report.json)."),
    init: str = typer.Option(DEFAULT_INIT, "--init", help=f"How the new embedding rows start: {' | '.join(METHODS)}."),
    force: bool = typer.Option(False, "--force", help="Replace --out if it is an earlier extend output."),
    seed: int = typer.Option(0, help="Seed of the held-out split and of --init random."),
    heldout_fraction: float = typer.Option(0.1, help="Share of the shared pieces held out to score every init method."),
    vocab: str = typer.Option(DEFAULT_POLICY, "--vocab", help=f"Which missing English pieces to add: {' | '.join(POLICIES)} (see harness/koenbert/vocab.py)."),
    data_dir: Path = typer.Option(SHARED_DATA, "--data-dir", help="Shared data folder: Korean reference text (klue/, raw/ko/) and SST-2 train for the report."),
) -> None:
    """Add the English model's WordPieces to the Korean model and initialise their embeddings (step 1)."""
    from rich.console import Console
    from transformers.utils import logging as hf_logging

    from harness.koenbert.extend import extend_model, render_report
    from harness.koenbert.vocab import ExtendError

    hf_logging.set_verbosity_error()  # the load reports list the pooler/MLM keys a base model skips: expected here
    hf_logging.disable_progress_bar()
    console = Console(stderr=True)
    try:
        report = extend_model(ko, en, out, init=init, force=force, seed=seed, heldout_fraction=heldout_fraction,
                              policy=vocab, data_dir=data_dir, log=lambda m: console.log(m, highlight=False))
    except ExtendError as err:
        console.print(f"[bold red]error:[/bold red] {err}", highlight=False)
        raise typer.Exit(code=1)
    Console().print(render_report(report))


# --- distill and build (step 2) --------------------------------------------
