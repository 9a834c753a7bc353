"""Tokenize a task's canonical DatasetDict once per (tokenizer, task, max_length) and cache it on disk.

KLUE-NER is tagged per character: a subword takes the tag of its first character,
and after prediction every character takes back the tag of the subword that covers it
(inside a subword, B-X continues as I-X), as KLUE-baseline scores it. Like KLUE-baseline,
the scores leave out the space characters, which the official file tags too.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Sequence

import datasets
import numpy as np

IGNORE_INDEX = -100  # positions the loss and the scores skip


def cache_root() -> Path:
    return Path(os.environ.get("KOENBENCH_CACHE", Path.home() / ".cache" / "koenbench")) / "features"


def char_owners(offsets: Sequence[tuple[int, int]], n_chars: int) -> tuple[np.ndarray, np.ndarray]:
    """For each character, the first subword that covers it (-1: none, e.g. a space or truncated away);
    for each subword, the first character it owns (-1: none, e.g. [CLS] or a second jamo piece of a syllable)."""
    owner = np.full(n_chars, -1, dtype=np.int64)
    first_char = np.full(len(offsets), -1, dtype=np.int64)
    for t, (start, end) in enumerate(offsets):
        for c in range(start, min(end, n_chars)):
            if owner[c] == -1:
                owner[c] = t
                if first_char[t] == -1:
                    first_char[t] = c
    return owner, first_char


def subword_labels(char_tags: Sequence[int], offsets: Sequence[tuple[int, int]]) -> list[int]:
    """Character tags -> subword labels: the tag of the subword's first character, IGNORE_INDEX elsewhere."""
    _, first_char = char_owners(offsets, len(char_tags))
    return [int(char_tags[c]) if c >= 0 else IGNORE_INDEX for c in first_char]


def chars_from_subwords(
    subword_preds: Sequence[int], offsets: Sequence[tuple[int, int]], n_chars: int, labels: Sequence[str]
) -> list[int]:
    """Subword predictions -> one tag per character (spaces and truncated characters: O)."""
    index = {name: i for i, name in enumerate(labels)}
    outside = index["O"]
    owner, first_char = char_owners(offsets, n_chars)
    tags = []
    for c in range(n_chars):
        t = owner[c]
        if t < 0:
            tags.append(outside)
            continue
        name = labels[int(subword_preds[t])]
        if c != first_char[t] and name.startswith("B-"):
            name = "I-" + name[2:]  # the rest of an entity's first subword
        tags.append(index[name])
    return tags


def scored_positions(chars: Sequence[str]) -> list[int]:
    """Indexes of the characters that are scored: all but spaces."""
    return [i for i, ch in enumerate(chars) if not ch.isspace()]


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
        if head == "token-classification":
            fn, remove = _token_features(tokenizer, max_length), ds.column_names
        else:
            fn, remove = _sentence_features(tokenizer, max_length, "text_b" in ds.column_names, head), ds.column_names
        out[split] = ds.map(
            fn,
            batched=True,
            remove_columns=remove,
            cache_file_name=str(cache_file),
            load_from_cache_file=True,
            new_fingerprint=f"{key}-{split}-{ds._fingerprint}"[:64],
            desc=f"tokenizing {split}",
        )
    return datasets.DatasetDict(out)


def _sentence_features(tokenizer, max_length: int, pair: bool, head: str):
    def fn(batch):
        args = (batch["text_a"], batch["text_b"]) if pair else (batch["text_a"],)
        enc = tokenizer(*args, truncation=True, max_length=max_length)
        enc["labels"] = [float(x) for x in batch["label"]] if head == "regression" else batch["label"]
        enc["length"] = [len(ids) for ids in enc["input_ids"]]
        return enc

    return fn


def _token_features(tokenizer, max_length: int):
    def fn(batch):
        texts = ["".join(tokens) for tokens in batch["tokens"]]
        enc = tokenizer(texts, truncation=True, max_length=max_length, return_offsets_mapping=True)
        enc["labels"] = [subword_labels(tags, offs) for tags, offs in zip(batch["tags"], enc["offset_mapping"])]
        # kept to map predictions back to characters: the gold character tags and the subword spans
        enc["char_tags"] = batch["tags"]
        enc["scored_chars"] = [scored_positions(tokens) for tokens in batch["tokens"]]
        enc["offsets"] = [[list(o) for o in offs] for offs in enc.pop("offset_mapping")]
        enc["length"] = [len(ids) for ids in enc["input_ids"]]
        return enc

    return fn
