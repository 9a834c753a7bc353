"""Plain-text corpora -> fixed-length chunks of *student* ids, and the ids each teacher reads for them.

MiniLMv2 compares the teacher's and the student's relations position by position, so both
must see the same token positions; and the student should be distilled on the pieces its own
tokenizer makes in evaluation (segmentation.py). Each text is therefore cut by the student's
tokenizer; a teacher reads the same chunk through ``teacher_map``, which sends every student
piece to the teacher's id of the same piece.

What a corpus file is (``--ko-corpus`` / ``--en-corpus``): UTF-8 plain text, one sentence or
document per line; blank lines are skipped; a directory stands for every ``*.txt`` file in it
(sorted). Files of the ``guid<TAB>sentence`` kind (the KLUE raw files) need their text column
cut out first, e.g. ``cut -f2 train-raw-sent.tsv > ko.txt``.

Packing (as in HF ``run_mlm``'s ``group_texts``): each line's pieces are followed by [SEP], the
separator between documents; the lines are concatenated in file order and cut into chunks of
``seq_len - 2`` pieces, each wrapped in ``[CLS] ... [SEP]``; the last, shorter remainder is
dropped, so no chunk holds padding.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence

import numpy as np

from harness.koenbert.vocab import fold

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


def piece_table(student_vocab: dict, teacher_vocab: dict, fold: Optional[Callable[[str], str]] = None) -> np.ndarray:
    """Student id -> the teacher's id of the same piece, -1 where the teacher lacks it.

    With ``fold`` (the student's normaliser on a piece), a student piece is the teacher's piece of
    the same id if that piece folds to it: step 1 renames a cased Korean piece (``LG``) to its
    folded text (``lg``) at the same id, and the teacher reads it as its own ``LG``.
    """
    table = np.full(max(student_vocab.values()) + 1, -1, dtype=np.int64)
    by_id = {i: p for p, i in teacher_vocab.items()}
    for piece, sid in student_vocab.items():
        if fold is not None and sid in by_id and by_id[sid] != piece and fold(by_id[sid]) == piece:
            table[sid] = sid  # renamed by step 1; its text may also be another teacher piece's (LG -> lg)
        elif piece in teacher_vocab:
            table[sid] = teacher_vocab[piece]
    return table


def teacher_map(student_tokenizer, teacher_tokenizer) -> tuple[np.ndarray, list[str]]:
    """Student id -> teacher id of the same piece, and the student pieces the teacher lacks (mapped to its [UNK]).

    Special tokens map by role ([CLS] to the teacher's [CLS], ...), every other piece by its text
    (a case-folded Korean piece by its id, see ``piece_table``).
    """
    student_vocab = student_tokenizer.get_vocab()
    teacher_vocab = teacher_tokenizer.get_vocab()
    specials = set(student_tokenizer.all_special_tokens)
    table = piece_table(student_vocab, teacher_vocab, fold)
    missing = [piece for piece, sid in sorted(student_vocab.items(), key=lambda kv: kv[1])
               if table[sid] < 0 and piece not in specials and not NEVER_PRODUCED.match(piece)]
    table[table < 0] = teacher_tokenizer.unk_token_id
    for role in ("cls_token", "sep_token", "pad_token", "unk_token", "mask_token"):
        s, t = getattr(student_tokenizer, role, None), getattr(teacher_tokenizer, role, None)
        if s is None:
            continue
        if t is None:
            raise CorpusError(f"the teacher's tokenizer has no {role} but the student uses {s!r}")
        table[student_vocab[s]] = teacher_vocab[t]
    return table, missing


def to_student_ids(chunks: np.ndarray, teacher_tokenizer, student_tokenizer, flag: str) -> np.ndarray:
    """Chunks cut by a teacher's tokenizer, in the student's ids of the same pieces (special tokens by role).

    For distillation with ``segmentation: teachers`` (each teacher cutting its own text, the first
    design): the student reads these ids, and the teacher reads them back through ``teacher_map``.
    """
    student_vocab = student_tokenizer.get_vocab()
    student_by_id = {i: p for p, i in student_vocab.items()}
    table = np.full(max(teacher_tokenizer.get_vocab().values()) + 1, -1, dtype=np.int64)
    for piece, tid in teacher_tokenizer.get_vocab().items():
        renamed = student_by_id.get(tid) == fold(piece)  # step 1 case-folded it at the same id (piece_table)
        table[tid] = tid if renamed else student_vocab.get(piece, -1)
    for role in ("cls_token", "sep_token", "pad_token", "unk_token", "mask_token"):
        t, s = getattr(teacher_tokenizer, role, None), getattr(student_tokenizer, role, None)
        if t is not None and s is not None:
            table[teacher_tokenizer.convert_tokens_to_ids(t)] = student_vocab[s]
    ids = table[chunks]
    if (ids < 0).any():
        lacked = sorted({teacher_tokenizer.convert_ids_to_tokens(int(t)) for t in np.asarray(chunks)[ids < 0][:1000]})
        raise CorpusError(f"{flag}: the student lacks {len(lacked)} piece(s) its teacher cuts this text into "
                          f"(e.g. {', '.join(map(repr, lacked[:5]))}); make the student with `bench koenbert extend` "
                          "from this teacher")
    return ids.astype(np.int32)


def _rust_tokenizer(tokenizer):
    """The tokenizer's Rust core without padding or truncation (a tokenizer.json may configure both)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise CorpusError(f"{type(tokenizer).__name__}: not a fast (tokenizers-backed) tokenizer; save it with tokenizer.json")
    backend = copy.deepcopy(backend)
    backend.no_padding()
    backend.no_truncation()
    return backend


def build_chunks(files: Sequence[Path], tokenizer, seq_len: int, flag: str, progress=None, separate: bool = True) -> np.ndarray:
    """Tokenize ``files`` with ``tokenizer`` (the student's) and pack them into (n, seq_len) int32 ids,
    a [SEP] after every line (``separate``).

    The student reads a chunk as it is; a teacher reads ``table[chunk]`` (see ``teacher_map``).

    ``progress``: optional callable(bytes_read) for a progress bar.
    """
    if seq_len < 3:
        raise CorpusError(f"seq_len {seq_len}: a chunk holds [CLS], at least one piece and [SEP]; use 3 or more")
    backend = _rust_tokenizer(tokenizer)
    separator = np.asarray([tokenizer.sep_token_id] if separate else [], dtype=np.int32)
    pieces: list[np.ndarray] = []

    def flush(batch: list[str]) -> None:
        for enc in backend.encode_batch(batch, add_special_tokens=False):
            pieces.extend((np.asarray(enc.ids, dtype=np.int32), separator))

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
    chunks[:, 0] = tokenizer.cls_token_id
    chunks[:, 1:-1] = stream[: n * body].reshape(n, body)
    chunks[:, -1] = tokenizer.sep_token_id
    return chunks


class ChunkOrder:
    """The rows of one language's global batches: epoch after epoch, each epoch in its own seeded order.

    The order of an epoch is built once, when the epoch starts (a permutation of millions of
    chunks takes ~0.5 s), not at every switch between languages.
    """

    def __init__(self, n_chunks: int, global_batch: int, seed: int, lang_index: int):
        self.n_chunks, self.global_batch, self.seed, self.lang_index = n_chunks, global_batch, seed, lang_index
        self.epoch: int | None = None
        self.order: np.ndarray | None = None
        self.built = 0  # orders built so far (the cost a test bounds)

    def take(self, cursor: list[int], start: int, size: int) -> tuple[np.ndarray, list[int]]:
        """Rows ``start:start+size`` of the global batch at ``cursor`` (epoch, offset); and the next cursor."""
        epoch, offset = cursor
        if offset + self.global_batch > self.n_chunks:  # the epoch's remainder is smaller than a batch: next epoch
            epoch, offset = epoch + 1, 0
        if epoch != self.epoch:
            self.order = np.random.default_rng([self.seed, self.lang_index, epoch]).permutation(self.n_chunks)
            self.epoch = epoch
            self.built += 1
        return self.order[offset + start : offset + start + size], [epoch, offset + self.global_batch]
