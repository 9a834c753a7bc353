"""`bench koenbert build --recipe FILE`: the recipe schema (harness/koenbert/recipe.py) and step 1 then
step 2 end to end on tiny models with real vocabularies."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from transformers import AutoModelForMaskedLM, AutoModelForSequenceClassification, AutoTokenizer
from typer.testing import CliRunner

from harness.cli import app
from harness.koenbert import prepare
from harness.koenbert.distill import load_teacher
from harness.koenbert.minilm import QKVTap, minilm_loss
from harness.koenbert.recipe import RecipeError, load_recipe
from harness.testing import tiny


SHIPPED = Path(__file__).resolve().parents[2] / "harness" / "koenbert" / "recipes" / "koenbert-base.yaml"


def test_the_shipped_recipe_holds_the_original_settings():
    recipe = load_recipe(SHIPPED)
    assert (recipe.extend.ko, recipe.extend.en) == ("klue/bert-base", "bert-base-uncased")
    d = recipe.distill
    assert (d.ko_teacher, d.en_teacher) == ("klue/bert-base", "bert-base-uncased")
    assert (d.seq_len, d.batch_size, d.grad_accum, d.steps) == (256, 16, 1, 100_000)
    assert (d.lr, d.betas, d.weight_decay, d.warmup, d.clip, d.p_ko) == (5e-5, (0.9, 0.98), 0.01, 0.01, 1.0, 0.5)
    assert 768 % d.relation_heads == 0 and (d.teacher_layer, d.student_layer) == (-1, -1)
    assert d.for_student(recipe.extend.out).student == recipe.extend.out


def test_a_bad_recipe_names_the_file_and_every_bad_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({
        "extend": {"ko": "k", "en": "e", "out": "x", "heldout_fraction": 2},
        "distill": {"ko_teacher": "k", "en_teacher": "e", "ko_corpus": ["a"], "en_corpus": ["b"], "out": "y",
                    "lr": "fast", "batchsize": 8},
    }))
    with pytest.raises(RecipeError) as err:
        load_recipe(bad)
    message = str(err.value)
    assert message.startswith(f"{bad}: invalid recipe")
    assert "extend.heldout_fraction: Input should be less than 1 (got 2)" in message
    assert "distill.lr: Input should be a valid number" in message
    assert "distill.batchsize: unknown key; remove it or check its spelling" in message

    bad.write_text("distill: {student: s}\nextend: {}\n")
    with pytest.raises(RecipeError, match="distill.student: the student is step 1's output"):
        load_recipe(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(RecipeError, match="a recipe is a YAML mapping"):
        load_recipe(bad)
    with pytest.raises(RecipeError, match="no such file"):
        load_recipe(tmp_path / "missing.yaml")
    bad.write_bytes("extend: {ko: caf\u00e9}\n".encode("latin-1"))
    with pytest.raises(RecipeError, match=r"bad\.yaml: not UTF-8 text .*save the file as UTF-8"):
        load_recipe(bad)
    bad.write_text("extend: {ko: [\n")
    with pytest.raises(RecipeError, match=r"bad\.yaml: not valid YAML at line \d+, column \d+"):
        load_recipe(bad)


def test_build_extends_then_distils_into_a_model_bench_run_loads(tmp_path, korean_tokenizer_dir, english_model_dir, shared_data):
    ko_model = str(tiny.tiny_bert(korean_tokenizer_dir, tmp_path / "ko-bert", seed=2, init_range=0.1, dropout=0.0, heads=4,
                                  max_position_embeddings=128))
    (tmp_path / "ko.txt").write_text("\n".join(list(tiny.korean_sentences(shared_data))[:800]) + "\n")
    (tmp_path / "en.txt").write_text("\n".join(tiny.sst2_sentences(shared_data, 1000)) + "\n")
    extended = tmp_path / "[bold]s[" / "]extended"  # rich markup in a path prints as it is
    recipe = {
        "name": "tiny",
        "extend": {"ko": ko_model, "en": str(english_model_dir), "out": str(extended)},
        "distill": {"ko_teacher": ko_model, "en_teacher": str(english_model_dir), "ko_corpus": [str(tmp_path / "ko.txt")],
                    "en_corpus": [str(tmp_path / "en.txt")], "out": str(tmp_path / "koenbert"), "seq_len": 32,
                    "batch_size": 4, "steps": 6, "lr": 1e-2, "relation_heads": 4, "save_every": 3, "log_every": 1},
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(recipe))

    # step 1 and step 2's corpora first (e.g. on a CPU node), then the training, which reuses both
    prepared = CliRunner().invoke(app, ["koenbert", "build", "--recipe", str(path), "--no-progress", "--prepare-only"])
    assert prepared.exit_code == 0, prepared.output
    out = tmp_path / "koenbert"
    assert (extended / "model.safetensors").exists() and not out.exists()
    assert sorted(p.name for p in (tmp_path / "koenbert.work" / "chunks").iterdir()) == ["en.bin", "en.json", "ko.bin", "ko.json"]
    result = CliRunner().invoke(app, ["koenbert", "build", "--recipe", str(path), "--no-progress", "--resume"])
    assert result.exit_code == 0, result.output
    assert f"step 1: reusing {extended}" in result.output and "tokenizing" not in result.output
    summary = json.loads((out / "distill.json").read_text())
    assert summary["finished"]
    agreement = summary["segmentation_agreement"]  # step 1's measure, kept in the recipe's report
    # English: >= 99% where the weighed vocabulary had training text (QNLI has none; against this small Korean
    # vocabulary the weighing leaves out pieces it needs, test_extend.py)
    assert len(agreement) == 8 and all(agreement[t]["token_agreement"] >= 0.99 for t in ("glue/mrpc", "glue/sst2", "glue/stsb"))
    # the teacher-side figure can fail: the small test vocabulary loses Korean words with digits to English pieces
    assert any(a["token_agreement"] < 1.0 for a in agreement.values())
    model = AutoModelForSequenceClassification.from_pretrained(out, num_labels=3)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert model(**tokenizer(["a fine film", "좋은 영화"], padding=True, return_tensors="pt")).logits.shape == (2, 3)

    # Step 1 keeps the Korean model whole, and step 2's Korean teacher reads the English pieces the
    # student finds in Korean text through step 1's rows, so before any distillation the student reads
    # the Korean corpus exactly as its Korean teacher: the loss is 0. Both steps' ids fit together.
    cfg = load_recipe(path).distill.for_student(str(extended))
    student = AutoModelForMaskedLM.from_pretrained(extended).eval()
    teacher, t_tap, table, pieces = load_teacher(cfg, "ko", student, AutoTokenizer.from_pretrained(extended))
    ids = torch.as_tensor(prepare.load(cfg, "ko")[0][:64].astype(np.int64))  # the chunks in the work folder
    assert pieces["lacked"] > 0 and pieces["rows_added"] == pieces["lacked"]
    assert any(i >= len(AutoTokenizer.from_pretrained(ko_model)) for i in table[ids].flatten().tolist())  # rows were needed
    s_tap = QKVTap(student)
    with torch.no_grad():
        student.base_model(input_ids=ids)
        teacher(input_ids=torch.as_tensor(table)[ids])
    assert minilm_loss(t_tap.take(), s_tap.take(), torch.ones_like(ids), 4).item() == pytest.approx(0, abs=1e-6)

    again = CliRunner().invoke(app, ["koenbert", "build", "--recipe", str(path), "--no-progress"])
    assert again.exit_code == 2 and "exists and is not empty; pass --resume" in again.output.replace("\n", "")
    assert "Traceback" not in again.output
    resumed = CliRunner().invoke(app, ["koenbert", "build", "--recipe", str(path), "--resume", "--no-progress"])
    assert resumed.exit_code == 0, resumed.output
    assert "step 1: reusing" in resumed.output and "at step 6 of 6" in resumed.output.replace("\n", "")


@pytest.fixture
def teachers(tiny_korean_bert, tiny_english_bert) -> dict:
    return {"ko": str(tiny_korean_bert), "en": str(tiny_english_bert)}


def small_recipe(tmp_path, teachers, **distill) -> Path:
    """A recipe over two tiny teachers: these tests stop before step 1 loads anything."""
    for name in ("ko.txt", "en.txt"):
        (tmp_path / name).write_text("한 줄\n" if name == "ko.txt" else "a line\n", encoding="utf-8")
    recipe = {"extend": {"ko": teachers["ko"], "en": teachers["en"], "out": str(tmp_path / "extended")},
              "distill": {"ko_teacher": teachers["ko"], "en_teacher": teachers["en"], "ko_corpus": [str(tmp_path / "ko.txt")],
                          "en_corpus": [str(tmp_path / "en.txt")], "out": str(tmp_path / "koenbert"), "steps": 5, **distill}}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def build(*args):
    result = CliRunner().invoke(app, ["koenbert", "build", "--no-progress", *map(str, args)])
    return result, " ".join((result.output + (result.stderr if result.stderr_bytes is not None else "")).split())


def test_step_2_never_writes_into_step_1s_output(tmp_path, teachers):
    for key in ("out", "work"):
        path = small_recipe(tmp_path, teachers, **{key: str(tmp_path / "extended")})
        result, text = build("--recipe", path)
        assert result.exit_code == 2 and "Traceback" not in text, text
        assert f"distill.{key} {tmp_path / 'extended'}: is extend.out" in text
        assert not (tmp_path / "extended").exists()


def test_resume_with_other_step_2_settings_is_refused_before_step_1(tmp_path, teachers):
    path = small_recipe(tmp_path, teachers)
    work = tmp_path / "koenbert.work"
    (work / "checkpoints" / "step-00000002").mkdir(parents=True)
    saved = load_recipe(path).distill.for_student(str(tmp_path / "extended")).model_dump(mode="json")
    (work / "distill-config.json").write_text(json.dumps({**saved, "steps": 4, "resolved": {}}))
    result, text = build("--recipe", path, "--resume")
    assert result.exit_code == 2 and "Traceback" not in text, text
    assert "the settings differ from the run's" in text and "steps: 4 -> 5" in text
    assert not (tmp_path / "extended").exists()  # step 1 did not run


def test_a_step_1_report_that_cannot_be_read_is_named_with_the_fix(tmp_path, teachers):
    path = small_recipe(tmp_path, teachers)
    report = tmp_path / "extended" / "koenbert_extend_report.json"
    report.parent.mkdir()
    for content in ("garbage", '{"a": 1}', "[]"):
        report.write_text(content)
        result, text = build("--recipe", path, "--resume")
        assert result.exit_code == 2 and "Traceback" not in text, text
        assert f"{report}:" in text and "remove" in text and "extend.out" in text


def test_one_model_as_both_teachers_is_refused_before_step_1(tmp_path, teachers):
    path = small_recipe(tmp_path, teachers, en_teacher=teachers["ko"])
    result, text = build("--recipe", path)
    assert result.exit_code == 2 and "Traceback" not in text, text
    assert "distill.ko_teacher and distill.en_teacher are the same model" in text
    assert not (tmp_path / "extended").exists()  # step 1 did not run
