"""The weighed vocabulary (harness/koenbert/weighing.py) with the real tokenizers library: small hand-made vocabularies
for each rule, then the test vocabularies (a cased 32k Korean WordPiece from the shared training text,
bert-base-uncased's) on the real training text, with a planted English piece."""

import re
from collections import Counter

import pytest
from transformers import AutoTokenizer

from harness.koenbert import segmentation as S
from harness.koenbert import vocab as V
from harness.koenbert import weighing as W
from harness.koenbert.corpus import reading_table
from harness.testing import tiny

# fixture vocabularies (synthetic): a cased Korean teacher that cuts "2021년" as 20 ##21 ##년, and an English
# teacher with a whole piece for 2021
KOREAN = tiny.wordpiece_spec(["20", "##21", "##년", "예산", "계획", "경제", "한국", "A", "a", "##b", "the"], lowercase=False)
ENGLISH = tiny.wordpiece_spec(["2021", "the", "year", "was", "cat", "ab", "a", "##b"], lowercase=True)


def weigh(korean_text: list[str], english_text: list[str], target: float = W.TARGET):
    student_korean = S.uncased(S.casefold_vocab(KOREAN)[0])
    candidates = V.candidate_pieces(student_korean, ENGLISH)[1]
    text = W.ReferenceText({"ko": korean_text}, {"en": english_text})
    keep, evidence = W.weigh(student_korean, KOREAN, ENGLISH, candidates, text, target)
    return candidates, keep, evidence


def test_a_piece_costing_korean_more_than_it_gives_english_is_left_out():
    english = ["the year 2021 was"] + ["the cat was the cat"] * 200  # 2021: a token in a thousand
    candidates, keep, evidence = weigh(["2021년 예산", "2021년 계획", "한국 경제"], english)
    assert {"2021", "year", "cat"} <= set(candidates)
    assert "2021" not in keep and {"year", "was", "cat"} <= set(keep)
    (left,) = evidence["left_out_costliest"]
    assert left["piece"] == "2021" and left["korean_cost"] > left["english_benefit"] > 0
    assert evidence["met"] and evidence["korean_sources"]["ko"]["agreement"] == 1.0
    assert evidence["korean_sources"]["ko"]["agreement_every_piece"] < 1.0  # 2021 ##년: the teacher lacks 2021
    assert evidence["english_sources"]["en"]["agreement"] < evidence["english_sources"]["en"]["agreement_every_piece"]


def test_a_piece_giving_english_more_than_it_costs_korean_is_kept_even_below_the_target():
    digits = [d for i in range(10) for d in (str(i), f"##{i}")]
    korean_teacher = tiny.wordpiece_spec(digits + ["##년", "예산", "A", "a", "##b"], lowercase=False)
    english_teacher = tiny.wordpiece_spec([str(year) for year in range(2011, 2022)] + ["the", "cat", "was"], lowercase=True)
    student_korean = S.uncased(S.casefold_vocab(korean_teacher)[0])
    candidates = V.candidate_pieces(student_korean, english_teacher)[1]
    # each year a Korean word once (~0.5% of the tokens); "Ab" (a collision, lost whatever is added) keeps the Korean
    # text below the target after all of them; "2021" is 0.6% of the English tokens: more than it costs Korean
    korean = [f"{year}년" for year in range(2011, 2022)] + ["Ab"] * 20 + ["예산"] * 900
    english = ["2021"] * 6 + ["the cat was"] * 331
    keep, evidence = W.weigh(student_korean, korean_teacher, english_teacher, candidates,
                             W.ReferenceText({"ko": korean}, {"en": english}))
    assert "2021" in keep and not {str(year) for year in range(2011, 2021)} & set(keep)
    (left,) = [x for x in evidence["left_out_costliest"] if x["piece"] == "2015"]
    assert left["english_benefit"] == 0 < left["korean_cost"]
    assert not evidence["met"] and evidence["korean_sources"]["ko"]["agreement"] < W.TARGET


