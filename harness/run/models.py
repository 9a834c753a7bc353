"""Resolve `--model` (a models.yaml name, a local directory, or a hub id) into a ``ResolvedModel``.

A resolved model always knows three things, whichever way it was named:

- ``revision``: the hub commit for a hub model; for a local model ``sha256:`` over the
  content of every file that decides its outputs (weights, tokenizer files, config.json),
  so replacing any of them in place reruns its tasks.
- ``source``: ``"hub"`` or ``"local"``.
- ``record_dir``: the folder name its result records go to, one per model identity. A hub
  model gets its id (``org/name`` -> ``org__name``), readable and distinct for distinct ids;
  a local model gets a readable slug of its name plus a short hash of the folder it lives
  in, so two ``checkpoints/best`` folders of two experiments never share records.

``ResolvedModel.conflict`` tells the record writer when a record already at that place
belongs to another model, so it can refuse to write over it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError, field_validator

from harness.core import checked, hub, paths
from harness.results import records

Source = Literal["hub", "local"]

# What a local model folder must hold, and which of its files decide the model's outputs.
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "*.safetensors.index.json", "pytorch_model*.bin.index.json")
# Without one of these, transformers silently builds a tokenizer of only the special tokens.
VOCABULARY_PATTERNS = ("tokenizer.json", "vocab.txt", "vocab.json", "*.model")
TOKENIZER_PATTERNS = (*VOCABULARY_PATTERNS, "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "merges.txt")
IDENTITY_PATTERNS = ("config.json", *WEIGHT_PATTERNS, *TOKENIZER_PATTERNS)
# What a run fetches of a hub model (huggingface_hub's fnmatch patterns, matched against the repo's paths):
# config, tokenizer and safetensors weights at the repo's top level, never its ONNX/OpenVINO copies.
HUB_MODEL_PATTERNS = ("config.json", "model*.safetensors", "model.safetensors.index.json", *TOKENIZER_PATTERNS)
LEGACY_WEIGHT_PATTERNS = ("pytorch_model*.bin", "pytorch_model.bin.index.json")
SHORT_HASH = 10  # hex digits of a record folder's identity hash: 40 bits, collisions need ~10^6 local models


class ModelUnavailable(checked.InputError):
    """The model could not be found, read or trusted; the message says which file and what to do."""


class NoSuchFolder(ModelUnavailable):
    """A path-like --model names no folder here."""


class RecordConflict(ModelUnavailable):
    """A record at the place this model writes to belongs to another model."""


# --------------------------------------------------------------------------------------
# models.yaml
# --------------------------------------------------------------------------------------


class ModelEntry(BaseModel):
    """One model on the leaderboard, as models.yaml lists it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: StrictStr = Field(min_length=1)  # a hub id, or a local folder (relative to the working folder or models.yaml)
    name: Optional[StrictStr] = None  # the display name; `bench run --model NAME` accepts it too
    languages: list[StrictStr] = Field(default_factory=list)
    params: Optional[Union[StrictStr, int, float]] = None  # "110M"
    links: dict[StrictStr, StrictStr] = Field(default_factory=dict)  # label -> URL
    # every other model's page compares itself with this one, task by task (harness/site/comparisons.py)
    reference: Optional[StrictBool] = None
    revision: Optional[StrictStr] = None  # a hub model's branch, tag or commit to run (default: main)


class ModelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[ModelEntry] = Field(default_factory=list)

    @field_validator("models", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value  # 'models:' with nothing under it



def _repeated(entries: Any) -> list[str]:
    """'  models[2].id: ...' for each id an earlier entry already has, read from the raw entries so
    that they are reported together with every other problem of the file. (A repeated display
    name is only refused when `--model` uses it: see ``resolve``.)"""
    problems: list[str] = []
    first: dict[str, int] = {}
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        value = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(value, str) and value in first:
            problems.append(f"  models[{i}].id: {checked.shorten(value)} is listed twice (also models[{first[value]}]); "
                            "each id names one model")
        elif isinstance(value, str):
            first[value] = i
    return problems


def load_model_entries(models_file: Optional[Path] = None) -> list[ModelEntry]:
    """The entries of models.yaml (default: the project's), validated; [] when there is no file.

    Errors name the file and the field.
    """
    models_file = Path(models_file or paths.MODELS_FILE)
    if not models_file.exists():
        return []
    name = models_file.name if models_file == paths.MODELS_FILE else str(models_file)
    raw = checked.read_yaml(models_file, name=name, error=ModelUnavailable)
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise ModelUnavailable(f"{name}: expected a mapping with a top-level 'models:' list, got a YAML {type(raw).__name__}")
    problems = _repeated(raw.get("models"))
    try:
        entries = ModelsFile.model_validate(raw).models
    except ValidationError as err:
        problems.insert(0, checked.describe_validation_error(err))
    if problems:
        raise ModelUnavailable(f"{name}: invalid model list\n" + "\n".join(problems))
    return entries


def leaderboard_models(models_file: Optional[Path] = None) -> list[dict[str, Any]]:
    """models.yaml's entries as plain dicts (for tables and templates)."""
    return [entry.model_dump(exclude_none=True) for entry in load_model_entries(models_file)]


# --------------------------------------------------------------------------------------
# The resolved model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedModel:
    id: str  # what the record and the leaderboard call it; never this machine's absolute path
    path: str  # what from_pretrained loads: a hub id or a directory
    revision: str  # hub commit, or "sha256:..." over a local model's files (see local_revision)
    source: Optional[Source] = None  # "hub" | "local"; left out, it is "local" when path is a directory

    def __post_init__(self) -> None:
        if self.source is None:
            object.__setattr__(self, "source", "local" if Path(self.path).is_dir() else "hub")

    @property
    def record_dir(self) -> str:
        """The folder name of this model's records: unique per model identity, readable, one path part."""
        if self.source == "local":
            return local_dir_name(self.id, Path(self.path))
        return hub_dir_name(self.id)

    def as_record(self) -> dict[str, str]:
        """The record's ``model`` field."""
        return {"id": self.id, "revision": self.revision, "source": str(self.source)}

    def conflict(self, existing: Mapping[str, Any], where: str) -> Optional[str]:
        """Why this model must not write over a record whose ``model`` field is ``existing``, or None.

        The same model with another revision (weights replaced in place) may replace its
        record; a record of another model id or source at the same place may not.
        """
        other_id, other_source = existing.get("id"), existing.get("source")
        if other_id == self.id and other_source in (None, self.source):
            return None
        return (
            f"{where} holds a record of the model {checked.shorten(other_id)} ({other_source or 'unknown source'}), "
            f"not of {checked.shorten(self.id)} ({self.source}); refusing to write over it. "
            "Move that record away or write to another --results folder."
        )


def resolve(name: str, models_file: Optional[Path] = None, revision: Optional[str] = None, *,
            flag: str = "--model") -> ResolvedModel:
    """``--model`` -> the model: a models.yaml name or id, a local directory, or a hub id, in that order.

    A hub model is resolved once to a snapshot (``hub.snapshot``): its commit is the record's
    revision and its cache folder is what every later load reads, so the record and the weights
    are always of one commit. ``revision`` (a branch, tag or commit; else the models.yaml entry's,
    else main) selects it. ``flag``: the option that named it, as messages show it (koenbert's --ko, --student ...).
    """
    named = reference(name, models_file, flag=flag)
    if named.directory is not None:
        if revision is not None:
            raise ModelUnavailable(f"--revision {checked.shorten(revision)}: {checked.shorten(name)} is a local folder, "
                                   "which has no revisions; leave --revision out")
        return local_model(named.directory, named.id)
    return hub_model(named.id, revision or named.revision, flag=flag)


@dataclass(frozen=True)
class ModelReference:
    """What a ``--model`` value names, found without loading or downloading anything."""

    id: str  # as records name the model
    source: Source
    directory: Optional[Path] = None  # a local model's folder
    revision: Optional[str] = None  # a hub model's revision pinned in models.yaml

    @property
    def identity(self) -> records.Identity:
        """How records are matched: a local folder's records are local; an id that names no folder is matched
        whatever the source its records say (a relative folder name such as 'runs/best' looks like a hub id)."""
        return records.Identity(self.id, "local" if self.directory is not None else None)


def reference(name: str, models_file: Optional[Path] = None, *, flag: str = "--model") -> ModelReference:
    """``--model`` as every command reads it: a models.yaml name or id, a local directory, or a hub id, in that order."""
    models_file = Path(models_file or paths.MODELS_FILE)
    entries = load_model_entries(models_file)
    entry = _entry_named(name, entries, models_file, flag)
    target = entry.id if entry else name
    directory = _existing_directory(target, models_file)
    if directory is not None:
        same_folder = next((e for e in entries if _existing_directory(e.id, models_file) == directory), None)
        model_id = (entry or same_folder).id if (entry or same_folder) else portable_id(name)
        return ModelReference(model_id, "local", directory=directory)
    if _looks_like_a_path(target):
        where = f"{models_file.name}: id {checked.shorten(target)}" if entry else f"{flag} {checked.shorten(target)}"
        what = "a file, not a model folder" if Path(target).expanduser().is_file() else "no such model folder"
        raise NoSuchFolder(f"{where}: {what} (a model is the folder save_pretrained wrote; a hub id has the form 'org/name')")
    return ModelReference(target, "hub", revision=entry.revision if entry else None)


def record_identity(name: str, models_file: Optional[Path] = None) -> records.Identity:
    """Whose records a ``--model`` value asks for (compare, export): as `bench run` resolves it, or, where it names
    no folder here (a model moved away, an id copied from a record: '.../checkpoints/best@3f9a1c2b'), that id as written."""
    try:
        return reference(name, models_file).identity
    except NoSuchFolder:
        return records.Identity(name)


def _entry_named(name: str, entries: list[ModelEntry], models_file: Path, flag: str = "--model") -> Optional[ModelEntry]:
    named = [e for e in entries if name in (e.id, e.name)]
    if len(named) > 1:
        raise ModelUnavailable(f"{models_file.name}: {flag} {checked.shorten(name)} matches {len(named)} entries "
                               f"({', '.join(checked.shorten(e.id) for e in named)}); pass one of their ids")
    return named[0] if named else None


def hub_model(model_id: str, revision: Optional[str] = None, *, flag: str = "--model") -> ResolvedModel:
    """A hub model at ``revision``, resolved to one commit in the local cache and checked like a local folder."""
    try:
        snap = hub.snapshot(model_id, "model", revision, HUB_MODEL_PATTERNS)
        if not _matching(snap.folder, WEIGHT_PATTERNS):  # an older repo with PyTorch pickles only
            snap = hub.snapshot(model_id, "model", snap.commit, (*HUB_MODEL_PATTERNS, *LEGACY_WEIGHT_PATTERNS))
    except hub.HubUnavailable as err:
        raise ModelUnavailable(f"{err}\nOr pass a local folder: {flag} DIR (check the id against `bench models`).") from None
    shown = f"model {checked.shorten(model_id)} ({snap.shown})"
    if not _matching(snap.folder, WEIGHT_PATTERNS):  # the local-folder check below would say to save_pretrained them
        weights = ("model*.safetensors", "model.safetensors.index.json", *LEGACY_WEIGHT_PATTERNS)
        raise ModelUnavailable(f"{shown}: the cached snapshot holds no weights (model.safetensors or pytorch_model.bin); "
                               f"download them where the network is: {hub.download_hint(model_id, 'model', snap.commit, weights)}")
    _check_model_folder(snap.folder, shown)
    check_tokenizer(str(snap.folder), shown)
    return ResolvedModel(id=model_id, path=str(snap.folder), revision=snap.commit, source="hub")


def local_model(directory: Path, model_id: Optional[str] = None) -> ResolvedModel:
    """A model folder, checked and hashed; ``model_id`` defaults to a portable form of its path."""
    directory = Path(directory)
    _check_model_folder(directory)
    check_tokenizer(str(directory), portable_id(str(directory)))
    model_id = model_id or portable_id(str(directory))
    return ResolvedModel(id=model_id, path=str(directory), revision=local_revision(directory), source="local")


def _existing_directory(target: str, models_file: Path) -> Optional[Path]:
    """The folder ``target`` names, relative to the working folder or else to models.yaml's folder."""
    for base in (Path.cwd(), Path(models_file).parent):
        candidate = base / Path(target).expanduser()
        if candidate.is_dir():
            return candidate.resolve()
    return None


def _looks_like_a_path(target: str) -> bool:
    """A hub id is 'name' or 'org/name'; anything with a leading './', '/', '~' or more parts is a folder."""
    return target.startswith((".", "/", "~", "\\")) or target.count("/") > 1 or "\\" in target


def portable_id(typed: str) -> str:
    """A path as a record may show it, never this machine's layout.

    A folder inside the working folder is named relative to it ('runs/exp1/best'), however it
    was typed (relative, absolute, with '..'); any other becomes its last two parts after '.../'
    and a short hash of where it really is ('.../checkpoints/best@3f9a1c2b'), so that two
    experiments' 'checkpoints/best' folders are two models everywhere records are read.
    """
    resolved = Path(typed).expanduser().resolve()
    here = Path.cwd().resolve()
    try:  # from the filesystem's root, every folder is "inside": its path relative to it is the absolute one
        inside = resolved.relative_to(here) if here != Path(here.anchor) else None
    except ValueError:
        inside = None
    if inside is not None and inside.parts:
        return inside.as_posix()
    return ".../" + "/".join(resolved.parts[-2:]) + "@" + short_hash("local:" + str(resolved))[:8]


# --------------------------------------------------------------------------------------
# A local model's files
# --------------------------------------------------------------------------------------


def _matching(directory: Path, patterns: tuple[str, ...]) -> list[Path]:
    return sorted({p for pattern in patterns for p in directory.glob(pattern) if p.is_file()})


def _check_model_folder(directory: Path, shown: Optional[str] = None) -> None:
    """Refuse a folder transformers would load wrongly or not at all, naming the file and the fix."""
    shown = shown or portable_id(str(directory))
    config = checked.read_json(directory / "config.json", name=f"{shown}/config.json", error=ModelUnavailable)
    if not isinstance(config, dict):
        raise ModelUnavailable(f"{shown}/config.json: expected a JSON object (a model config), got {type(config).__name__}")
    _check_config(directory, shown)
    if not _matching(directory, WEIGHT_PATTERNS):
        raise ModelUnavailable(
            f"{shown}: no weights found (expected model.safetensors or pytorch_model.bin); save them with model.save_pretrained(DIR)"
        )
    _check_safetensors(directory, shown)
    if not _matching(directory, VOCABULARY_PATTERNS):
        raise ModelUnavailable(
            f"{shown}: no tokenizer vocabulary (tokenizer.json, vocab.txt, vocab.json or a sentencepiece *.model); "
            "without one transformers silently builds a vocabulary of only the special tokens and every word "
            "becomes [UNK]. Save the tokenizer into the folder: tokenizer.save_pretrained(DIR)"
        )


def _check_safetensors(directory: Path, shown: str) -> None:
    """Every safetensors file opens: a download or copy cut short is named here, not mid-run by transformers."""
    from safetensors import SafetensorError, safe_open

    for path in _matching(directory, ("*.safetensors",)):
        try:
            with safe_open(str(path), framework="pt"):
                pass
        except (SafetensorError, OSError) as err:
            raise ModelUnavailable(f"{shown}/{path.name}: not a complete safetensors file ({err}); it was cut short or "
                                   "damaged: download it again, or save the model again with model.save_pretrained(DIR)") from None


def _check_config(directory: Path, shown: str) -> None:
    """config.json as transformers reads it: a wrong model_type or field fails here, before any training."""
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(directory)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelUnavailable(f"{shown}/config.json: transformers cannot read this model config ({type(err).__name__}); "
                               "check model_type and the fields it names, or save it again with model.save_pretrained(DIR)") from None


def local_revision(directory: Path) -> str:
    """``sha256:`` over the name and content of every weight, tokenizer and config file of a model folder.

    Files that do not change the model's outputs (README, optimizer state, training
    logs) are left out, so resuming a training run does not look like a new model.
    """
    directory = Path(directory)
    manifest = hashlib.sha256()
    for path in _matching(directory, IDENTITY_PATTERNS):
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        manifest.update(f"{path.name}\0{digest.hexdigest()}\n".encode())
    return "sha256:" + manifest.hexdigest()


# Callers that build a ResolvedModel by hand (demo, benchmarks) use this older name; it covers
# tokenizer and config files too, so a changed tokenizer changes the revision.
local_weights_sha256 = local_revision


def check_tokenizer(path: str, shown: str) -> None:
    """Load the model's tokenizer once before any training: a corrupt file or a vocabulary of only
    special tokens (transformers' silent fallback when the files are missing) is refused here."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except Exception as err:  # the tokenizers library raises its own types for a corrupt tokenizer.json
        raise ModelUnavailable(f"{shown}: transformers cannot load its tokenizer ({type(err).__name__}); "
                               "save it again with tokenizer.save_pretrained(DIR)") from None
    check_vocabulary(tokenizer, shown)


def check_vocabulary(tokenizer: Any, shown: str) -> None:
    """Refuse a loaded tokenizer that is only special tokens (transformers' silent fallback)."""
    ordinary = len(tokenizer) - len(set(getattr(tokenizer, "all_special_tokens", [])))
    if ordinary < 10:
        raise ModelUnavailable(
            f"{shown}: its tokenizer has {len(tokenizer)} pieces, only special tokens; "
            "the vocabulary files are missing, so every word would become [UNK]. Add the tokenizer's files."
        )


# --------------------------------------------------------------------------------------
# Record folder names
# --------------------------------------------------------------------------------------

# A hub id part made of these maps to itself; '__' then appears only between org and name,
# so distinct such ids give distinct folder names. Anything else (or longer) gets a hash of the whole id.
_PLAIN_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*(?:_[A-Za-z0-9.-]+)*")


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:SHORT_HASH]


def hub_dir_name(model_id: str) -> str:
    """'org/bert-base' -> 'org__bert-base'; 'org/bert+base' -> 'org__bert-base-<hash>' (not the same folder).

    Always starts with ``records.model_slug(model_id)`` (for a hub id, at most 'org/name', the slug of the
    whole id); a plain id is its own folder name, as record folders have been named from the start."""
    parts = model_id.split("/")
    if len(parts) <= 2 and len(model_id) <= 80 and all(_PLAIN_PART.fullmatch(p) for p in parts):
        return "__".join(parts)
    return f"{records.model_slug(model_id)}-{short_hash(model_id)}"


def local_dir_name(model_id: str, directory: Path) -> str:
    """'exp1/checkpoints/best' -> 'checkpoints__best-<hash of the folder's real location>'.

    The readable part is ``records.model_slug``: the id's last two parts, the same name its folder has had
    for every id this module makes (``portable_id``: no '..' part) and every models.yaml id without '..'."""
    return f"{records.model_slug(model_id)}-{short_hash('local:' + str(Path(directory).resolve()))}"


# --------------------------------------------------------------------------------------
# What a model's config says about its inputs
# --------------------------------------------------------------------------------------

# Models that number positions from padding_idx + 1 (RoBERTa's create_position_ids_from_input_ids):
# the first pad_token_id + 1 rows of their position table never hold text (tested, each type).
PADDING_OFFSET_MODELS = frozenset({"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "roberta-prelayernorm",
                                   "data2vec-text", "longformer", "ibert", "mpnet", "luke"})


def max_positions(config: Any) -> Optional[int]:
    """The longest input a model takes, in tokens (special tokens included), from its transformers config;
    None when the config does not say. klue/roberta-base: 514 positions, 512 tokens."""
    positions = getattr(config, "max_position_embeddings", None)
    if not isinstance(positions, int):
        return None
    if getattr(config, "model_type", "") in PADDING_OFFSET_MODELS:
        return positions - ((getattr(config, "pad_token_id", None) or 0) + 1)
    return positions


__all__ = [
    "ModelEntry",
    "ModelUnavailable",
    "RecordConflict",
    "ResolvedModel",
    "check_tokenizer",
    "check_vocabulary",
    "hub_dir_name",
    "leaderboard_models",
    "load_model_entries",
    "local_dir_name",
    "local_model",
    "local_revision",
    "max_positions",
    "portable_id",
    "resolve",
]
