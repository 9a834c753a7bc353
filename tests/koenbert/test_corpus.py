"""Corpora -> chunks, and teacher pieces -> student ids (harness/koenbert/corpus.py), on real text and vocabularies."""

import re

import numpy as np
import pytest
from transformers import AutoTokenizer

from harness import tiny
from harness.koenbert.corpus import CorpusError, build_chunks, corpus_files, piece_map, student_ids

from koenbert_helpers import sst2_sentences, union_tokenizer  # tests/koenbert is on sys.path under pytest


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory, korean_tokenizer_dir, english_model_dir):
    student_dir = union_tokenizer(korean_tokenizer_dir, english_model_dir, tmp_path_factory.mktemp("union"))
    return {
        "ko": AutoTokenizer.from_pretrained(korean_tokenizer_dir),
        "en": AutoTokenizer.from_pretrained(english_model_dir),
        "student": AutoTokenizer.from_pretrained(student_dir),
    }


def korean_sentences(shared_data, n):
    return list(tiny.korean_sentences(shared_data))[:n]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_mapped_ids_give_the_teachers_pieces_on_real_sentences(lang, tokenizers, shared_data):
    texts = sst2_sentences(shared_data, 3000) if lang == "en" else korean_sentences(shared_data, 3000)
    teacher, student = tokenizers[lang], tokenizers["student"]
    table = piece_map(teacher, student, "teacher", "student")
    mapped = student_ids(texts, teacher, table)
    differing = [t for t, ids in zip(texts, mapped) if student.convert_ids_to_tokens(ids.tolist()) != teacher.tokenize(t)]
    assert not differing, f"{len(differing)} sentences differ, e.g. {differing[:3]}"
    assert sum(len(ids) for ids in mapped) > 30_000  # real work, not a handful of pieces
    if lang == "ko":  # the student's Korean ids are the Korean teacher's own (step 1 appends, never renumbers)
        assert all(np.array_equal(ids, teacher(t, add_special_tokens=False)["input_ids"]) for t, ids in zip(texts[:200], mapped))


def test_special_tokens_map_by_role(tokenizers):
    teacher, student = tokenizers["en"], tokenizers["student"]
    table = piece_map(teacher, student, "teacher", "student")
    for role in ("cls_token_id", "sep_token_id", "pad_token_id", "unk_token_id", "mask_token_id"):
        assert table[getattr(teacher, role)] == getattr(student, role)
    assert table[teacher.convert_tokens_to_ids("[unused5]")] == -1  # never produced from text, not required


def test_a_student_lacking_teacher_pieces_is_named_with_count_and_examples(tokenizers):
    with pytest.raises(CorpusError) as err:
        piece_map(tokenizers["en"], tokenizers["ko"], "--en-teacher en-model", "--student ko-only")
    message = str(err.value)
    assert re.search(r"the student --student ko-only lacks [\d,]+ of the 30,522 pieces of the teacher --en-teacher en-model", message)
    assert "e.g. '" in message and "bench koenbert extend" in message


def test_chunks_pack_lines_in_order_between_cls_and_sep(tokenizers, shared_data, tmp_path):
    texts = sst2_sentences(shared_data, 400)
    (tmp_path / "a.txt").write_text("\n".join(texts[:200]) + "\n\n   \n", encoding="utf-8")  # blank lines are skipped
    (tmp_path / "b.txt").write_text("\n".join(texts[200:]), encoding="utf-8")
    teacher = tokenizers["en"]
    chunks = build_chunks(corpus_files([tmp_path], "--en-corpus"), teacher, 32, "--en-corpus")
    stream = [i for t in texts for i in teacher(t, add_special_tokens=False)["input_ids"]]
    assert chunks.shape == (len(stream) // 30, 32) and chunks.dtype == np.int32
    assert (chunks[:, 0] == teacher.cls_token_id).all() and (chunks[:, -1] == teacher.sep_token_id).all()
    assert chunks[:, 1:-1].reshape(-1).tolist() == stream[: len(chunks) * 30]  # the remainder is dropped


def test_bad_corpora_are_refused_with_the_flag_and_the_fix(tokenizers, tmp_path):
    teacher = tokenizers["en"]
    with pytest.raises(CorpusError, match=r"--en-corpus .*nope.txt: no such file or directory"):
        corpus_files([tmp_path / "nope.txt"], "--en-corpus")
    with pytest.raises(CorpusError, match="--ko-corpus: no corpus given"):
        corpus_files([], "--ko-corpus")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="the directory holds no \\*.txt files"):
        corpus_files([tmp_path / "empty"], "--en-corpus")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"--en-corpus .*blank.txt: empty \(no non-blank line\)"):
        build_chunks([blank], teacher, 32, "--en-corpus")
    short = tmp_path / "short.txt"
    short.write_text("too short\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="only 2 tokens, fewer than one chunk of 32"):
        build_chunks([short], teacher, 32, "--en-corpus")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("first line\ncaf\u00e9\n".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"latin1.txt: line 2 is not UTF-8"):
        build_chunks([latin1], teacher, 32, "--en-corpus")
