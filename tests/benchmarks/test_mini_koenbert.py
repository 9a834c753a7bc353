"""benchmarks/mini_koenbert.py: the whole koenbert miniature at toy scale, end to end, offline; and the committed
cpu report, whose summary must follow from its records.

Teacher pretraining, extend (the control), distillation per seed, the product's scheduler for every
planned (model, task), the claims from the product's statistics, the site. Toy scores are noise, so
no toy score is checked, only what must hold.
"""

import json
import os
import re
import sys

import pytest
import torch
from transformers import AutoConfig, AutoTokenizer

from harness.core.paths import REPO_ROOT
from harness.koenbert.segmentation import UNREACHABLE
from harness.koenbert.vocab import fold
from harness.results import records, store
from harness.testing import tiny

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import mini_koenbert  # noqa: E402

REPORT = REPO_ROOT / "reports" / "mini_koenbert"
STATUSES = {"supported", "not supported", "within noise"}


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def check_follows(summary: dict) -> None:
    """Each test's status follows from its verdict, interval and equivalence; each claim's from its average."""
    kinds = {key: kind for key, _, _, _, _, kind in mini_koenbert.CLAIMS}
    for t in summary["tests"]:
        assert t["low"] <= t["difference"] <= t["high"] and t["p"] <= t["p_holm"] <= 1
        detected = t["p_holm"] < 0.05
        assert t["verdict"] == ("no detectable difference" if not detected else "B better" if t["difference"] > 0 else "A better")
        assert (t["p"] < 0.05) == (t["low"] > 0 or t["high"] < 0)  # one rule: the interval excludes 0 where p < 0.05
        want = ("supported" if t["verdict"] == "B better" or (kinds[t["claim"]] == "keeps" and t["equivalent"])
                else "not supported" if t["verdict"] == "A better" else "within noise")
        assert t["status"] == want
    for key, claim in summary["claims"].items():
        average = [t for t in summary["tests"] if t["claim"] == key and t["of"] == claim["of"]]
        assert len(average) == 1 and claim["status"] == average[0]["status"] in STATUSES


@pytest.mark.slow
def test_toy_pipeline_end_to_end(tmp_path, shared_data, restore_threads):
    out, work = tmp_path / "report", tmp_path / "work"
    code = mini_koenbert.main(["--scale", "toy", "--out", str(out), "--work", str(work),
                               "--data-dir", str(shared_data), "--no-progress"])
    assert code == 0
    s = mini_koenbert.SCALES["toy"]

    # the Korean teacher: pretrained at the toy shape, with its own WordPiece vocabulary
    teacher = work / "ko-teacher"
    config = AutoConfig.from_pretrained(teacher)
    assert (config.hidden_size, config.num_hidden_layers) == (s.hidden, s.layers)
    mlm = json.loads((teacher / "mlm.json").read_text())
    assert mlm["tokens_trained"] == s.mlm_steps * s.mlm_batch * s.mlm_seq_len and mlm["heldout_loss"] > 0

    # the control and every student hold the Korean vocabulary at its old ids and every MiniLM piece but those the
    # weighed vocabulary left out: all but the specials, shared or added by step 1
    ko_vocab = AutoTokenizer.from_pretrained(teacher).get_vocab()
    en_vocab = AutoTokenizer.from_pretrained(tiny.minilm_dir()).get_vocab()
    specials = set(AutoTokenizer.from_pretrained(tiny.minilm_dir()).all_special_tokens)
    control = work / mini_koenbert.control_name(s.init)
    students = [work / mini_koenbert.student_name(s.init, d) for d in s.distill_seeds]
    for model in [control, *students]:
        vocab = AutoTokenizer.from_pretrained(model).get_vocab()
        by_id = {i: p for p, i in vocab.items()}  # each Korean id kept, under its case-folded text (or unreachable)
        assert all(by_id[i] in (piece, fold(piece), UNREACHABLE.format(piece)) for piece, i in ko_vocab.items())
        step1 = json.loads((control / "mini.json").read_text())
        english = [piece for piece in en_vocab if not piece.startswith("[unused") and piece not in specials]
        missing = [piece for piece in english if piece not in vocab]
        assert len(missing) == len(english) - step1["shared"] - step1["added"] < len(english) // 10
    # the students are distilled from the control, each with its own seed, so they differ from it and from each other
    for student, seed in zip(students, s.distill_seeds):
        cfg = json.loads((work / f"{student.name}.work" / "distill-config.json").read_text())
        assert cfg["student"] == str(control) and cfg["seed"] == seed
        assert (student / "distill.json").exists() and not (work / f"{student.name}.work" / "checkpoints").exists()
    weights = [(m / "model.safetensors").read_bytes() for m in [control, *students]]
    assert len(set(weights)) == len(weights)

    # a record for every planned (model, task), from the product's scheduler, with every fine-tuning seed
    summary = json.loads((out / "summary.json").read_text())
    prefix = "mini-koenbert-toy"
    planned = {f"{prefix}/{short}": s.tasks for short in mini_koenbert.model_names(s) if short != "en-teacher"}
    planned[f"{prefix}/en-teacher"] = s.en_teacher_tasks
    assert set(summary["models"]) == set(planned)
    found = store.scan(out / "results")
    for model_id, tasks in planned.items():
        for task in tasks:
            record = records.to_json(found.current(records.Identity(model_id))[task].record)
            seeds = mini_koenbert.fine_tuning_seeds(model_id.split("/")[-1], s)
            assert [x["seed"] for x in record["seeds"]] == list(seeds)
            assert record["data"]["train_examples"] == s.train_examples[task]
            assert summary["scores"][model_id][task]["mean"] == record["scores"][record["task"]["primary_metric"]]
            assert summary["floor"][task]["score"] == record["baseline"]["scores"][record["task"]["primary_metric"]]

    # the claims: every test of each, its status following from its numbers; the table and the site
    assert set(summary["claims"]) == {key for key, *_ in mini_koenbert.CLAIMS}
    assert {(t["claim"], t["of"]) for t in summary["tests"]} == {
        (key, of) for key, _, _, _, tasks, _ in mini_koenbert.CLAIMS for of in (*tasks, "average")}
    check_follows(summary)
    assert set(summary["intervals"]["student"]) == set(s.tasks)
    text = (out / "summary.md").read_text()
    for name in summary["models"].values():
        assert f"| {name} |" in text
    for claim in summary["claims"].values():
        assert f"| {claim['claim']} | **{claim['status']}** |" in text
    assert (out / "site" / "index.html").exists()

    # summary.md can be rewritten from summary.json alone, to the same text
    (out / "summary.md").unlink()
    assert mini_koenbert.main(["--scale", "toy", "--out", str(out), "--summary-only"]) == 0
    assert (out / "summary.md").read_text() == text


