"""One segmentation for distillation and evaluation: the student's tokenizer cuts every text.

The student is evaluated (`bench run`) with its own tokenizer, so it should be distilled on
the pieces that tokenizer makes. Three designs were measured on every task's validation text
(`agreement_options`; `bench koenbert extend` reports the figures):

- ``cased``: the Korean teacher's cased normaliser, each teacher cutting its own text (the
  first koenbert design). English words are cut lowercased in distillation but cased in
  evaluation (``The`` -> ``T ##he``): on MRPC, STS-B and QNLI only about two thirds of the
  tokens match.
- ``uncased``: the student lowercases and strips accents like the uncased English teacher, but
  keeps Hangul whole (strip-accents decomposes syllables into jamo, so the normaliser composes
  them again); each teacher still cuts its own text. English then matches fully, but Korean
  words with digits or Latin letters (``96점``) split differently once English pieces are in
  the vocabulary: 1-3% of Korean tokens.
- ``student``: the ``uncased`` normaliser, and the student's tokenizer cuts the distillation
  text of both languages; each teacher reads the same pieces through its own ids. Agreement is
  complete by construction; what remains is what a teacher lacks. The Korean teacher is given
  step 1's rows for the English pieces the student finds in Korean text (the student was
  extended from it, so those rows live in its space; `teacher_rows`), the English teacher
  reads the rare piece it lacks as [UNK]. This is the design used (`DESIGN`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Iterable, Optional

from harness.koenbert.vocab import backend

DESIGN = "student"
DESIGNS = ("cased", "uncased", "student")
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
ONLY_HANGUL = re.compile(r"[\uac00-\ud7a3]+")


def uncased_normalizer(korean_normalizer: Optional[dict]) -> dict:
    """The English teacher's normalisation (lowercase, accents stripped) that leaves Hangul syllables whole.

    NFD splits a syllable into conjoining jamo, which are letters, not marks, so StripAccents keeps
    them and NFC joins them again; Latin letters lose their accents as in bert-base-uncased.
    """
    steps = [korean_normalizer] if korean_normalizer else []
    return {"type": "Sequence", "normalizers": [*steps, {"type": "NFD"}, {"type": "StripAccents"},
                                                {"type": "Lowercase"}, {"type": "NFC"}]}


def uncased(spec: dict) -> dict:
    """A tokenizer.json with the uncased, Hangul-keeping normaliser (idempotent)."""
    if is_uncased(spec):
        return spec
    out = copy.deepcopy(spec)
    out["normalizer"] = uncased_normalizer(spec.get("normalizer"))
    return out


def is_uncased(spec: dict) -> bool:
    steps = (spec.get("normalizer") or {}).get("normalizers") or []
    return [s.get("type") for s in steps[-4:]] == ["NFD", "StripAccents", "Lowercase", "NFC"]


def write_tokenizer_config(directory) -> None:
    """Make a saved tokenizer load its tokenizer.json as it is (the generic fast class).

    BertTokenizer would rebuild the normaliser from do_lower_case and lose the Hangul-keeping one;
    token_type_ids stay among the inputs, as BERT's pair tasks need them.
    """
    import json
    from pathlib import Path

    path = Path(directory) / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    for key in ("do_lower_case", "strip_accents", "tokenize_chinese_chars"):
        config.pop(key, None)
    config.update(tokenizer_class="TokenizersBackend", model_input_names=["input_ids", "token_type_ids", "attention_mask"])
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


def _words(encoding) -> list[list[str]]:
    words: dict[int, list[str]] = {}
    for token, word in zip(encoding.tokens, encoding.word_ids):
        words.setdefault(word, []).append(token)
    return [words[w] for w in sorted(words)]


def agreement(student_spec: dict, presented_spec: dict, texts: list[str], readable: Optional[set] = None) -> Agreement:
    """Compare, word by word, the student's pieces with the pieces distillation presented.

    A student token agrees when its word is cut into the same pieces and the teacher read that
    piece (``readable``: the pieces the teacher has an id for; None: all). A sentence agrees when
    all its tokens do.
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
            same = sum(sum(readable is None or t in readable for t in x) for x, y in zip(a, b) if x == y)
        tokens_same += same
        sentences_same += same == n
    return Agreement(len(texts), tokens, sentences_same, tokens_same)


def hangul_words_changed(student_spec: dict, korean_spec: dict, texts: Iterable[str]) -> int:
    """Distinct all-Hangul words the student cuts differently from the Korean teacher (must be 0)."""
    words = sorted({w for t in texts for w in ONLY_HANGUL.findall(t) if w})
    a = backend(student_spec).encode_batch(words, add_special_tokens=False)
    b = backend(korean_spec).encode_batch(words, add_special_tokens=False)
    return sum(x.tokens != y.tokens for x, y in zip(a, b))


def agreement_options(ko_spec: dict, en_spec: dict, cased_student: dict, texts: dict[str, tuple[str, list[str]]]) -> dict:
    """Agreement of every design (module doc) on each task's validation text.

    ``texts``: task id -> (language "ko" or "en", validation texts). In the ``student`` design the
    Korean teacher reads every student piece (step 1's rows fill the ones it lacks), the English
    teacher only its own.
    """
    student = uncased(cased_student)
    presented = {
        "cased": (cased_student, {"ko": ko_spec, "en": en_spec}, {"ko": None, "en": None}),
        "uncased": (student, {"ko": uncased(ko_spec), "en": en_spec}, {"ko": None, "en": None}),
        "student": (student, {"ko": student, "en": student}, {"ko": None, "en": set(en_spec["model"]["vocab"])}),
    }
    out: dict = {}
    for design, (stu, teachers, readable) in presented.items():
        out[design] = {task: agreement(stu, teachers[lang], lines, readable[lang]).as_dict()
                       for task, (lang, lines) in texts.items()}
    # what the teachers read in the chosen design, against what their own tokenizers make of the original text
    out["teacher_reads_own_segmentation"] = {
        task: agreement(student, ko_spec if lang == "ko" else en_spec, lines).as_dict()["token_agreement"]
        for task, (lang, lines) in texts.items()}
    return out


def validation_texts(data_dir, tasks: Optional[list[str]] = None) -> dict[str, tuple[str, list[str]]]:
    """Task id -> (language, every text of its validation split): sentences, pairs' both sides, NER's characters joined."""
    from harness import data, spec

    out = {}
    for task in spec.load_tasks(tasks or ["all"]):
        try:
            validation = data.load(task, data_dir).dataset["validation"]
        except data.DataError:  # not in this data folder: that task is not measured (the report lists those measured)
            continue
        if "tokens" in validation.column_names:
            lines = ["".join(chars) for chars in validation["tokens"]]
        else:
            lines = [t for col in ("text_a", "text_b") if col in validation.column_names for t in validation[col] if t]
        out[task.id] = ("ko" if task.language == "ko" else "en", lines)
    return out
