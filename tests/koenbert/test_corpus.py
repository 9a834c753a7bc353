"""Corpora -> chunks of student ids, the ids each teacher reads for them, and the chunk order
(harness/koenbert/corpus.py), on real text and vocabularies."""

import json
import re
import unicodedata

import numpy as np
import pytest
from transformers import AutoTokenizer

from harness.koenbert.corpus import (LINES_PER_BATCH, ChunkOrder, ChunkStream, CorpusError, StudentIds, TaskIndex,
                                     TaskScreen, TaskText, build_chunks, corpus_files, id_dtype, teacher_map, text_batches,
                                     to_student_ids)
from harness.koenbert.vocab import fold
from harness.testing import tiny


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory, korean_tokenizer_dir, english_model_dir):
    student_dir = tiny.union_tokenizer(korean_tokenizer_dir, english_model_dir, tmp_path_factory.mktemp("union"))
    return {
        "ko": AutoTokenizer.from_pretrained(korean_tokenizer_dir),
        "en": AutoTokenizer.from_pretrained(english_model_dir),
        "student": AutoTokenizer.from_pretrained(student_dir),
    }


def korean_sentences(shared_data, n):
    return list(tiny.korean_sentences(shared_data))[:n]


def test_the_english_teacher_reads_the_students_pieces_which_are_its_own(tokenizers, shared_data):
    texts = tiny.sst2_sentences(shared_data, 3000)
    teacher, student = tokenizers["en"], tokenizers["student"]
    table, missing = teacher_map(student, teacher)
    ids = [np.asarray(student(t, add_special_tokens=False)["input_ids"]) for t in texts]
    assert sum(map(len, ids)) > 30_000  # real work, not a handful of pieces
    ascii_texts = [(text, i) for text, i in zip(texts, ids) if text.isascii()]  # the student keeps accents (segmentation.py)
    assert len(ascii_texts) > 0.98 * len(texts)
    for text, student_ids in ascii_texts:
        # the teacher reads the very pieces the student reads, and they are what its own tokenizer makes
        assert teacher.convert_ids_to_tokens(table[student_ids].tolist()) == student.convert_ids_to_tokens(student_ids.tolist())
        assert teacher.convert_ids_to_tokens(table[student_ids].tolist()) == teacher.tokenize(text)
    assert missing and all(p in student.get_vocab() for p in missing[:50])  # Korean pieces: the English teacher lacks them


def test_the_korean_teacher_reads_its_own_ids_and_unk_only_for_pieces_it_lacks(tokenizers, shared_data):
    texts = korean_sentences(shared_data, 3000)
    teacher, student = tokenizers["ko"], tokenizers["student"]
    table, missing = teacher_map(student, teacher)
    lacked = set(missing)
    n = unknown = 0
    for text in texts:
        pieces = student.tokenize(text)
        read = teacher.convert_ids_to_tokens(table[student.convert_tokens_to_ids(pieces)].tolist())
        for piece, seen in zip(pieces, read):
            n += 1
            unknown += piece in lacked
            assert seen == "[UNK]" if piece in lacked else fold(seen) == piece  # step 1's lg is read as LG
    assert n > 30_000 and unknown / n < 0.05  # English pieces in Korean words (digits, Latin) are the exception
    korean_ids = [i for i in range(len(teacher)) if i < len(student)]
    assert (table[korean_ids] == korean_ids).all()  # step 1 appends, never renumbers


def test_special_tokens_map_by_role(tokenizers):
    teacher, student = tokenizers["en"], tokenizers["student"]
    table, _ = teacher_map(student, teacher)
    for role in ("cls_token_id", "sep_token_id", "pad_token_id", "unk_token_id", "mask_token_id"):
        assert table[getattr(student, role)] == getattr(teacher, role)


