"""The MiniLMv2 relation loss (harness/koenbert/minilm.py): zero when equal, a per-position reference,
padding, hooks on real models, and the errors raised before any training step."""

import copy
import math

import pytest
import torch
from transformers import AutoModel, AutoTokenizer, GPT2Config, GPT2Model

from harness.koenbert.minilm import AttentionError, QKVTap, check_relation_heads, find_qkv, minilm_loss, relation_kl

SENTENCES = [
    "a gorgeous , witty , seductive movie .",
    "the film is strictly routine .",
    "it 's a charming and often affecting journey that never quite finds its footing but keeps you watching .",
]


def reference_relation_kl(teacher, student, mask, heads):
    """The definition, one row at a time: padding is neither row nor column."""
    total, rows = 0.0, 0
    for b in range(teacher.shape[0]):
        real = mask[b].bool()
        t_all, s_all = teacher[b][real].double(), student[b][real].double()  # (n, hidden)
        dt, ds = t_all.shape[1] // heads, s_all.shape[1] // heads
        for a in range(heads):
            t, s = t_all[:, a * dt : (a + 1) * dt], s_all[:, a * ds : (a + 1) * ds]
            for i in range(t.shape[0]):
                p = torch.softmax(t[i] @ t.T / math.sqrt(dt), dim=0)
                q = torch.softmax(s[i] @ s.T / math.sqrt(ds), dim=0)
                total += float((p * (p.log() - q.log())).sum())
                rows += 1
    return total / rows


def random_batch(seed, batch=3, positions=7, teacher_hidden=24, student_hidden=16):
    g = torch.Generator().manual_seed(seed)
    teacher = 2 * torch.randn(batch, positions, teacher_hidden, generator=g)
    student = 2 * torch.randn(batch, positions, student_hidden, generator=g)
    lengths = torch.tensor([positions, 4, 1])[:batch]  # a full row, a padded one, a lone [CLS]
    mask = (torch.arange(positions)[None, :] < lengths[:, None]).long()
    return teacher, student, mask


@pytest.mark.parametrize("heads", [1, 4, 8])
def test_vectorised_loss_equals_the_per_position_reference(heads):
    for seed in range(3):
        teacher, student, mask = random_batch(seed)
        got = relation_kl(teacher, student, mask, heads).item()
        assert got == pytest.approx(reference_relation_kl(teacher, student, mask, heads), rel=1e-5, abs=1e-6)


def test_padding_is_neither_row_nor_column():
    teacher, student, mask = random_batch(0)
    g = torch.Generator().manual_seed(1)
    # append 5 padding positions holding garbage (large, so any leak would show)
    pad = lambda x: torch.cat([x, 100 * torch.randn(x.shape[0], 5, x.shape[2], generator=g)], dim=1)  # noqa: E731
    padded_mask = torch.cat([mask, torch.zeros(mask.shape[0], 5, dtype=mask.dtype)], dim=1)
    before = minilm_loss([teacher] * 3, [student] * 3, mask, 4)
    after = minilm_loss([pad(teacher)] * 3, [pad(student)] * 3, padded_mask, 4)
    assert after.item() == pytest.approx(before.item(), rel=1e-6)
    # and the gradient stays finite through the masked positions (no 0 * inf)
    s = pad(student).requires_grad_(True)
    relation_kl(pad(teacher), s, padded_mask, 4).backward()
    assert torch.isfinite(s.grad).all() and s.grad[:, -5:].abs().max() == 0


