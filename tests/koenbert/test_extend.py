"""`bench koenbert extend` end to end on tiny models built around the real vocabularies."""

import json
import re

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer, PreTrainedTokenizerFast
from typer.testing import CliRunner

import hubcache
from harness.cli import app
from harness.koenbert import init as I
from harness.koenbert import segmentation as S
from harness.koenbert import vocab as V
from harness.koenbert.extend import REPORT_NAME

runner = CliRunner()


def bench(*args):
    result = runner.invoke(app, ["koenbert", "extend", *map(str, args)])
    return result, result.output + (result.stderr if result.stderr_bytes is not None else "")


@pytest.fixture(scope="module")
def extended(tmp_path_factory, tiny_korean_bert, tiny_english_bert, shared_data):
    out = tmp_path_factory.mktemp("extend") / "koen"
    result, text = bench("--ko", tiny_korean_bert, "--en", tiny_english_bert, "--out", out, "--data-dir", shared_data)
    assert result.exit_code == 0, text
    return out, text, json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))


def test_cli_end_to_end_report(extended):
    out, text, report = extended
    for words in ("Korean pieces", "shared pieces", "added pieces", "final vocab size", "teacher-side agreement",
                  "case-folded", "unreachable", "agreement >= 99% on every task", "held-out fit", "centred cosine", "R²",
                  "ridge alpha", "subword-mean", "weighing on training text",
                  "Korean pieces left unreachable"):
        assert words in text
    v = report["vocab"]
    assert report["schema"] == "koenbench.koenbert-extend/5"
    assert report["korean"]["pieces"] == 4000 and report["english"]["pieces"] == 30522
    # each model by its portable id and the sha256 of its files (a hub model: id and commit, test_sources.py)
    assert report["korean"]["model"]["source"] == report["english"]["model"]["source"] == "local"
    assert report["korean"]["model"]["revision"].startswith("sha256:") and report["korean"]["model"]["id"].startswith(".../")
    assert f"{report['english']['model']['id']}@{report['english']['model']['revision'][:19]}" in text
    assert v["policy"] == "weighed" and v["excluded"] > 0 and len(v["excluded_pieces"]) == min(200, v["excluded"])
    assert v["added"] + v["excluded"] == v["english_missing"]
    assert v["final_size"] == 4000 + v["added"] + v["accented_letters"] and "accented letters added" in text
    # the letters with marks the English teacher strips: each as a piece and a continuation piece
    assert {"ü", "##ü", "ö"} <= set(v["accented_letter_pieces"]) and v["accented_letters"] > 100
    assert v["shared"] + v["english_missing"] == 30522 - 999  # bert-base-uncased: 994 [unusedN] and 5 specials
    weighed = v["korean_check"]
    assert set(weighed["korean_sources"]) == {"raw/ko/train-raw-sent.tsv", "klue/ynat/ynat_train.tsv", "klue/sts/klue_sts_train.csv"}
    assert set(weighed["english_sources"]) == {"glue/mrpc", "glue/sst2", "glue/stsb"} and weighed["left_out"] == v["excluded"]
    seg = report["segmentation"]
    assert seg["design"] == "student" and len(seg["agreement"]) == 8  # every task's validation text
    assert seg["agreement_design"] == "student, case-folded" and seg["agreement"] == seg["options"]["student, case-folded"]
    every = seg["options"]["student, case-folded, every English piece"]
    assert all(every[t]["token_agreement"] >= 0.99 for t in every if t.startswith("glue/")), every
    # weighing keeps the English training text at its target, and so the tasks it comes from (QNLI has none here:
    # against this small Korean vocabulary it falls below 99%; see docs/koenbert-segmentation.md for the 32k one)
    assert all(a["agreement"] >= 0.993 for a in weighed["english_sources"].values())
    assert all(seg["agreement"][t]["token_agreement"] >= 0.99 for t in ("glue/mrpc", "glue/sst2", "glue/stsb"))
    # the 4,000-piece test vocabulary cuts Korean words with digits or Latin letters into few pieces, which
    # English pieces then replace: weighing raises the figure, which still fails here, and the table says so
    assert every["klue/ynat"]["token_agreement"] < seg["agreement"]["klue/ynat"]["token_agreement"] < 0.99
    assert "no: " in text and "klue/ynat" in text
    assert seg["options"]["cased"]["glue/mrpc"]["token_agreement"] < 0.9  # the earlier design's flaw, measured
    # why each task is not read whole, counted apart from the agreement figure: the two must tell the same story
    causes = {S.ENGLISH_WINS, S.FOLDED_AWAY, S.LEFT_OUT, S.OTHER}
    for task, f in seg["shortfall"].items():
        a = seg["agreement"][task]
        assert f["tokens"] == a["tokens"] and round(1 - f["lost"] / f["tokens"], 4) == a["token_agreement"], task
        assert sum(f["by_cause"].values()) == f["lost"] and set(f["by_cause"]) <= causes
        assert sum(w["tokens"] for w in f["words"]) <= f["lost"] and len(f["words"]) <= S.SHORTFALL_WORDS
        if task.startswith("klue/"):  # a word lost without any English piece is the case-folding's, never an English piece's
            assert f["by_cause"].get(S.FOLDED_AWAY, 0) <= round((1 - f["without_english_pieces"]) * f["tokens"]) + 1
            assert a["token_agreement"] <= f["without_english_pieces"] + 0.001
    ynat = seg["shortfall"]["klue/ynat"]
    assert ynat["by_cause"][S.ENGLISH_WINS] > 0 and "why klue/ynat misses the 99% goal" in text
    assert all(w["word"] in text for w in ynat["words"][:3])  # the costliest words, each with both cuts
    assert seg["hangul_words_changed"] == 0
    assert seg["korean_pieces"]["unreachable"] == len(seg["korean_pieces"]["unreachable_pieces"]) > 0
    assert all(piece in text for piece in seg["korean_pieces"]["unreachable_pieces"])  # each listed, with why
    h = report["init"]["heldout"]
    assert set(h["centred_cosine"]) == set(I.METHODS) == set(h["r2"]) and abs(h["centred_cosine"]["mean"]) < 0.05  # a constant: ~0
    assert h["r2"]["mean"] <= 0.0  # the mean of other rows explains none of the held-out rows' variance
    # the test vocabularies share no word of 3+ letters (single characters, "vs", "##km"), so all shared pieces are held from
    assert h["heldout_from"] == "all shared pieces (too few word-like)"
    assert h["ridge_alpha"] in I.RIDGE_ALPHAS
    assert report["init"]["requested"] == I.DEFAULT_INIT == "auto" and report["init"]["method"] == h["best"]


