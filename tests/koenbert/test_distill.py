"""The distillation loop (harness/koenbert/distill.py) on tiny models with real vocabularies and real text:
it learns, it resumes exactly, two processes agree with one, and bad input stops it before any step."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file
from transformers import AutoTokenizer, GPT2Config, GPT2Model
from typer.testing import CliRunner

from harness.koenbert.corpus import CorpusError
from harness.koenbert.distill import DistillConfig, DistillError, distill
from harness.koenbert.minilm import AttentionError
from harness.run.models import local_revision, portable_id
from harness.testing import tiny
from harness.testing import tiny



@pytest.fixture(scope="module")
def world(tmp_path_factory, korean_tokenizer_dir, english_model_dir, shared_data):
    """Students, teachers and corpora, as in koenbert: the student is the Korean teacher with the union
    vocabulary. The English teacher is the real all-MiniLM-L6-v2 (6 x 384); the Korean teacher is a tiny
    random BERT whose larger initialisation (0.1) gives its attention some structure to keep."""
    root = tmp_path_factory.mktemp("distill-world")
    union = tiny.union_tokenizer(korean_tokenizer_dir, english_model_dir, root / "union-tokenizer")
    (root / "ko.txt").write_text("\n".join(list(tiny.korean_sentences(shared_data))[:1500]) + "\n", encoding="utf-8")
    (root / "en.txt").write_text("\n".join(tiny.sst2_sentences(shared_data, 2000)) + "\n", encoding="utf-8")
    small = dict(heads=4, max_position_embeddings=128)
    ko_teacher = tiny.tiny_bert(korean_tokenizer_dir, root / "ko-teacher", seed=2, init_range=0.1, **small)
    return {
        "root": root,
        "student": str(tiny.extended_student(ko_teacher, union, root / "student")),
        "student_no_dropout": str(tiny.extended_student(ko_teacher, union, root / "student-no-dropout", dropout=0.0)),
        "ko_teacher": str(ko_teacher),
        "en_teacher": str(english_model_dir),
        "ko_corpus": [str(root / "ko.txt")],
        "en_corpus": [str(root / "en.txt")],
    }


def config(world, out, **overrides) -> DistillConfig:
    settings = dict(student=world["student"], ko_teacher=world["ko_teacher"], en_teacher=world["en_teacher"],
                    ko_corpus=world["ko_corpus"], en_corpus=world["en_corpus"], out=str(out),
                    seq_len=32, batch_size=4, steps=30, lr=1e-2, relation_heads=4, log_every=1, save_every=10)
    return DistillConfig(**{**settings, **overrides})


def work(out) -> Path:
    """The run's work folder: beside --out (checkpoints, chunks, log.jsonl)."""
    return Path(f"{out}.work")


def log(out):
    return [json.loads(line) for line in (work(out) / "log.jsonl").read_text().splitlines()]


