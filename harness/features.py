"""Tokenize a task's canonical DatasetDict once per (tokenizer, task, max_length) and cache it on disk.

What the features are is the head's business (harness/heads.py); this module only keys,
builds and caches them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import datasets

from harness import heads


def cache_root() -> Path:
    return Path(os.environ.get("KOENBENCH_CACHE", Path.home() / ".cache" / "koenbench")) / "features"


def _tokenizer_key(tokenizer) -> str:
    """Identifies a tokenizer by its full serialisation, so an edited vocabulary never reuses a stale cache."""
    backend = getattr(tokenizer, "backend_tokenizer", None) or getattr(tokenizer, "_tokenizer", None)
    payload = backend.to_str() if backend is not None else json.dumps(tokenizer.get_vocab(), sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _code_key() -> str:
    """Identifies the code that makes the features (this module's source), so an upgraded or edited
    harness never reuses features that an older version of it made."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def tokenize(dataset: datasets.DatasetDict, tokenizer, head: str, max_length: int, spec_sha256: str, source: str) -> datasets.DatasetDict:
    """input_ids / token_type_ids / attention_mask / labels for every split, cached on disk."""
    key = hashlib.sha256(
        f"{_tokenizer_key(tokenizer)}|{_code_key()}|{spec_sha256}|{max_length}|{source}|{head}".encode()
    ).hexdigest()[:20]
    out = {}
    for split, ds in dataset.items():
        cache_file = cache_root() / key / f"{split}-{ds._fingerprint}.arrow"
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        out[split] = ds.map(
            heads.get(head).encoder(tokenizer, max_length, pair="text_b" in ds.column_names),
            batched=True,
            remove_columns=ds.column_names,
            cache_file_name=str(cache_file),
            load_from_cache_file=True,
            new_fingerprint=f"{key}-{split}-{ds._fingerprint}"[:64],
            desc=f"tokenizing {split}",
        )
    return datasets.DatasetDict(out)