def test_saved_model_reloads_and_runs(extended, tiny_korean_bert, tiny_english_bert):
    out, _, report = extended
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForMaskedLM.from_pretrained(out).eval()
    size = report["vocab"]["final_size"]
    assert len(tok) == size == model.config.vocab_size
    batch = tok(["한국어 문장입니다.", "the movie was wonderfully bleak"], padding=True, return_tensors="pt")
    assert all(i < size for i in batch.input_ids.flatten().tolist())
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (2, batch.input_ids.shape[1], size) and torch.isfinite(logits).all()
    english_tok = AutoTokenizer.from_pretrained(tiny_english_bert)
    for text in ("the movie was wonderfully bleak", "The Cafe in Zurich, as The Prime Minister said"):
        assert tok.tokenize(text) == english_tok.tokenize(text)  # cased English is cut as the uncased teacher cuts it
    assert tok.tokenize("Café") != english_tok.tokenize("Café")  # accents kept (Hangul whole): the measured cost
    assert tok.tokenize("서울 한국어 문장") == AutoTokenizer.from_pretrained(tiny_korean_bert).tokenize("서울 한국어 문장")

    korean = AutoModelForMaskedLM.from_pretrained(tiny_korean_bert)
    english = AutoModel.from_pretrained(tiny_english_bert)
    rows = model.get_input_embeddings().weight.detach().numpy()
    assert np.array_equal(rows[:4000], korean.get_input_embeddings().weight.detach().numpy())
    assert model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    assert model.get_output_embeddings().bias.shape[0] == size
    # the new rows are the default method's prediction, fitted on every shared piece
    en_spec = V.wordpiece_json(AutoTokenizer.from_pretrained(tiny_english_bert), "en")
    saved = tok.get_vocab()
    ko_vocab = {p: i for p, i in saved.items() if i < 4000}  # the Korean ids, under their case-folded texts
    shared, _ = V.candidate_pieces({"model": {"vocab": ko_vocab}}, en_spec)
    added = sorted((p for p, i in saved.items() if i >= 4000), key=saved.__getitem__)
    ko_table = korean.get_input_embeddings().weight.detach().double().numpy()
    en_table = english.get_input_embeddings().weight.detach().double().numpy()
    en_vocab = en_spec["model"]["vocab"]
    strip = english_tok.backend_tokenizer.normalizer.normalize_str  # an accented letter's row: its base letter's
    from_english = [en_vocab[p] if p in en_vocab else en_vocab[p[:2] + strip(p[2:]) if p.startswith("##") else strip(p)]
                    for p in added]
    expected = I.new_rows(report["init"]["method"], en_table[[en_vocab[p] for p in shared]], ko_table[[ko_vocab[p] for p in shared]],
                          en_table[from_english], added, I.KoreanSide(ko_table, ko_vocab))
    assert np.allclose(rows[4000:], expected, atol=1e-6)