def test_chunks_pack_lines_in_order_with_a_separator_between_them(tokenizers, shared_data, tmp_path):
    texts = tiny.sst2_sentences(shared_data, 400)
    (tmp_path / "a.txt").write_text("\n".join(texts[:200]) + "\n\n   \n", encoding="utf-8")  # blank lines are skipped
    (tmp_path / "b.txt").write_text("\n".join(texts[200:]), encoding="utf-8")
    student = tokenizers["student"]
    chunks = build_chunks(corpus_files([tmp_path], "--en-corpus"), student, 32, "--en-corpus")
    stream = [i for t in texts for i in student(t, add_special_tokens=False)["input_ids"] + [student.sep_token_id]]
    assert chunks.shape == (len(stream) // 30, 32) and chunks.dtype == np.int32
    assert (chunks[:, 0] == student.cls_token_id).all() and (chunks[:, -1] == student.sep_token_id).all()
    assert chunks[:, 1:-1].reshape(-1).tolist() == stream[: len(chunks) * 30]  # the remainder is dropped
    assert (chunks[:, 1:-1] == student.sep_token_id).sum() >= 300  # documents are separated


def test_chunk_order_is_built_once_per_language_per_epoch_however_often_languages_switch():
    orders = {"ko": ChunkOrder(1000, 10, seed=0, lang_index=0), "en": ChunkOrder(700, 10, seed=0, lang_index=1)}
    cursors = {"ko": [0, 0], "en": [0, 0]}
    coins = np.random.default_rng(1).random(1000) < 0.5  # ~500 switches between languages
    seen = {"ko": [], "en": []}
    for korean in coins:
        lang = "ko" if korean else "en"
        rows, cursors[lang] = orders[lang].take(cursors[lang], 0, 10)
        seen[lang].append(rows)
    for lang, order in orders.items():
        epochs = cursors[lang][0] + 1
        assert order.built == epochs  # one permutation per epoch, not one per switch
        first = np.concatenate(seen[lang][: order.n_chunks // 10])
        assert sorted(first.tolist()) == list(range(order.n_chunks))  # an epoch reads every chunk once
    assert orders["ko"].built + orders["en"].built < 20


def test_chunk_order_gives_each_process_its_slice_of_the_global_batch():
    one, two = ChunkOrder(100, 8, seed=3, lang_index=0), ChunkOrder(100, 8, seed=3, lang_index=0)
    rows, _ = one.take([0, 0], 0, 8)
    a, _ = two.take([0, 0], 0, 4)
    b, _ = two.take([0, 0], 4, 4)
    assert rows.tolist() == a.tolist() + b.tolist()
    other_language, _ = ChunkOrder(100, 8, seed=3, lang_index=1).take([0, 0], 0, 8)
    next_epoch, _ = ChunkOrder(100, 8, seed=3, lang_index=0).take([1, 0], 0, 8)
    assert len({tuple(rows.tolist()), tuple(other_language.tolist()), tuple(next_epoch.tolist())}) == 3


def test_bad_corpora_are_refused_with_the_flag_and_the_fix(tokenizers, tmp_path):
    student = tokenizers["student"]
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
        build_chunks([blank], student, 32, "--en-corpus")
    short = tmp_path / "short.txt"
    short.write_text("too short\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="only 3 tokens, fewer than one chunk of 32"):
        build_chunks([short], student, 32, "--en-corpus")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("first line\ncaf\u00e9\n".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"latin1.txt: line 2 is not UTF-8"):
        build_chunks([latin1], student, 32, "--en-corpus")


def test_the_first_design_each_teacher_cuts_its_own_text_and_reads_it_back(tokenizers, shared_data, tmp_path):
    # distill's segmentation "teachers": the teacher's cut in student ids; through teacher_map the teacher
    # reads exactly what its own tokenizer made, and the student reads the same pieces
    (tmp_path / "ko.txt").write_text("\n".join(korean_sentences(shared_data, 2000)) + "\n", encoding="utf-8")
    teacher, student = tokenizers["ko"], tokenizers["student"]
    cut = build_chunks([tmp_path / "ko.txt"], teacher, 64, "--ko-corpus")
    ids = to_student_ids(cut, teacher, student, "--ko-corpus")
    table, _ = teacher_map(student, teacher)
    assert (table[ids] == cut).all() and cut.size > 30_000
    assert student.convert_ids_to_tokens(ids[5].tolist()) == teacher.convert_ids_to_tokens(cut[5].tolist())
    # the student's own cut differs somewhere (digits, Latin letters next to Hangul): the designs are not the same
    own = build_chunks([tmp_path / "ko.txt"], student, 64, "--ko-corpus")
    assert own.shape != ids.shape or (own != ids).any()


def test_the_first_design_needs_every_piece_the_teacher_cuts_in_the_student(tokenizers, shared_data, tmp_path):
    (tmp_path / "en.txt").write_text("\n".join(tiny.sst2_sentences(shared_data, 200)) + "\n", encoding="utf-8")
    english, korean = tokenizers["en"], tokenizers["ko"]
    cut = build_chunks([tmp_path / "en.txt"], english, 32, "--en-corpus")
    with pytest.raises(CorpusError, match="--en-corpus: the student lacks .*bench koenbert extend"):
        to_student_ids(cut, english, korean, "--en-corpus")  # a Korean-only student lacks English pieces


def test_a_corpus_file_that_is_not_plain_text_is_refused_before_anything_is_loaded(tmp_path, shared_data):
    def refused(name: str, content: bytes, reason: str):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(CorpusError, match=rf"^--ko-corpus {re.escape(str(path))}: {reason}"):
            corpus_files([tmp_path / "good.txt", path], "--ko-corpus")

    (tmp_path / "good.txt").write_text("한국어 문장 하나\n", encoding="utf-8")
    refused("blank.txt", b"\n \n", r"empty \(no non-blank line\)")
    refused("zeros.txt", bytes(4096), r"holds NUL bytes: a binary file, not text")
    refused("cp949.txt", "한국어 문장 하나\n".encode("cp949"), r"not UTF-8 text \(byte 0xc7 at offset 0\); convert the file to UTF-8")
    # the KLUE raw files: an id, a tab, the sentence; the ids would become corpus text
    raw = (shared_data / "raw/ko/train-raw-sent.tsv").read_bytes()[:20_000]
    refused("raw.tsv", raw, r"every one of its first \d+ lines starts with an id and a tab.*cut -f2")
    # a long file whose first block ends inside a character, and text with a tab inside a sentence, are fine
    long = tmp_path / "long.txt"
    long.write_bytes(("가" * 70_000 + "\n").encode("utf-8"))
    tabs = tmp_path / "tabs.txt"
    tabs.write_text("a sentence\twith a tab\nanother sentence\n", encoding="utf-8")
    assert corpus_files([long, tabs], "--ko-corpus") == [long, tabs]


def test_a_remainder_waits_for_the_next_batch_of_lines(tokenizers):
    """Lines are tokenized a batch at a time (text_batches): the pieces after a batch's last whole chunk start the
    next batch's first chunk, so the chunks are the whole stream cut in order, whatever the batches."""
    texts = [f"line {i} of many ." for i in range(LINES_PER_BATCH + 7)]
    tokenizer = tokenizers["en"]
    pieces = [ids + [tokenizer.sep_token_id] for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    first = len(next(text_batches(texts)))
    assert first < len(texts) and sum(map(len, pieces[:first])) % 35  # the first batch ends inside a chunk
    stream = [i for ids in pieces for i in ids]
    chunks = np.concatenate(list(ChunkStream(texts, tokenizer, 37)))  # 35 pieces a chunk
    assert len(chunks) == len(stream) // 35
    assert chunks[:, 1:-1].reshape(-1).tolist() == stream[: len(chunks) * 35]


def test_ids_are_stored_in_two_bytes_up_to_65536_pieces_and_four_beyond():
    assert id_dtype(62_000) == id_dtype(1 << 16) == np.uint16 and np.iinfo(np.uint16).max == (1 << 16) - 1  # ids 0..65,535
    assert id_dtype((1 << 16) + 1) == np.uint32


def test_special_tokens_map_by_role_to_a_teacher_that_writes_them_otherwise():
    """A teacher whose special tokens are <s>, </s>, ... at other ids: each of the student's specials is read as the
    teacher's of the same role, and a piece the teacher lacks as the teacher's <unk>, never as the student's [UNK] id."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<unk>", "<mask>"]
    core = Tokenizer(models.WordPiece({p: i for i, p in enumerate(specials + ["the", "film", "##s"])}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    teacher = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>", cls_token="<s>",
                                      sep_token="</s>", eos_token="</s>", unk_token="<unk>", mask_token="<mask>")
    student = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(
        tiny.wordpiece_spec(["the", "film", "##s", "서울"], lowercase=True))), pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", unk_token="[UNK]", mask_token="[MASK]")
    table, missing = teacher_map(student, teacher)
    read = teacher.convert_ids_to_tokens(table.tolist())
    assert read == ["<pad>", "<unk>", "<s>", "</s>", "<mask>", "the", "film", "##s", "<unk>"]
    assert missing == ["서울"]
    # and back (the first design): the teacher's cut <s> the film </s> in the student's ids, its specials by role
    assert to_student_ids(np.array([[1, 5, 6, 2]]), teacher, student, "--en-corpus").tolist() == [[2, 5, 6, 3]]


def test_the_first_design_streams_the_teachers_cut_in_student_ids_between_the_students_cls_and_sep(tokenizers, shared_data):
    """prepare's path for ``segmentation: teachers``: the English teacher cuts, each batch is converted to student
    ids, and every chunk is wrapped in the student's [CLS] and [SEP] (not the teacher's ids of them)."""
    texts = tiny.sst2_sentences(shared_data, 300)
    teacher, student = tokenizers["en"], tokenizers["student"]
    assert (teacher.cls_token_id, teacher.sep_token_id) != (student.cls_token_id, student.sep_token_id)
    stream = ChunkStream(texts, teacher, 32, convert=StudentIds(teacher, student, "--en-corpus"),
                         cls_id=student.cls_token_id, sep_id=student.sep_token_id)
    chunks = np.concatenate(list(stream))
    cut = np.concatenate(list(ChunkStream(texts, teacher, 32)))  # in the teacher's ids, its own [CLS] and [SEP]
    assert np.array_equal(chunks, to_student_ids(cut, teacher, student, "--en-corpus")) and len(chunks) > 50
    assert (chunks[:, 0] == student.cls_token_id).all() and (chunks[:, -1] == student.sep_token_id).all()


def test_the_screen_drops_a_validation_text_whatever_its_unicode_form_and_spacing():
    index = TaskIndex({"klue/ynat": TaskText("ko", ["한국 경제 성장", "a b c"], ["훈련 문장"], carved=False),
                       "klue/ner": TaskText("ko", ["가나다라마바사아자차카타파하"], ["나"], carved=True)})  # the longest: 14
    screen = TaskScreen(index)
    lines = [unicodedata.normalize("NFD", "한국 경제 성장"),  # 18 characters: the same text decomposed into jamo
             "a" + " " * 20 + "b c",  # 24 characters, longer than any task's text: only spacing differs
             "훈련  문장", "나", "다른 문장", "a b c d"]
    assert list(screen(lines)) == ["훈련  문장", "다른 문장", "a b c d"]  # a train text is kept (and counted)
    assert screen.report() == {"validation_lines_dropped": {"klue/ner": 1, "klue/ynat": 2},
                               "train_lines_kept": {"klue/ynat": 1}, "checked_against": ["klue/ner", "klue/ynat"]}


def test_the_screen_drops_the_longest_validation_text_decomposed_and_spread_out():
    longest = "강남역 삼성동"  # every syllable three jamo: decomposed, the text is nearly three times as long
    screen = TaskScreen(TaskIndex({"klue/sts": TaskText("ko", [longest], ["짧은 글"], carved=False)}))
    lines = [unicodedata.normalize("NFD", longest), "  ".join(unicodedata.normalize("NFD", longest).split()) + "\t\t", "짧은 글"]
    assert list(screen(lines)) == ["짧은 글"]
    assert screen.report()["validation_lines_dropped"] == {"klue/sts": 2}
