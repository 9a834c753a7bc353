"""One segmentation for distillation and evaluation: the student's tokenizer cuts every text.

The student is evaluated (`bench run`) with its own tokenizer, so it is distilled on the pieces
that tokenizer makes: it lowercases like the uncased English teacher, keeps accents and so Hangul
whole (`uncased_normalizer`), and cuts the distillation text of both languages; each teacher reads the same pieces
through its own ids (corpus.teacher_map). The student side then agrees by construction; what can
fail is the teacher side: does the teacher read what its own tokenizer would give it?
(`teacher_reads_own`, the headline of step 1's report.)

- The Korean teacher (klue/bert-base) is cased. Lowercasing would leave its cased pieces (``LG``,
  ``##AI``, ``5G``) unreachable, so step 1 case-folds its vocabulary first (`casefold_vocab`:
  each piece renamed to its folded text, same id, same row), and the teacher reads ``lg`` as its
  own ``LG``. Where two pieces fold to one text (``##A``, ``##a``), one of them stays unreachable.
- English pieces added to the vocabulary win longest matches inside Korean words with digits or
  Latin letters (``2021`` instead of ``202 ##1``): the Korean teacher reads those through step 1's
  rows. Words written in Hangul alone are cut exactly as the Korean teacher cuts them. Which English
  pieces are added is weighed on training text (weighing.py).
- The English teacher reads a piece it lacks as the piece its own normaliser makes of it (an accented
  letter step 1 adds, ``##ü``, as its ``##u``), or else as [UNK] (the rare Korean piece of Latin letters
  winning a longest match in an English word).

The first design (``cased``: the Korean teacher's normaliser, each teacher cutting its own
text) agrees on the teacher side by construction, but cuts English differently in evaluation
(``The`` -> ``T ##he``); its student-side agreement is measured for comparison.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional

from harness.koenbert.corpus import reading_table, task_texts
from harness.koenbert.vocab import UNUSED, backend, extend_vocab, fold, special_pieces, with_pieces

DESIGN = "student"
AGREEMENT_GOAL = 0.99  # share of each teacher's own tokens it should read as its own tokenizer cuts them
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
UNREACHABLE = "[{}]"  # a piece's new text that no word can be cut into (the pre-tokenizer splits off brackets)
ONLY_HANGUL = re.compile(r"[\uac00-\ud7a3]+")


def uncased_normalizer(korean_normalizer: Optional[dict]) -> dict:
    """BERT's own normaliser, lowercasing, accents kept: Hangul syllables stay whole.

    The English teacher also strips accents, but stripping decomposes every Hangul syllable into jamo
    (NFD), and ``BertTokenizer`` (transformers 5) rebuilds a ``BertNormalizer`` from ``do_lower_case`` and
    ``strip_accents`` whatever tokenizer.json holds: only this normaliser loads the same through
    ``AutoTokenizer``, ``BertTokenizerFast`` and ``BertTokenizer``. What keeping accents costs is an
    English word with an accent (``café``) cut otherwise than the English teacher cuts it (measured:
    QNLI 99.85% -> 99.51% of the teacher's tokens, the other GLUE tasks <= 0.05 points).
    """
    korean = korean_normalizer if (korean_normalizer or {}).get("type") == "BertNormalizer" else {}
    return {"type": "BertNormalizer", "clean_text": korean.get("clean_text", True),
            "handle_chinese_chars": korean.get("handle_chinese_chars", True), "strip_accents": False, "lowercase": True}


def uncased(spec: dict) -> dict:
    """A tokenizer.json with the student's normaliser (idempotent)."""
    if is_uncased(spec):
        return spec
    out = copy.deepcopy(spec)
    out["normalizer"] = uncased_normalizer(spec.get("normalizer"))
    return out


def is_uncased(spec: dict) -> bool:
    n = spec.get("normalizer") or {}
    return n.get("type") == "BertNormalizer" and n.get("lowercase") is True and n.get("strip_accents") is False


@dataclass
class Folding:
    """What case-folding did to a Korean vocabulary (ids and rows unchanged)."""

    renamed: dict  # piece -> its folded text, which it now answers to
    unreachable: dict  # piece the student's tokenizer never produces -> why (its text: itself, or [piece])

    def as_dict(self, shown: int = 200) -> dict:
        return {"renamed": len(self.renamed), "renamed_examples": dict(list(self.renamed.items())[:20]),
                "unreachable": len(self.unreachable), "unreachable_pieces": dict(list(self.unreachable.items())[:shown])}


def casefold_vocab(spec: dict, counts: Optional[Mapping[str, int]] = None) -> tuple[dict, Folding]:
    """The Korean WordPiece vocabulary with every piece renamed to its folded text (same id, same row).

    The student lowercases, so a cased Korean piece (``LG``, ``##AI``) would never
    match again. Where several pieces fold to one text (``##A`` and ``##a``), the text goes to the
    piece the Korean teacher produces most often in ``counts`` (piece -> occurrences in its own
    tokenization of Korean training text; ties: the piece already written that way, else the lowest
    id): the student then reads Korean text as the teacher reads it most of the time. The others get
    an unmatchable text (``[##a]``: the pre-tokenizer splits off brackets) and stay unreachable, as
    does a piece the normaliser erases (a lone combining mark).
    """
    out = copy.deepcopy(spec)
    vocab = out["model"]["vocab"]
    skip = special_pieces(spec)
    groups: dict[str, list[str]] = {}
    for piece in sorted(vocab, key=vocab.__getitem__):
        if piece not in skip and not UNUSED.fullmatch(piece):
            groups.setdefault(fold(piece), []).append(piece)
    counts = counts or {}
    renamed, unreachable = {}, {}
    for folded, pieces in groups.items():
        if pieces == [folded]:
            continue
        if folded.removeprefix("##") == "" and all(p.removeprefix("##") for p in pieces):
            unreachable.update((p, "the normaliser erases it") for p in pieces)
            continue
        keeper = max(pieces, key=lambda p: (counts.get(p, 0), p == folded, -vocab[p]))
        for piece in pieces:
            if piece != keeper:
                unreachable[piece] = (f"folds to {folded!r} like {keeper!r}, which the Korean teacher produces more often "
                                      f"({counts.get(keeper, 0)} against {counts.get(piece, 0)} in the Korean training text)")
                if piece == folded:  # its text goes to the keeper
                    vocab[UNREACHABLE.format(piece)] = vocab.pop(piece)
        if keeper != folded:
            vocab[folded] = vocab.pop(keeper)
            renamed[keeper] = folded
    out["model"]["vocab"] = dict(sorted(vocab.items(), key=lambda kv: kv[1]))
    return out, Folding(renamed, unreachable)


def own_counts(spec: dict, texts: Iterable[str]) -> dict[str, int]:
    """How often a tokenizer produces each piece on ``texts``."""
    from collections import Counter

    return dict(Counter(t for e in backend(spec).encode_batch(list(texts), add_special_tokens=False) for t in e.tokens))


def write_tokenizer_config(directory) -> None:
    """Make a saved student load the same through AutoTokenizer, BertTokenizerFast and BertTokenizer.

    BertTokenizer rebuilds its normaliser from these keys (``uncased_normalizer``), so they say what
    tokenizer.json holds (the student's, or the Korean teacher's in the cased design); token_type_ids stay among the inputs, as BERT's pair tasks need them.
    """
    import json
    from pathlib import Path

    path = Path(directory) / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    normalizer = json.loads((Path(directory) / "tokenizer.json").read_text(encoding="utf-8")).get("normalizer") or {}
    if normalizer.get("type") != "BertNormalizer":
        raise ValueError(f"{directory}: tokenizer.json's normalizer is {normalizer.get('type')!r}, not BertNormalizer; "
                         "BertTokenizer could not load it as it is")
    config.update(tokenizer_class="BertTokenizer", do_lower_case=normalizer["lowercase"],
                  strip_accents=normalizer["strip_accents"], tokenize_chinese_chars=normalizer["handle_chinese_chars"],
                  model_input_names=["input_ids", "token_type_ids", "attention_mask"])
    path.write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# --- agreement ----------------------------------------------------------------------------


@dataclass
class Agreement:
    """Share of validation sentences and tokens the student cuts exactly as distillation presented them."""

    sentences: int
    tokens: int
    sentences_same: int
    tokens_same: int

    def as_dict(self) -> dict:
        return {"sentences": self.sentences, "tokens": self.tokens,
                "sentence_agreement": round(self.sentences_same / max(1, self.sentences), 4),
                "token_agreement": round(self.tokens_same / max(1, self.tokens), 4)}


def _words(encoding, ids: bool = False) -> list[list]:
    words: dict[int, list] = {}
    for token, word in zip(encoding.ids if ids else encoding.tokens, encoding.word_ids):
        words.setdefault(word, []).append(token)
    return [words[w] for w in sorted(words)]


def teacher_reads_own(student_spec: dict, teacher_spec: dict, table, texts: list[str]) -> Agreement:
    """Share of the teacher's own tokens (and of sentences) that it reads exactly as its own tokenizer cuts them.

    The student's tokenizer cuts the text; the teacher reads each student piece through ``table``
    (student id -> teacher id, -1 where it lacks the piece: it reads step 1's row or [UNK], never
    its own piece). A teacher token agrees when its word reaches the teacher as the very ids its
    own tokenizer gives that word; a sentence when all its words do.
    """
    student = backend(student_spec).encode_batch(texts, add_special_tokens=False)
    own = backend(teacher_spec).encode_batch(texts, add_special_tokens=False)
    sentences_same = tokens = tokens_same = 0
    for s, t in zip(student, own):
        read = [[int(table[i]) for i in word] for word in _words(s, ids=True)]
        mine = _words(t, ids=True)
        tokens += len(t.ids)
        same = sum(len(y) for x, y in zip(read, mine) if x == y) if len(read) == len(mine) else 0
        tokens_same += same
        sentences_same += same == len(t.ids)
    return Agreement(len(texts), tokens, sentences_same, tokens_same)


SHORTFALL_WORDS = 12  # the costliest words shown for a task below the goal (the counts by cause are complete)
# Why a teacher's word is lost (``shortfall``): an added English piece wins a longest match in it; the student's
# case-folded Korean pieces alone already cut it otherwise; the student lacks a piece of the English teacher's cut
# (left out by the weighing); any other cut (a Korean piece winning a longest match, an accent kept).
ENGLISH_WINS, FOLDED_AWAY, LEFT_OUT, OTHER = "English piece wins", "case-folding", "piece left out", "other cut"


def shortfall(student_spec: dict, teacher_spec: dict, table, texts: list[str], first_added: int, language: str,
              shown: int = SHORTFALL_WORDS) -> dict:
    """Why a teacher reads less than all of ``texts`` as its own: its lost tokens by cause, and the costliest words.

    A word is lost when it reaches the teacher otherwise than its own tokenizer cuts it (``teacher_reads_own``).
    Korean teacher: an added English piece (id >= ``first_added``) wins a longest match in it, or the student's
    Korean pieces alone already cut it otherwise (case-folding: a collision, or a cased piece now matching
    lower-case text); ``without_english_pieces`` is the teacher's agreement with no English piece added, the most any
    choice of English pieces could give. English teacher: the student lacks a piece the teacher's cut uses (one
    the weighing left out), or another cut.
    """
    from collections import Counter

    student = backend(student_spec).encode_batch(texts, add_special_tokens=False)
    own = backend(teacher_spec).encode_batch(texts, add_special_tokens=False)
    lost: Counter = Counter()
    tokens = 0
    for text, s, t in zip(texts, student, own):
        tokens += len(t.ids)
        read, mine = _words(s, ids=True), _words(t, ids=True)
        if len(read) != len(mine):
            continue  # cannot happen with one pre-tokenizer; counted nowhere rather than guessed
        for (start, end), ids, own_ids, cut, own_cut in zip(_word_spans(t), read, mine, _words(s), _words(t)):
            if [int(table[i]) for i in ids] != own_ids:
                lost[(text[start:end], " ".join(own_cut), " ".join(cut), max(ids) >= first_added)] += len(own_ids)
    korean_half = _below(student_spec, first_added) if language == "ko" else None
    causes = _causes(lost, student_spec, teacher_spec, table, korean_half)
    by_cause: Counter = Counter()
    for key, n in lost.items():
        by_cause[causes[key]] += n
    out = {"tokens": tokens, "lost": sum(lost.values()), "by_cause": dict(by_cause.most_common()),
           "words": [{"word": word, "teacher": own_cut, "student": cut, "cause": causes[(word, own_cut, cut, added)],
                      "tokens": n} for (word, own_cut, cut, added), n in lost.most_common(shown)]}
    if korean_half is not None:
        out["without_english_pieces"] = teacher_reads_own(korean_half, teacher_spec, table, texts).as_dict()["token_agreement"]
    return out


def _word_spans(encoding) -> list[tuple[int, int]]:
    """Each word's (start, end) in the text, in word order."""
    spans: dict[int, tuple[int, int]] = {}
    for word, (start, end) in zip(encoding.word_ids, encoding.offsets):
        first, last = spans.get(word, (start, end))
        spans[word] = (min(first, start), max(last, end))
    return [spans[w] for w in sorted(spans)]


def _causes(lost, student_spec: dict, teacher_spec: dict, table, korean_half: Optional[dict]) -> dict:
    """The cause of each lost (word, teacher's cut, student's cut, an English piece in it); ``korean_half``: the
    student's Korean pieces alone, for the Korean teacher (None for the English one)."""
    if korean_half is not None:
        alone_cut = backend(korean_half)
        own = backend(teacher_spec)
        causes = {}
        for key in lost:
            word, _, _, added = key
            alone = [int(table[i]) for i in alone_cut.encode(word, add_special_tokens=False).ids]
            causes[key] = ENGLISH_WINS if added and alone == own.encode(word, add_special_tokens=False).ids else FOLDED_AWAY
        return causes
    student_pieces = set(student_spec["model"]["vocab"])
    return {key: LEFT_OUT if any(p not in student_pieces for p in key[1].split(" ")) else OTHER for key in lost}


def _below(spec: dict, first_added: int) -> dict:
    """``spec`` with only the pieces whose id is below ``first_added`` (the student's Korean half)."""
    out = copy.deepcopy(spec)
    out["model"]["vocab"] = {p: i for p, i in spec["model"]["vocab"].items() if i < first_added}
    return out


def agreement(student_spec: dict, presented_spec: dict, texts: list[str]) -> Agreement:
    """Compare, word by word, the student's pieces with the pieces distillation presented.

    A student token agrees when its word is cut into the same pieces; a sentence when all its tokens do.
    """
    student = backend(student_spec).encode_batch(texts, add_special_tokens=False)
    presented = backend(presented_spec).encode_batch(texts, add_special_tokens=False)
    sentences_same = tokens = tokens_same = 0
    for s, p in zip(student, presented):
        a, b = _words(s), _words(p)
        n = sum(map(len, a))
        tokens += n
        same = 0
        if len(a) == len(b):
            same = sum(len(x) for x, y in zip(a, b) if x == y)
        tokens_same += same
        sentences_same += same == n
    return Agreement(len(texts), tokens, sentences_same, tokens_same)


def hangul_words_changed(student_spec: dict, korean_spec: dict, texts: Iterable[str]) -> int:
    """Distinct all-Hangul words the student cuts differently from the Korean teacher (must be 0)."""
    words = sorted({w for t in texts for w in ONLY_HANGUL.findall(t) if w})
    a = backend(student_spec).encode_batch(words, add_special_tokens=False)
    b = backend(korean_spec).encode_batch(words, add_special_tokens=False)
    return sum(x.tokens != y.tokens for x, y in zip(a, b))


FOLDED, EVERY, UNFOLDED, CASED = ("student, case-folded", "student, case-folded, every English piece",
                                  "student, not case-folded", "cased")
MEANING = {
    FOLDED: "teacher side: share of the teacher's own tokens (sentences) it reads exactly as its own tokenizer cuts "
            "the text, when the student's tokenizer cuts all text (Korean vocabulary case-folded; the recipe)",
    EVERY: "teacher side, as above, with every missing English piece added (no weighing: the earlier recipe)",
    UNFOLDED: "teacher side, as above, with every English piece and the Korean vocabulary left cased (cased pieces "
              "unreachable)",
    CASED: "student side: share of the student's tokens cut in evaluation as distillation presented them (each teacher "
           "cuts its own text, so the teacher side is complete by construction; the first design)",
}


def agreement_options(ko_spec: dict, en_spec: dict, texts: dict[str, tuple[str, list[str]]],
                      built: Optional[dict] = None) -> dict:
    """Every design's agreement (``MEANING``) on each task's validation text.

    ``texts``: task id -> (language "ko" or "en", validation texts); ``built``: design -> the tokenizer.json
    step 1 made for it (the others are built here with every English piece added). ``EVERY`` is measured where
    ``FOLDED`` left English pieces out; it is built from ``FOLDED``'s Korean half (ids below the first English one).
    """
    built = dict(built or {})
    if FOLDED not in built:
        built[FOLDED] = _every_piece(uncased(casefold_vocab(ko_spec)[0]), en_spec)
    students = {FOLDED: built[FOLDED]}
    every = built.get(EVERY) or _every_piece(_below(built[FOLDED], with_pieces(ko_spec, [])[1]), en_spec)
    if every["model"]["vocab"] != built[FOLDED]["model"]["vocab"]:
        students[EVERY] = every
    students[UNFOLDED] = built.get(UNFOLDED) or _every_piece(uncased(ko_spec), en_spec)
    teachers = {"ko": ko_spec, "en": en_spec}
    out: dict = {}
    for design, student in students.items():
        tables = {lang: reading_table(student, t) for lang, t in teachers.items()}
        out[design] = {task: teacher_reads_own(student, teachers[lang], tables[lang], lines).as_dict()
                       for task, (lang, lines) in texts.items()}
    cased = built.get(CASED) or _every_piece(ko_spec, en_spec)
    out[CASED] = {task: agreement(cased, teachers[lang], lines).as_dict() for task, (lang, lines) in texts.items()}
    return out


def _every_piece(korean: dict, en_spec: dict) -> dict:
    """The student step 1 makes of ``korean`` with every missing English piece (``--vocab all``)."""
    return extend_vocab(korean, en_spec, "all").spec


def validation_texts(data_dir, tasks: Optional[list[str]] = None) -> dict[str, tuple[str, list[str]]]:
    """Task id -> (language, every text of its validation split): sentences, pairs' both sides, NER's characters joined.
    A task whose data ``data_dir`` lacks is left out (the report lists the tasks measured)."""
    found, _ = task_texts(data_dir, tasks)
    return {task: (texts.language, texts.validation) for task, texts in found.items()}