LOAD_TEXTS = ["한국어 문장입니다. 서울에서 KBS 뉴스를 봤다.", "The Café in Zürich, as The Prime Minister said",
              "LG전자가 5G 스마트폰 'Galaxy'를 2021년에 출시했다", "AI가 쓴 글: the movie was wonderfully bleak"]


def test_the_saved_student_loads_to_the_same_ids_three_ways_with_hangul_intact(extended):
    from transformers import BertTokenizer, BertTokenizerFast

    out, _, _ = extended
    loaded = [cls.from_pretrained(out) for cls in (AutoTokenizer, BertTokenizerFast, BertTokenizer)]
    reference = V.backend(json.loads((out / "tokenizer.json").read_text(encoding="utf-8")))  # what step 1 measured
    for text in LOAD_TEXTS:
        ids = [tok(text)["input_ids"] for tok in loaded]
        assert ids[0] == ids[1] == ids[2] == reference.encode(text).ids, text
        pieces = loaded[2].convert_ids_to_tokens(ids[2])
        assert not any("\u1100" <= ch <= "\u11ff" for p in pieces for ch in p), pieces  # never decomposed into jamo
    assert loaded[2].tokenize("서울 한국어") == loaded[0].tokenize("서울 한국어") and "서울" in loaded[2].tokenize("서울 한국어")
    assert loaded[2].tokenize("KBS") == loaded[0].tokenize("kbs")  # lowercased, whatever the class


def test_a_word_with_an_accented_letter_is_no_unknown_and_the_english_teacher_reads_its_base_letter(extended,
                                                                                                  tiny_english_bert):
    from harness.koenbert.corpus import teacher_map

    out, _, _ = extended
    student, teacher = AutoTokenizer.from_pretrained(out), AutoTokenizer.from_pretrained(tiny_english_bert)
    pieces = student.tokenize("Temüjin met Börte in Zürich")
    assert "[UNK]" not in pieces and "##ü" in pieces and "##ö" in pieces, pieces
    assert teacher.tokenize("Temüjin") == ["te", "##mu", "##jin"]  # the teacher strips the accent
    table, missing = teacher_map(student, teacher)
    read = teacher.convert_ids_to_tokens(table[student.convert_tokens_to_ids(pieces)].tolist())
    assert "##u" in read and "##o" in read and "[UNK]" not in read and "##ü" not in missing


