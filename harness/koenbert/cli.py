"""`bench koenbert extend|distill|build`."""

from pathlib import Path
from typing import List, Optional

import typer

from harness.core.checked import describe_validation_error
from harness.core.paths import SHARED_DATA
from harness.core.userfacing import fail
from harness.koenbert.init import CHOICES, DEFAULT_INIT  # numpy only
from harness.koenbert.settings import DistillConfig  # pydantic only; torch loads when a command runs
from harness.koenbert.vocab import DEFAULT_POLICY, POLICIES

app = typer.Typer(help="The koenbert recipe: vocabulary extension, then MiniLMv2 distillation.", no_args_is_help=True)

# --- extend (step 1) -------------------------------------------------------


@app.command()
def extend(
    ko: str = typer.Option(..., "--ko", help="Korean BERT (WordPiece, MLM head), named as for `bench run --model`: hub id, local folder or models.yaml name, e.g. klue/bert-base."),
    en: str = typer.Option(..., "--en", help="English BERT (WordPiece) whose pieces are added: hub id, local folder or models.yaml name, e.g. bert-base-uncased."),
    out: Path = typer.Option(..., "--out", help="Output model directory (tokenizer, weights with MLM head, koenbert_extend_report.json)."),
    init: str = typer.Option(DEFAULT_INIT, "--init", help=f"How the new embedding rows start: {' | '.join(CHOICES)} (auto: the best held-out score)."),
    force: bool = typer.Option(False, "--force", help="Replace --out if it is an earlier extend output."),
    seed: int = typer.Option(0, help="Seed of the held-out split and of --init random."),
    heldout_fraction: float = typer.Option(0.1, help="Share of the shared pieces held out to score every init method."),
    vocab: str = typer.Option(DEFAULT_POLICY, "--vocab", help=f"Which missing English pieces to add: {' | '.join(POLICIES)} (weighed: those whose cost to the Korean teacher's cut does not exceed their use to the English teacher, on training text; see harness/koenbert/weighing.py and vocab.py)."),
    data_dir: Path = typer.Option(SHARED_DATA, "--data-dir", help="Shared data folder: the training text the weighed vocabulary is chosen on (KLUE and GLUE train splits, raw/ko/) and the validation text the report measures on."),
) -> None:
    """Add the English model's WordPieces to the Korean model and initialise their embeddings (step 1)."""
    from rich.console import Console
    from transformers.utils import logging as hf_logging

    from harness.core.checked import InputError
    from harness.koenbert.extend import extend_model, render_report
    from harness.koenbert.vocab import ExtendError

    hf_logging.set_verbosity_error()  # the load reports list the pooler/MLM keys a base model skips: expected here
    hf_logging.disable_progress_bar()
    console = Console(stderr=True, markup=False)  # the log names files and models: '[/x]' prints as written
    try:
        report = extend_model(ko, en, out, init=init, force=force, seed=seed, heldout_fraction=heldout_fraction,
                              policy=vocab, data_dir=data_dir, log=lambda m: console.log(m, highlight=False))
    except (ExtendError, InputError) as err:  # InputError: a shared KLUE file its Korean text is read from
        fail(str(err))
    Console().print(render_report(report))


# --- distill and build (step 2) --------------------------------------------

_D = DistillConfig.model_fields  # the defaults shown by --help are the koenbert-base recipe's


def _user_errors() -> tuple:
    from pydantic import ValidationError

    from harness.koenbert.corpus import CorpusError
    from harness.koenbert.distill import DistillError
    from harness.koenbert.minilm import AttentionError
    from harness.koenbert.recipe import RecipeError

    return (CorpusError, DistillError, AttentionError, RecipeError, ValidationError)


