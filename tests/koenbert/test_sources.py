"""koenbert's models named as `bench run --model` names them (harness/koenbert/sources.py), on a real Hugging Face
cache (tests/hubcache.py, read offline by huggingface_hub and transformers themselves): a hub id is resolved once to
one commit's folder and loaded from there; the reports and the saved student name each model by id and revision."""

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import hubcache
from harness.cli import app
from harness.core import paths
from harness.koenbert.distill import DistillConfig, DistillError, distill
from harness.koenbert.extend import REPORT_NAME
from harness.run.models import local_revision


@pytest.fixture(scope="module")
def hub(tiny_korean_bert, english_model_dir):
    """Two model repos in the test run's hub cache: a tiny Korean BERT, and all-MiniLM-L6-v2 as an English one."""
    repos = {"ko": hubcache.fresh_repo_id("fixture/ko-model"), "en": hubcache.fresh_repo_id("fixture/en-model")}
    commits = {"ko": hubcache.write_model(hubcache.cache(), repos["ko"], tiny_korean_bert),
               "en": hubcache.write_model(hubcache.cache(), repos["en"], english_model_dir)}
    return repos, commits


@pytest.fixture()
def here(tmp_path, monkeypatch):
    """Run from the test's own folder (no folder there shadows a hub id), with a models.yaml naming the English repo."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def small_data(root: Path, shared_data: Path) -> Path:
    """A few lines of the shared data in its layout: enough for step 1's report, fast to tokenize."""
    for name, lines in (("raw/ko/train-raw-sent.tsv", 300), ("glue/SST-2/train.tsv", 300)):
        (root / name).parent.mkdir(parents=True)
        with open(shared_data / name, encoding="utf-8") as f:
            (root / name).write_text("".join(next(f) for _ in range(lines)), encoding="utf-8")
    return root


def paths_of_this_machine(folder: Path, *roots: Path) -> list[str]:
    """The files in ``folder`` whose bytes name one of ``roots``."""
    return [p.name for p in folder.rglob("*") if p.is_file() and any(str(r).encode() in p.read_bytes() for r in roots)]


def test_extend_and_distill_read_hub_models_by_id_and_name_them_by_commit(hub, here, shared_data, tmp_path_factory,
                                                                         monkeypatch, english_model_dir):
    repos, commits = hub
    result = CliRunner().invoke(app, ["koenbert", "extend", "--ko", repos["ko"], "--en", repos["en"], "--out", "extended",
                                      "--data-dir", str(small_data(here / "data", shared_data))])
    assert result.exit_code == 0, result.output
    report = json.loads((here / "extended" / REPORT_NAME).read_text(encoding="utf-8"))
    assert report["korean"]["model"] == {"id": repos["ko"], "revision": commits["ko"], "source": "hub"}
    assert report["english"]["model"] == {"id": repos["en"], "revision": commits["en"], "source": "hub"}
    assert report["english"]["pieces"] == 30522 and report["output"]["dir"] == "extended"
    assert f"{repos['en']}@{commits['en'][:12]}" in result.output and f"{repos['ko']}@{commits['ko'][:12]}" in result.output
    roots = (hubcache.cache(), tmp_path_factory.getbasetemp())
    assert paths_of_this_machine(here / "extended", *roots) == []

    # step 2: the student is step 1's folder; the Korean teacher a hub id; the English one a models.yaml name
    models_file = here / "models.yaml"
    models_file.write_text(yaml.safe_dump({"models": [{"id": repos["en"], "name": "fixture English teacher"}]}))
    monkeypatch.setattr(paths, "MODELS_FILE", models_file)
    for lang, text in (("ko", "한국어 문장을 읽는다 . 2021년 LG전자 발표 ."), ("en", "a charming film , and a short one .")):
        (here / f"{lang}.txt").write_text("\n".join(f"{text} {i}" for i in range(300)) + "\n", encoding="utf-8")
    cfg = DistillConfig(student="extended", ko_teacher=repos["ko"], en_teacher="fixture English teacher",
                        ko_corpus=["ko.txt"], en_corpus=["en.txt"], out="distilled", seq_len=32, batch_size=2, steps=2,
                        lr=1e-3, relation_heads=4, save_every=1, stop_at=1)
    distill(cfg, show_progress=False)
    summary = distill(cfg.model_copy(update={"stop_at": None}), resume=True, show_progress=False)
    assert summary["finished"] and summary["models"] == {
        "student": {"id": "extended", "revision": local_revision(here / "extended"), "source": "local"},
        "ko_teacher": {"id": repos["ko"], "revision": commits["ko"], "source": "hub"},
        "en_teacher": {"id": repos["en"], "revision": commits["en"], "source": "hub"},
    }
    assert json.loads((here / "distilled" / "distill.json").read_text())["models"] == summary["models"]
    assert paths_of_this_machine(here / "distilled", *roots) == []
    chunks = json.loads((here / "distilled.work" / "chunks" / "ko.json").read_text())
    assert chunks["made_from"]["cut_by"] == f"extended@{local_revision(here / 'extended')}"

    # the hub's main moves on: the run's teacher is no longer what main names, so the run does not resume on it
    moved = hubcache.write_model(hubcache.cache(), repos["en"], english_model_dir, salt="moved")
    with pytest.raises(DistillError, match=rf"the settings differ from the run's .*resolved: .*{commits['en']}.* -> .*{moved}"):
        distill(cfg.model_copy(update={"stop_at": None}), resume=True, show_progress=False)
    hubcache.point(hubcache.cache(), repos["en"], "model", commits["en"])  # main back where the other tests expect it


def test_a_hub_id_not_in_the_cache_is_refused_before_anything_loads_naming_the_flag(hub, here, tmp_path):
    repos, _ = hub
    missing = hubcache.fresh_repo_id("fixture/never-written")
    result = CliRunner().invoke(app, ["koenbert", "extend", "--ko", repos["ko"], "--en", missing, "--out", "out"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert f"--en: model '{missing}': not in the Hugging Face cache" in text and "hf download" in text
    assert "Or pass a local folder: --en DIR" in text and not (here / "out").exists()
    (here / "text.txt").write_text("a line of text .\n", encoding="utf-8")
    with pytest.raises(DistillError, match=rf"^--ko-teacher: model '{missing}': not in the Hugging Face cache"):
        distill(DistillConfig(student=repos["ko"], ko_teacher=missing, en_teacher=repos["en"], ko_corpus=["text.txt"],
                              en_corpus=["text.txt"], out="run"), show_progress=False)
    assert not (here / "run").exists() and not (here / "run.work").exists()
    # a folder that is not there: the flag named once, as `bench run` names --model
    result = CliRunner().invoke(app, ["koenbert", "extend", "--ko", "./no-such-folder", "--en", repos["en"], "--out", "out"])
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "--ko './no-such-folder': no such model folder" in text and "--ko: --ko" not in text