def test_korean_tokenization_changes_only_through_added_pieces(extended, tiny_korean_bert, shared_data):
    """Every Korean sentence of the shared KLUE files: cut by the student's tokenizer as by its Korean half alone
    (the case-folded Korean pieces), or an added piece won a longest match; and every all-Hangul word is cut as
    the Korean teacher cuts it."""
    out, _, report = extended
    sentences = V.korean_sentences(shared_data)
    korean_spec = json.loads(AutoTokenizer.from_pretrained(tiny_korean_bert).backend_tokenizer.to_str())
    saved_spec = json.loads(AutoTokenizer.from_pretrained(out).backend_tokenizer.to_str())
    korean, saved = V.backend(korean_spec), V.backend(saved_spec)
    half = {p: i for p, i in saved_spec["model"]["vocab"].items() if i < 4000}
    folded = V.backend({**saved_spec, "model": {**saved_spec["model"], "vocab": half}})
    a = folded.encode_batch_fast(sentences, add_special_tokens=False)
    b = saved.encode_batch_fast(sentences, add_special_tokens=False)
    unk = korean.token_to_id("[UNK]")
    changed = 0
    for x, y in zip(a, b):
        if x.ids != y.ids:
            changed += 1
            assert any(i >= 4000 for i in y.ids) or unk in x.ids or unk in y.ids, (x.tokens, y.tokens)
    # a word written in Hangul syllables alone never changes: no English piece holds a syllable
    words = sorted({w for sentence in sentences for w, _ in korean.pre_tokenizer.pre_tokenize_str(sentence)
                    if HANGUL_WORD.fullmatch(w)})
    before = korean.encode_batch_fast(words, add_special_tokens=False)
    after = saved.encode_batch_fast(words, add_special_tokens=False)
    assert len(words) > 100_000
    assert [w for w, x, y in zip(words, before, after) if x.ids != y.ids] == []
    assert changed == report["vocab"]["korean_check"]["sentences_changed"]
    assert 0 < changed < len(sentences) / 2  # see vocab.py: digits, "…" and English words in Korean text


HANGUL_WORD = re.compile("[\uac00-\ud7a3]+")  # precomposed Hangul syllables only


