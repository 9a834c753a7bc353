"""What the distillation loop feeds the MiniLMv2 loss, checked step by step against an independent computation.

At every micro-step of a short run on tiny models, the test recomputes from the models themselves what
MiniLMv2 prescribes: the batch's language decides the teacher (Korean text -> the Korean teacher);
the student reads the same pieces as the teacher, in its own vocabulary; the teacher's and the
student's query/key/value come from their last attention layer; the loss is the sum of the Q-Q, K-K
and V-V relation KLs (Wang et al., 2021), each a KL(teacher || student) averaged over relation heads
and positions. The loss the loop computed must equal that value (absolute, not "it still falls").
"""

import math
import re

import pytest
import torch
from transformers import AutoTokenizer

from harness.koenbert import minilm
from harness.koenbert.distill import DistillConfig, distill
from harness.koenbert.vocab import reads
from harness.testing import tiny


RELATION_HEADS = 4
HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def world(tmp_path_factory, korean_tokenizer_dir, english_model_dir, shared_data):
    root = tmp_path_factory.mktemp("wiring-world")
    union = tiny.union_tokenizer(korean_tokenizer_dir, english_model_dir, root / "union-tokenizer")
    (root / "ko.txt").write_text("\n".join(list(tiny.korean_sentences(shared_data))[:300]) + "\n", encoding="utf-8")
    (root / "en.txt").write_text("\n".join(tiny.sst2_sentences(shared_data, 300)) + "\n", encoding="utf-8")
    ko_teacher = str(tiny.tiny_bert(korean_tokenizer_dir, root / "ko-teacher", seed=2, init_range=0.1, heads=4, max_position_embeddings=128))
    # no dropout: the test's second forward pass of the student must give the loop's values exactly
    student = str(tiny.extended_student(ko_teacher, union, root / "student", dropout=0.0))
    return {"root": root, "student": student, "ko_teacher": ko_teacher, "en_teacher": str(english_model_dir),
            "ko_corpus": [str(root / "ko.txt")], "en_corpus": [str(root / "en.txt")]}


def last_layer_qkv(model, input_ids) -> list[torch.Tensor]:
    """Q, K, V of the last attention layer: its query/key/value Linear applied to the layer's input."""
    base = model.base_model
    with torch.no_grad():
        hidden = base(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), output_hidden_states=True).hidden_states
        attention = base.encoder.layer[-1].attention.self
        layer_input = hidden[-2]  # hidden_states[i] is the input of layer i; [-1] is the output of the last
        return [attention.query(layer_input), attention.key(layer_input), attention.value(layer_input)]


def relation_kl(teacher: torch.Tensor, student: torch.Tensor, heads: int) -> torch.Tensor:
    """KL(teacher || student) of softmax(x x^T / sqrt(d_r)) per relation head, mean over heads and rows (no padding)."""

    def relations(x):
        batch, positions, hidden = x.shape
        d_r = hidden // heads
        x = x.double().reshape(batch, positions, heads, d_r).permute(0, 2, 1, 3)
        return torch.softmax(x @ x.transpose(-1, -2) / math.sqrt(d_r), dim=-1)

    t, s = relations(teacher), relations(student)
    per_row = (t * (t.log() - s.log())).sum(-1)  # (batch, heads, positions)
    return per_row.mean()


