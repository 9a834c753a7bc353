"""Step 1a of koenbert: grow a Korean WordPiece vocabulary with the English pieces it lacks.

The extended tokenizer is the Korean tokenizer (normalizer, pre-tokenizer, special tokens,
ids 0..N-1) whose WordPiece vocabulary gets the English pieces appended as ids N, N+1, ...
in the English vocabulary's order. They go into the WordPiece vocab itself, not into
``added_tokens`` (those are matched before pre-tokenization, as whole strings, and would
break WordPiece splitting).

Korean text. WordPiece takes the longest piece that matches, so an added piece changes the
split of every word in which it is now the longest match: "2013년" was ``201 ##3 ##년`` and
becomes ``2013 ##년``; "…" was ``[UNK]`` and becomes ``…``; a lowercase English word inside a
Korean sentence ("the", "km", "vs") changes too. So "every English piece" and "Korean
tokenization identical" cannot both hold for all Korean text: any piece kept can be typed
inside a Korean sentence. Measured with the test vocabularies (a 4,000-piece Korean
WordPiece trained from the shared KLUE-NER text, and bert-base-uncased's): adding every
piece changes 35,963 of the 117,205 Korean sentences of the shared KLUE and raw files.

What does hold, and the tests check it on every Korean sentence of the shared KLUE files: a
word written in Hangul syllables alone is split exactly as before (no English piece contains a
precomposed syllable); only words with digits, Latin letters or symbols can change.

Three policies, all reported:
- ``weighed`` (default): the pieces whose Korean cost does not exceed their English use, weighed on
  training text (weighing.py); the Korean teacher then reads its own cut of Korean validation text
  where ``all`` leaves it pieces it lacks. Distillation needs no English piece in particular: the
  English teacher reads whatever the student cuts (a word without its piece costs agreement, which
  the report measures).
- ``all``: every missing piece. The report counts the Korean reference sentences that change; a
  change only ever comes from an added piece winning a longest match (the tests check this on every
  sentence).
- ``korean-safe``: leave out the pieces that change the tokenization of a Korean reference
  text (every Korean sentence of the shared KLUE and raw files). `korean_safe_pieces` finds
  the largest such subset (a piece is dropped only where it is the longest match, so no
  smaller exclusion keeps the text unchanged). With the test vocabularies it leaves out 1,840
  pieces ("the", "of", "and", "2013", "…"), SST-2 split agreement falls from 99.9% to 70.2%,
  and Korean text outside the reference still changes (318 of 4,440 sentences of the shared
  parallel .ko text, against 947 when adding all): invariance holds on the reference, not in
  general. A student made this way cuts English text into pieces its English teacher's tokenizer
  would not choose.

Case handling is no longer this module's: step 1 gives the extended tokenizer the student's
normaliser, which lowercases like the English teacher but keeps accents, and so Hangul whole
(segmentation.py measures the designs considered on every task's validation text). Keeping accents
leaves letters with marks (``ü``, ``é``) that neither vocabulary holds: the English teacher's was
built on text it had stripped. `accented_letters` adds each as a piece the English teacher reads as
its base letter, so that a word with one is not a single [UNK] for the student.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from tokenizers import Tokenizer, normalizers

POLICIES = ("weighed", "all", "korean-safe")
DEFAULT_POLICY = "weighed"
UNUSED = re.compile(r"\[unused\d+\]")


class ExtendError(ValueError):
    """A user mistake in `bench koenbert extend`: the message names the input and the fix."""


# --- tokenizers -------------------------------------------------------------------------


def wordpiece_json(tokenizer, source: str) -> dict:
    """The tokenizer.json of a fast BERT-style WordPiece tokenizer, or ExtendError."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ExtendError(f"{source}: {type(tokenizer).__name__} has no tokenizers backend (tokenizer.json); "
                          "koenbert extends BERT-style WordPiece tokenizers only")
    spec = json.loads(backend.to_str())
    model = spec.get("model", {})
    kind = model.get("type")
    vocab = model.get("vocab")
    if kind != "WordPiece" or not isinstance(vocab, dict):
        raise ExtendError(f"{source}: tokenizer.json model.type is {kind!r}, not 'WordPiece'; koenbert extends "
                          "BERT-style WordPiece vocabularies only (e.g. klue/bert-base, bert-base-uncased)")
    prefix = model.get("continuing_subword_prefix")
    if prefix != "##" or not any(p.startswith("##") for p in vocab):
        raise ExtendError(f"{source}: WordPiece model.continuing_subword_prefix is {prefix!r} and the vocab has no "
                          "'##' continuation pieces; koenbert needs a BERT-style WordPiece vocabulary")
    return spec


def backend(spec: dict) -> Tokenizer:
    """A tokenizers object from a tokenizer.json dict, with padding and truncation off."""
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.no_padding()
    tok.no_truncation()
    return tok


