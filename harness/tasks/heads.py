"""Heads: all that differs between a sentence classifier, a regressor and a tagger, in one object each.

A head says which transformers class it loads, how a task's canonical rows become model
inputs, how a batch is padded, how logits become predictions, how predictions are scored
against the references, what its untrained baseline predicts, how a carve of one split is
stratified, and what the Hub calls its task. Its ``kind`` says what one example's target and
prediction are (a class index, a number, a tag per token): data loading, the metrics that fit,
and the predictions files follow the kind. A new head is one more entry in ``HEADS`` (plus a
metric in harness/tasks/metrics.py if none fits); the spec, the data, the features, the training
loop, the baselines, the predictions and `bench export` ask it.

KLUE-NER is tagged per character: a subword takes the tag of its first character, and
after prediction every character takes back the tag of the subword that covers it (inside
a subword, B-X continues as I-X), as KLUE-baseline scores it. Like KLUE-baseline, the
scores leave out the space characters, which the official file tags too.

This module imports no deep-learning library at import time: the task spec reads
``HEADS`` to validate a YAML, and `bench tasks` should not wait for torch.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

from harness.tasks.metrics import Kind

IGNORE_INDEX = -100  # positions the loss and the scores skip


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """transformers' warnings off while a model loads, then back as they were.

    A fresh head over a pre-trained encoder always reports newly initialised weights:
    expected, not news. Other code in the process keeps its own logging settings.
    """
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


@dataclass(frozen=True)
class Constant:
    """A head's untrained baseline: the constant it predicts for every validation row, in the form its metrics score."""

    kind: str  # e.g. majority-class; records and the site show it
    predicts: str  # the constant, in words
    predictions: Any
    references: Any


@dataclass(frozen=True)
class Head:
    """What every head provides; the three below fill it in."""

    name: str
    kind: Kind  # one example's target and prediction: a class index (label), a number (value), a tag per token (tags)
    columns: frozenset[str]  # canonical columns a task of this head may map
    required: frozenset[str]  # of which it must map these
    hub_task_type: str  # the Hub's task type for `bench export` (model-index ``task.type``)
    carve_strata: Optional[str] = None  # the column whose values stratify a spec's carve of one split; None: not stratified

    def build(self, model_path: str, labels: Optional[Sequence[str]]):
        raise NotImplementedError

    def encoder(self, tokenizer, max_length: int, pair: bool) -> Callable[[dict], dict]:
        """A batched ``datasets.map`` function: canonical rows -> input_ids, labels, length (and what scoring needs)."""
        raise NotImplementedError

    def collator(self, tokenizer, pad_to: Optional[int] = None):
        """Pads each batch to its longest row; with ``pad_to``, every batch to that length (run_glue.py's default,
        which benchmarks/suite_speed.py times HF Trainer with)."""
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(tokenizer, **_padding(pad_to))

    def predictions(self, logits, lengths: Sequence[int]) -> list[Any]:
        """One prediction per row of a batch of logits (float, on the CPU)."""
        raise NotImplementedError

    def scored(self, ds, predictions: list[Any], labels) -> tuple[Any, Any]:
        """(predictions, references) as the metrics take them: what is scored, and what a predictions file keeps."""
        return np.asarray(predictions), np.asarray(ds["labels"])

    def score(self, names: Sequence[str], ds, predictions: list[Any], labels, **options) -> dict[str, float]:
        """The named metrics of ``predictions`` against the references kept in the encoded split ``ds``."""
        from harness.tasks import metrics

        return metrics.compute(names, *self.scored(ds, predictions, labels), labels=labels, **options)

    def baseline(self, train, validation, labels: Optional[Sequence[str]]) -> Constant:
        """What a predictor that learned nothing but one constant from ``train`` predicts for ``validation``
        (canonical splits); it must not look at the rows it is scored on."""
        raise NotImplementedError


class _SentenceHead(Head):
    def encoder(self, tokenizer, max_length: int, pair: bool) -> Callable[[dict], dict]:
        regression = self.kind == "value"

        def encode(batch: dict) -> dict:
            args = (batch["text_a"], batch["text_b"]) if pair else (batch["text_a"],)
            enc = tokenizer(*args, truncation=True, max_length=max_length)
            enc["labels"] = [float(x) for x in batch["label"]] if regression else batch["label"]
            enc["length"] = [len(ids) for ids in enc["input_ids"]]
            return enc

        return encode


class SequenceClassification(_SentenceHead):
    def build(self, model_path: str, labels: Optional[Sequence[str]]):
        from transformers import AutoModelForSequenceClassification

        with quiet_transformers():
            return AutoModelForSequenceClassification.from_pretrained(
                model_path, problem_type="single_label_classification", **_label_kwargs(labels))

    def predictions(self, logits, lengths: Sequence[int]) -> list[Any]:
        return logits.argmax(-1).tolist()  # one call for the batch

    def baseline(self, train, validation, labels: Optional[Sequence[str]]) -> Constant:
        """The most frequent class of train (ties: the lower label index), for every row; on a balanced
        validation split that is chance level."""
        counts = Counter(train["label"])
        constant = min(counts, key=lambda label: (-counts[label], label))
        references = np.asarray(validation["label"])
        return Constant("majority-class", f"label {labels[constant]!r} (most frequent in train) for every row",
                        np.full(len(references), constant, dtype=references.dtype), references)