def test_nothing_is_left_out_once_the_korean_text_is_at_the_target():
    _, keep, evidence = weigh(["2021년 예산", "2021년 계획", "한국 경제"], ["the year 2021 was"], target=0.0)
    assert "2021" in keep and evidence["left_out"] == 0 and evidence["rounds"] == 0


def test_no_piece_is_left_out_that_would_take_an_english_source_below_the_target():
    korean = ["2021년 예산"] * 5 + ["한국 경제"]
    english = {"news": ["the year 2021"], "films": ["the cat was the cat"]}
    student_korean = S.uncased(S.casefold_vocab(KOREAN)[0])
    candidates = V.candidate_pieces(student_korean, ENGLISH)[1]
    keep, evidence = W.weigh(student_korean, KOREAN, ENGLISH, candidates, W.ReferenceText({"ko": korean}, english))
    # 2021 costs Korean far more than its benefit averaged over the two English sources, but it is a third of "news"
    assert "2021" in keep and evidence["english_sources"]["news"]["agreement"] == 1.0


def test_a_word_the_korean_pieces_alone_cut_otherwise_counts_against_no_english_piece():
    # "A" and "a" fold to one text (kept: "a", the piece already lower-case); the teacher cuts "Ab" as A ##b,
    # the student reads a ##b: lost with or without "ab", which the English teacher has
    candidates, keep, evidence = weigh(["Ab 예산", "Ab 계획"], ["ab"] + ["the cat was the cat"] * 200)
    assert "ab" in candidates and "ab" in keep and evidence["left_out"] == 0
    assert evidence["korean_sources"]["ko"]["agreement_every_piece"] == evidence["korean_sources"]["ko"]["agreement"] < 1.0


def test_reference_text_is_training_text_only(shared_data):
    text, why = W.reference_text(shared_data)
    assert why == "" and set(text.english) == {"glue/mrpc", "glue/sst2", "glue/stsb"}  # QNLI has no train split here
    assert set(text.korean) == {"raw/ko/train-raw-sent.tsv", "klue/ynat/ynat_train.tsv", "klue/sts/klue_sts_train.csv"}
    validation = {t for _, lines in S.validation_texts(shared_data, ["klue/ynat", "glue/sst2"]).values() for t in lines}
    assert not validation & {t for lines in [*text.korean.values(), *text.english.values()] for t in lines}


def test_weighing_on_the_real_training_text_leaves_out_a_planted_piece_and_raises_korean_agreement(
        korean_32k_tokenizer_dir, english_model_dir, shared_data):
    ko = V.wordpiece_json(AutoTokenizer.from_pretrained(korean_32k_tokenizer_dir), "ko")
    en = V.wordpiece_json(AutoTokenizer.from_pretrained(english_model_dir), "en")
    text, _ = W.reference_text(shared_data)
    text = W.ReferenceText({n: lines[:15_000] for n, lines in text.korean.items()},
                           {n: lines[:15_000] for n, lines in text.english.items()})
    student_korean = S.uncased(S.casefold_vocab(ko, S.own_counts(ko, [t for v in text.korean.values() for t in v]))[0])
    # planted: the digits of the commonest Korean word "<digits>년" that neither vocabulary holds as one piece
    years = Counter(m for lines in text.korean.values() for t in lines for m in re.findall(r"(?<!\d)(\d{4})년", t))
    planted = next(y for y, _ in years.most_common() if y not in en["model"]["vocab"] and y not in ko["model"]["vocab"])
    en = {**en, "model": {**en["model"], "vocab": {**en["model"]["vocab"], planted: len(en["model"]["vocab"])}}}
    candidates = V.candidate_pieces(student_korean, en)[1]
    assert planted in candidates and {"the", "and", "movie"} <= set(candidates)
    keep, evidence = W.weigh(student_korean, ko, en, candidates, text)
    assert planted not in keep and {"the", "and", "movie"} <= set(keep)
    assert 0 < evidence["left_out"] < len(candidates) // 20
    korean = evidence["korean_sources"].values()
    assert evidence["met"] and all(a["agreement"] >= W.TARGET for a in korean)
    assert any(a["agreement_every_piece"] < W.TARGET for a in korean)  # every piece added, the target was not met
    assert all(a["agreement"] >= W.TARGET for a in evidence["english_sources"].values())
    # validation text the weighing never saw: the Korean teacher reads more of its own cut, the English teacher >= 99%
    sample = {t: (lang, lines[:1500]) for t, (lang, lines) in
              S.validation_texts(shared_data, ["klue/ynat", "klue/ner", "glue/mrpc", "glue/sst2"]).items()}
    weighed, every = V.with_pieces(student_korean, keep)[0], V.with_pieces(student_korean, candidates)[0]

    def reads(spec, task):
        lang, lines = sample[task]
        teacher = ko if lang == "ko" else en
        return S.teacher_reads_own(spec, teacher, reading_table(spec, teacher),
                                   lines).as_dict()["token_agreement"]

    for task in ("klue/ynat", "klue/ner"):
        assert reads(weighed, task) > reads(every, task) and reads(weighed, task) >= 0.985, task
    for task in ("glue/mrpc", "glue/sst2"):
        assert reads(weighed, task) >= 0.99, task