def special_pieces(spec: dict) -> set[str]:
    return {t["content"] for t in spec.get("added_tokens", []) if t.get("special")}


def greedy_wordpiece(word: str, vocab, continuation: bool = False, max_chars: int = 100) -> tuple[list[str], bool]:
    """WordPiece's longest-match-first split of one word: (pieces tried, succeeded).

    Mirrors tokenizers' WordPiece model; on failure the pieces matched before it are returned
    too, because they tell which piece sent the split astray.
    """
    if len(word) > max_chars:
        return [], False
    pieces, start = [], 0
    while start < len(word):
        end, piece = len(word), None
        while start < end:
            sub = word[start:end]
            if start > 0 or continuation:
                sub = "##" + sub
            if sub in vocab:
                piece = sub
                break
            end -= 1
        if piece is None:
            return pieces, False
        pieces.append(piece)
        start = end
    return pieces, True


# The student's normaliser (segmentation.uncased_normalizer) without the spaces around CJK, which the pre-tokenizer
# splits on: what it does to a piece. Cleaning kept: a piece of control or format characters (``\u200b``) folds to
# nothing, as the student's tokenizer erases it from text.
_FOLD = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=True)


def reads(normalizer) -> Callable[[str], str]:
    """A piece -> its text as ``normalizer`` writes it, "##" kept (no normaliser: as it is)."""

    def read(piece: str) -> str:
        prefix = "##" if piece.startswith("##") and len(piece) > 2 else ""
        body = piece[len(prefix):]
        return prefix + (normalizer.normalize_str(body) if normalizer is not None else body)

    return read


_folded = reads(_FOLD)


def fold(piece: str) -> str:
    """A WordPiece piece as the student's normaliser writes its text ("##" kept): ``##LG`` -> ``##lg``."""
    return _folded(piece)


def reading(spec: dict) -> Callable[[str], str]:
    """How the tokenizer of ``spec`` writes a piece's text: the English teacher reads ``##Ü`` as its ``##u``."""
    return reads(backend(spec).normalizer)


# Latin-1 Supplement to Latin Extended-B, and Latin Extended Additional (Vietnamese): the letters with marks.
LATIN_WITH_MARKS = (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00))


def accented_letters(student_spec: dict, en_spec: dict) -> list[str]:
    """Letters with marks the student's normaliser keeps and its vocabulary lacks, each as a piece and a continuation
    piece, that the English teacher reads as one of its pieces (``ü`` as ``u``, stripped as its own normaliser strips
    it). Without them a word with such a letter is one [UNK] for the student (``Temüjin``) where the teacher reads
    ``te ##mu ##jin``."""
    student = reading(student_spec)
    english = reading(en_spec)
    vocab, en_vocab = student_spec["model"]["vocab"], en_spec["model"]["vocab"]
    letters: dict[str, None] = {}
    for code in LATIN_WITH_MARKS:
        letter = student(chr(code))
        if len(letter) == 1 and unicodedata.category(letter).startswith("L") and english(letter) != letter \
                and english(letter) in en_vocab:
            letters[letter] = None
    return [piece for letter in letters for piece in (letter, "##" + letter) if piece not in vocab]


# --- the extension ----------------------------------------------------------------------


@dataclass
class VocabExtension:
    korean_size: int                 # pieces in the Korean WordPiece vocab
    english_size: int                # pieces in the English WordPiece vocab
    shared: list[str]                # in both, specials and [unusedN] left out (the regression's rows)
    candidates: list[str]            # English pieces missing from the Korean vocab, English order
    added: list[str]                 # the candidates that were added, in order: ids first_new_id, ...
    excluded: list[str]              # the candidates left out to keep the Korean tokenization
    first_new_id: int
    spec: dict                       # the extended tokenizer.json
    policy: str
    check: dict = field(default_factory=dict)  # what the Korean reference text showed
    letters: list[str] = field(default_factory=list)  # accented letters, after the English pieces (accented_letters)

    @property
    def new_pieces(self) -> list[str]:
        """Every appended piece, in id order from first_new_id."""
        return self.added + self.letters

    @property
    def size(self) -> int:
        return self.first_new_id + len(self.new_pieces)


def candidate_pieces(ko_spec: dict, en_spec: dict) -> tuple[list[str], list[str]]:
    """(shared pieces, English pieces missing from the Korean vocab), both in English id order."""
    ko_vocab = ko_spec["model"]["vocab"]
    en_vocab = en_spec["model"]["vocab"]
    skip = special_pieces(en_spec) | special_pieces(ko_spec)
    shared, missing = [], []
    for piece in sorted(en_vocab, key=en_vocab.__getitem__):
        if piece in skip or UNUSED.fullmatch(piece):
            continue
        (shared if piece in ko_vocab else missing).append(piece)
    return shared, missing