def test_existing_out_dir_needs_force(tmp_path, tiny_korean_bert, tiny_english_bert):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result, text = bench("--ko", tiny_korean_bert, "--en", tiny_english_bert, "--out", out)
    assert result.exit_code == 2 and "--force" in text and "Traceback" not in text
    result, text = bench("--ko", tiny_korean_bert, "--en", tiny_english_bert, "--out", out, "--force")
    assert result.exit_code == 2 and "not an earlier extend output" in text
    assert (out / "keep.txt").read_text() == "mine" and sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_not_wordpiece_model_is_refused(tmp_path, tiny_english_bert):
    import shutil

    letters = {c: i for i, c in enumerate("abcdefghijklmnop")}
    bpe = Tokenizer(models.BPE(vocab={**letters, "ab": 16, "[UNK]": 17}, merges=[("a", "b")], unk_token="[UNK]"))
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="[UNK]").save_pretrained(tmp_path / "bpe")
    for name in ("config.json", "model.safetensors"):  # a whole model folder: what is wrong is its tokenizer's kind
        shutil.copy(tiny_english_bert / name, tmp_path / "bpe" / name)
    result, text = bench("--ko", tmp_path / "bpe", "--en", tiny_english_bert, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "WordPiece" in text and "Traceback" not in text
    assert not (tmp_path / "out").exists()


def test_bad_options_are_listed_together_and_hub_ids_explained(tmp_path, tiny_english_bert):
    result, text = bench("--ko", "x", "--en", "y", "--out", tmp_path, "--init", "lasso", "--heldout-fraction", "1.5")
    assert result.exit_code == 2
    assert "--init 'lasso'" in text and "--heldout-fraction" in text and "--force" in text
    absent = hubcache.fresh_repo_id("fixture/ko-model")  # not klue/bert-base: the README's hub test puts that id in this run's cache
    result, text = bench("--ko", absent, "--en", tiny_english_bert, "--out", tmp_path / "o")
    assert result.exit_code == 2 and "hub" in text and "--ko DIR" in text and "Traceback" not in text


@pytest.fixture()
def small_data(tmp_path, shared_data):
    """A few lines of the shared data in its layout: enough for the report, fast to tokenize."""
    root = tmp_path / "data"
    for name, lines in (("raw/ko/train-raw-sent.tsv", 300), ("glue/SST-2/train.tsv", 300)):
        (root / name).parent.mkdir(parents=True)
        with open(shared_data / name, encoding="utf-8") as f:
            (root / name).write_text("".join(next(f) for _ in range(lines)), encoding="utf-8")
    return root


def test_different_hidden_sizes(tmp_path, small_data, tiny_korean_bert, english_model_dir):
    from harness.koenbert.extend import extend_model
    from harness.testing import tiny

    wide = tiny.tiny_bert(english_model_dir, tmp_path / "en48", hidden_size=48, heads=2)
    report = extend_model(tiny_korean_bert, wide, tmp_path / "out", init="procrustes", data_dir=small_data)
    assert (report["korean"]["hidden_size"], report["english"]["hidden_size"]) == (32, 48)
    model = AutoModelForMaskedLM.from_pretrained(tmp_path / "out")
    assert model.get_input_embeddings().weight.shape == (report["vocab"]["final_size"], 32)
    # the real all-MiniLM-L6-v2 (384 wide) as the English side, into the same 32-wide Korean model
    report = extend_model(tiny_korean_bert, english_model_dir, tmp_path / "out", init="ols", force=True, data_dir=small_data)
    assert report["english"]["hidden_size"] == 384 and report["init"]["method"] == "ols"


def test_missing_embeddings_are_refused(tmp_path, small_data, tiny_korean_bert, tiny_english_bert):
    from safetensors.torch import load_file, save_file

    broken = tmp_path / "no-emb"
    AutoTokenizer.from_pretrained(tiny_english_bert).save_pretrained(broken)
    AutoModelForMaskedLM.from_pretrained(tiny_english_bert).config.save_pretrained(broken)
    weights = load_file(tiny_english_bert / "model.safetensors")
    save_file({k: v for k, v in weights.items() if "word_embeddings" not in k}, broken / "model.safetensors")
    result, text = bench("--ko", tiny_korean_bert, "--en", broken, "--out", tmp_path / "out", "--data-dir", small_data)
    assert result.exit_code == 2 and "no input embeddings" in text and "Traceback" not in text


def test_extend_without_the_shared_data_builds_the_model_and_says_what_was_not_measured(tmp_path, tiny_korean_bert,
                                                                                          tiny_english_bert):
    result, text = bench("--ko", tiny_korean_bert, "--en", tiny_english_bert, "--out", tmp_path / "out",
                         "--data-dir", tmp_path / "nothing-here")
    assert result.exit_code == 0, text
    report = json.loads((tmp_path / "out" / REPORT_NAME).read_text(encoding="utf-8"))
    assert report["vocab"]["added"] == 29_296 and report["vocab"]["korean_check"] == {}  # 3 shared once case-folded
    # nothing to weigh on: every English piece, and the report and log say so
    assert report["vocab"]["policy"] == "all" and report["vocab"]["requested"] == "weighed"
    assert report["vocab"]["requested_note"] == "no shared data to weigh on; every piece added"
    assert "--vocab weighed" in text
    assert report["segmentation"]["korean_pieces"]["renamed"] > 0  # folded all the same (collisions: the lower-case piece)
    assert report["segmentation"]["measured_on"].startswith("not measured")
    assert "not measured" in text
    AutoModelForMaskedLM.from_pretrained(tmp_path / "out")


def test_an_unknown_design_is_refused_with_the_other_options_before_anything_loads(tmp_path):
    from harness.koenbert.extend import check_options
    from harness.koenbert.vocab import ExtendError

    with pytest.raises(ExtendError) as err:
        check_options("ols", "all", 2.0, tmp_path / "out", False, tmp_path, design="lowercase")
    assert "design 'lowercase': use 'student' (the recipe) or 'cased' (the first design)" in str(err.value)
    assert "--heldout-fraction 2.0" in str(err.value)  # every problem at once


def test_names_with_rich_markup_print_as_written(tmp_path, tiny_korean_bert, tiny_english_bert):
    import shutil

    ko, en, out = tmp_path / "[red]x[" / "red]ko", tmp_path / "a[" / "]en", tmp_path / "[bold]o[" / "]out"
    shutil.copytree(tiny_korean_bert, ko)
    shutil.copytree(tiny_english_bert, en)
    result, text = bench("--ko", ko, "--en", en, "--out", out, "--data-dir", tmp_path / "nothing-here")
    assert result.exit_code == 0, text
    flat = "".join(text.split())  # the log wraps long lines
    assert ".../[red]x[/red]ko@" in flat and ".../a[/]en@" in flat and ".../[bold]o[/]out@" in flat


def test_the_agreement_table_names_the_cased_option_as_the_student_side(extended):
    import io

    from rich.console import Console

    from harness.koenbert.extend import render_report

    console = Console(file=io.StringIO(), width=400)
    console.print(render_report(extended[2]))
    assert "cased [student side]" in console.file.getvalue()


def test_out_never_replaces_a_model_it_reads(tmp_path, tiny_korean_bert, tiny_english_bert):
    import shutil

    parent = tmp_path / "earlier"  # an earlier extend output, used as --ko, with another model inside it
    shutil.copytree(tiny_korean_bert, parent)
    (parent / REPORT_NAME).write_text("{}", encoding="utf-8")
    shutil.copytree(tiny_english_bert, parent / "en")
    before = sorted(p.name for p in parent.rglob("*"))
    for out, flag in ((parent, "--ko"), (parent, "--en")):
        result, text = bench("--ko", parent, "--en", parent / "en", "--out", out, "--force", "--data-dir", tmp_path / "none")
        assert result.exit_code == 2 and "Traceback" not in text, text
        assert f"--out {out}: is the {flag} model's folder or holds it" in " ".join(text.split())
    assert sorted(p.name for p in parent.rglob("*")) == before


def test_an_existing_folder_that_is_no_extend_output_is_refused_without_suggesting_force_first(tmp_path):
    from harness.koenbert.extend import check_options
    from harness.koenbert.vocab import ExtendError

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(ExtendError, match=r"exists and is not an earlier extend output .*remove it yourself or choose another"):
        check_options("ols", "all", 0.1, tmp_path / "mine", False, tmp_path)


def test_the_same_model_as_korean_and_english_is_refused(tmp_path, tiny_korean_bert):
    import shutil

    shutil.copytree(tiny_korean_bert, tmp_path / "copy")  # the same files: the same model
    result, text = bench("--ko", tiny_korean_bert, "--en", tmp_path / "copy", "--out", tmp_path / "out",
                         "--data-dir", tmp_path / "none")
    assert result.exit_code == 2 and "Traceback" not in text
    assert "--ko and --en are the same model" in " ".join(text.split()) and not (tmp_path / "out").exists()


def test_the_verdict_holds_a_task_read_at_exactly_the_goal_as_meeting_it(extended):
    """The terminal table says "yes" when every task reaches AGREEMENT_GOAL (a task at exactly 99% included), else
    names the tasks below it."""
    import copy

    from rich.console import Console

    from harness.koenbert.extend import AGREEMENT_GOAL, render_report

    _, _, report = extended

    def verdict(agreements: dict) -> str:
        shown = copy.deepcopy(report)
        for task, a in agreements.items():
            shown["segmentation"]["agreement"][task]["token_agreement"] = a
        console = Console(record=True, width=400)
        console.print(render_report(shown))
        return next(line for line in console.export_text().splitlines() if "on every task" in line)

    tasks = list(report["segmentation"]["agreement"])
    assert "yes" in verdict({t: AGREEMENT_GOAL for t in tasks})
    assert "no: klue/ynat 98.99%" in verdict({**{t: 1.0 for t in tasks}, "klue/ynat": 0.9899})


def test_growing_the_korean_model_fills_the_new_rows_and_gives_them_the_korean_mean_mlm_bias(tiny_korean_bert):
    from harness.koenbert.extend import _grow

    model = AutoModelForMaskedLM.from_pretrained(tiny_korean_bert)
    before = model.get_input_embeddings().weight.detach().clone()
    with torch.no_grad():
        model.get_output_embeddings().bias.copy_(torch.linspace(-1.0, 2.0, 4000))  # a trained head's bias is not 0
    rows = np.random.default_rng(0).normal(size=(3, before.shape[1])).astype(np.float32)
    assert _grow(model, 4000, rows) == "Korean mean bias" and model.config.vocab_size == 4003
    weight, bias = model.get_input_embeddings().weight.detach(), model.get_output_embeddings().bias.detach()
    assert torch.equal(weight[:4000], before) and torch.equal(weight[4000:], torch.from_numpy(rows))
    assert model.get_output_embeddings().weight.data_ptr() == weight.data_ptr()  # the decoder stays tied
    assert torch.allclose(bias[4000:], torch.full((3,), 0.5)) and torch.equal(bias[:4000], torch.linspace(-1.0, 2.0, 4000))
