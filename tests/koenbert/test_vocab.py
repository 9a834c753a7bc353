"""Vocabulary extension on the real vocabularies: bert-base-uncased's and a Korean WordPiece."""

import json

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from harness.koenbert import vocab as V
from harness.testing import tiny


@pytest.fixture(scope="module")
def specs(korean_tokenizer_dir, english_model_dir):
    ko = V.wordpiece_json(AutoTokenizer.from_pretrained(korean_tokenizer_dir), "ko")
    en = V.wordpiece_json(AutoTokenizer.from_pretrained(english_model_dir), "en")
    return ko, en


@pytest.fixture(scope="module")
def korean_text(shared_data):
    sentences = V.korean_sentences(shared_data)
    assert len(sentences) > 100_000  # ynat, sts, nli, ner and raw/ko: every Korean sentence there
    return sentences


def test_added_pieces_in_english_order_and_stable(specs):
    ko, en = specs
    a = V.extend_vocab(ko, en, policy="all")
    b = V.extend_vocab(ko, en, policy="all")
    assert a.added == b.added and json.dumps(a.spec) == json.dumps(b.spec)
    en_vocab, ko_vocab = en["model"]["vocab"], ko["model"]["vocab"]
    assert [en_vocab[p] for p in a.added] == sorted(en_vocab[p] for p in a.added)
    assert not any(p.startswith("[unused") or p in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]") for p in a.added)
    assert set(a.added) == {p for p in en_vocab if p not in ko_vocab and not V.UNUSED.fullmatch(p)} - V.special_pieces(en)
    ext_vocab = a.spec["model"]["vocab"]
    assert all(ext_vocab[p] == i for p, i in ko_vocab.items())  # Korean ids 0..N-1 unchanged
    assert [ext_vocab[p] for p in a.added] == list(range(len(ko_vocab), len(ko_vocab) + len(a.added)))
    # then the accented letters neither vocabulary holds, each a piece and a continuation piece
    assert [ext_vocab[p] for p in a.letters] == list(range(len(ko_vocab) + len(a.added), a.size))
    assert {"ü", "##ü"} <= set(a.letters) and not set(a.letters) & (set(ko_vocab) | set(a.added))
    assert a.size == len(ko_vocab) + len(a.added) + len(a.letters) == len(ext_vocab)
    assert a.spec["normalizer"] == ko["normalizer"] and a.spec["pre_tokenizer"] == ko["pre_tokenizer"]
    assert a.spec["added_tokens"] == ko["added_tokens"]  # pieces go into the WordPiece vocab, not added_tokens


def test_korean_safe_keeps_every_korean_sentence_unchanged(specs, korean_text):
    ko, en = specs
    reference = V.KoreanReference(ko, korean_text)
    ext = V.extend_vocab(ko, en, policy="korean-safe", reference=reference)
    assert ext.check["sentences_changed_if_all_added"] > 0  # adding all would change some: see vocab.py
    assert 0 < len(ext.excluded) < len(ext.candidates) // 10
    assert reference.changed(ext.spec) == []  # every sentence again, through a tokenizer built from the new JSON
    assert "2013" in ext.excluded and "…" in ext.excluded  # "2013년" and "…" occur in the Korean text


def test_new_pieces_start_after_every_id_the_korean_tokenizer_uses_added_tokens_included():
    spec = tiny.wordpiece_spec(["a", "##b"], lowercase=False)  # ids 0-6
    spec["added_tokens"].append({**spec["added_tokens"][0], "id": 9, "content": "<extra>"})  # beyond the vocab
    extended, first = V.with_pieces(spec, ["x", "##y"])
    assert first == 10 and [extended["model"]["vocab"][p] for p in ("x", "##y")] == [10, 11]
    assert spec["model"]["vocab"] == {p: i for p, i in extended["model"]["vocab"].items() if i < 7}  # a copy, grown


def test_without_reference_text_the_report_has_an_empty_korean_check(specs):
    ko, en = specs
    ext = V.extend_vocab(ko, en, policy="all")
    assert ext.check == {} and ext.excluded == [] and ext.added == ext.candidates


def test_korean_safe_drops_only_what_conflicts(specs):
    ko, en = specs
    sentences = ["2013년 서울모터쇼 참가", "관객 175만명을 넘어섰다"]
    ext = V.extend_vocab(ko, en, policy="korean-safe", reference=V.KoreanReference(ko, sentences))
    assert "2013" in ext.excluded and "the" in ext.added
    assert all(p[:1].isdigit() or p.startswith("##") for p in ext.excluded)
    assert V.KoreanReference(ko, sentences).changed(ext.spec) == []


def test_python_greedy_split_matches_the_tokenizers_library(specs, korean_text, shared_data):
    ko, en = specs
    ext = V.extend_vocab(ko, en, policy="all")
    tok = V.backend(ext.spec)
    words = set()
    for s in korean_text[::50] + [w for line in tiny.sst2_sentences(shared_data, 3000) for w in line.split()][:3000]:
        words.update(w for w, _ in tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(s)))
    words = sorted(words)
    vocab = ext.spec["model"]["vocab"]
    for word, enc in zip(words, tok.encode_batch([[w] for w in words], is_pretokenized=True, add_special_tokens=False)):
        pieces, ok = V.greedy_wordpiece(word, vocab)
        assert (pieces if ok else ["[UNK]"]) == enc.tokens, word


