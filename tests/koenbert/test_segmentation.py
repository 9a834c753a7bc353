"""The student's segmentation against what distillation presents (harness/koenbert/segmentation.py), measured on
real validation text with the test vocabularies (a cased 32k Korean WordPiece from the shared training text,
bert-base-uncased's)."""

import json

import pytest
from tokenizers import normalizers
from transformers import AutoTokenizer

from harness.koenbert import segmentation as S
from harness.koenbert import vocab as V
from harness.koenbert.corpus import piece_table, reading_table
from harness.testing import tiny


@pytest.fixture(scope="module")
def specs(korean_32k_tokenizer_dir, english_model_dir):
    ko = V.wordpiece_json(AutoTokenizer.from_pretrained(korean_32k_tokenizer_dir), "ko")
    en = V.wordpiece_json(AutoTokenizer.from_pretrained(english_model_dir), "en")
    cased = V.extend_vocab(ko, en, "all").spec
    folded, folding = S.casefold_vocab(ko)
    student = V.extend_vocab(S.uncased(folded), en, "all").spec
    return {"ko": ko, "en": en, "cased": cased, "unfolded": S.uncased(cased), "student": student, "folding": folding}


@pytest.fixture(scope="module")
def texts(shared_data):
    every = S.validation_texts(shared_data, ["klue/ynat", "klue/ner", "glue/mrpc", "glue/qnli"])
    return {task: (lang, lines[:600]) for task, (lang, lines) in every.items()}


def test_the_normaliser_lowercases_and_keeps_accents_and_hangul(specs):
    normalizer = V.backend(specs["student"]).normalizer
    assert normalizer.normalize_str("The Café 한국어 KBS 96점") == "the café 한국어 kbs 96점"
    english = V.backend(specs["en"]).normalizer
    assert english.normalize_str("한국어") != "한국어"  # the uncased English normaliser breaks syllables into jamo
    assert S.is_uncased(specs["student"]) and S.uncased(specs["student"]) is specs["student"]
    # the Korean teacher's cleaning and CJK spacing are kept; another kind of normaliser gives BERT's defaults
    flags = {"clean_text": False, "handle_chinese_chars": False}
    korean = {"type": "BertNormalizer", **flags, "strip_accents": None, "lowercase": False}
    assert S.uncased_normalizer(korean) == {"type": "BertNormalizer", **flags, "strip_accents": False, "lowercase": True}
    default = {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": False,
               "lowercase": True}
    assert S.uncased_normalizer({"type": "NFC"}) == S.uncased_normalizer(None) == default


def test_the_earlier_cased_design_disagrees_on_english_and_the_student_design_agrees(specs, texts):
    _, mrpc = texts["glue/mrpc"]
    cased = S.agreement(specs["cased"], specs["en"], mrpc).as_dict()
    uncased = S.agreement(specs["student"], specs["en"], mrpc).as_dict()
    assert cased["token_agreement"] < 0.85 and cased["sentence_agreement"] < 0.05  # "The" -> T ##he in evaluation
    assert uncased["token_agreement"] >= 0.99 and uncased["sentences"] == 600 and uncased["tokens"] > 10_000


def test_agreement_counts_tokens_of_the_words_cut_alike(specs):
    same = S.agreement(specs["student"], specs["student"], ["the film", "a movie"])
    assert (same.sentences_same, same.tokens_same, same.tokens) == (2, 4, 4)
    other = S.agreement(specs["student"], specs["en"], ["The Film"]).as_dict()  # the same cut: lowercased alike
    assert other["token_agreement"] == 1.0
    cased = S.agreement(specs["cased"], specs["en"], ["The film"])
    assert (cased.tokens_same, cased.tokens) == (1, 3)  # "The" -> T ##he (2 tokens) disagrees, "film" agrees


def table(student, teacher):
    return reading_table(student, teacher)


def test_a_teacher_reads_a_piece_it_lacks_as_its_normaliser_writes_it():
    teacher = {"[UNK]": 0, "the": 1, "lg": 2, "##ing": 3, "##u": 4}
    student = {"[UNK]": 0, "The": 1, "THE": 2, "LG": 3, "lg": 4, "##ING": 5, "Zq": 6, "##ü": 7}
    uncased = V.reads(normalizers.BertNormalizer(lowercase=True, strip_accents=True))  # bert-base-uncased's
    assert piece_table(student, teacher, V.fold, uncased).tolist() == [0, 1, 1, 2, 2, 3, -1, 4]
    assert piece_table(student, teacher, V.fold).tolist() == [0, -1, -1, -1, 2, -1, -1, -1]  # the text only


