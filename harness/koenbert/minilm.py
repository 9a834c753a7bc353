"""MiniLMv2 self-attention relation distillation: the loss, and the taps that feed it.

MiniLMv2 (Wang et al., 2021, arXiv:2012.15828) teaches a student the *relations* between
the tokens of one self-attention layer of a teacher. For each of the queries, keys and
values of that layer:

1. concatenate the attention heads (that is simply the output of the query, key or value
   Linear: the heads are consecutive slices of it), then split it into ``A`` relation
   heads of ``d_r = hidden / A`` dimensions each;
2. per relation head, relation[i, j] = softmax_j(x_i . x_j / sqrt(d_r)) over the positions j;
3. KL(teacher || student) per row i, averaged over relation heads and real positions.

The loss is the sum of the Q-Q, K-K and V-V terms. Teacher and student may have different
hidden sizes (each uses its own ``d_r``): the relation matrices are (positions x positions)
either way. Padding positions are neither rows nor columns (the original code had no mask).

Relation heads: 48 for 768-wide models rather than 24 (the original koenbert code): the paper
uses 48 for base and 64 for large teachers, i.e. 16 dimensions per relation head, and a CPU
measurement with d_r = 32 / 16 / 8 found 16 the best all-round match; the figures are in
``harness/koenbert/recipes/koenbert-base.yaml`` next to ``relation_heads``.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Attribute names of separate query/key/value projections in Hugging Face encoders:
# BERT, RoBERTa, ELECTRA, XLM-R (query/key/value), DistilBERT (q_lin/...), many newer ones (q_proj/...).
QKV_NAMES: tuple[tuple[str, str, str], ...] = (
    ("query", "key", "value"),
    ("q_lin", "k_lin", "v_lin"),
    ("q_proj", "k_proj", "v_proj"),
)


class AttentionError(ValueError):
    """A model whose attention cannot be tapped, or a layer/relation-head setting that does not fit it."""


def find_qkv(model: nn.Module, name: str = "model") -> list[tuple[nn.Linear, nn.Linear, nn.Linear]]:
    """The (query, key, value) Linear modules of every self-attention layer, first layer first.

    ``name`` is how the error message calls the model (e.g. ``--en-teacher bert-base-uncased``).
    """
    found = []
    for module in model.modules():
        for names in QKV_NAMES:
            parts = [getattr(module, n, None) for n in names]
            if all(isinstance(p, nn.Linear) for p in parts):
                found.append(tuple(parts))
                break
    if not found:
        attention = sorted({type(m).__name__ for m in model.modules() if "attention" in type(m).__name__.lower()})
        raise AttentionError(
            f"{name}: its attention has no separate query/key/value projections "
            f"(attention modules: {', '.join(attention) or 'none found'}); MiniLMv2 relation distillation "
            f"taps the outputs of Linear modules named {' / '.join('-'.join(n) for n in QKV_NAMES)}. "
            "Use a BERT-style encoder (BERT, RoBERTa, ELECTRA, DistilBERT) as teacher and student."
        )
    return found


class QKVTap:
    """Keeps the query, key and value projections' outputs of one layer from the latest forward pass.

    Forward hooks rather than ``output_attentions``: the attention probabilities are
    Q-K relations only, and the fused attention kernels (sdpa, flash) never build them.
    """

    def __init__(self, model: nn.Module, layer: int = -1, name: str = "model"):
        layers = find_qkv(model, name)
        if not -len(layers) <= layer < len(layers):
            raise AttentionError(
                f"{name}: layer {layer} does not exist; it has {len(layers)} attention layers "
                f"(use 0..{len(layers) - 1}, or -1 for the last)"
            )
        self.outputs: dict[str, Tensor] = {}
        self._handles = [
            module.register_forward_hook(self._keep(kind)) for kind, module in zip("qkv", layers[layer])
        ]

    def _keep(self, kind: str):
        def hook(module, inputs, output):
            self.outputs[kind] = output

        return hook

    def take(self) -> tuple[Tensor, Tensor, Tensor]:
        """(Q, K, V), each (batch, positions, hidden); forgets them so a stale tensor is never reused."""
        if set(self.outputs) != {"q", "k", "v"}:
            raise RuntimeError("no forward pass went through the tapped layer since the last take()")
        q, k, v = (self.outputs.pop(kind) for kind in "qkv")
        return q, k, v

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def check_relation_heads(hidden_size: int, relation_heads: int, name: str = "model") -> None:
    if relation_heads < 1 or hidden_size % relation_heads:
        divisors = [a for a in range(1, hidden_size + 1) if hidden_size % a == 0]
        raise AttentionError(
            f"{name}: relation_heads={relation_heads} does not divide its hidden size {hidden_size}; "
            f"choose one of {divisors[-12:]} (it must divide the hidden size of both teacher and student)"
        )


def log_relations(x: Tensor, mask: Tensor, relation_heads: int) -> Tensor:
    """log softmax(x x^T / sqrt(d_r)) per relation head: (batch, A, positions, positions).

    x: (batch, positions, hidden) one layer's Q, K or V; mask: (batch, positions), 1 = real token.
    """
    batch, positions, hidden = x.shape
    check_relation_heads(hidden, relation_heads)
    d_r = hidden // relation_heads
    # float32: a softmax over 256 positions and a KL of near-equal distributions lose too much in bf16
    x = x.float().view(batch, positions, relation_heads, d_r).transpose(1, 2)  # (batch, A, positions, d_r)
    scores = x @ x.transpose(-1, -2) / math.sqrt(d_r)
    # Padding is no column: a very negative finite score gives it probability exactly 0 in both
    # teacher and student, so its KL term is 0 * (finite) = 0 (with -inf it would be 0 * nan).
    scores = scores.masked_fill(~mask[:, None, None, :], torch.finfo(scores.dtype).min)
    return scores.log_softmax(dim=-1)


def relation_kl(teacher: Tensor, student: Tensor, mask: Tensor, relation_heads: int) -> Tensor:
    """KL(teacher || student) of one relation (Q-Q, K-K or V-V), mean over relation heads and real rows."""
    mask = mask.bool()
    log_t = log_relations(teacher, mask, relation_heads)
    log_s = log_relations(student, mask, relation_heads)
    kl_per_row = F.kl_div(log_s, log_t, reduction="none", log_target=True).sum(dim=-1)  # (batch, A, positions)
    rows = mask[:, None, :].to(kl_per_row.dtype)  # padding is no row either
    return (kl_per_row * rows).sum() / (rows.sum() * relation_heads)


def minilm_loss(
    teacher_qkv: Sequence[Tensor], student_qkv: Sequence[Tensor], mask: Tensor, relation_heads: int
) -> Tensor:
    """The MiniLMv2 loss: Q-Q + K-K + V-V relation KL. The teacher's side carries no gradient."""
    return sum(
        relation_kl(t.detach(), s, mask, relation_heads) for t, s in zip(teacher_qkv, student_qkv, strict=True)
    )
