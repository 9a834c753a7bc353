"""Plain-text corpora -> fixed-length chunks of *student* ids, cut where the *teacher's* tokenizer cuts.

MiniLMv2 compares the teacher's and the student's relations position by position, so both
must see the same token positions. Each text is therefore tokenized with its teacher's
tokenizer and stored as teacher ids; the student reads the same chunk through ``piece_map``,
which sends every teacher piece to the student's id of the same piece (the student's
vocabulary, made by step 1, holds every piece of both teachers).

What a corpus file is (``--ko-corpus`` / ``--en-corpus``): UTF-8 plain text, one sentence or
document per line; blank lines are skipped; a directory stands for every ``*.txt`` file in it
(sorted). Files of the ``guid<TAB>sentence`` kind (the KLUE raw files) need their text column
cut out first, e.g. ``cut -f2 train-raw-sent.tsv > ko.txt``.

Packing (as in BERT pre-training and HF ``run_mlm``'s ``group_texts``): the pieces of all lines
are concatenated in file order and cut into chunks of ``seq_len - 2`` pieces, each wrapped in
``[CLS] ... [SEP]``; the last, shorter remainder is dropped, so no chunk holds padding.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

# Pieces a WordPiece tokenizer never produces from text; step 1 does not copy them into the student.
NEVER_PRODUCED = re.compile(r"^\[unused\d+\]$")
LINES_PER_BATCH = 10_000  # lines handed to the Rust tokenizer at once (it parallelises within a batch)


class CorpusError(ValueError):
    """A corpus file or a teacher/student vocabulary pair the user must fix; the message says which and how."""


def corpus_files(paths: Sequence[str | Path], flag: str) -> list[Path]:
    """The files behind ``paths`` (files, or directories of *.txt); an error names ``flag`` if there are none."""
    if not paths:
        raise CorpusError(f"{flag}: no corpus given; pass one or more plain-text files (one text per line)")
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = sorted(p.glob("*.txt"))
            if not inside:
                raise CorpusError(f"{flag} {p}: the directory holds no *.txt files")
            files.extend(inside)
        elif p.is_file():
            files.append(p)
        else:
            raise CorpusError(f"{flag} {p}: no such file or directory")
    return files


def read_texts(files: Iterable[Path], flag: str) -> Iterator[str]:
    """Non-blank lines, stripped, in file order."""
    for path in files:
        with open(path, "rb") as f:  # bytes, decoded line by line, so that an error names the right line
            for line_no, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8").strip()
                except UnicodeDecodeError as err:
                    raise CorpusError(f"{flag} {path}: line {line_no} is not UTF-8 ({err.reason}); convert the file to UTF-8") from None
                if line:
                    yield line


def piece_map(teacher_tokenizer, student_tokenizer, teacher_name: str, student_name: str) -> np.ndarray:
    """Teacher id -> student id of the same piece (-1: a piece the teacher never produces from text).

    Special tokens map by role ([CLS] to the student's [CLS], ...), every other piece by its text.
    A student lacking pieces the teacher can produce is an error, raised before any training.
    """
    student_vocab = student_tokenizer.get_vocab()
    teacher_vocab = teacher_tokenizer.get_vocab()
    specials = set(teacher_tokenizer.all_special_tokens)  # mapped by role below
    table = np.full(max(teacher_vocab.values()) + 1, -1, dtype=np.int64)
    missing = []
    for piece, tid in sorted(teacher_vocab.items(), key=lambda kv: kv[1]):
        if piece in student_vocab:
            table[tid] = student_vocab[piece]
        elif not NEVER_PRODUCED.match(piece) and piece not in specials:
            missing.append(piece)
    for role in ("cls_token", "sep_token", "pad_token", "unk_token", "mask_token"):
        t, s = getattr(teacher_tokenizer, role, None), getattr(student_tokenizer, role, None)
        if t is None:
            continue
        if s is None:
            raise CorpusError(f"{student_name}: its tokenizer has no {role} but the teacher {teacher_name} uses {t!r}")
        table[teacher_vocab[t]] = student_vocab[s]
    if missing:
        examples = ", ".join(repr(p) for p in missing[:8])
        raise CorpusError(
            f"the student {student_name} lacks {len(missing):,} of the {len(teacher_vocab):,} pieces of the teacher "
            f"{teacher_name} (e.g. {examples}); student and teacher must see the same tokens, so the student's "
            "vocabulary must hold every teacher piece: make the student with `bench koenbert extend` from these "
            "teachers (with --vocab all: korean-safe leaves pieces out), or pass the teacher it was extended with"
        )
    return table


def _rust_tokenizer(tokenizer):
    """The tokenizer's Rust core without padding or truncation (a tokenizer.json may configure both)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise CorpusError(f"{type(tokenizer).__name__}: not a fast (tokenizers-backed) tokenizer; save it with tokenizer.json")
    backend = copy.deepcopy(backend)
    backend.no_padding()
    backend.no_truncation()
    return backend


def student_ids(texts: Sequence[str], teacher_tokenizer, table: np.ndarray) -> list[np.ndarray]:
    """Each text as the student ids of the teacher's pieces (no [CLS]/[SEP])."""
    encodings = _rust_tokenizer(teacher_tokenizer).encode_batch(list(texts), add_special_tokens=False)
    return [table[np.asarray(e.ids, dtype=np.int64)] for e in encodings]


def build_chunks(files: Sequence[Path], teacher_tokenizer, seq_len: int, flag: str, progress=None) -> np.ndarray:
    """Tokenize ``files`` with the teacher's tokenizer and pack them into (n, seq_len) int32 *teacher* ids.

    The teacher reads a chunk as it is; the student reads ``table[chunk]`` (see ``piece_map``).

    ``progress``: optional callable(bytes_read) for a progress bar.
    """
    if seq_len < 3:
        raise CorpusError(f"seq_len {seq_len}: a chunk holds [CLS], at least one piece and [SEP]; use 3 or more")
    backend = _rust_tokenizer(teacher_tokenizer)
    pieces: list[np.ndarray] = []

    def flush(batch: list[str]) -> None:
        for enc in backend.encode_batch(batch, add_special_tokens=False):
            pieces.append(np.asarray(enc.ids, dtype=np.int32))

    batch: list[str] = []
    for text in read_texts(files, flag):
        batch.append(text)
        if len(batch) == LINES_PER_BATCH:
            flush(batch)
            if progress:
                progress(sum(len(t.encode()) + 1 for t in batch))
            batch = []
    if batch:
        flush(batch)
        if progress:
            progress(sum(len(t.encode()) + 1 for t in batch))
    names = ", ".join(str(f) for f in files)
    if not pieces:
        raise CorpusError(f"{flag} {names}: empty (no non-blank line); a corpus file holds one text per line")
    stream = np.concatenate(pieces)
    body = seq_len - 2
    n = len(stream) // body
    if n == 0:
        raise CorpusError(
            f"{flag} {names}: only {len(stream)} tokens, fewer than one chunk of {seq_len} ([CLS] + {body} + [SEP]); "
            "add text or lower --seq-len"
        )
    chunks = np.empty((n, seq_len), dtype=np.int32)
    chunks[:, 0] = teacher_tokenizer.cls_token_id
    chunks[:, 1:-1] = stream[: n * body].reshape(n, body)
    chunks[:, -1] = teacher_tokenizer.sep_token_id
    return chunks