def test_casefolding_keeps_ids_and_leaves_no_cased_piece_reachable_but_collisions(specs):
    ko, student, folding = specs["ko"], specs["student"], specs["folding"]
    by_id = {i: p for p, i in student["model"]["vocab"].items()}
    normalizer = V.backend(student).normalizer
    assert folding.renamed and folding.unreachable
    for piece, i in ko["model"]["vocab"].items():
        now = by_id[i]  # every Korean id is still there, under its folded text or left unreachable
        body = now.removeprefix("##")
        if piece in folding.unreachable:
            assert normalizer.normalize_str(body) != body or now == S.UNREACHABLE.format(piece)
        elif piece not in V.special_pieces(ko) and not V.UNUSED.fullmatch(piece):
            assert now == V.fold(piece) and normalizer.normalize_str(body).strip() == body  # reachable: a fixed point
    for piece, why in folding.unreachable.items():
        assert "folds to" in why or "erases" in why


def test_a_collision_goes_to_the_piece_the_korean_teacher_uses_more():
    spec = {"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "##a": 1, "##A": 2, "LG": 3, "Lg": 4}},
            "added_tokens": [{"content": "[UNK]", "id": 0, "special": True}]}
    folded, folding = S.casefold_vocab(spec, {"##A": 9, "##a": 2, "Lg": 1})
    assert folded["model"]["vocab"] == {"[UNK]": 0, "[##a]": 1, "##a": 2, "LG": 3, "lg": 4}
    assert set(folding.unreachable) == {"##a", "LG"} and folding.renamed == {"##A": "##a", "Lg": "lg"}
    # the teacher reads the student's ##a as its own ##A (the piece its tokenizer produces), not as its ##a
    assert piece_table(folded["model"]["vocab"], spec["model"]["vocab"], V.fold).tolist() == [0, -1, 2, 3, 4]
    folded, _ = S.casefold_vocab(spec)  # no counts: the piece already lower-case, else the lowest id
    assert folded["model"]["vocab"] == {"[UNK]": 0, "##a": 1, "##A": 2, "lg": 3, "Lg": 4}


def test_the_teacher_side_figure_can_fail_and_case_folding_raises_it(specs, texts):
    """A teacher fed its own cut reads 100%; the uncased student without case-folding falls short on Korean text."""
    ko, en = specs["ko"], specs["en"]
    _, ynat = texts["klue/ynat"]
    own = S.teacher_reads_own(ko, ko, table(ko, ko), ynat).as_dict()
    assert own["token_agreement"] == 1.0 and own["sentence_agreement"] == 1.0
    unfolded = S.teacher_reads_own(specs["unfolded"], ko, table(specs["unfolded"], ko), ynat).as_dict()
    folded = S.teacher_reads_own(specs["student"], ko, table(specs["student"], ko), ynat).as_dict()
    assert unfolded["token_agreement"] < folded["token_agreement"] < 1.0  # cased pieces unreachable: fails, then less
    assert unfolded["sentence_agreement"] < folded["sentence_agreement"]
    _, mrpc = texts["glue/mrpc"]
    english = S.teacher_reads_own(specs["student"], en, table(specs["student"], en), mrpc).as_dict()
    assert 0.99 <= english["token_agreement"] <= 1.0 and english["tokens"] > 10_000


def test_every_design_on_real_validation_text(specs, texts):
    options = S.agreement_options(specs["ko"], specs["en"], texts, {S.FOLDED: specs["student"]})
    assert set(options) == {S.FOLDED, S.UNFOLDED, S.CASED} and all(set(o) == set(texts) for o in options.values())
    assert options[S.FOLDED]["klue/ynat"]["token_agreement"] > options[S.UNFOLDED]["klue/ynat"]["token_agreement"]
    assert all(options[S.FOLDED][t]["token_agreement"] >= 0.99 for t in ("glue/mrpc", "glue/qnli"))
    assert options[S.CASED]["glue/mrpc"]["token_agreement"] < 0.85  # the first design's flaw is on the student side


def test_hangul_words_are_cut_as_the_korean_teacher_cuts_them(specs, texts):
    korean = [line for lang, lines in texts.values() if lang == "ko" for line in lines]
    assert S.hangul_words_changed(specs["student"], specs["ko"], korean) == 0
    assert S.hangul_words_changed(specs["en"], specs["ko"], korean) > 0  # a check that can fail


def test_a_hangul_word_counts_as_changed_wherever_its_cut_differs():
    teacher = tiny.wordpiece_spec(["서울", "##시", "##민", "##시민"], lowercase=False)
    student = tiny.wordpiece_spec(["서울", "##시", "##민"], lowercase=True)  # 서울시민: 서울 ##시 ##민, not 서울 ##시민
    assert S.hangul_words_changed(student, teacher, ["서울시민 서울시민 서울", "서울시"]) == 1  # distinct words


def test_the_english_teachers_normaliser_is_not_the_students_and_is_replaced(specs):
    en = specs["en"]  # bert-base-uncased's: lowercase, strip_accents unset (which strips, as lowercase then does)
    assert en["normalizer"]["strip_accents"] is None and not S.is_uncased(en)
    student = S.uncased(en)
    assert S.is_uncased(student) and V.backend(student).normalizer.normalize_str("Café 한국어") == "café 한국어"