def test_thirty_steps_lower_the_loss_and_leave_a_model_that_bench_run_can_load(world, tmp_path, tmp_path_factory):
    out = tmp_path / "run"
    summary = distill(config(world, out), show_progress=False)
    records = log(out)
    assert [r["step"] for r in records] == list(range(1, 31)) and summary["finished"]
    losses = {lang: [r[f"loss_{lang}"] for r in records if r[f"loss_{lang}"] is not None] for lang in ("ko", "en")}
    first, last = {}, {}
    for lang, values in losses.items():
        first[lang], last[lang] = sum(values[:3]) / 3, sum(values[-3:]) / 3
        print(f"\n{lang}: {len(values)} steps, loss {first[lang]:.4f} (mean of first 3) -> {last[lang]:.4f} (last 3)")
    assert last["en"] < 0.9 * first["en"]  # it learns English from the English teacher ...
    assert max(losses["ko"]) < 0.25 * first["en"]  # ... and stays close to the Korean teacher it started as
    print(f"tokens/s (CPU, last step): {records[-1]['tokens_per_s']:,.0f}; whole run {summary['wall_s']:.1f} s")
    assert records[-1]["tokens"] == 30 * 4 * 32

    from transformers import AutoModelForSequenceClassification

    # The published folder holds the model alone, and names every model by its id and revision, never a path here
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "distill.json", "model.safetensors", "tokenizer.json",
                                                     "tokenizer_config.json"]
    assert sorted(p.name for p in work(out).iterdir()) == ["checkpoints", "chunks", "distill-config.json", "log.jsonl"]
    for role in ("student", "ko_teacher", "en_teacher"):
        assert summary["models"][role] == {"id": portable_id(world[role]), "revision": local_revision(Path(world[role])),
                                           "source": "local"}
    here = str(tmp_path_factory.getbasetemp()).encode()
    assert not [p.name for p in out.iterdir() if here in p.read_bytes()]
    # the corpora were screened against the eight tasks: the English text is SST-2's train sentences, kept and counted
    en = summary["corpus"]["en"]
    assert en["checked_against"] == sorted(en["validation_lines_dropped"]) and len(en["checked_against"]) == 8
    assert en["lines_read"] == 2000 and en["train_lines_kept"]["glue/sst2"] == en["lines_used"] > 1900
    print(f"English corpus: {en['validation_lines_dropped']} validation lines dropped, {en['train_lines_kept']} train lines kept")

    model = AutoModelForSequenceClassification.from_pretrained(out, num_labels=2)
    tokenizer = AutoTokenizer.from_pretrained(out)
    batch = tokenizer(["a charming film .", "한국어 문장도 읽는다."], padding=True, return_tensors="pt")
    assert model(**batch).logits.shape == (2, 2)
    assert len(tokenizer) == len(AutoTokenizer.from_pretrained(world["student"]))


def test_resume_follows_the_uninterrupted_loss_curve(world, tmp_path):
    """Dropout is on: the resumed run must also restore every RNG, not only weights and data position."""
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    distill(config(world, whole, steps=12, save_every=4), show_progress=False)
    distill(config(world, parts, steps=12, save_every=4, stop_at=10), show_progress=False)
    assert not (parts / "model.safetensors").exists()  # stopped early: no final model yet
    assert sorted(p.name for p in (work(parts) / "checkpoints").iterdir()) == ["step-00000008", "step-00000010"]
    shutil.rmtree(work(parts) / "checkpoints" / "step-00000010")  # a crash after step 10, before its checkpoint
    summary = distill(config(world, parts, steps=12, save_every=4), resume=True, show_progress=False)
    assert summary["finished"]
    a, b = log(whole), log(parts)
    assert [r["step"] for r in b] == list(range(1, 13))  # lines 9-10 of the crashed run were rewritten
    for x, y in zip(a, b):
        assert y["loss"] == pytest.approx(x["loss"], abs=1e-6) and y["lr"] == x["lr"]
    wa, wb = load_file(whole / "model.safetensors"), load_file(parts / "model.safetensors")
    assert max((wa[k] - wb[k]).abs().max().item() for k in wa) < 1e-6