@pytest.fixture(scope="module")
def observed(world, korean_tokenizer_dir, english_model_dir):
    """Runs six steps and returns, per micro-step, what the loop passed to the loss and what MiniLMv2 expects."""
    models, last_ids, steps = {}, {}, []
    real_init, real_loss = minilm.QKVTap.__init__, minilm.minilm_loss

    def tap_init(self, model, layer=-1, name="model"):
        real_init(self, model, layer, name)
        role = "student" if name.startswith("--student") else name.split()[0].removeprefix("--").removesuffix("-teacher")
        models[role] = (model, self)

        def keep_ids(module, inputs, role=role):
            last_ids[role] = inputs[0].detach().clone()
            if role != "student":
                last_ids["teacher"] = role

        model.base_model.embeddings.word_embeddings.register_forward_pre_hook(keep_ids)

    def loss_spy(teacher_qkv, student_qkv, mask, relation_heads):
        loss = real_loss(teacher_qkv, student_qkv, mask, relation_heads)
        lang, student_ids = last_ids["teacher"], last_ids["student"]
        teacher_ids = last_ids[lang]
        student_model, student_tap = models["student"]
        expected_student = last_layer_qkv(student_model, student_ids)
        student_tap.outputs.clear()  # the recomputation went through the tapped layer; the loop must not see it
        steps.append({
            "lang": lang, "teacher_ids": teacher_ids, "student_ids": student_ids, "relation_heads": relation_heads,
            "teacher_qkv": [t.detach().clone() for t in teacher_qkv],
            "student_qkv": [s.detach().clone() for s in student_qkv],
            "expected_student_qkv": expected_student, "loss": loss.item(),
        })
        return loss

    cfg = DistillConfig(student=world["student"], ko_teacher=world["ko_teacher"], en_teacher=world["en_teacher"],
                        ko_corpus=world["ko_corpus"], en_corpus=world["en_corpus"], out=str(world["root"] / "run"),
                        seq_len=16, batch_size=2, steps=6, lr=1e-2, relation_heads=RELATION_HEADS, log_every=1,
                        save_every=6)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(minilm.QKVTap, "__init__", tap_init)
        patch.setattr(minilm, "minilm_loss", loss_spy)
        distill(cfg, show_progress=False)
    tokenizers = {"ko": AutoTokenizer.from_pretrained(korean_tokenizer_dir),
                  "en": AutoTokenizer.from_pretrained(english_model_dir),
                  "student": AutoTokenizer.from_pretrained(world["student"])}
    return steps, {role: model for role, (model, _) in models.items()}, tokenizers


def test_both_languages_are_drawn(observed):
    steps, _, _ = observed
    assert len(steps) == 6 and {s["lang"] for s in steps} == {"ko", "en"}


def test_each_batch_goes_to_the_teacher_of_its_language(observed):
    steps, _, tokenizers = observed
    for step in steps:
        text = "".join(tokenizers["student"].convert_ids_to_tokens(step["student_ids"].flatten().tolist()))
        assert bool(HANGUL.search(text)) == (step["lang"] == "ko"), text[:80]


def test_each_teacher_reads_the_students_pieces_in_its_own_vocabulary(observed):
    steps, _, tokenizers = observed
    for step in steps:
        teacher = tokenizers[step["lang"]]
        student_pieces = tokenizers["student"].convert_ids_to_tokens(step["student_ids"].flatten().tolist())
        read = reads(teacher.backend_tokenizer.normalizer)  # the text the teacher's own normaliser makes of a piece
        for piece, tid in zip(student_pieces, step["teacher_ids"].flatten().tolist()):
            if tid == teacher.unk_token_id and read(piece) not in teacher.get_vocab():
                continue  # a piece the teacher lacks, read as its [UNK]
            if tid < len(teacher):  # its own piece, or the one its normaliser makes of it ("##é" -> "##e")
                assert teacher.convert_ids_to_tokens(tid) in (piece, read(piece)) or piece in teacher.all_special_tokens
            else:  # a row the Korean teacher was given for an English piece it lacks
                assert step["lang"] == "ko" and piece not in teacher.get_vocab()
    # the English teacher's ids are not the student's: unmapped ids would spell other pieces
    english = next(s for s in steps if s["lang"] == "en")
    assert not torch.equal(english["teacher_ids"], english["student_ids"])


def test_both_sides_are_tapped_at_their_last_attention_layer(observed):
    steps, models, _ = observed
    for step in steps:
        expected_teacher = last_layer_qkv(models[step["lang"]], step["teacher_ids"])
        for got, want in zip(step["teacher_qkv"], expected_teacher, strict=True):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
        for got, want in zip(step["student_qkv"], step["expected_student_qkv"], strict=True):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_the_loss_is_the_sum_of_the_three_relation_kls(observed):
    steps, models, _ = observed
    for step in steps:
        teacher = last_layer_qkv(models[step["lang"]], step["teacher_ids"])
        student = step["expected_student_qkv"]
        terms = [relation_kl(t, s, RELATION_HEADS).item() for t, s in zip(teacher, student, strict=True)]
        if step["lang"] == "en":  # (the student starts as the Korean teacher: on Korean text the terms may be 0)
            assert min(terms) > 1e-4 * sum(terms)  # each term counts, so a missing one would show
        assert step["relation_heads"] == RELATION_HEADS
        assert step["loss"] == pytest.approx(sum(terms), rel=1e-4)