def test_a_saved_cased_tokenizer_loads_the_same_in_every_class_and_keeps_pairs_apart(korean_32k_tokenizer_dir, tmp_path):
    """write_tokenizer_config for the first design (the cased Korean teacher's normaliser): BertTokenizer rebuilds its
    normaliser from the config, which must say that tokenizer.json keeps case; a pair keeps its token_type_ids."""
    import shutil

    from transformers import BertTokenizer, BertTokenizerFast

    cased = shutil.copytree(korean_32k_tokenizer_dir, tmp_path / "cased")
    S.write_tokenizer_config(cased)
    reference = V.backend(json.loads((cased / "tokenizer.json").read_text(encoding="utf-8")))
    pair = ("KBS 뉴스에서 LG를 봤다", "Zürich 서울")
    expected = reference.encode(*pair)
    assert expected.ids != reference.encode(*(p.lower() for p in pair)).ids  # case shows in the ids
    for cls in (AutoTokenizer, BertTokenizerFast, BertTokenizer):
        got = cls.from_pretrained(cased)(*pair)
        assert got["input_ids"] == expected.ids, cls.__name__
        assert got["token_type_ids"] == expected.type_ids and 1 in got["token_type_ids"], cls.__name__


# fixture vocabularies (synthetic): a cased Korean teacher that cuts "2021년" as 20 ##21 ##년 and holds both "A" and
# "a" (one of them unreachable once folded); an English teacher with whole pieces for 2021
KOREAN = tiny.wordpiece_spec(["20", "##20", "##21", "##년", "예산", "A", "a", "##b"], lowercase=False)
ENGLISH = tiny.wordpiece_spec(["2021", "##2021", "the", "##s", "a", "##b"], lowercase=True)


def small_student():
    """The Korean half case-folded, then the English pieces 2021 and ##2021 (the first at the first added id)."""
    student, first = V.with_pieces(S.uncased(S.casefold_vocab(KOREAN)[0]), ["2021", "##2021"])
    assert student["model"]["vocab"]["2021"] == first
    return student, first


def test_the_teacher_side_counts_the_teachers_own_tokens_word_by_word():
    student, _ = small_student()
    texts = ["2021년 예산", "Ab2021"]  # 20 ##21 ##년 | 예산 and A ##b ##20 ##21: 8 tokens of the teacher's, 6 of the student's
    got = S.teacher_reads_own(student, KOREAN, reading_table(student, KOREAN), texts)
    assert (got.tokens, got.tokens_same, got.sentences, got.sentences_same) == (8, 1, 2, 0)  # only 예산 reaches it whole
    own = S.teacher_reads_own(KOREAN, KOREAN, reading_table(KOREAN, KOREAN), texts)
    assert (own.tokens, own.tokens_same, own.sentences_same) == (8, 8, 2)


def test_the_shortfall_names_the_cause_of_each_lost_word():
    student, first = small_student()
    korean = S.shortfall(student, KOREAN, reading_table(student, KOREAN), ["2021년 예산", "Ab2021"], first, "ko")
    # 2021년: the Korean pieces alone cut it as the teacher does, the added 2021 (the first added id) wins;
    # Ab2021: the Korean pieces alone already read "a" for the teacher's "A", the added ##2021 notwithstanding
    assert korean["by_cause"] == {S.FOLDED_AWAY: 4, S.ENGLISH_WINS: 3} and (korean["lost"], korean["tokens"]) == (7, 8)
    assert [(w["word"], w["teacher"], w["student"], w["cause"]) for w in korean["words"]] == [
        ("Ab2021", "A ##b ##20 ##21", "a ##b ##2021", S.FOLDED_AWAY), ("2021년", "20 ##21 ##년", "2021 ##년", S.ENGLISH_WINS)]
    assert korean["without_english_pieces"] == round(4 / 8, 4)  # 2021년 and 예산 read whole by the Korean half
    english = S.shortfall(student, ENGLISH, reading_table(student, ENGLISH), ["the 2021s", "a20"], first, "en")
    # the and 2021s (2021 ##s): the student lacks the and ##s; a20: the teacher's [UNK], the student's a ##20
    assert english["by_cause"] == {S.LEFT_OUT: 3, S.OTHER: 1} and "without_english_pieces" not in english


def test_a_piece_the_students_normaliser_erases_is_named_unreachable():
    """A Korean piece of a format character (zero-width space) or U+FFFD: the student's tokenizer removes it from
    text (BertNormalizer's cleaning), so it is never produced, and case-folding says so."""
    spec = tiny.wordpiece_spec(["가", "\u200b", "##\ufffd", "##나"], lowercase=False)
    folded, folding = S.casefold_vocab(spec)
    assert set(folding.unreachable) == {"\u200b", "##\ufffd"}
    assert all(why == "the normaliser erases it" for why in folding.unreachable.values())
    student = V.backend(S.uncased(folded))
    assert student.encode("가\u200b 가\ufffd나", add_special_tokens=False).tokens == ["가", "가", "##나"]