def with_pieces(ko_spec: dict, pieces: list[str]) -> tuple[dict, int]:
    """The Korean tokenizer.json with `pieces` appended to its WordPiece vocab; (spec, first new id)."""
    spec = copy.deepcopy(ko_spec)
    vocab = spec["model"]["vocab"]
    first = 1 + max([*vocab.values(), *(t["id"] for t in spec.get("added_tokens", []))])
    for i, piece in enumerate(pieces):
        vocab[piece] = first + i
    return spec, first


class KoreanReference:
    """Korean sentences and their Korean tokenization (ids), computed once and compared against."""

    def __init__(self, ko_spec: dict, sentences: list[str]):
        self.ko_spec = ko_spec
        self.sentences = sentences
        self.base = _ids(backend(ko_spec), sentences)

    def changed(self, spec: dict, among: Optional[list[int]] = None) -> list[int]:
        """Indices of the sentences (all, or `among`) that `spec` tokenizes differently from the Korean tokenizer."""
        among = range(len(self.sentences)) if among is None else among
        ids = _ids(backend(spec), [self.sentences[i] for i in among])
        return [i for i, new in zip(among, ids) if new != self.base[i]]


def _ids(tok: Tokenizer, texts: list[str]) -> list[list[int]]:
    encode = getattr(tok, "encode_batch_fast", tok.encode_batch)  # no offsets: ~20% faster (tokenizers>=0.20)
    return [e.ids for e in encode(texts, add_special_tokens=False)]


def korean_safe_pieces(reference: KoreanReference, candidates: list[str]) -> tuple[list[str], dict]:
    """The candidates that leave the Korean tokenization of the reference unchanged, and the evidence.

    Tokenizes the sentences with every candidate added; in the words of the sentences that
    changed (and of those holding [UNK], which may split once a piece is gone) it drops the
    first added piece on each word's greedy path (the piece that won a longest match the
    Korean vocab did not have) until no word differs, then tokenizes those sentences again.
    The other sentences need no second look: their words split into Korean pieces only,
    which dropping added pieces cannot change.
    """
    ko_spec, sentences = reference.ko_spec, reference.sentences
    korean = backend(ko_spec)
    unk_id = ko_spec["model"]["vocab"].get(ko_spec["model"].get("unk_token", "[UNK]"))
    keep = list(candidates)
    check: dict = {"reference_sentences": len(sentences)}
    suspects = None
    for round_ in range(1, 100):
        changed = reference.changed(with_pieces(ko_spec, keep)[0], among=suspects)
        if round_ == 1:
            check["sentences_changed_if_all_added"] = len(changed)
            suspects = sorted(set(changed) | {i for i, ids in enumerate(reference.base) if unk_id in ids})
            words = set()
            for i in suspects:
                normal = korean.normalizer.normalize_str(sentences[i]) if korean.normalizer else sentences[i]
                words.update(w for w, _ in korean.pre_tokenizer.pre_tokenize_str(normal))
        if not changed:
            break
        before = len(keep)
        keep = _drop_conflicts(words, ko_spec, keep)
        if len(keep) == before:  # would loop forever: our greedy split disagrees with the tokenizers library
            raise RuntimeError(f"korean-safe extension made no progress; e.g. {sentences[changed[0]]!r} still changes")
    check["sentences_changed"] = 0
    return keep, check


def _drop_conflicts(words: Iterable[str], ko_spec: dict, keep: list[str]) -> list[str]:
    ko_vocab = ko_spec["model"]["vocab"]
    max_chars = ko_spec["model"].get("max_input_chars_per_word", 100)
    korean = {w: greedy_wordpiece(w, ko_vocab, max_chars=max_chars) for w in words}
    kept = set(keep)
    vocab = set(ko_vocab) | kept
    pending = list(korean)
    while pending:
        drop, paths = set(), {}
        for word in pending:
            path, ok = greedy_wordpiece(word, vocab, max_chars=max_chars)
            ko_path, ko_ok = korean[word]
            if ok and ko_ok and path == ko_path:
                continue  # only Korean pieces on the path: no later drop can change it
            paths[word] = path
            if ok or ko_ok:  # the outputs differ; the first piece where the paths part is an added one
                for a, b in zip(path + [None], ko_path + [None]):
                    if a != b:
                        if a is not None and a not in ko_vocab:
                            drop.add(a)
                        break
        kept -= drop
        vocab -= drop
        pending = [w for w, path in paths.items() if drop.intersection(path)]
    return [p for p in keep if p in kept]