def test_the_weighed_policy_needs_its_function(specs_4k):
    ko, en = specs_4k
    with pytest.raises(V.ExtendError, match="training text"):
        V.extend_vocab(ko, en, policy="weighed")
    ext = V.extend_vocab(ko, en, policy="weighed", weigh=lambda c: ([p for p in c if p != "the"], {"left_out": 1}))
    assert ext.excluded == ["the"] and ext.check == {"left_out": 1} and ext.policy == "weighed"


@pytest.fixture(scope="module")
def specs_4k(korean_tokenizer_dir, english_model_dir):
    return (V.wordpiece_json(AutoTokenizer.from_pretrained(korean_tokenizer_dir), "ko"),
            V.wordpiece_json(AutoTokenizer.from_pretrained(english_model_dir), "en"))


def test_a_piece_costing_only_korean_text_already_at_the_target_is_kept():
    # "news" falls short for 2021년 alone; "films" holds one 2020년 among many words: at the target with every piece
    korean = {"news": ["2021년 예산"] * 5 + ["한국 경제"] * 100, "films": ["2020년 예산"] + ["한국 경제"] * 400}
    teacher = tiny.wordpiece_spec(["20", "##20", "##21", "##년", "예산", "한국", "경제"], lowercase=False)
    english = tiny.wordpiece_spec(["2020", "2021", "the", "cat", "was"], lowercase=True)
    student_korean = S.uncased(S.casefold_vocab(teacher)[0])
    candidates = V.candidate_pieces(student_korean, english)[1]
    # 2021 gives English a little (so 2020, which gives none, is weighed first), less than it costs Korean
    keep, evidence = W.weigh(student_korean, teacher, english, candidates,
                             W.ReferenceText(korean, {"en": ["the cat was"] * 100 + ["2021"]}))
    assert "2021" not in keep and "2020" in keep and evidence["left_out"] == 1
    films = evidence["korean_sources"]["films"]
    assert films["agreement"] == films["agreement_every_piece"] >= W.TARGET


def test_a_piece_giving_english_as_much_as_it_costs_korean_is_kept():
    # 2021년: 3 of the Korean teacher's 600 tokens (0.5%), "Ab" (a collision) keeps the text below the target;
    # 2021: 1 of the English teacher's 200 tokens (0.5%), within the room English has above the target
    teacher = tiny.wordpiece_spec(["20", "##21", "##년", "예산", "A", "a", "##b"], lowercase=False)
    english = tiny.wordpiece_spec(["2021", "the"], lowercase=True)
    student_korean = S.uncased(S.casefold_vocab(teacher)[0])
    text = W.ReferenceText({"ko": ["2021년"] + ["Ab"] * 2 + ["예산"] * 593}, {"en": ["2021"] + ["the"] * 199})
    keep, evidence = W.weigh(student_korean, teacher, english, V.candidate_pieces(student_korean, english)[1], text)
    assert keep == ["2021", "the"] and evidence["left_out"] == 0 and not evidence["met"]