class Payload:
    """Unpickling this runs code: it touches a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_resume_reads_no_pickle_and_falls_back_past_broken_checkpoints(world, tmp_path):
    """A tampered checkpoint never runs code; a corrupt or tampered newest one is skipped with a warning."""
    import pickle

    import torch

    whole, parts = tmp_path / "whole", tmp_path / "parts"
    distill(config(world, whole, steps=12, save_every=4), show_progress=False)
    distill(config(world, parts, steps=12, save_every=4, stop_at=10, keep_checkpoints=3), show_progress=False)
    checkpoints = work(parts) / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["step-00000004", "step-00000008", "step-00000010"]
    assert not list(checkpoints.rglob("*.pkl")) and not list(checkpoints.rglob("*.bin"))  # safetensors, JSON, weights-only .pt
    marker = tmp_path / "code-ran"
    for step in ("step-00000004", "step-00000008", "step-00000010"):  # accelerate's pickle beside every checkpoint
        (checkpoints / step / "custom_checkpoint_0.pkl").write_bytes(pickle.dumps(Payload(marker)))
    torch.save(Payload(marker), checkpoints / "step-00000010" / "optimizer.pt")  # the newest: a tampered optimizer
    weights = checkpoints / "step-00000008" / "model.safetensors"  # the next: truncated weights
    weights.write_bytes(weights.read_bytes()[:1000])

    summary = distill(config(world, parts, steps=12, save_every=4, keep_checkpoints=3), resume=True, show_progress=False)
    assert not marker.exists()  # no pickle was ever unpickled
    assert summary["finished"]
    a, b = log(whole), log(parts)
    assert [r["step"] for r in b] == list(range(1, 13))  # resumed from step 4: steps 5-12 were rewritten
    for x, y in zip(a, b):
        assert y["loss"] == pytest.approx(x["loss"], abs=1e-6)


def test_resume_warns_about_each_checkpoint_it_skips(world, tmp_path, capsys):
    out = tmp_path / "run"
    distill(config(world, out, steps=4, save_every=2, stop_at=4), show_progress=False)
    (work(out) / "checkpoints" / "step-00000004" / "state.json").write_text("{not json")
    distill(config(world, out, steps=4, save_every=2), resume=True, show_progress=False)
    err = capsys.readouterr().err.replace("\n", "")
    assert re.search(r"warning: checkpoint \S*step-00000004 cannot be read .*trying the previous one", err)
    assert "resumed from" in err and "step-00000002 at step 2" in err
    for step in ("step-00000002", "step-00000004"):  # none can be read: a clear error, not a traceback
        (work(out) / "checkpoints" / step).mkdir(parents=True, exist_ok=True)
        (work(out) / "checkpoints" / step / "state.json").write_text("{not json")
    with pytest.raises(DistillError, match="no checkpoint can be read"):
        distill(config(world, out, steps=4, save_every=2), resume=True, show_progress=False)


def test_two_processes_agree_with_one(world, tmp_path):
    """Two gloo processes with batch 4 each read the same global batch as one process with batch 8:
    "agree" means the same loss at every step (to float rounding) and the same weights at the end.
    Dropout is off: two processes draw different dropout masks than one does."""
    one, two = tmp_path / "one", tmp_path / "two"
    settings = dict(student=world["student_no_dropout"], steps=6, save_every=3)
    distill(config(world, one, batch_size=8, **settings), show_progress=False)
    cfg = config(world, two, batch_size=4, **settings)
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29517",
           "--module", "harness.cli", "koenbert", "distill",  # this checkout's bench, whichever is installed
           "--student", cfg.student, "--ko-teacher", cfg.ko_teacher, "--en-teacher", cfg.en_teacher,
           "--ko-corpus", cfg.ko_corpus[0], "--en-corpus", cfg.en_corpus[0], "--out", cfg.out, "--no-progress",
           "--process-group-timeout", "120"]
    for key in ("seq_len", "batch_size", "steps", "lr", "relation_heads", "log_every", "save_every"):
        cmd += [f"--{key.replace('_', '-')}", str(getattr(cfg, key))]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 process(es)" in done.stderr
    assert sorted(p.name for p in (work(two) / "checkpoints" / "step-00000006").glob("rng-*")) == ["rng-0.pt", "rng-1.pt"]
    assert sorted(p.name for p in (work(two) / "chunks").iterdir()) == ["en.bin", "en.json", "ko.bin", "ko.json"]  # made once
    a, b = log(one), log(two)
    assert [r["tokens"] for r in a] == [r["tokens"] for r in b]  # 8 chunks of 32 tokens per step in both
    for x, y in zip(a, b, strict=True):
        assert y["loss"] == pytest.approx(x["loss"], rel=1e-5)
        assert (x["loss_ko"] is None) == (y["loss_ko"] is None)  # the same language at every step
    # Weights: Adam divides by sqrt(v), so float rounding in near-zero gradients shows up at ~1e-4 of lr;
    # "the same weights" = differences under 1% of how far 6 steps moved them.
    w0, wa, wb = (load_file(Path(d) / "model.safetensors") for d in (world["student_no_dropout"], one, two))
    moved = max((wa[k] - w0[k]).abs().max().item() for k in wa)
    differ = max((wa[k] - wb[k]).abs().max().item() for k in wa)
    print(f"\nweights moved up to {moved:.2e}; one vs two processes differ by up to {differ:.2e}")
    assert moved > 1e-2 and differ < 0.01 * moved


def assert_nothing_trained(out):
    assert not (work(out) / "log.jsonl").exists() and not (work(out) / "checkpoints").exists() and not Path(out).exists()


def test_bad_input_stops_before_any_step(world, tmp_path):
    blank = tmp_path / "blank.txt"
    blank.write_text("\n\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"--ko-corpus .*blank.txt: empty"):
        distill(config(world, tmp_path / "a", ko_corpus=[str(blank)]), show_progress=False)
    assert_nothing_trained(tmp_path / "a")
    # fixed, the same command runs in the same --out: a run without a checkpoint is simply started over
    distill(config(world, tmp_path / "a", steps=1), show_progress=False)

    with pytest.raises(CorpusError, match=r"--en-corpus .*missing.txt: no such file"):
        distill(config(world, tmp_path / "b", en_corpus=[str(tmp_path / "missing.txt")]), show_progress=False)
    assert not (tmp_path / "b").exists() and not work(tmp_path / "b").exists()

    # an English BERT passed as the Korean teacher: it lacks the student's Hangul pieces; found on the corpus's first
    # lines, before the corpora are prepared (a real corpus takes minutes)
    english = tiny.tiny_bert(world["en_teacher"], tmp_path / "another-english-bert", seed=7)
    with pytest.raises(CorpusError, match=r"--ko-teacher .* would read [\d.]+% of the --ko-corpus tokens \(in its first "
                                          r"2,000 lines, read before preparing it\) as \[UNK\]: "
                                          r"the student --student .*student cuts the text into pieces the teacher lacks"):
        distill(config(world, tmp_path / "c", ko_teacher=str(english)), show_progress=False)
    assert_nothing_trained(tmp_path / "c")
    assert not (work(tmp_path / "c") / "chunks").exists()

    fused = tmp_path / "gpt2-teacher"  # fused c_attn: no separate q/k/v projections
    GPT2Model(GPT2Config(n_embd=32, n_layer=2, n_head=2, vocab_size=30522)).save_pretrained(fused)
    AutoTokenizer.from_pretrained(world["en_teacher"]).save_pretrained(fused)
    with pytest.raises(AttentionError, match="--en-teacher .*gpt2-teacher: its attention has no separate query/key/value"):
        distill(config(world, tmp_path / "d", en_teacher=str(fused)), show_progress=False)
    assert_nothing_trained(tmp_path / "d")

    with pytest.raises(AttentionError, match="--student .*: relation_heads=5 does not divide its hidden size 32"):
        distill(config(world, tmp_path / "e", relation_heads=5), show_progress=False)

    with pytest.raises(DistillError, match="has 128 positions, fewer than --seq-len 256"):
        distill(config(world, tmp_path / "f", seq_len=256), show_progress=False)


def test_an_existing_run_is_continued_only_with_resume_and_the_same_settings(world, tmp_path):
    out = tmp_path / "run"
    distill(config(world, out, steps=2, save_every=2), show_progress=False)
    with pytest.raises(DistillError, match="exists and is not empty; pass --resume"):
        distill(config(world, out, steps=2), show_progress=False)
    with pytest.raises(DistillError, match=r"the settings differ from the run's .*lr: 0.01 -> 0.001"):
        distill(config(world, out, steps=2, lr=1e-3), resume=True, show_progress=False)


def test_the_command_line_prints_a_clean_error_and_exits_2(world, tmp_path):
    from harness.cli import app

    base = ["koenbert", "distill", "--student", world["student"], "--ko-teacher", world["ko_teacher"],
            "--en-teacher", world["en_teacher"], "--ko-corpus", world["ko_corpus"][0], "--out", str(tmp_path / "x")]
    result = CliRunner().invoke(app, base + ["--en-corpus", str(tmp_path / "nope.txt")])
    assert result.exit_code == 2
    assert re.search(r"error: --en-corpus \S*nope.txt: no such file or directory", result.output.replace("\n", ""))
    assert "Traceback" not in result.output

    result = CliRunner().invoke(app, base + ["--en-corpus", world["en_corpus"][0], "--p-ko", "1.5", "--steps", "0"])
    assert result.exit_code == 2
    assert "--p-ko: Input should be less than or equal to 1" in result.output
    assert "--steps: Input should be greater than or equal to 1" in result.output  # every bad flag at once


def test_prepare_only_makes_the_chunks_the_run_then_reads_without_tokenizing_again(world, tmp_path, capsys):
    from harness.cli import app
    from harness.koenbert import prepare

    out = tmp_path / "run"
    args = ["koenbert", "distill", "--student", world["student"], "--ko-teacher", world["ko_teacher"], "--en-teacher",
            world["en_teacher"], "--ko-corpus", world["ko_corpus"][0], "--en-corpus", world["en_corpus"][0], "--out",
            str(out), "--seq-len", "32", "--batch-size", "2", "--steps", "4", "--relation-heads", "4", "--no-progress"]
    wrong = CliRunner().invoke(app, args + ["--processes", "4"])
    assert wrong.exit_code == 2 and "--processes: only with --prepare-only" in wrong.output
    result = CliRunner().invoke(app, args + ["--prepare-only", "--processes", "4"])  # for a run on 4 GPUs
    assert result.exit_code == 0, result.output
    assert "prepared the corpora for 4 process(es)" in " ".join(result.output.split())
    assert not out.exists() and sorted(p.name for p in (work(out) / "chunks").iterdir()) == [
        "en.bin", "en.json", "ko.bin", "ko.json"]
    cfg = config(world, out, seq_len=32, batch_size=2, steps=4, lr=5e-5, relation_heads=4, log_every=10, save_every=1000)
    budget = prepare.chunk_budget(cfg, 4)
    assert {lang: prepare.load(cfg, lang)[1]["made_from"]["max_chunks"] for lang in ("ko", "en")} == budget

    capsys.readouterr()
    summary = distill(cfg.model_copy(update={"batch_size": 8}), show_progress=False)  # 4 x 2 = 1 x 8: the same global batch
    assert summary["finished"] and "tokenizing" not in capsys.readouterr().err  # the prepared chunks, read as they are
    assert summary["corpus"]["en"] == prepare.load(cfg, "en")[1]["report"]


def test_names_with_rich_markup_print_as_written(world, tmp_path):
    from harness.cli import app

    student, out = tmp_path / "a[" / "]student", tmp_path / "[red]x[" / "red]out"
    shutil.copytree(world["student"], student)
    args = ["koenbert", "distill", "--student", str(student), "--ko-teacher", world["ko_teacher"], "--en-teacher",
            world["en_teacher"], "--ko-corpus", world["ko_corpus"][0], "--en-corpus", world["en_corpus"][0], "--out",
            str(out), "--seq-len", "32", "--batch-size", "2", "--steps", "1", "--relation-heads", "4", "--no-progress"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"student {student}: " in result.output and f"saved the distilled student to {out}" in result.output
    resumed = CliRunner().invoke(app, args + ["--resume", "--out", str(tmp_path / "[bold]new[" / "]run")])
    assert resumed.exit_code == 0, resumed.output
    assert f"--resume: no checkpoint in {tmp_path / '[bold]new[' / ']run.work' / 'checkpoints'}; starting" in resumed.output


def test_resuming_a_finished_run_keeps_its_summary(world, tmp_path, capsys):
    out = tmp_path / "run"
    summary = distill(config(world, out, steps=2, save_every=2), show_progress=False)
    written = (out / "distill.json").read_text()
    assert summary["first_loss"] is not None and summary["last"]
    capsys.readouterr()
    again = distill(config(world, out, steps=2, save_every=2), resume=True, show_progress=False)
    assert (out / "distill.json").read_text() == written  # not replaced by a summary of a session that trained nothing
    assert again == json.loads(written)
    assert f"finished at step 2 of 2; {out} is kept as it is" in " ".join(capsys.readouterr().err.split())


def test_out_or_work_is_never_a_model_the_run_reads(world, tmp_path):
    student = tmp_path / "student"
    shutil.copytree(world["student"], student)
    before = local_revision(student)
    for overrides in ({"out": str(student)}, {"work": str(student)}, {"out": world["ko_teacher"]}):
        cfg = config(world, tmp_path / "run", steps=1, student=str(student)).model_copy(update=overrides)
        with pytest.raises(DistillError, match=r"is the (--student|--ko-teacher) model's folder; the run would write over it"):
            distill(cfg, resume=True, show_progress=False)
    assert local_revision(student) == before and sorted(p.name for p in student.iterdir()) == sorted(
        p.name for p in Path(world["student"]).iterdir())
