"""benchmarks/mini_koenbert.py at toy scale: the whole koenbert miniature runs end to end, offline.

Teacher pretraining, extend + distill per init, bench run records for every planned (model, task),
the table and the site. Toy scores are noise, so no score is checked, only what must hold.
"""

import json
import sys

import pytest
import torch
from transformers import AutoConfig, AutoTokenizer

from harness import records, results, tiny
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
        assert all(vocab[piece] == i for piece, i in ko_vocab.items())
        assert all(piece in vocab for piece in en_vocab if not piece.startswith("[unused"))
        assert AutoConfig.from_pretrained(student).vocab_size == len(vocab)
        assert (student / "distill.json").exists() and not (student / "checkpoints").exists()

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
            record = results.read_record(records.find_result(out / "results", model_id, task))
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
