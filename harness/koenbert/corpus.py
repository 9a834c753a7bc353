"""Plain-text corpora -> fixed-length chunks of *student* ids, and the ids each teacher reads for them; and the
eight tasks' own texts, which a corpus line is screened against (``TaskScreen``; prepare.py runs both).

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
import unicodedata
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence

import numpy as np

from harness.koenbert.vocab import fold, reading, reads

# Pieces a WordPiece tokenizer never produces from text; step 1 does not copy them into the student.
NEVER_PRODUCED = re.compile(r"^\[unused\d+\]$")
LINES_PER_BATCH = 10_000  # lines handed to the Rust tokenizer at once (it parallelises within a batch) ...
# ... and at most ~128k characters (Korean: ~180k tokens, English: ~30k): the batch's encodings (~120 bytes a token in
# Rust) are the transient memory of preparing a corpus; 512k characters took 90 MB on Korean text, and no more speed.
BATCH_CHARS = 1 << 17


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
    for path in files:
        check_start(path, flag)
    return files


HEAD_BYTES = 1 << 16  # what is read of each corpus file before anything loads: enough to tell a wrong file
ID_LINES = 100  # lines looked at for an id column


def check_start(path: Path, flag: str) -> None:
    """Refuse, from its first ``HEAD_BYTES``, a file that is not a corpus: empty, binary, not UTF-8, or a
    ``guid<TAB>sentence`` file. The whole file is read only while preparing, minutes later."""
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if len(head) < HEAD_BYTES and not head.strip():
        raise CorpusError(f"{flag} {path}: empty (no non-blank line); a corpus file holds one text per line")
    if b"\x00" in head:
        raise CorpusError(f"{flag} {path}: holds NUL bytes: a binary file, not text; pass UTF-8 text, one text per line")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 3:  # not merely a character cut at the end of the block
            raise CorpusError(f"{flag} {path}: not UTF-8 text (byte {head[err.start]:#04x} at offset {err.start}); "
                              "convert the file to UTF-8") from None
        text = head[:err.start].decode("utf-8")
    lines = [line for line in text.splitlines()[:ID_LINES] if line.strip()]
    ids = [line.split("\t", 1)[0] for line in lines if "\t" in line]
    if len(lines) > 1 and len(ids) == len(lines) and all(i and not any(c.isspace() for c in i) for i in ids):
        raise CorpusError(f"{flag} {path}: every one of its first {len(lines)} lines starts with an id and a tab, as "
                          "KLUE's guid<TAB>sentence files do; each line is read whole, so the ids would be read as text: "
                          f"cut the text column out first, e.g. cut -f2 {path} > {path.stem}.txt")


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


def piece_table(student_vocab: dict, teacher_vocab: dict, fold: Optional[Callable[[str], str]] = None,
                read: Optional[Callable[[str], str]] = None) -> np.ndarray:
    """Student id -> the teacher's id of the same piece, -1 where the teacher lacks it.

    With ``fold`` (the student's normaliser on a piece), a student piece is the teacher's piece of
    the same id if that piece folds to it: step 1 renames a cased Korean piece (``LG``) to its
    folded text (``lg``) at the same id, and the teacher reads it as its own ``LG``. With ``read``
    (the teacher's normaliser on a piece), a piece the teacher lacks is read as the teacher's piece
    of the text its normaliser makes of it: the uncased English teacher reads ``##ü`` as its ``##u``
    and a cased student's ``The`` as its ``the``.
    """
    table = np.full(max(student_vocab.values()) + 1, -1, dtype=np.int64)
    by_id = {i: p for p, i in teacher_vocab.items()}
    for piece, sid in student_vocab.items():
        if fold is not None and sid in by_id and by_id[sid] != piece and fold(by_id[sid]) == piece:
            table[sid] = sid  # renamed by step 1; its text may also be another teacher piece's (LG -> lg)
        elif piece in teacher_vocab:
            table[sid] = teacher_vocab[piece]
        elif read is not None and read(piece) in teacher_vocab:
            table[sid] = teacher_vocab[read(piece)]
    return table


def reading_table(student_spec: dict, teacher_spec: dict) -> np.ndarray:
    """``piece_table`` of two tokenizer.json dicts: how the teacher reads each of the student's pieces."""
    return piece_table(student_spec["model"]["vocab"], teacher_spec["model"]["vocab"], fold, reading(teacher_spec))


def teacher_map(student_tokenizer, teacher_tokenizer) -> tuple[np.ndarray, list[str]]:
    """Student id -> teacher id of the same piece, and the student pieces the teacher lacks (mapped to its [UNK]).

    Special tokens map by role ([CLS] to the teacher's [CLS], ...), every other piece by its text
    (a case-folded Korean piece by its id, see ``piece_table``).
    """
    student_vocab = student_tokenizer.get_vocab()
    teacher_vocab = teacher_tokenizer.get_vocab()
    specials = set(student_tokenizer.all_special_tokens)
    normalizer = getattr(getattr(teacher_tokenizer, "backend_tokenizer", None), "normalizer", None)
    table = piece_table(student_vocab, teacher_vocab, fold, reads(normalizer))
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


class StudentIds:
    """A teacher's ids -> the student's ids of the same pieces (special tokens by role).

    For distillation with ``segmentation: teachers`` (each teacher cutting its own text, the first
    design): the student reads these ids, and the teacher reads them back through ``teacher_map``.
    """

    def __init__(self, teacher_tokenizer, student_tokenizer, flag: str):
        self.teacher, self.flag = teacher_tokenizer, flag
        student_vocab = student_tokenizer.get_vocab()
        student_by_id = {i: p for p, i in student_vocab.items()}
        self.table = np.full(max(teacher_tokenizer.get_vocab().values()) + 1, -1, dtype=np.int64)
        for piece, tid in teacher_tokenizer.get_vocab().items():
            renamed = student_by_id.get(tid) == fold(piece)  # step 1 case-folded it at the same id (piece_table)
            self.table[tid] = tid if renamed else student_vocab.get(piece, -1)
        for role in ("cls_token", "sep_token", "pad_token", "unk_token", "mask_token"):
            t, s = getattr(teacher_tokenizer, role, None), getattr(student_tokenizer, role, None)
            if t is not None and s is not None:
                self.table[teacher_tokenizer.convert_tokens_to_ids(t)] = student_vocab[s]

    def __call__(self, chunks: np.ndarray) -> np.ndarray:
        ids = self.table[chunks]
        if (ids < 0).any():
            lacked = sorted({self.teacher.convert_ids_to_tokens(int(t)) for t in np.asarray(chunks)[ids < 0][:1000]})
            raise CorpusError(f"{self.flag}: the student lacks {len(lacked)} piece(s) its teacher cuts this text into "
                              f"(e.g. {', '.join(map(repr, lacked[:5]))}); make the student with `bench koenbert extend` "
                              "from this teacher, with every English piece (--vocab all)")
        return ids


def to_student_ids(chunks: np.ndarray, teacher_tokenizer, student_tokenizer, flag: str) -> np.ndarray:
    """Chunks cut by a teacher's tokenizer, in the student's ids of the same pieces (``StudentIds``)."""
    return StudentIds(teacher_tokenizer, student_tokenizer, flag)(chunks).astype(np.int32)


def _rust_tokenizer(tokenizer):
    """The tokenizer's Rust core without padding or truncation (a tokenizer.json may configure both)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise CorpusError(f"{type(tokenizer).__name__}: not a fast (tokenizers-backed) tokenizer; save it with tokenizer.json")
    backend = copy.deepcopy(backend)
    backend.no_padding()
    backend.no_truncation()
    return backend


def text_batches(texts: Iterable[str], max_chars: int = BATCH_CHARS, max_lines: int = LINES_PER_BATCH) -> Iterator[list[str]]:
    """``texts`` in batches of at most ``max_lines`` lines and about ``max_chars`` characters (a longer line is a batch
    alone): the tokens of a batch, not its lines, decide the memory its encodings take."""
    batch: list[str] = []
    size = 0
    for text in texts:
        batch.append(text)
        size += len(text)
        if len(batch) >= max_lines or size >= max_chars:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class ChunkStream:
    """Texts -> blocks of whole chunks (k, seq_len): each text's pieces and a [SEP] (``separate``), concatenated
    and cut into ``seq_len - 2`` pieces wrapped in [CLS] ... [SEP]; a shorter remainder waits for the next text.

    Memory: one batch of texts and its encodings (``text_batches``), one block, and fewer than one chunk of
    pieces carried over; never the corpus. ``convert``: applied to each batch's ids (another tokenizer's ids to
    the student's). ``lines`` and ``tokens`` count what was read so far (the separators included in tokens).
    """

    def __init__(self, texts: Iterable[str], tokenizer, seq_len: int, *, separate: bool = True, dtype=np.int32,
                 convert: Optional[Callable[[np.ndarray], np.ndarray]] = None, cls_id: Optional[int] = None,
                 sep_id: Optional[int] = None):
        if seq_len < 3:
            raise CorpusError(f"seq_len {seq_len}: a chunk holds [CLS], at least one piece and [SEP]; use 3 or more")
        self.texts, self.backend, self.seq_len, self.dtype, self.convert = texts, _rust_tokenizer(tokenizer), seq_len, dtype, convert
        self.cls_id = tokenizer.cls_token_id if cls_id is None else cls_id
        self.sep_id = tokenizer.sep_token_id if sep_id is None else sep_id
        self.separator = [tokenizer.sep_token_id] if separate else []  # the cutter's [SEP]; ``convert`` maps it
        self.carry = np.empty(0, dtype=dtype)
        self.lines = self.tokens = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        body = self.seq_len - 2
        for batch in text_batches(self.texts):
            encodings = self.backend.encode_batch(batch, add_special_tokens=False)
            count = sum(len(e) for e in encodings) + len(self.separator) * len(encodings)
            ids = np.fromiter(chain.from_iterable(chain(e.ids, self.separator) for e in encodings), dtype=np.int64, count=count)
            del encodings
            if self.convert is not None:
                ids = self.convert(ids)
            self.lines += len(batch)
            self.tokens += count
            stream = np.concatenate([self.carry, ids.astype(self.dtype)])
            n = len(stream) // body
            self.carry = stream[n * body:].copy()
            if n:
                block = np.empty((n, self.seq_len), dtype=self.dtype)
                block[:, 0], block[:, -1] = self.cls_id, self.sep_id
                block[:, 1:-1] = stream[: n * body].reshape(n, body)
                yield block

    def check(self, chunks: int, flag: str, files: Sequence[Path]) -> None:
        """After the stream: an error if it made no chunk."""
        names = ", ".join(str(f) for f in files)
        if self.tokens == 0:
            raise CorpusError(f"{flag} {names}: empty (no non-blank line); a corpus file holds one text per line")
        if chunks == 0:
            raise CorpusError(
                f"{flag} {names}: only {self.tokens} tokens, fewer than one chunk of {self.seq_len} "
                f"([CLS] + {self.seq_len - 2} + [SEP]); add text or lower --seq-len")


def build_chunks(files: Sequence[Path], tokenizer, seq_len: int, flag: str, separate: bool = True) -> np.ndarray:
    """Tokenize ``files`` with ``tokenizer`` and pack them into (n, seq_len) int32 ids in memory, a [SEP] after
    every line (``separate``): for small corpora (tests, benchmarks). A run's corpus goes through ``write_chunks``."""
    stream = ChunkStream(read_texts(files, flag), tokenizer, seq_len, separate=separate)
    blocks = list(stream)
    stream.check(sum(len(b) for b in blocks), flag, files)
    return np.concatenate(blocks)


def id_dtype(vocab_size: int):
    """The smallest unsigned type that holds every id: uint16 up to 65,536 pieces (koenbert-base: ~62k), else uint32."""
    return np.uint16 if vocab_size <= 1 << 16 else np.uint32


def write_chunks(stream: ChunkStream, path: Path, max_chunks: Optional[int], flag: str, files: Sequence[Path]) -> int:
    """Write ``stream``'s chunks to ``path`` (raw ids, row after row: chunk i starts at byte i * seq_len * itemsize),
    at most ``max_chunks``; the text after the last chunk needed is not read. Returns the number of chunks.

    Written through a buffered file, never held: beyond the file, memory is ``ChunkStream``'s (one batch)."""
    written = 0
    with open(path, "wb", buffering=1 << 20) as f:
        for block in stream:
            if max_chunks is not None:
                block = block[: max_chunks - written]
            block.tofile(f)
            written += len(block)
            if max_chunks is not None and written >= max_chunks:
                break
    stream.check(written, flag, files)
    return written


def open_chunks(path: Path, dtype: str, seq_len: int) -> np.memmap:
    """The chunks ``write_chunks`` wrote, memory-mapped read-only: (n, seq_len)."""
    dtype = np.dtype(dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=(Path(path).stat().st_size // (dtype.itemsize * seq_len), seq_len))


# ---------------------------------------------------------------------------------------------
# The benchmark's own text: a corpus line equal to a validation text is dropped, one equal to a train text counted
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskText:
    """One task's texts as `bench run` loads them (harness/tasks/data): sentences, both sides of pairs, NER's characters joined."""

    language: str  # "ko" or "en"
    validation: list[str]  # the scored rows
    train: list[str]
    carved: bool  # both splits carved from the dev file (no train file): the hub scores all of it


def split_texts(split) -> list[str]:
    """The texts of one split in the canonical schema (data.py): text_a and text_b, or NER's characters joined."""
    if "tokens" in split.column_names:
        return ["".join(chars) for chars in split["tokens"]]
    return [t for col in ("text_a", "text_b") if col in split.column_names for t in split[col] if t]


def task_texts(data_dir: Optional[Path], tasks: Optional[list[str]] = None) -> tuple[dict[str, TaskText], dict[str, str]]:
    """Task id -> its texts, for every task (default: all) whose data ``data_dir`` holds (None: the hub or its
    cache); and task id -> why it could not be read, for the others."""
    from harness.core import checked
    from harness.tasks import data, spec

    found, missing = {}, {}
    for task in spec.load_tasks(tasks or ["all"]):
        try:
            loaded = data.load(task, None if data_dir is None else Path(data_dir), warn=lambda message: None)
        except checked.InputError as err:
            missing[task.id] = str(err).splitlines()[0]
            continue
        found[task.id] = TaskText("ko" if task.language == "ko" else "en", split_texts(loaded.dataset["validation"]),
                                  split_texts(loaded.dataset["train"]), bool(loaded.carved))
    return found, missing


def normalised(text: str) -> str:
    """What two texts must share to count as the same: NFC, and whitespace runs as one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class TaskIndex:
    """The eight tasks' texts, ``normalised``, for ``TaskScreen``: built once, shared by both languages."""

    def __init__(self, tasks: dict[str, TaskText]):
        self.held_out: dict[str, tuple[str, ...]] = {}  # normalised text -> the tasks whose scored text it is
        self.trained: dict[str, tuple[str, ...]] = {}
        for task_id, texts in sorted(tasks.items()):
            # a task carved from its dev file trains on rows the hub scores: they are held out too
            for text in texts.validation + (texts.train if texts.carved else []):
                key = normalised(text)
                self.held_out[key] = (*self.held_out.get(key, ()), task_id)
            for text in [] if texts.carved else texts.train:
                key = normalised(text)
                self.trained[key] = (*self.trained.get(key, ()), task_id)
        self.tasks = sorted(tasks)
        self.with_train = sorted(t for t, texts in tasks.items() if not texts.carved)


class TaskScreen:
    """Drops the corpus lines equal (``normalised``) to a validation text of a task and counts those equal to a
    train text, both per task; a task whose splits are carved from its dev file has all of them dropped."""

    def __init__(self, index: TaskIndex):
        self.index = index
        self.dropped = {t: 0 for t in index.tasks}
        self.overlap = {t: 0 for t in index.with_train}

    def __call__(self, texts: Iterable[str]) -> Iterator[str]:
        index = self.index
        # Every line is normalised (about 1 us a line, 0.15 ms for 50,000 characters: far below cutting it into
        # pieces): a bound on the raw length would let decomposed Hangul (3 code points a syllable) or spacing through.
        for text in texts:
            key = normalised(text)
            if key in index.held_out:
                for task in dict.fromkeys(index.held_out[key]):
                    self.dropped[task] += 1
                continue
            for task in dict.fromkeys(index.trained.get(key, ())):
                self.overlap[task] += 1
            yield text

    def report(self) -> dict:
        return {"validation_lines_dropped": dict(self.dropped), "train_lines_kept": dict(self.overlap),
                "checked_against": self.index.tasks}


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
