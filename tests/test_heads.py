"""A head loads its encoder in float32 whatever dtype the checkpoint was saved in."""

import pytest
import torch
from transformers import AutoModel

from harness import heads, tiny


@pytest.mark.parametrize("head,labels", [("sequence-classification", ["no", "yes"]), ("regression", None),
                                         ("token-classification", ["B-X", "I-X", "O"])])
def test_a_half_precision_checkpoint_is_fine_tuned_in_float32(tmp_path, tiny_english_bert, head, labels):
    half = tmp_path / "half"
    AutoModel.from_pretrained(tiny_english_bert).to(torch.float16).save_pretrained(half)
    assert AutoModel.from_pretrained(half).dtype == torch.float16  # what transformers gives back by itself
    model = heads.build(head, str(half), labels)
    assert {p.dtype for p in model.parameters()} == {torch.float32}
