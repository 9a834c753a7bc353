"""benchmarks/mini_koenbert.py at toy scale: the whole koenbert miniature runs end to end, offline.

Teacher pretraining, extend + distill per init, bench run records for every planned (model, task),
the table and the site. Toy scores are noise, so no score is checked, only what must hold.
"""

import json
import os
import sys

import pytest
import torch
from transformers import AutoConfig, AutoTokenizer

from harness import records, store, tiny
from harness.koenbert.segmentation import UNREACHABLE
from harness.koenbert.vocab import fold
from harness.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import mini_koenbert  # noqa: E402


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


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

    # every student holds the Korean vocabulary at its old ids and every MiniLM piece the distillation maps
    ko_vocab = AutoTokenizer.from_pretrained(teacher).get_vocab()
    en_vocab = AutoTokenizer.from_pretrained(tiny.minilm_dir()).get_vocab()
    for init in s.inits:
        student = work / mini_koenbert.student_name(init)
        vocab = AutoTokenizer.from_pretrained(student).get_vocab()
        by_id = {i: p for p, i in vocab.items()}  # each Korean id kept, under its case-folded text (or unreachable)
        assert all(by_id[i] in (piece, fold(piece), UNREACHABLE.format(piece)) for piece, i in ko_vocab.items())
        assert all(piece in vocab for piece in en_vocab if not piece.startswith("[unused"))
        assert AutoConfig.from_pretrained(student).vocab_size == len(vocab)
        assert (student / "distill.json").exists() and not (student / "checkpoints").exists()
        assert not (work / f"{mini_koenbert.student_name(init)}.work" / "checkpoints").exists()  # removed once done

    # a record for every planned (model, task), readable by the site's reader
    summary = json.loads((out / "summary.json").read_text())
    prefix = "mini-koenbert-toy"
    planned = {f"{prefix}/ko-teacher": mini_koenbert.KLUE + mini_koenbert.GLUE,
               f"{prefix}/{mini_koenbert.student_name(s.inits[0])}": mini_koenbert.KLUE + mini_koenbert.GLUE,
               f"{prefix}/en-teacher": s.en_teacher_tasks,
               **{f"{prefix}/{mini_koenbert.student_name(i)}": s.init_tasks for i in s.inits[1:]}}
    assert set(summary["models"]) == set(planned)
    for model_id, tasks in planned.items():
        for task in tasks:
            record = records.to_json(store.scan(out / "results").current(store.Identity(model_id))[task].record)
            assert [x["seed"] for x in record["seeds"]] == list(s.seeds)
            assert record["data"]["train_examples"] == s.train_examples[task]
            assert task in summary["scores"][model_id]

    # the table: every model's row, the comparisons, the checks; and the site
    text = (out / "summary.md").read_text()
    for name in summary["models"].values():
        assert f"| {name} |" in text
    assert "student − Korean teacher" in text and "majority class" in text
    assert set(summary["findings"]["student_minus_ko_teacher"]) == set(mini_koenbert.KLUE + mini_koenbert.GLUE)
    assert set(summary["findings"]["init_mean"]) == set(s.inits) and None not in summary["findings"]["init_mean"].values()
    assert set(summary["overlap"]) == set(mini_koenbert.KLUE + mini_koenbert.GLUE)
    assert (out / "site" / "index.html").exists()
    # step 1's segmentation agreement and init scores travel into the summary
    first = summary["students"][s.inits[0]]["extend"]
    assert set(first["segmentation"]["agreement"]) == set(mini_koenbert.KLUE + mini_koenbert.GLUE) | {"klue/nli", "klue/ner", "glue/qnli"}
    assert "Segmentation" in text and "ridge alpha" in text

    # summary.md can be rewritten from summary.json alone, with a hand-written explanation
    (out / "explanation.md").write_text("## Reading the numbers\n\nby hand\n")
    assert mini_koenbert.main(["--scale", "toy", "--out", str(out), "--summary-only"]) == 0
    assert (out / "summary.md").read_text().endswith("## Reading the numbers\n\nby hand\n")


REBUILD = """
import hashlib, sys
from pathlib import Path
from dataclasses import replace
sys.path.insert(0, "benchmarks")
import torch
import mini_koenbert as mk
from harness.paths import SHARED_DATA
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


@pytest.mark.slow
def test_toy_designs_builds_both_designs_from_one_teacher_and_compares_them(tmp_path, shared_data, restore_threads):
    from harness import models
    from harness.koenbert import segmentation

    out, work = tmp_path / "report", tmp_path / "work"
    assert mini_koenbert.main(["--scale", "toy-designs", "--out", str(out), "--work", str(work),
                               "--data-dir", str(shared_data), "--no-progress"]) == 0
    s = mini_koenbert.SCALES["toy-designs"]
    new, old = work / mini_koenbert.student_name("ols"), work / mini_koenbert.earlier_name("ols")
    # one Korean teacher, read by both students' distillations; the designs differ only where they should
    # each distillation keeps its settings in its work folder beside the model (<student>.work)
    configs = {p: json.loads((p.with_name(p.name + ".work") / "distill-config.json").read_text()) for p in (new, old)}
    assert {c["ko_teacher"] for c in configs.values()} == {str(work / "ko-teacher")}
    assert (configs[new]["segmentation"], configs[old]["segmentation"]) == ("student", "teachers")
    spec = {p: json.loads((p / "tokenizer.json").read_text(encoding="utf-8")) for p in (new, old)}
    assert segmentation.is_uncased(spec[new]) and not segmentation.is_uncased(spec[old])
    assert {k: v for k, v in configs[new].items() if k not in ("student", "out", "segmentation", "resolved", "work")} == \
        {k: v for k, v in configs[old].items() if k not in ("student", "out", "segmentation", "resolved", "work")}

    # the teacher scored is the one distilled from; each model on every task of the scale
    prefix = "mini-koenbert-toy-designs"
    teacher_record = records.to_json(store.scan(out / "results").current(store.Identity(f"{prefix}/ko-teacher"))[s.tasks[0]].record)
    assert teacher_record["model"]["revision"] == models.local_weights_sha256(work / "ko-teacher")
    summary = json.loads((out / "summary.json").read_text())
    for short in ("ko-teacher", new.name, old.name):
        assert set(summary["scores"][f"{prefix}/{short}"]) == set(s.tasks)

    # the comparison: per task, each design's delta and their change, from the scores
    designs, scores = summary["findings"]["designs"], summary["scores"]
    assert set(designs) == set(s.tasks)
    for task, d in designs.items():
        assert d["change"] == pytest.approx(scores[f"{prefix}/{new.name}"][task]["mean"] - scores[f"{prefix}/{old.name}"][task]["mean"], abs=0.01)
        assert d["change"] == pytest.approx(d["one_segmentation_minus_teacher"] - d["earlier_minus_teacher"], abs=0.02)
    text = (out / "summary.md").read_text()
    assert "change of the delta" in text and "Beyond seed noise:" in text
