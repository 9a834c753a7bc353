"""Tokenize a task's canonical DatasetDict once per (tokenizer, task, max_length) and cache it on disk.

What the features are is the head's business (harness/tasks/heads.py); this module only keys,
builds and caches them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Optional

import datasets
import pyarrow
from rich.console import Console
from rich.text import Text

from harness.results import records
from harness.tasks import heads


def cache_root() -> Path:
    return Path(os.environ.get("KOENBENCH_CACHE", Path.home() / ".cache" / "koenbench")) / "features"


FEATURES_VERSION = 2  # bump when what is cached changes in a way the source of this module and heads.py does not show


def tokenizer_identity(tokenizer) -> str:
    """The tokenizer's vocabulary, normaliser, pre-tokeniser, model and special tokens, hashed.

    Its truncation and padding settings are left out: they are state that the last call set
    (they differ with the task that ran before), not part of what the tokenizer is.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        state = json.loads(backend.to_str())
        state.pop("truncation", None)
        state.pop("padding", None)
    else:
        state = {"vocab": tokenizer.get_vocab()}
    state["class"] = type(tokenizer).__name__
    return hashlib.sha256(json.dumps(state, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def code_version() -> str:
    """The code that makes features: this module and the heads' (encoders, character mapping), and
    FEATURES_VERSION; an upgraded or edited harness never reuses features an older version made."""
    digest = hashlib.sha256(str(FEATURES_VERSION).encode())
    for module_file in (__file__, heads.__file__):
        digest.update(Path(module_file).read_bytes())
    return digest.hexdigest()[:12]


def cache_key(tokenizer, head: str, max_length: int, spec_sha256: str, data_fingerprint: str) -> str:
    parts = [tokenizer_identity(tokenizer), code_version(), spec_sha256, str(max_length), data_fingerprint, head]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:20]


def tokenize(dataset: datasets.DatasetDict, tokenizer, head: str, max_length: int, spec_sha256: str,
             data_fingerprint: str) -> datasets.DatasetDict:
    """input_ids / token_type_ids / attention_mask / labels for every split, cached on disk.

    A cache file is checked against the size, hash and row count written beside it; a file that
    fails the check is named on the console and built again. datasets writes each file to a
    temporary name and renames it, so concurrent runs never read half a file.
    """
    key = cache_key(tokenizer, head, max_length, spec_sha256, data_fingerprint)
    encode = heads.get(head).encoder
    out = {}
    for split, ds in dataset.items():
        cache_file = cache_root() / key / f"{split}-{ds._fingerprint}.arrow"
        cached = _verified(cache_file, ds.num_rows)
        out[split] = cached if cached is not None else _build(ds, encode(tokenizer, max_length, pair="text_b" in ds.column_names),
                                                             cache_file, f"{key}-{split}-{ds._fingerprint}"[:64], split)
    return datasets.DatasetDict(out)


def _build(ds: datasets.Dataset, fn, cache_file: Path, fingerprint: str, split: str) -> datasets.Dataset:
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    encoded = ds.map(fn, batched=True, remove_columns=ds.column_names, cache_file_name=str(cache_file),
                     load_from_cache_file=False, new_fingerprint=fingerprint, desc=f"tokenizing {split}")
    check = {"rows": encoded.num_rows, "bytes": cache_file.stat().st_size, "sha256": _sha256(cache_file)}
    records.write_json_atomic(_check_file(cache_file), check)
    return encoded


def _verified(cache_file: Path, rows: int) -> Optional[datasets.Dataset]:
    """The cached features, or None when there are none or they fail the check (then they are removed)."""
    if not cache_file.exists():
        return None
    problem = None
    try:
        check = json.loads(_check_file(cache_file).read_text(encoding="utf-8"))
        if check != {"rows": rows, "bytes": cache_file.stat().st_size, "sha256": _sha256(cache_file)}:
            problem = "its size, hash or row count differs from when it was written"
        else:
            return datasets.Dataset.from_file(str(cache_file))
    except (OSError, ValueError, pyarrow.ArrowException) as err:
        problem = f"unreadable ({type(err).__name__}: {err})"
    Console(stderr=True, soft_wrap=True).print(Text(f"features cache {cache_file}: {problem}; building it again", style="yellow"))
    cache_file.unlink(missing_ok=True)
    return None


def _check_file(cache_file: Path) -> Path:
    return cache_file.with_suffix(".check.json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
