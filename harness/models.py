"""Resolve `--model`: a models.yaml name, a local directory, or a hub id -> what to load and its revision."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.paths import MODELS_FILE

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")


class ModelUnavailable(ValueError):
    """The model could not be found or loaded; the message says how to point at local files."""


@dataclass(frozen=True)
class ResolvedModel:
    id: str  # what the record and the leaderboard call it
    path: str  # what from_pretrained loads: a hub id or a directory
    revision: str  # hub commit, or sha256 of the local weight files

    def as_record(self) -> dict[str, str]:
        return {"id": self.id, "revision": self.revision}


def leaderboard_models(models_file: Path = MODELS_FILE) -> list[dict[str, Any]]:
    if not Path(models_file).exists():
        return []
    data = yaml.safe_load(Path(models_file).read_text(encoding="utf-8")) or {}
    models = data.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, dict) and "id" in m for m in models):
        raise ModelUnavailable(f"{models_file}: 'models' must be a list of entries with an 'id'")
    return models


def local_weights_sha256(directory: Path) -> str:
    digest = hashlib.sha256()
    found = False
    for name in WEIGHT_FILES:
        path = Path(directory) / name
        if path.exists():
            found = True
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    if not found:
        raise ModelUnavailable(f"{directory}: no weights found (expected one of {', '.join(WEIGHT_FILES)})")
    return "sha256:" + digest.hexdigest()


def resolve(name: str, models_file: Path = MODELS_FILE) -> ResolvedModel:
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelUnavailable(f"{path}: not a model directory (no config.json); save one with model.save_pretrained(DIR)")
        return ResolvedModel(id=name.rstrip("/"), path=str(path), revision=local_weights_sha256(path))
    for entry in leaderboard_models(models_file):
        if name in (entry["id"], entry.get("name")):
            name = entry["id"]
            break
    return ResolvedModel(id=name, path=name, revision=_hub_revision(name))


def _hub_revision(model_id: str) -> str:
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(model_id)
    except (OSError, ValueError) as err:
        raise ModelUnavailable(
            f"model {model_id!r} is neither a local directory nor reachable on the Hugging Face hub ({type(err).__name__}).\n"
            f"Offline? Download it once elsewhere (huggingface-cli download {model_id} --local-dir DIR) "
            f"and pass --model DIR, or check the id against `bench models`."
        ) from None
    return getattr(config, "_commit_hash", None) or "unknown"