def test_not_wordpiece_is_refused(tmp_path):
    bpe = Tokenizer(models.BPE(vocab={"a": 0, "b": 1, "ab": 2, "[UNK]": 3}, merges=[("a", "b")], unk_token="[UNK]"))
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    with pytest.raises(V.ExtendError, match="not 'WordPiece'"):
        V.wordpiece_json(PreTrainedTokenizerFast(tokenizer_object=bpe), "--ko x")
    wp = Tokenizer(models.WordPiece(vocab={"a": 0, "b": 1, "[UNK]": 2}, unk_token="[UNK]", continuing_subword_prefix="@@"))
    with pytest.raises(V.ExtendError, match="continuation pieces"):
        V.wordpiece_json(PreTrainedTokenizerFast(tokenizer_object=wp), "--ko x")


def test_unknown_policy(specs):
    with pytest.raises(V.ExtendError, match="korean-safe"):
        V.extend_vocab(*specs, policy="some")


class _NoBackend:
    """A tokenizer without tokenizer.json (a Python-only one)."""


def test_refusals_say_in_full_what_the_tokenizer_is_and_what_koenbert_needs():
    with pytest.raises(V.ExtendError) as err:
        V.wordpiece_json(_NoBackend(), "--ko x")
    assert str(err.value) == ("--ko x: _NoBackend has no tokenizers backend (tokenizer.json); "
                              "koenbert extends BERT-style WordPiece tokenizers only")
    bpe = Tokenizer(models.BPE(vocab={"a": 0, "b": 1, "ab": 2, "[UNK]": 3}, merges=[("a", "b")], unk_token="[UNK]"))
    with pytest.raises(V.ExtendError) as err:
        V.wordpiece_json(PreTrainedTokenizerFast(tokenizer_object=bpe), "--en y")
    assert str(err.value) == ("--en y: tokenizer.json model.type is 'BPE', not 'WordPiece'; koenbert extends "
                              "BERT-style WordPiece vocabularies only (e.g. klue/bert-base, bert-base-uncased)")
    # the '##' prefix is set, but no piece uses it: not a BERT-style vocabulary either
    flat = Tokenizer(models.WordPiece(vocab={"a": 0, "b": 1, "[UNK]": 2}, unk_token="[UNK]", continuing_subword_prefix="##"))
    with pytest.raises(V.ExtendError) as err:
        V.wordpiece_json(PreTrainedTokenizerFast(tokenizer_object=flat), "--ko z")
    assert str(err.value) == ("--ko z: WordPiece model.continuing_subword_prefix is '##' and the vocab has no "
                              "'##' continuation pieces; koenbert needs a BERT-style WordPiece vocabulary")


def test_missing_data_files_are_named(tmp_path):
    assert V.data_files_missing(tmp_path) == ["raw/ko/*.tsv", "glue/SST-2/train.tsv"]
    (tmp_path / "raw/ko").mkdir(parents=True)
    (tmp_path / "raw/ko/news.tsv").write_text("1\t문장\n", encoding="utf-8")
    assert V.data_files_missing(tmp_path) == ["glue/SST-2/train.tsv"]
    (tmp_path / "glue/SST-2").mkdir(parents=True)
    (tmp_path / "glue/SST-2/train.tsv").write_text("sentence\tlabel\n", encoding="utf-8")
    assert V.data_files_missing(tmp_path) == []


def test_korean_sentences_are_read_from_every_kind_of_file(tmp_path):
    def put(name, text):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")

    put("raw/ko/a.tsv", '1\t첫 문장\n2\t"따옴표" 그대로\n')  # raw text: quotes are characters, not CSV quoting
    put("raw/ko/b.tsv", "3\t둘째 파일\n4\t   \n")  # a blank sentence is dropped
    put("klue/ynat/train.tsv", 'label\ttext\n3\t"제목, 하나"\n외톨이\n')  # header skipped, quoted field, short row
    put("klue/sts/extra.csv", "sentence1,sentence2,label\n마,바,1\n")
    put("klue/sts/dev.json", json.dumps([{"sentence1": "가", "sentence2": "나", "score": 1}], ensure_ascii=False))
    put("klue/nli/dev.json", json.dumps([{"premise": "다", "hypothesis": "라"}], ensure_ascii=False))
    put("klue/ner/dev.tsv", "## klue-ner-v1.1_dev_00001\t<서울:LC> 간다\n서\tB-LC\n울\tI-LC\n \tO\n간\tO\n다\tO\n")
    put("klue/ner/train.tsv", "## a\r\n하\tO\r\n\r\n## b\r\n늘\tO\r\n")  # CRLF line ends
    assert V.korean_sentences(tmp_path) == ["첫 문장", '"따옴표" 그대로', "둘째 파일", "제목, 하나", "마", "바",
                                            "다", "라", "가", "나", "서울 간다", "하", "늘"]


def test_an_accented_letter_is_added_only_where_the_english_teacher_reads_its_base_letter(specs):
    ko, en = specs
    student = V.with_pieces(ko, [])[0]
    assert {"ü", "##ü", "ö", "##ö"} <= set(V.accented_letters(student, en))
    vocab = {p: i for p, i in en["model"]["vocab"].items() if p not in ("u", "##u")}  # a teacher without u
    without_u = V.accented_letters(student, {**en, "model": {**en["model"], "vocab": vocab}})
    assert {"ö", "##ö"} <= set(without_u) and not {"ü", "##ü", "ú", "û"} & set(without_u)