@app.command()
def distill(
    student: str = typer.Option(..., "--student", help="Step 1's output: the Korean model whose vocabulary also holds the English pieces (a folder, hub id or models.yaml name)."),
    ko_teacher: str = typer.Option(..., "--ko-teacher", help="Korean teacher: hub id, local folder or models.yaml name, e.g. klue/bert-base."),
    en_teacher: str = typer.Option(..., "--en-teacher", help="English teacher: hub id, local folder or models.yaml name, e.g. bert-base-uncased."),
    ko_corpus: List[str] = typer.Option(..., "--ko-corpus", help="Korean UTF-8 text, one text per line; a file or a directory of *.txt (repeatable)."),
    en_corpus: List[str] = typer.Option(..., "--en-corpus", help="English UTF-8 text, one text per line; a file or a directory of *.txt (repeatable)."),
    out: str = typer.Option(..., "--out", help="The published model folder: the distilled student, its tokenizer and distill.json."),
    work: Optional[str] = typer.Option(None, "--work", help="The run's work folder: chunk cache, checkpoints, log.jsonl (default: <out>.work beside --out)."),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help="The eight tasks' data, as for `bench run --data-dir`: corpus lines equal to a validation text are dropped (default: the shared data folder; 'hub': the hub's datasets)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run from its newest checkpoint (or start it)."),
    prepare_only: bool = typer.Option(False, "--prepare-only", help="Prepare the corpora in the work folder (tokenize, screen, cap at the run's budget) and stop."),
    processes: Optional[int] = typer.Option(None, "--processes", min=1, help="With --prepare-only: the processes (GPUs) the run will train on, which sizes its budget (default: this launch's)."),
    process_group_timeout: int = typer.Option(_D["process_group_timeout"].default, help="Seconds a process waits for the others (the main one preparing the corpora)."),
    seq_len: int = typer.Option(_D["seq_len"].default, help="Tokens per chunk, [CLS] and [SEP] included."),
    batch_size: int = typer.Option(_D["batch_size"].default, help="Chunks per process per micro-step."),
    grad_accum: int = typer.Option(_D["grad_accum"].default, help="Micro-steps per optimizer step."),
    steps: int = typer.Option(_D["steps"].default, help="Optimizer steps."),
    lr: float = typer.Option(_D["lr"].default, help="Peak learning rate (AdamW)."),
    betas: tuple[float, float] = typer.Option(_D["betas"].default, help="AdamW beta1 beta2."),
    weight_decay: float = typer.Option(_D["weight_decay"].default, help="Weight decay; never on biases and LayerNorm."),
    warmup: float = typer.Option(_D["warmup"].default, help="Share of steps with linear warm-up, then linear decay."),
    clip: float = typer.Option(_D["clip"].default, help="Max global gradient norm."),
    p_ko: float = typer.Option(_D["p_ko"].default, help="Probability that a micro-step is Korean, else English."),
    relation_heads: int = typer.Option(_D["relation_heads"].default, help="MiniLMv2 relation heads; must divide both hidden sizes."),
    teacher_layer: int = typer.Option(_D["teacher_layer"].default, help="Teachers' attention layer to mimic (-1: last)."),
    student_layer: int = typer.Option(_D["student_layer"].default, help="Student's attention layer that learns it (-1: last)."),
    seed: int = typer.Option(_D["seed"].default, help="Seed of language coins, chunk order and dropout."),
    save_every: int = typer.Option(_D["save_every"].default, help="Optimizer steps between checkpoints."),
    keep_checkpoints: int = typer.Option(_D["keep_checkpoints"].default, help="Newest checkpoints kept on disk."),
    log_every: int = typer.Option(_D["log_every"].default, help="Optimizer steps per line of log.jsonl."),
    precision: str = typer.Option(_D["precision"].default, help="auto (bf16 on a GPU, fp32 on CPU), bf16 or fp32."),
    stop_at: Optional[int] = typer.Option(None, help="Checkpoint and stop after this step; --resume goes on."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show the progress bar."),
) -> None:
    """MiniLMv2 distillation of the extended student from a Korean and an English teacher at once (step 2)."""
    from pydantic import ValidationError

    from harness.koenbert.distill import distill as run_distill

    settings = {k: v for k, v in locals().items() if k in _D}
    _processes_need_prepare_only(processes, prepare_only)
    try:
        cfg = DistillConfig(**settings)
    except ValidationError as err:
        fail("invalid options\n" + describe_validation_error(err, as_flags=True, values=True))
    try:
        summary = run_distill(cfg, resume=resume, show_progress=progress, prepare_only=prepare_only, processes=processes)
    except _user_errors() as err:
        fail(str(err))
    if prepare_only:
        _prepared(summary)


def _processes_need_prepare_only(processes: Optional[int], prepare_only: bool) -> None:
    if processes is not None and not prepare_only:
        fail("--processes: only with --prepare-only; a run trains on the processes it is launched with")


def _prepared(summary: dict) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"prepared the corpora for {summary['processes']} process(es) in {summary['work']}; "
                               "`bench koenbert distill` with the same options trains on them", markup=False, highlight=False)


@app.command()
def build(
    recipe: Path = typer.Option(..., "--recipe", help="A recipe YAML, e.g. harness/koenbert/recipes/koenbert-base.yaml."),
    resume: bool = typer.Option(False, "--resume", help="Reuse step 1's finished output and continue step 2 from its newest checkpoint."),
    prepare_only: bool = typer.Option(False, "--prepare-only", help="Run step 1 and prepare step 2's corpora, then stop."),
    processes: Optional[int] = typer.Option(None, "--processes", min=1, help="With --prepare-only: the processes (GPUs) step 2 will train on (default: this launch's)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show the progress bar."),
) -> None:
    """Step 1 (extend) then step 2 (distill) from one recipe file."""
    from harness.koenbert.recipe import build_from_recipe

    _processes_need_prepare_only(processes, prepare_only)
    try:
        summary = build_from_recipe(recipe, resume=resume, show_progress=progress, prepare_only=prepare_only, processes=processes)
    except _user_errors() as err:
        fail(str(err))
    if prepare_only:
        _prepared(summary)
