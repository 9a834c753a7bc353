"""A head loads its encoder in float32 whatever dtype the checkpoint was saved in."""

import pytest
import torch
from transformers import AutoModel

from harness.tasks import heads
from harness.testing import tiny


@pytest.mark.parametrize("head,labels", [("sequence-classification", ["no", "yes"]), ("regression", None),
                                         ("token-classification", ["B-X", "I-X", "O"])])
def test_a_half_precision_checkpoint_is_fine_tuned_in_float32(tmp_path, tiny_english_bert, head, labels):
    half = tmp_path / "half"
    AutoModel.from_pretrained(tiny_english_bert).to(torch.float16).save_pretrained(half)
    assert AutoModel.from_pretrained(half).dtype == torch.float16  # what transformers gives back by itself
    model = heads.build(head, str(half), labels)
    assert {p.dtype for p in model.parameters()} == {torch.float32}


@pytest.mark.parametrize("head", ["sequence-classification", "regression", "token-classification"])
def test_a_collator_pads_to_the_longest_row_or_to_a_fixed_length(english_model_dir, head):
    """Dynamic padding for `bench run`; ``pad_to`` pads every batch to one length, as run_glue.py does."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(english_model_dir)
    rows = [tokenizer("a short one"), tokenizer("a somewhat longer sentence than the first one")]
    for row in rows:
        row["labels"] = [0] * len(row["input_ids"]) if head == "token-classification" else 1
    longest = max(len(r["input_ids"]) for r in rows)
    dynamic = heads.get(head).collator(tokenizer)([dict(r) for r in rows])
    fixed = heads.get(head).collator(tokenizer, pad_to=32)([dict(r) for r in rows])
    assert dynamic["input_ids"].shape == (2, longest) and fixed["input_ids"].shape == (2, 32)
    assert fixed["attention_mask"].sum().item() == dynamic["attention_mask"].sum().item()  # the same tokens, more pad
    if head == "token-classification":  # the padded label positions are skipped by the loss and the scores
        assert (fixed["labels"][0, len(rows[0]["input_ids"]):] == heads.IGNORE_INDEX).all()


def test_predictions_from_numpy_logits_as_hf_trainer_returns_them():
    """Trainer.predict gives numpy logits padded to max_length; a head reads them as it reads torch's."""
    import numpy as np

    logits = np.array([[[0.1, 0.9], [0.8, 0.2], [0.0, 1.0]], [[0.7, 0.3], [0.2, 0.8], [0.9, 0.1]]], dtype=np.float32)
    assert heads.get("token-classification").predictions(logits, [2, 3]) == [[1, 0], [0, 1, 0]]
    assert heads.get("sequence-classification").predictions(logits[:, 0, :], [1, 1]) == [1, 0]
    values = heads.get("regression").predictions(np.array([[2.5], [0.5]], dtype=np.float32), [1, 1])
    assert values == [2.5, 0.5] and all(type(v) is float for v in values)
    assert values == heads.get("regression").predictions(torch.tensor([[2.5], [0.5]]), [1, 1])
