"""A koenbert recipe: step 1 (extend) and step 2 (distill) in one YAML file, typed and checked.

``bench koenbert build --recipe FILE`` reads it. The ``distill`` section takes every setting
of ``DistillConfig`` (distill.py) except ``student``, which is step 1's output directory.
Relative paths are relative to the directory ``bench`` runs in, as on the command line.
A bad file raises ``RecipeError`` naming the file, every bad key and what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core import checked
from harness.koenbert import sources
from harness.koenbert.settings import DistillConfig


class RecipeError(checked.InputError):
    """A recipe file the user must fix; the message says which file, which key and why."""


class ExtendSection(BaseModel):
    """Step 1: the arguments of ``harness.koenbert.extend.extend_model``."""

    model_config = ConfigDict(extra="forbid")

    ko: str  # the Korean model (hub id or directory) whose vocabulary is extended
    en: str  # the English model whose WordPieces are added
    out: str  # step 1's output directory = step 2's student
    init: Optional[str] = None  # how new embedding rows are initialised; None: step 1's default
    policy: Optional[str] = None  # which English pieces are added (`--vocab` of `bench koenbert extend`); None: step 1's default
    seed: int = 0
    heldout_fraction: float = Field(0.1, gt=0, lt=1)  # shared pieces held out to score the init methods


class DistillSection(DistillConfig):
    """Step 2: every ``DistillConfig`` setting; the student is step 1's output, so it is not set here."""

    student: Optional[str] = None

    def for_student(self, student: str) -> DistillConfig:
        return DistillConfig(**{**self.model_dump(), "student": student})


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Optional[str] = None
    description: Optional[str] = None
    extend: ExtendSection
    distill: DistillSection


def load_recipe(path: Path) -> Recipe:
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"--recipe {path}: no such file (the shipped recipe is harness/koenbert/recipes/koenbert-base.yaml)")
    raw = checked.read_yaml(path, error=RecipeError)
    if not isinstance(raw, dict):
        raise RecipeError(f"{path}: a recipe is a YAML mapping with the keys 'extend' and 'distill', got {type(raw).__name__}")
    if isinstance(raw.get("distill"), dict) and "student" in raw["distill"]:
        raise RecipeError(f"{path}: distill.student: the student is step 1's output (extend.out); remove this key")
    try:
        return Recipe.model_validate(raw)
    except ValidationError as err:
        raise RecipeError(f"{path}: invalid recipe\n{checked.describe_validation_error(err, noun='key', values=True)}") from None


def build_from_recipe(path: Path, resume: bool = False, show_progress: bool = True, prepare_only: bool = False,
                      processes: Optional[int] = None) -> dict:
    """Step 1 (extend) then step 2 (distill). With ``resume``, a finished step 1 is reused (if it was made
    from the same inputs) and step 2 continues from its newest checkpoint. Returns step 2's summary.
    ``prepare_only``: step 1, then step 2's corpora only (``distill``'s ``prepare_only``).

    Under `accelerate launch` step 1 runs in the main process only; the others wait for its output (up to
    distill.process_group_timeout seconds)."""
    import torch
    from accelerate import PartialState
    from rich.console import Console

    from harness.koenbert.corpus import CorpusError, corpus_files
    from harness.koenbert.distill import (DistillError, check_folders, check_same_settings, check_teachers, distill,
                                         process_group_kwargs)
    from harness.koenbert.minilm import AttentionError
    from harness.koenbert.prepare import work_dir

    recipe = load_recipe(path)
    # Step 2's inputs are checked before step 1's minutes of work.
    for key, folder in (("distill.out", Path(recipe.distill.out)), ("distill.work", work_dir(recipe.distill))):
        if folder.resolve() == Path(recipe.extend.out).resolve():
            raise RecipeError(f"{path}: {key} {folder}: is extend.out, step 1's output and step 2's student; "
                              f"choose another {key}")
    try:
        for lang in ("ko", "en"):
            corpus_files(getattr(recipe.distill, f"{lang}_corpus"), f"distill.{lang}_corpus")
        if check_folders(recipe.distill, resume) is not None:  # a run to resume: with its settings
            check_same_settings(recipe.distill.for_student(recipe.extend.out), work_dir(recipe.distill))
        ko_teacher = sources.resolve(recipe.distill.ko_teacher, "distill.ko_teacher", DistillError)
        en_teacher = sources.resolve(recipe.distill.en_teacher, "distill.en_teacher", DistillError)
        check_teachers(ko_teacher, en_teacher, flags=("distill.ko_teacher", "distill.en_teacher"))
    except (CorpusError, DistillError) as err:
        raise RecipeError(f"{path}: {err}") from None

    # the same processes distill() will use, with its timeout: the others wait while step 1 runs
    state = PartialState(cpu=not torch.cuda.is_available(), **process_group_kwargs(recipe.distill.process_group_timeout).to_kwargs())
    # markup off: its lines name the recipe's files and models, and '[/x]' in a path prints as written
    console = Console(stderr=True, soft_wrap=True, quiet=not state.is_main_process, markup=False)
    with state.main_process_first():
        if state.is_main_process:
            _extend_step(path, recipe.extend, resume, console)

    console.print(f"step 2: distilling into {recipe.distill.out}")
    try:
        return distill(recipe.distill.for_student(recipe.extend.out), resume=resume, show_progress=show_progress,
                       prepare_only=prepare_only, processes=processes)
    except (AttentionError, CorpusError, DistillError) as err:
        raise RecipeError(f"{path}, step 2 (the flags named here are keys of 'distill', e.g. --ko-corpus = "
                          f"distill.ko_corpus): {err}") from None