def test_loss_is_zero_for_the_same_model_and_positive_after_perturbing(english_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(english_model_dir)
    teacher = AutoModel.from_pretrained(english_model_dir).eval()  # all-MiniLM-L6-v2: 6 x 384, real weights
    student = copy.deepcopy(teacher)
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    t_tap, s_tap = QKVTap(teacher), QKVTap(student)

    def loss():
        with torch.no_grad():
            teacher(**batch)
            student(**batch)
        return minilm_loss(t_tap.take(), s_tap.take(), batch["attention_mask"], relation_heads=48).item()

    assert loss() == pytest.approx(0.0, abs=1e-6)
    with torch.no_grad():
        layer = student.encoder.layer[-1].attention.self
        layer.key.weight.add_(0.05 * torch.randn_like(layer.key.weight))
    perturbed = loss()
    assert perturbed > 1e-3

    # the same sentences padded further (to 40 positions) give the same loss: padding is masked end to end
    longer = tokenizer(SENTENCES, padding="max_length", max_length=40, return_tensors="pt")
    with torch.no_grad():
        teacher(**longer)
        student(**longer)
    assert minilm_loss(t_tap.take(), s_tap.take(), longer["attention_mask"], 48).item() == pytest.approx(perturbed, rel=1e-4)


def test_hidden_sizes_may_differ_and_a_mismatched_relation_head_count_is_named():
    teacher, student, mask = random_batch(0, teacher_hidden=24, student_hidden=16)
    assert relation_kl(teacher, student, mask, 8).item() > 0  # d_r 3 and 2: different, relations the same size
    with pytest.raises(AttentionError, match="relation_heads=5 does not divide its hidden size 24"):
        relation_kl(teacher, student, mask, 5)


def test_a_teacher_without_separate_qkv_projections_is_refused():
    gpt2 = GPT2Model(GPT2Config(n_embd=32, n_layer=2, n_head=2, vocab_size=100))  # one fused c_attn
    with pytest.raises(AttentionError, match=r"--en-teacher gpt2-tiny: its attention has no separate query/key/value") as err:
        QKVTap(gpt2, name="--en-teacher gpt2-tiny")
    assert "GPT2Attention" in str(err.value)


def test_layers_are_found_in_order_and_a_missing_layer_is_named(english_model_dir):
    model = AutoModel.from_pretrained(english_model_dir)
    layers = find_qkv(model)
    assert len(layers) == 6 and layers[-1][0] is model.encoder.layer[5].attention.self.query
    with pytest.raises(AttentionError, match="layer 6 does not exist; it has 6 attention layers"):
        QKVTap(model, layer=6)


def test_the_tap_refuses_stale_outputs():
    teacher, _, _ = random_batch(0)
    model = torch.nn.Module()
    model.query, model.key, model.value = (torch.nn.Linear(24, 24) for _ in range(3))
    tap = QKVTap(model)
    with pytest.raises(RuntimeError, match="no forward pass"):
        tap.take()
    q = model.query(teacher)
    model.key(teacher), model.value(teacher)
    assert torch.equal(tap.take()[0], q)
    tap.remove()
    model.query(teacher)
    assert tap.outputs == {}


class FooAttention(torch.nn.Module):
    pass


class BarAttention(torch.nn.Module):
    pass


def _qkv_layers(n, width=8):
    """A stand-in encoder of ``n`` attention layers with separate query/key/value Linears."""
    layers = torch.nn.ModuleList()
    for _ in range(n):
        layer = torch.nn.Module()
        layer.query, layer.key, layer.value = (torch.nn.Linear(width, width) for _ in range(3))
        layers.append(layer)
    return layers


def test_the_errors_say_in_full_what_is_wrong_and_what_to_use():
    names = "query-key-value / q_lin-k_lin-v_lin / q_proj-k_proj-v_proj"
    advice = "Use a BERT-style encoder (BERT, RoBERTa, ELECTRA, DistilBERT) as teacher and student."
    with pytest.raises(AttentionError) as err:
        find_qkv(torch.nn.Sequential(torch.nn.Linear(2, 2)))
    assert str(err.value) == ("model: its attention has no separate query/key/value projections (attention modules: "
                              f"none found); MiniLMv2 relation distillation taps the outputs of Linear modules named {names}. {advice}")
    with pytest.raises(AttentionError, match=r"^--student s: .*\(attention modules: BarAttention, FooAttention\);"):
        QKVTap(torch.nn.Sequential(FooAttention(), BarAttention()), name="--student s")
    with pytest.raises(AttentionError) as err:
        QKVTap(_qkv_layers(3), layer=-4)
    assert str(err.value) == "model: layer -4 does not exist; it has 3 attention layers (use 0..2, or -1 for the last)"
    with pytest.raises(RuntimeError) as err:
        QKVTap(_qkv_layers(1)).take()
    assert str(err.value) == "no forward pass went through the tapped layer since the last take()"


def test_relation_heads_must_divide_the_hidden_size_and_the_error_lists_the_largest_choices():
    check_relation_heads(24, 1)
    check_relation_heads(24, 24)
    with pytest.raises(AttentionError) as err:
        check_relation_heads(720, 7, name="--student s")
    assert str(err.value) == ("--student s: relation_heads=7 does not divide its hidden size 720; choose one of "
                              "[45, 48, 60, 72, 80, 90, 120, 144, 180, 240, 360, 720] "
                              "(it must divide the hidden size of both teacher and student)")
    with pytest.raises(AttentionError, match="^model: relation_heads=0 does not divide its hidden size 6; "
                                             r"choose one of \[1, 2, 3, 6\]"):
        check_relation_heads(6, 0)


def test_the_tap_reads_the_last_layer_unless_told():
    layers = _qkv_layers(3)
    x = torch.randn(2, 5, 8)
    last, first = QKVTap(layers), QKVTap(layers, layer=0)
    for layer in layers:
        for linear in (layer.query, layer.key, layer.value):
            linear(x)
    assert torch.equal(last.take()[2], layers[2].value(x)) and torch.equal(first.take()[1], layers[0].key(x))


def test_a_tap_that_lost_a_projection_is_an_error_not_a_smaller_loss():
    teacher, student, mask = random_batch(0)
    with pytest.raises(ValueError):
        minilm_loss([teacher] * 3, [student] * 2, mask, 8)


def test_the_teachers_side_carries_no_gradient():
    teacher, student, mask = random_batch(0)
    teacher.requires_grad_(True)
    student.requires_grad_(True)
    minilm_loss([teacher] * 3, [student] * 3, mask, 4).backward()
    assert teacher.grad is None and student.grad.abs().sum() > 0
