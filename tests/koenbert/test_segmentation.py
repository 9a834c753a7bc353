"""The student's segmentation against what distillation presents (harness/koenbert/segmentation.py), measured on
real validation text with the test vocabularies (a Korean WordPiece from the shared data, bert-base-uncased's)."""

import pytest
from transformers import AutoTokenizer

from harness.koenbert import segmentation as S
from harness.koenbert import vocab as V


@pytest.fixture(scope="module")
def specs(korean_tokenizer_dir, english_model_dir):
    ko = V.wordpiece_json(AutoTokenizer.from_pretrained(korean_tokenizer_dir), "ko")
    en = V.wordpiece_json(AutoTokenizer.from_pretrained(english_model_dir), "en")
    cased = V.extend_vocab(ko, en, "all").spec
    return {"ko": ko, "en": en, "cased": cased, "student": S.uncased(cased)}


@pytest.fixture(scope="module")
def texts(shared_data):
    every = S.validation_texts(shared_data, ["klue/ynat", "klue/ner", "glue/mrpc", "glue/qnli"])
    return {task: (lang, lines[:600]) for task, (lang, lines) in every.items()}


def test_the_normaliser_lowercases_and_strips_accents_and_keeps_hangul(specs):
    normalizer = V.backend(specs["student"]).normalizer
    assert normalizer.normalize_str("The Café 한국어 KBS 96점") == "the cafe 한국어 kbs 96점"
    english = V.backend(specs["en"]).normalizer
    assert english.normalize_str("한국어") != "한국어"  # the uncased English normaliser breaks syllables into jamo
    assert S.is_uncased(specs["student"]) and S.uncased(specs["student"]) is specs["student"]


def test_the_earlier_cased_design_disagrees_on_english_and_the_student_design_agrees(specs, texts):
    _, mrpc = texts["glue/mrpc"]
    cased = S.agreement(specs["cased"], specs["en"], mrpc).as_dict()
    uncased = S.agreement(specs["student"], specs["en"], mrpc).as_dict()
    assert cased["token_agreement"] < 0.85 and cased["sentence_agreement"] < 0.05  # "The" -> T ##he in evaluation
    assert uncased["token_agreement"] >= 0.99 and uncased["sentences"] == 600 and uncased["tokens"] > 10_000


def test_agreement_counts_tokens_of_the_words_cut_alike_and_the_pieces_the_teacher_reads(specs):
    text = ["the film", "a movie"]
    same = S.agreement(specs["student"], specs["student"], text)
    assert (same.sentences_same, same.tokens_same, same.tokens) == (2, 4, 4)
    readable = set(specs["student"]["model"]["vocab"]) - {"movie"}
    partial = S.agreement(specs["student"], specs["student"], text, readable=readable)
    assert (partial.sentences_same, partial.tokens_same) == (1, 3)  # the teacher could not read "movie"
    other = S.agreement(specs["student"], specs["en"], ["The Film"]).as_dict()  # the same cut: lowercased alike
    assert other["token_agreement"] == 1.0
    cased = S.agreement(specs["cased"], specs["en"], ["The film"])
    assert (cased.tokens_same, cased.tokens) == (1, 3)  # "The" -> T ##he (2 tokens) disagrees, "film" agrees


def test_every_design_on_real_validation_text(specs, texts):
    options = S.agreement_options(specs["ko"], specs["en"], specs["cased"], texts)
    student = options["student"]
    assert all(a["token_agreement"] >= 0.99 for a in student.values()), student
    assert options["uncased"]["glue/mrpc"]["token_agreement"] >= 0.99
    # Korean words with digits or Latin letters: the teacher's own cut differs from the extended vocabulary's
    assert options["uncased"]["klue/ynat"]["token_agreement"] < student["klue/ynat"]["token_agreement"]
    assert set(options["teacher_reads_own_segmentation"]) == set(texts)


def test_hangul_words_are_cut_as_the_korean_teacher_cuts_them(specs, texts):
    korean = [line for lang, lines in texts.values() if lang == "ko" for line in lines]
    assert S.hangul_words_changed(specs["student"], specs["ko"], korean) == 0
    assert S.hangul_words_changed(specs["en"], specs["ko"], korean) > 0  # a check that can fail