def _named(model) -> str:
    """A model as step 1's report names it: ``id@revision``; a local folder by its content alone (its id is its path)."""
    if not isinstance(model, dict):  # a report of an earlier schema: the name as typed
        return str(model)
    return f"{model['id']}@{model['revision']}" if model.get("source") == "hub" else f"a local folder @{model['revision']}"


def _made_from(report, report_path: Path) -> dict:
    """What step 1's report says it was made from; a report that does not say is an error naming the file."""
    try:
        return {"ko": _named(report["korean"]["model"]), "en": _named(report["english"]["model"]),
                "init": report["init"].get("requested", report["init"]["method"]), "policy": report["vocab"]["policy"],
                "default_init": report["init"]["default"]}
    except (KeyError, TypeError, AttributeError):
        raise RecipeError(f"{report_path}: not a report of `bench koenbert extend` (no korean.model, english.model, init "
                          "or vocab.policy)") from None


def _extend_step(path: Path, ext: ExtendSection, resume: bool, console) -> None:
    """Run step 1, or with ``resume`` reuse its finished output if it was made from the recipe's inputs."""
    from harness.koenbert.extend import REPORT_NAME, extend_model, render_report
    from harness.koenbert.vocab import ExtendError

    student = Path(ext.out)
    if student.exists() and not resume:
        raise RecipeError(f"{path}: extend.out {student} exists; pass --resume to reuse a finished step 1 and "
                          "continue step 2, or remove the directory")
    if student.exists():
        report_path = student / REPORT_NAME
        if not report_path.exists():
            raise RecipeError(f"{path}: extend.out {student} exists but holds no {REPORT_NAME}, so it is not a "
                              "finished step 1; remove it or point extend.out elsewhere")
        try:
            made_from = _made_from(checked.read_json(report_path, error=RecipeError), report_path)
        except RecipeError as err:
            raise RecipeError(f"{path}: {err}; so extend.out is not a finished step 1: remove it or point extend.out "
                              "elsewhere") from None
        wanted = {"ko": _named(sources.provenance(sources.resolve(ext.ko, "extend.ko", RecipeError))),
                  "en": _named(sources.provenance(sources.resolve(ext.en, "extend.en", RecipeError))),
                  "init": ext.init or made_from["default_init"], "policy": ext.policy or made_from["policy"]}
        differ = [f"extend.{k}: {made_from[k]!r} in {report_path}, {wanted[k]!r} in the recipe"
                  for k in wanted if made_from[k] != wanted[k]]
        if differ:
            raise RecipeError(f"{path}: step 1's output was made from other inputs: {'; '.join(differ)}; "
                              "remove it to rebuild, or change the recipe back")
        console.print(f"step 1: reusing {student} (finished; {REPORT_NAME})")
        return
    console.print(f"step 1: extending {ext.ko} with {ext.en} -> {student}")
    options = {k: v for k, v in {"init": ext.init, "policy": ext.policy}.items() if v is not None}
    try:
        report = extend_model(ext.ko, ext.en, student, seed=ext.seed, heldout_fraction=ext.heldout_fraction,
                              log=lambda message: console.print(f"  {message}"), **options)
    except ExtendError as err:
        raise RecipeError(f"{path}, step 1 (the flags named here are keys of 'extend', e.g. --ko = extend.ko): {err}") from None
    console.print(render_report(report))