class Regression(_SentenceHead):
    def build(self, model_path: str, labels: Optional[Sequence[str]]):
        from transformers import AutoModelForSequenceClassification

        with quiet_transformers():
            return AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=1, problem_type="regression")

    def predictions(self, logits, lengths: Sequence[int]) -> list[Any]:
        return logits[:, 0].tolist()

    def baseline(self, train, validation, labels: Optional[Sequence[str]]) -> Constant:
        """The mean of the train labels, for every row. Pearson and Spearman of a constant are undefined;
        metrics.compute records them as metrics.UNDEFINED_SCORE (0.0), the correlation a guess is expected to have."""
        mean = float(np.mean(train["label"]))
        references = np.asarray(validation["label"])
        return Constant("constant-mean", f"{mean:.3f} (mean of the train labels) for every row",
                        np.full(len(references), mean, dtype=float), references)


class TokenClassification(Head):
    def build(self, model_path: str, labels: Optional[Sequence[str]]):
        from transformers import AutoModelForTokenClassification

        with quiet_transformers():
            return AutoModelForTokenClassification.from_pretrained(model_path, **_label_kwargs(labels))

    def encoder(self, tokenizer, max_length: int, pair: bool) -> Callable[[dict], dict]:
        def encode(batch: dict) -> dict:
            texts = ["".join(tokens) for tokens in batch["tokens"]]
            enc = tokenizer(texts, truncation=True, max_length=max_length, return_offsets_mapping=True)
            enc["labels"] = [subword_labels(tags, offs) for tags, offs in zip(batch["tags"], enc["offset_mapping"])]
            # kept to map predictions back to characters: the gold character tags and the subword spans
            enc["char_tags"] = batch["tags"]
            enc["scored_chars"] = [scored_positions(tokens) for tokens in batch["tokens"]]
            enc["offsets"] = [[list(o) for o in offs] for offs in enc.pop("offset_mapping")]
            enc["length"] = [len(ids) for ids in enc["input_ids"]]
            return enc

        return encode

    def collator(self, tokenizer, pad_to: Optional[int] = None):
        from transformers import DataCollatorForTokenClassification

        return DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE_INDEX, **_padding(pad_to))

    def predictions(self, logits, lengths: Sequence[int]) -> list[Any]:
        tags = logits.argmax(-1).tolist()  # one argmax and one conversion for the batch, then list slices
        return [row[:length] for row, length in zip(tags, lengths)]

    def baseline(self, train, validation, labels: Optional[Sequence[str]]) -> Constant:
        """Every character tagged O, scored on the same characters as a model (spaces left out)."""
        outside = list(labels).index("O")
        gold = [[tags[i] for i in scored_positions(tokens)] for tokens, tags in zip(validation["tokens"], validation["tags"])]
        return Constant("all-O", "O for every character", [[outside] * len(sentence) for sentence in gold], gold)

    def scored(self, ds, predictions: list[Any], labels) -> tuple[Any, Any]:
        """Subword predictions -> character tags of the non-space characters, as KLUE-baseline scores them."""
        char_preds, char_gold = [], []
        for p, offsets, gold, scored in zip(predictions, ds["offsets"], ds["char_tags"], ds["scored_chars"]):
            tags = chars_from_subwords(p, offsets, len(gold), labels)
            char_preds.append([tags[i] for i in scored])
            char_gold.append([gold[i] for i in scored])
        return char_preds, char_gold


def _padding(pad_to: Optional[int]) -> dict[str, Any]:
    return {"padding": "max_length", "max_length": pad_to} if pad_to else {}


def _label_kwargs(labels: Optional[Sequence[str]]) -> dict[str, Any]:
    id2label = dict(enumerate(labels or []))
    return {"num_labels": len(id2label), "id2label": id2label, "label2id": {name: i for i, name in id2label.items()}}


_SENTENCE_COLUMNS, _SENTENCE_NEEDS = frozenset({"text_a", "text_b", "label"}), frozenset({"text_a", "label"})
_TOKEN_COLUMNS = frozenset({"tokens", "tags"})
HEADS: dict[str, Head] = {
    head.name: head
    for head in (
        # the Hub's model-index has no regression task: GLUE's STS-B cards use text-classification
        SequenceClassification("sequence-classification", "label", _SENTENCE_COLUMNS, _SENTENCE_NEEDS,
                               hub_task_type="text-classification", carve_strata="label"),
        Regression("regression", "value", _SENTENCE_COLUMNS, _SENTENCE_NEEDS, hub_task_type="text-classification"),
        TokenClassification("token-classification", "tags", _TOKEN_COLUMNS, _TOKEN_COLUMNS,
                            hub_task_type="token-classification"),
    )
}


def get(name: str) -> Head:
    try:
        return HEADS[name]
    except KeyError:
        raise ValueError(f"unknown head {name!r}; known: {', '.join(HEADS)}") from None


def build(name: str, model_path: str, labels: Optional[Sequence[str]]):
    """The model for a task of head ``name``: the encoder at ``model_path`` with a fresh head for ``labels``.

    Always in float32: transformers loads a checkpoint in the dtype it was saved in, and fine-tuning
    fp16/bf16 weights directly loses the small updates; bf16 on CUDA comes from autocast instead.
    """
    return get(name).build(model_path, labels).float()


# --------------------------------------------------------------------------------------
# Characters <-> subwords (token tasks tagged per character, as KLUE-NER)
# --------------------------------------------------------------------------------------


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