def test_the_committed_report_follows_from_its_records():
    """reports/mini_koenbert: the scores are the records' own, and the tests and claims are what the product's
    statistics give on those records (recomputed here); no path of the machine that wrote them."""
    summary = json.loads((REPORT / "summary.json").read_text(encoding="utf-8"))
    s = mini_koenbert.scale_of(summary)
    prefix = f"mini-koenbert-{summary['scale_name']}"
    assert set(summary["models"]) == {f"{prefix}/{short}" for short in mini_koenbert.model_names(s)}
    scores, floor = mini_koenbert.collect(REPORT, summary["models"], s.tasks)
    assert scores == summary["scores"] and floor == summary["floor"]
    assert all(set(row) == set(s.tasks) for model_id, row in scores.items() if not model_id.endswith("/en-teacher"))
    assert len(s.distill_seeds) >= 3 and mini_koenbert.control_name(s.init) in {m.split("/")[-1] for m in scores}
    assert mini_koenbert.claim_tests(REPORT, prefix, s) == summary["tests"]
    assert mini_koenbert.intervals(REPORT, prefix, s) == summary["intervals"]
    assert mini_koenbert.claims(summary["tests"]) == summary["claims"]
    check_follows(summary)
    assert (REPORT / "summary.md").read_text(encoding="utf-8") == mini_koenbert.markdown(summary)
    # the English distillation text held no train text of a scored English task
    assert all(v["train_in_text"] == 0 for v in summary["overlap"].values() if v["language"] == "en")
    for path in REPORT.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".md", ".yaml", ".html"):
            assert not re.search(r"/(work|tmp|home|root)/", path.read_text(encoding="utf-8")), path


REBUILD = """
import hashlib, sys
from pathlib import Path
from dataclasses import replace
sys.path.insert(0, "benchmarks")
import torch
import mini_koenbert as mk
from harness.core.paths import SHARED_DATA
torch.set_num_threads(1)
out = Path(sys.argv[1])
s = replace(mk.SCALES["toy"], mlm_steps=4)
corpus = mk.korean_text(Path(sys.argv[2]), out / "ko.txt", 3000)
mk.pretrain_korean_teacher(corpus, out / "teacher", s, log=lambda m: None)
print(hashlib.sha256((out / "teacher" / "model.safetensors").read_bytes()).hexdigest())
print(hashlib.sha256((out / "teacher" / "tokenizer.json").read_bytes()).hexdigest())
"""


@pytest.mark.slow
def test_the_korean_teacher_rebuilt_by_the_same_script_and_seed_is_the_same(tmp_path, shared_data):
    # each build in its own process: the tokenizer trainer's HashMap order is drawn per process, and it made
    # the cpu scale's teacher differ between two runs (vocabulary ids, then every weight)
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    built = [subprocess.run([sys.executable, "-c", REBUILD, str(tmp_path / name), str(shared_data)], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, check=True).stdout.split() for name in ("a", "b")]
    assert len(built[0]) == 2 and built[0] == built[1]
