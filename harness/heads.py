"""Heads: one AutoModelFor... per task head; the label names come from the task spec."""

from __future__ import annotations

from typing import Optional, Sequence

from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification
from transformers.utils import logging as hf_logging

# a fresh head over a pre-trained encoder always reports newly initialised weights: expected, not news
hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()


def build(head: str, model_path: str, labels: Optional[Sequence[str]]):
    if head == "regression":
        return AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=1, problem_type="regression")
    id2label = dict(enumerate(labels))
    label2id = {name: i for i, name in id2label.items()}
    kwargs = dict(num_labels=len(labels), id2label=id2label, label2id=label2id)
    if head == "sequence-classification":
        return AutoModelForSequenceClassification.from_pretrained(
            model_path, problem_type="single_label_classification", **kwargs
        )
    if head == "token-classification":
        return AutoModelForTokenClassification.from_pretrained(model_path, **kwargs)
    raise ValueError(f"unknown head {head!r}")