def extend_vocab(ko_spec: dict, en_spec: dict, policy: str = DEFAULT_POLICY,
                 reference: Optional[KoreanReference] = None,
                 weigh: Optional[Callable[[list[str]], tuple[list[str], dict]]] = None) -> VocabExtension:
    """Append the English pieces missing from the Korean WordPiece vocab (see the module doc).

    ``weigh`` (for ``weighed``): candidates -> (the ones to add, in order; the evidence), e.g. weighing.weigh
    with the teachers and the training text bound."""
    if policy not in POLICIES:
        raise ExtendError(f"vocabulary policy {policy!r} is unknown; choose one of {', '.join(POLICIES)}")
    shared, candidates = candidate_pieces(ko_spec, en_spec)
    check: dict = {}
    if policy == "korean-safe":
        if reference is None:
            raise ExtendError("the korean-safe vocabulary needs Korean reference text; none was given")
        added, check = korean_safe_pieces(reference, candidates)
    else:
        if policy == "weighed" and weigh is None:
            raise ExtendError("the weighed vocabulary needs training text to weigh the pieces on; none was given")
        added, check = weigh(candidates) if policy == "weighed" else (list(candidates), {})
        if reference is not None:
            changed = len(reference.changed(with_pieces(ko_spec, added)[0]))
            every = changed if len(added) == len(candidates) else len(reference.changed(with_pieces(ko_spec, candidates)[0]))
            check = {"reference_sentences": len(reference.sentences), "sentences_changed_if_all_added": every,
                     "sentences_changed": changed, **check}
    letters = accented_letters(with_pieces(ko_spec, added)[0], en_spec)
    spec, first = with_pieces(ko_spec, added + letters)
    kept = set(added)
    return VocabExtension(
        korean_size=len(ko_spec["model"]["vocab"]),
        english_size=len(en_spec["model"]["vocab"]),
        shared=shared,
        candidates=candidates,
        added=added,
        excluded=[p for p in candidates if p not in kept],
        first_new_id=first,
        spec=spec,
        policy=policy,
        check=check,
        letters=letters,
    )


# --- data -------------------------------------------------------------------------------


def _records(data_dir: Path, path: Path, format: str, **options) -> list[dict]:
    """A shared file's rows, read by harness/tasks/data's reader for ``format``, exactly as a task's file is read."""
    from harness.tasks import data
    from harness.tasks.spec import LocalFile

    file = LocalFile(path=path.relative_to(data_dir).as_posix(), format=format, columns={}, **options)
    return data.read_records(path, file)


def korean_sentences(data_dir: Path, training_only: bool = False) -> list[str]:
    """Every Korean sentence of the shared KLUE files (klue/*) and raw Korean text (raw/ko/*);
    with ``training_only``, those of the files named as training splits (no validation text)."""
    return [s for sentences in korean_texts(data_dir, training_only).values() for s in sentences]


def korean_texts(data_dir: Path, training_only: bool = False) -> dict[str, list[str]]:
    """`korean_sentences` file by file: the file's path under ``data_dir`` -> its sentences, in that order."""
    data_dir = Path(data_dir)
    out: dict[str, list[str]] = {}

    def files(pattern: str) -> list[Path]:
        return [p for p in sorted(data_dir.glob(pattern)) if not training_only or "train" in p.name]

    def put(path: Path, sentences: list[str]) -> None:
        out[path.relative_to(data_dir).as_posix()] = [s for s in sentences if s.strip()]

    for path in files("raw/ko/*.tsv"):  # guid \t sentence, quotes are characters
        put(path, [r["sentence"] for r in _records(data_dir, path, "glue-tsv", header=False, names=["guid", "sentence"])])
    for path in files("klue/ynat/*.tsv"):  # label \t title; train has a header row, dev none
        rows = _records(data_dir, path, "tsv", header=False, names=["label", "text"])
        put(path, [r["text"] for r in rows if r != {"label": "label", "text": "text"}])
    for path in files("klue/*/*.csv"):  # sentence1,sentence2,label
        put(path, [s for row in _records(data_dir, path, "csv") for s in (row["sentence1"], row["sentence2"])])
    for path in files("klue/*/*.json"):  # KLUE sts (sentence1/2), nli (premise/hypothesis)
        put(path, [ex[k] for ex in _records(data_dir, path, "klue-json")
                   for k in ("sentence1", "sentence2", "premise", "hypothesis") if k in ex])
    for path in files("klue/ner/*.tsv"):  # one "char \t tag" line per character
        put(path, ["".join(r["tokens"]) for r in _records(data_dir, path, "klue-ner-tsv")])
    return {name: sentences for name, sentences in out.items() if sentences}


def data_files_missing(data_dir: Path) -> list[str]:
    data_dir = Path(data_dir)
    need = {"raw/ko/*.tsv": data_dir.glob("raw/ko/*.tsv"), "glue/SST-2/train.tsv": [data_dir / "glue/SST-2/train.tsv"]}
    return [name for name, paths in need.items() if not any(Path(p).exists() for p in paths)]
