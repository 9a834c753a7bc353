"""Edges of the distillation code (harness/koenbert/distill.py), each on tiny synthetic inputs in well
under a second: what a resumed run continues from, what the checkpoints hold on disk, and the full
text of every warning and error a user reads. The models here are a two-layer stand-in (synthetic);
test_distill.py runs the same code end to end on real tokenizers and text."""

import io
import json
import pickle
import shutil
import re
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console

from harness.koenbert import distill
from harness.koenbert.distill import DistillConfig, DistillError, TrainState


class Processes:
    """Stands in for accelerate's Accelerator: process ``process_index`` of ``num_processes``, on the CPU."""

    def __init__(self, process_index: int = 0, num_processes: int = 1):
        self.device = torch.device("cpu")
        self.process_index, self.num_processes = process_index, num_processes
        self.is_main_process = process_index == 0

    def unwrap_model(self, model):
        return model

    def wait_for_everyone(self):
        pass


def settings(out, **overrides) -> DistillConfig:
    """Settings that name synthetic models and corpora (nothing here loads them)."""
    values = dict(student="fixture/model-a", ko_teacher="fixture/model-b", en_teacher="fixture/model-c",
                  ko_corpus=["fixture-ko.txt"], en_corpus=["fixture-en.txt"], out=str(out),
                  steps=10, lr=0.1, warmup=0.2, keep_checkpoints=3)
    return DistillConfig(**{**values, **overrides})


def colour_console() -> Console:
    """A console that writes what a terminal would show, colours included, into a string."""
    return Console(file=io.StringIO(), force_terminal=True, color_system="standard", soft_wrap=True, width=400)


def tiny_run(out, seed: int = 0, processes: Processes | None = None, **overrides) -> distill.Run:
    """A Run around a synthetic two-layer body with the real optimizer and schedule (distill._optimizer); its
    checkpoints and log go to ``out`` too (a real run keeps them in its work folder, beside --out)."""
    cfg = settings(out, **overrides)
    torch.manual_seed(seed)
    body = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    trainable = list(body.parameters())
    optimizer, scheduler = distill._optimizer(cfg, trainable, torch.device("cpu"))
    return distill.Run(cfg=cfg, accelerator=processes or Processes(), console=colour_console(), precision="no",
                       out=Path(out), work=Path(out), latest=None, student=body, student_tokenizer=None, body=body, teachers={},
                       taps={}, student_tap=None, tables={}, chunks={}, orders={}, trainable=trainable, frozen=[],
                       optimizer=optimizer, scheduler=scheduler, teacher_pieces={})


def step(run: distill.Run) -> None:
    """One optimizer step of the stand-in, and the state a real step moves on."""
    loss = run.body(torch.randn(2, 4)).pow(2).sum()
    loss.backward()
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    run.state.step += 1
    run.state.micro_step += 2
    run.state.tokens += 64
    run.state.cursor = {"ko": [run.state.step // 3, 8 * run.state.step], "en": [0, 4 * run.state.step]}


def trained(out, steps: int, **overrides) -> distill.Run:
    """A run of ``steps`` steps with a checkpoint after each."""
    run = tiny_run(out, **overrides)
    for _ in range(steps):
        step(run)
        distill.save_checkpoint(run)
    return run


def printed(run: distill.Run) -> str:
    return run.console.file.getvalue()


def plain(run: distill.Run) -> str:
    return shown(run.console)


def shown(console: Console) -> str:
    """What the console showed, without colour codes."""
    from rich.text import Text

    return Text.from_ansi(console.file.getvalue()).plain


class Payload:
    """Unpickling this runs code: it touches a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


# ---------------------------------------------------------------------------------------------
# Checkpoints on disk
# ---------------------------------------------------------------------------------------------
def test_a_checkpoint_holds_the_weights_optimizer_schedule_state_and_rng_in_safe_formats(tmp_path):
    from safetensors.torch import load_file

    run = tiny_run(tmp_path / "run")
    step(run)
    step(run)
    rng = torch.get_rng_state()
    distill.save_checkpoint(run)
    saved = tmp_path / "run" / "checkpoints" / "step-00000002"
    assert sorted(p.name for p in saved.iterdir()) == ["model.safetensors", "optimizer.pt", "rng-0.pt", "scheduler.json",
                                                       "state.json"]
    weights = load_file(saved / "model.safetensors")
    assert set(weights) == set(run.body.state_dict())
    for name, value in run.body.state_dict().items():
        assert torch.equal(weights[name], value)
    assert (saved / "state.json").read_text() == json.dumps(
        {"step": 2, "micro_step": 4, "cursor": {"ko": [0, 16], "en": [0, 8]}, "tokens": 128}) + "\n"
    assert (saved / "scheduler.json").read_text() == json.dumps(run.scheduler.state_dict()) + "\n"
    optimizer = torch.load(saved / "optimizer.pt", weights_only=True)
    assert optimizer["param_groups"] == run.optimizer.state_dict()["param_groups"]
    assert torch.equal(torch.load(saved / "rng-0.pt", weights_only=True)["cpu"], rng)


def test_only_the_newest_checkpoints_are_kept_and_no_temporary_folder_is_left(tmp_path):
    trained(tmp_path / "run", 4, keep_checkpoints=2)
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["step-00000003", "step-00000004"]


def test_a_checkpoint_saved_again_replaces_the_old_one_and_a_crashed_save_is_cleared(tmp_path):
    """Resumed past a broken step 2, the run saves step 2 again; a save that crashed left its temporary folder."""
    run = trained(tmp_path / "run", 1)
    checkpoints = tmp_path / "run" / "checkpoints"
    (checkpoints / "step-00000002").mkdir()
    (checkpoints / "step-00000002" / "state.json").write_text("{not json")
    (checkpoints / "tmp-step-00000002").mkdir()
    (checkpoints / "tmp-step-00000002" / "leftover.bin").write_bytes(b"half a file")
    step(run)
    distill.save_checkpoint(run)
    assert sorted(p.name for p in checkpoints.iterdir()) == ["step-00000001", "step-00000002"]
    assert "leftover.bin" not in {p.name for p in (checkpoints / "step-00000002").iterdir()}
    assert json.loads((checkpoints / "step-00000002" / "state.json").read_text())["step"] == 2


def test_only_step_folders_with_a_number_count_as_checkpoints_newest_first(tmp_path):
    checkpoints = tmp_path / "checkpoints"
    for name in ("step-00000010", "step-00000002", "step-00000009", "tmp-step-00000011", "step-latest", "steps-00000012"):
        (checkpoints / name).mkdir(parents=True)
    (checkpoints / "step-00000013").write_text("a file, not a checkpoint")
    assert [p.name for p in distill.checkpoints_newest_first(checkpoints)] == [
        "step-00000010", "step-00000009", "step-00000002"]
    assert distill.checkpoints_newest_first(tmp_path / "none-yet") == []


# ---------------------------------------------------------------------------------------------
# What a resumed run continues from
# ---------------------------------------------------------------------------------------------
def write_log(out: Path, steps) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "log.jsonl").write_text("".join(json.dumps({"step": s, "loss": 1.0 / s}) + "\n" for s in steps))


def test_resume_continues_from_the_newest_checkpoint_exactly(tmp_path):
    out = tmp_path / "run"
    before = trained(out, 3)
    weights = {k: v.clone() for k, v in before.body.state_dict().items()}
    moments = before.optimizer.state_dict()["state"]
    lr = before.scheduler.get_last_lr()
    expected_draws = torch.rand(5)  # what the run would draw next: the RNG saved with step 3
    write_log(out, range(1, 6))  # the crashed run logged steps 4 and 5 after its last checkpoint

    after = tiny_run(out, seed=1)
    distill.resume_from_checkpoint(after)
    assert after.state == TrainState(step=3, micro_step=6, cursor={"ko": [1, 24], "en": [0, 12]}, tokens=192)
    for name, value in after.body.state_dict().items():
        assert torch.equal(value, weights[name])
    for index, state in after.optimizer.state_dict()["state"].items():
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(state[key], moments[index][key])
    assert after.scheduler.get_last_lr() == lr and after.optimizer.param_groups[0]["lr"] == lr[0]
    assert torch.equal(torch.rand(5), expected_draws)
    assert (out / "log.jsonl").read_text() == "".join(json.dumps({"step": s, "loss": 1.0 / s}) + "\n" for s in (1, 2, 3))
    assert plain(after) == f"resumed from {out / 'checkpoints' / 'step-00000003'} at step 3 of 10\n"


def test_the_log_keeps_the_lines_up_to_the_checkpoints_step(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"step": 1}\n\n{"step": 2}\n{"step": 3}\n')
    distill._truncate_log(log, 2)
    assert log.read_text() == '{"step": 1}\n{"step": 2}\n'
    distill._truncate_log(tmp_path / "no-log.jsonl", 2)  # stopped before the first log line: nothing to cut
    assert not (tmp_path / "no-log.jsonl").exists()


def test_a_broken_checkpoint_is_skipped_with_a_yellow_warning_naming_it_and_its_reason(tmp_path):
    out = tmp_path / "run[red]"  # rich markup in a path is printed as it is
    trained(out, 3)
    newest = out / "checkpoints" / "step-00000003"
    marker = tmp_path / "code-ran"
    torch.save(Payload(marker), newest / "optimizer.pt")
    try:
        torch.load(newest / "optimizer.pt", weights_only=True)
    except pickle.UnpicklingError as err:
        reason = str(err).strip().splitlines()
    assert len(reason) > 1  # torch's refusal runs over several lines: the warning shows the first

    run = tiny_run(out, seed=1)
    distill.resume_from_checkpoint(run)
    assert not marker.exists() and run.state.step == 2
    warning = f"warning: checkpoint {newest} cannot be read ({reason[0]}); trying the previous one"
    assert plain(run).splitlines() == [warning, f"resumed from {out / 'checkpoints' / 'step-00000002'} at step 2 of 10"]
    assert printed(run).startswith("\x1b[33mwarning: checkpoint ")  # yellow


def test_a_reason_without_a_message_is_named_by_its_type(tmp_path, monkeypatch):
    out = tmp_path / "run"
    trained(out, 2)
    from safetensors.torch import load_file as real


    def fails_once(path, *args, **kwargs):
        if "step-00000002" in str(path):
            raise OSError()
        return real(path, *args, **kwargs)

    monkeypatch.setattr("safetensors.torch.load_file", fails_once)
    run = tiny_run(out, seed=1)
    distill.resume_from_checkpoint(run)
    assert plain(run).splitlines()[0] == (f"warning: checkpoint {out / 'checkpoints' / 'step-00000002'} cannot be read "
                                          "(OSError); trying the previous one")
    assert run.state.step == 1


def test_when_no_checkpoint_can_be_read_the_error_lists_them_all_and_says_what_to_remove(tmp_path):
    out = tmp_path / "run"
    trained(out, 2)
    for name in ("step-00000001", "step-00000002"):
        (out / "checkpoints" / name / "state.json").write_text("{not json")
    run = tiny_run(out, seed=1)
    with pytest.raises(DistillError) as caught:
        distill.resume_from_checkpoint(run)
    assert str(caught.value) == (f"--resume {out}: no checkpoint can be read (step-00000002, step-00000001); remove "
                                 f"{out / 'checkpoints'} to start over, or start a new --out")
    assert run.state == TrainState()  # nothing half-applied


def test_a_checkpoint_of_fewer_processes_than_run_now_is_not_resumed(tmp_path):
    out = tmp_path / "run"
    trained(out, 1)
    run = tiny_run(out, seed=1, processes=Processes(process_index=1, num_processes=2))
    with pytest.raises(DistillError, match=r"no checkpoint can be read \(step-00000001\)"):
        distill.resume_from_checkpoint(run)
    assert plain(run).splitlines() == [
        f"warning: checkpoint {out / 'checkpoints' / 'step-00000001'} cannot be read (rng-1.pt is missing: the checkpoint "
        "was written by fewer processes than run now); trying the previous one"]


def test_resume_never_unpickles_code_even_when_the_environment_asks_torch_to(tmp_path, monkeypatch):
    """TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 (set for some other tool) turns off torch.load's safety unless the
    call asks for weights_only=True itself."""
    out = tmp_path / "run"
    trained(out, 3)
    marker = tmp_path / "code-ran"
    torch.save(Payload(marker), out / "checkpoints" / "step-00000003" / "optimizer.pt")
    torch.save(Payload(marker), out / "checkpoints" / "step-00000002" / "rng-0.pt")
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    run = tiny_run(out, seed=1)
    distill.resume_from_checkpoint(run)
    assert not marker.exists()
    assert run.state.step == 1


# ---------------------------------------------------------------------------------------------
# The output folder and the settings of a resumed run
# ---------------------------------------------------------------------------------------------
def test_a_new_run_starts_in_a_missing_or_empty_folder_or_in_its_own_run_without_a_checkpoint(tmp_path):
    assert distill.check_work(tmp_path / "missing", resume=False) is None
    (tmp_path / "empty").mkdir()
    assert distill.check_work(tmp_path / "empty", resume=False) is None
    ours = tmp_path / "ours"  # a run stopped before its first checkpoint (or only prepared) is simply started over
    ours.mkdir()
    (ours / "distill-config.json").write_text("{}")
    (ours / "log.jsonl").write_text("")
    assert distill.check_work(ours, resume=False) is None


def test_an_occupied_folder_needs_resume_which_returns_the_newest_checkpoint(tmp_path):
    refusal = ("{} (the run's work folder): exists and is not empty; pass --resume to continue the run in it, or choose "
               "another --out (or --work)")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("someone else's")
    with pytest.raises(DistillError) as caught:
        distill.check_work(foreign, resume=False)
    assert str(caught.value) == refusal.format(foreign)
    assert distill.check_work(foreign, resume=True) is None

    run = tmp_path / "run"
    for name in ("step-00000002", "step-00000004"):
        (run / "checkpoints" / name).mkdir(parents=True)
    (run / "distill-config.json").write_text("{}")
    with pytest.raises(DistillError) as caught:
        distill.check_work(run, resume=False)
    assert str(caught.value) == refusal.format(run)
    assert distill.check_work(run, resume=True) == run / "checkpoints" / "step-00000004"


def test_the_model_folder_and_the_work_folder_are_apart_and_a_new_run_finds_the_model_folder_empty(tmp_path):
    out = tmp_path / "model"
    assert distill.check_folders(settings(out), resume=False) is None  # work: model.work, beside it
    (tmp_path / "model.work" / "checkpoints" / "step-00000003").mkdir(parents=True)
    assert distill.check_folders(settings(out), resume=True) == tmp_path / "model.work" / "checkpoints" / "step-00000003"
    assert distill.check_folders(settings(out, work=str(tmp_path / "elsewhere")), resume=False) is None
    out.mkdir()
    (out / "config.json").write_text("{}")  # a finished run's model: only --resume goes on (and saves it again)
    with pytest.raises(DistillError, match=r"^--out .*model: exists and is not empty; pass --resume"):
        distill.check_folders(settings(out, work=str(tmp_path / "elsewhere")), resume=False)
    with pytest.raises(DistillError) as caught:
        distill.check_folders(settings(out, work=str(out / "work")), resume=True)
    assert str(caught.value) == (f"--work {out / 'work'}: inside --out {out}; the published model folder holds the model "
                                 "alone: choose a work folder beside it (the default: <out>.work)")
    (out / "checkpoints").mkdir()  # a run of the earlier layout
    with pytest.raises(DistillError, match=r"holds checkpoints/ \(an earlier version kept the whole run there\); move "):
        distill.check_folders(settings(out), resume=True)
    assert distill.work_dir(settings(".")).name == Path.cwd().name + ".work"  # beside the working folder, not in it


def test_resume_refuses_changed_settings_and_names_each_change(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    first = settings(out, seq_len=256, lr=0.1, betas=(0.9, 0.98))
    resolved = {"student": {"id": "fixture/model-a", "revision": "0" * 40, "source": "hub"}}
    (out / "distill-config.json").write_text(json.dumps({**first.model_dump(mode="json"), "resolved": resolved}, indent=2) + "\n")
    # what may change on resume: where it writes, how often it saves and logs, where it stops
    distill.check_same_settings(settings(out, seq_len=256, lr=0.1, save_every=7, keep_checkpoints=1, log_every=3,
                                          stop_at=5, work=str(out), data_dir="hub", process_group_timeout=60), out, resolved)
    distill.check_same_settings(settings(out, seq_len=256, lr=0.1, betas=[0.9, 0.98]), out, resolved)
    with pytest.raises(DistillError) as caught:
        distill.check_same_settings(settings(out, seq_len=128, lr=0.01, save_every=7), out, resolved)
    assert str(caught.value) == (
        f"--resume {out}: the settings differ from the run's ({out / 'distill-config.json'}): "
        "lr: 0.1 -> 0.01; seq_len: 256 -> 128. An exact resume needs the same settings and models; change them back, "
        "or start a new --out")
    moved = {"student": {**resolved["student"], "revision": "1" * 40}}  # the hub's main moved since the run started
    with pytest.raises(DistillError, match=r"resolved: .*'0000000000.*'1111111111"):
        distill.check_same_settings(settings(out, seq_len=256, lr=0.1), out, moved)


# ---------------------------------------------------------------------------------------------
# Models: loading, positions, the teacher's reading of the student's pieces
# ---------------------------------------------------------------------------------------------
def test_a_model_that_cannot_be_loaded_is_named_with_its_flag_and_the_first_line_of_the_reason(tmp_path):
    from transformers import AutoConfig

    missing = str(tmp_path / "no-model")
    with pytest.raises(OSError) as raw:
        AutoConfig.from_pretrained(missing)
    with pytest.raises(DistillError) as caught:
        distill._load(AutoConfig, missing, "--ko-teacher")
    first = str(raw.value).strip().splitlines()[0]
    assert str(caught.value) == f"--ko-teacher {missing}: cannot load it ({first}); give a local model directory or a hub id"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no chained traceback for a user


class Loader:
    """A stand-in model class: from_pretrained raises ``error``, or returns the library's log level at that moment."""

    def __init__(self, error=None):
        self.error = error

    def from_pretrained(self, name):
        from transformers.utils import logging as hf_logging

        if self.error is not None:
            raise self.error
        return hf_logging.get_verbosity()


def test_loading_quietly_silences_the_load_report_only_while_it_loads():
    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    hf_logging.set_verbosity_info()
    try:
        assert distill._load(Loader(), "fixture/model-a", "--student") == hf_logging.INFO
        assert distill._load(Loader(), "fixture/model-a", "--en-teacher", quiet=True) == hf_logging.ERROR
        assert hf_logging.get_verbosity() == hf_logging.INFO
        with pytest.raises(DistillError, match=r"^--student fixture/model-a: cannot load it \(ValueError\); give a local"):
            distill._load(Loader(ValueError("  ")), "fixture/model-a", "--student", quiet=True)
        assert hf_logging.get_verbosity() == hf_logging.INFO
        with pytest.raises(DistillError, match=r"\(first line\); give"):
            distill._load(Loader(OSError("first line\nsecond line")), "fixture/model-a", "--student")
    finally:
        hf_logging.set_verbosity(before)


def test_a_model_with_fewer_positions_than_the_chunks_is_refused():
    from types import SimpleNamespace

    distill._check_positions(SimpleNamespace(max_position_embeddings=128), 128, "--student fixture/model-a")
    distill._check_positions(SimpleNamespace(), 100_000, "--student fixture/model-a")  # no limit known: nothing to check
    with pytest.raises(DistillError) as caught:
        distill._check_positions(SimpleNamespace(max_position_embeddings=128), 129, "--en-teacher fixture/model-c")
    assert str(caught.value) == "--en-teacher fixture/model-c: has 128 positions, fewer than --seq-len 129; lower --seq-len"


def embedded(rows: torch.Tensor):
    """A stand-in model with these input embeddings."""
    from types import SimpleNamespace

    embedding = torch.nn.Embedding.from_pretrained(rows.clone())
    return SimpleNamespace(get_input_embeddings=lambda: embedding)


def test_a_student_counts_as_extended_from_a_teacher_whose_rows_it_shares():
    torch.manual_seed(0)
    unk = 1
    teacher = torch.randn(2100, 4)
    table = np.array([unk] * 3 + list(range(3, 2100)) + [unk] * 3)  # the student's pieces 0-2 and 2100-2102: [UNK] to it
    student = torch.cat([torch.randn(3, 4), teacher[3:2100], torch.randn(3, 4)])  # its own rows where the teacher has none
    assert distill._extended_from(embedded(student), embedded(teacher), table, unk) is True

    moved = student.clone()
    moved[2003] += 0.5  # the 2,001st shared row: past the 2,000 rows compared
    assert distill._extended_from(embedded(moved), embedded(teacher), table, unk) is True
    moved = student.clone()
    moved[5] += 1e-3  # a shared row that moved
    assert distill._extended_from(embedded(moved), embedded(teacher), table, unk) is False
    wider = torch.cat([student, student], dim=1)  # another hidden size: not from this teacher
    assert distill._extended_from(embedded(wider), embedded(teacher), table, unk) is False


def test_the_unknown_share_counts_the_teachers_unk_but_not_the_students_own_in_the_first_2000_chunks():
    unk, student_unk = 0, 1
    table = np.array([unk, unk, 5, unk, 7])  # student ids 0, 1 and 3 are [UNK] to the teacher; 1 is the student's own [UNK]
    chunks = np.array([[2, 4, 1], [3, 2, 4]] * 1000 + [[3, 3, 3]], dtype=np.uint16)
    assert distill._unknown_share(chunks, table, unk, student_unk) == round(1000 / 6000, 6) == 0.166667
    assert distill._unknown_share(chunks[-2:], table, unk, student_unk) == 0.666667


# ---------------------------------------------------------------------------------------------
# The loop's pieces: the language coin, the batches, the optimizer, the log lines
# ---------------------------------------------------------------------------------------------
def test_the_language_coins_are_fixed_by_the_seed_and_the_micro_step():
    """A resumed run (and every process) recomputes the coins; these are the ones every run so far drew."""
    coins = lambda cfg: "".join("k" if distill.is_korean(cfg, i) else "e" for i in range(16))  # noqa: E731
    assert coins(settings("out", seed=0)) == coins(settings("elsewhere", seed=0, lr=1.0)) == "kekeeekeekkeekek"
    assert coins(settings("out", seed=1)) == "keeekkekkeekkeee"
    assert coins(settings("out", p_ko=0.0)) == "e" * 16 and coins(settings("out", p_ko=1.0)) == "k" * 16
    # Korean when the coin's draw in [0, 1) falls below p_ko: the first draw of seed 0 is 0.08082403917318748
    assert not distill.is_korean(settings("out", p_ko=0.08082403917318748), 0)
    assert distill.is_korean(settings("out", p_ko=0.08082403917318749), 0)


def test_each_process_reads_its_own_slice_of_the_global_batch_as_int64_ids(tmp_path):
    from harness.koenbert.corpus import ChunkOrder

    chunks = np.arange(40, dtype=np.uint16).reshape(10, 4)  # ten chunks of four ids; chunk i holds 4i .. 4i+3
    slices = []
    for index in (0, 1):
        run = tiny_run(tmp_path / "run", processes=Processes(process_index=index, num_processes=2), batch_size=2)
        run.chunks, run.orders = {"ko": chunks}, {"ko": ChunkOrder(10, 4, 0, 0)}
        batches = [distill.next_batch(run, "ko") for _ in range(3)]
        assert all(b.dtype == torch.int64 and b.shape == (2, 4) for b in batches)
        assert run.state.cursor["ko"] == [1, 4]  # the third global batch of 4 opened the second epoch (10 chunks)
        slices.append(torch.cat(batches))
    one = tiny_run(tmp_path / "run", batch_size=4)  # one process with the whole global batch reads the same rows
    one.chunks, one.orders = {"ko": chunks}, {"ko": ChunkOrder(10, 4, 0, 0)}
    whole = [distill.next_batch(one, "ko") for _ in range(3)]
    for i, batch in enumerate(whole):
        assert torch.equal(batch, torch.cat([slices[0][2 * i: 2 * i + 2], slices[1][2 * i: 2 * i + 2]]))
    assert len({int(row[0]) for row in torch.cat(whole[:2])}) == 8  # no chunk twice within an epoch


def test_the_optimizer_decays_matrices_only_and_warms_up_over_the_rounded_up_share_of_steps(tmp_path):
    run = tiny_run(tmp_path / "run", lr=0.1, warmup=0.15, steps=10, weight_decay=0.02, betas=(0.8, 0.9))
    matrices, vectors = run.optimizer.param_groups
    assert [p.ndim for p in matrices["params"]] == [2] and [p.ndim for p in vectors["params"]] == [1, 1, 1]
    assert (matrices["weight_decay"], vectors["weight_decay"]) == (0.02, 0.0)
    assert all(g["betas"] == (0.8, 0.9) and g["fused"] for g in run.optimizer.param_groups)  # one kernel on the CPU too
    lrs = []
    for _ in range(10):
        lrs.append(run.optimizer.param_groups[0]["lr"])
        step(run)
    assert lrs == pytest.approx([0.0, 0.05, 0.1, 0.0875, 0.075, 0.0625, 0.05, 0.0375, 0.025, 0.0125])  # ceil(1.5) = 2 steps up


def test_a_log_line_holds_the_means_since_the_last_line_and_the_speed(monkeypatch):
    from types import SimpleNamespace

    clock = iter([100.0, 104.0, 105.0])  # the window opens at 100 s; record() reads the clock at 104 s and 105 s
    monkeypatch.setattr(distill, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    window = distill._Window(tokens_at_start=1000)
    for lang, loss in (("ko", 1.0), ("en", 4.0), ("ko", 2.0)):
        window.add(lang, torch.tensor(loss))
    record = window.record(TrainState(step=7, tokens=3000), lr=0.5, grad_norm=torch.tensor(2.5), started=90.0)
    assert record == {"step": 7, "lr": 0.5, "loss": pytest.approx(7 / 3), "loss_ko": 1.5, "loss_en": 4.0, "grad_norm": 2.5,
                      "tokens": 3000, "tokens_per_s": 500.0, "elapsed_s": 15.0}
    clock = iter([0.0, 2.0, 2.0])
    window = distill._Window(tokens_at_start=0)
    window.add("en", torch.tensor(3.0))
    record = window.record(TrainState(step=1, tokens=10), lr=0.1, grad_norm=torch.tensor(0.0), started=0.0)
    assert (record["loss"], record["loss_ko"], record["loss_en"]) == (3.0, None, 3.0)  # no Korean batch in this window


# ---------------------------------------------------------------------------------------------
# The save at the end, and what the summary says
# ---------------------------------------------------------------------------------------------
class Saves:
    """A stand-in for the student's model or tokenizer: save_pretrained writes one named file."""

    def __init__(self, name: str):
        self.name = name

    def save_pretrained(self, folder):
        (Path(folder) / self.name).write_text("synthetic")


class Tap:
    def __init__(self):
        self.removed = False

    def remove(self):
        self.removed = True


def finished_run(tmp_path, monkeypatch, done: int, steps: int, processes: Processes | None = None) -> distill.Run:
    from types import SimpleNamespace

    student = tmp_path / "student"  # step 1's report beside the student model
    student.mkdir(exist_ok=True)
    (student / "koenbert_extend_report.json").write_text(
        json.dumps({"segmentation": {"agreement": {"klue-ner (개체명)": 0.91}}}, ensure_ascii=False), encoding="utf-8")
    run = tiny_run(tmp_path / "run", processes=processes, student=str(student), steps=steps)
    run.out.mkdir()
    run.student, run.student_tokenizer = Saves("model.safetensors"), Saves("tokenizer.json")
    run.taps, run.student_tap = {"ko": Tap(), "en": Tap()}, Tap()
    run.teacher_pieces = {"ko": {"lacked": 3, "rows_added": 3, "unknown_share": 0.0}}
    run.state = TrainState(step=done, tokens=5000)
    monkeypatch.setattr(distill, "time", SimpleNamespace(perf_counter=lambda: 50.0))
    return run


def test_a_finished_run_saves_the_student_and_a_summary_of_the_session(tmp_path, monkeypatch):
    run = finished_run(tmp_path, monkeypatch, done=12_000, steps=12_000)
    summary = distill.save(run, first_loss=0.7, last_record={"step": 12_000}, tokens_before=1000, started=40.0)
    assert summary == {
        "finished": True, "step": 12_000, "steps": 12_000, "first_loss": 0.7, "last": {"step": 12_000}, "processes": 1,
        "precision": "no",
        "segmentation": "the student's tokenizer cuts the text of both languages; each teacher reads the same pieces",
        "teacher_pieces": {"ko": {"lacked": 3, "rows_added": 3, "unknown_share": 0.0}},
        "segmentation_agreement": {"klue-ner (개체명)": 0.91},
        "models": {}, "corpus": {},  # a real run's: each model's id and revision, each corpus's counts (test_distill.py)
        "tokens_per_s": 400.0,  # 4,000 tokens this session in 10 s
        "wall_s": 10.0,
    }
    assert (run.out / "distill.json").read_text() == json.dumps(summary, indent=2) + "\n"
    assert {p.name for p in run.out.iterdir()} == {"distill.json", "model.safetensors", "tokenizer.json"}
    assert plain(run) == f"saved the distilled student to {run.out}\n"
    assert all(tap.removed for tap in (*run.taps.values(), run.student_tap))


def test_a_run_stopped_early_saves_no_model_and_says_how_to_go_on(tmp_path, monkeypatch):
    run = finished_run(tmp_path, monkeypatch, done=1_234, steps=12_000)
    summary = distill.save(run, first_loss=None, last_record={}, tokens_before=0, started=40.0)
    assert summary["finished"] is False and summary["step"] == 1_234
    assert list(run.out.iterdir()) == []
    assert plain(run) == "stopped at step 1,234 of 12,000; the same command with --resume goes on\n"


def test_only_the_main_process_writes_the_model(tmp_path, monkeypatch):
    run = finished_run(tmp_path, monkeypatch, done=5, steps=5, processes=Processes(process_index=1, num_processes=2))
    assert distill.save(run, first_loss=0.5, last_record={}, tokens_before=0, started=40.0)["finished"] is True
    assert list(run.out.iterdir()) == [] and plain(run) == ""


def test_the_agreement_of_step_1_is_read_as_utf8_whatever_the_locale(tmp_path):
    """None for a student step 1 did not make, or whose report has no agreement; read as UTF-8 also on a C-locale server."""
    import subprocess
    import sys

    assert distill._segmentation_agreement(tmp_path) is None
    (tmp_path / "koenbert_extend_report.json").write_text(json.dumps({"segmentation": {}}))
    assert distill._segmentation_agreement(tmp_path) is None
    (tmp_path / "koenbert_extend_report.json").write_text(json.dumps({"vocabulary": 3}))
    assert distill._segmentation_agreement(tmp_path) is None
    (tmp_path / "koenbert_extend_report.json").write_text(
        json.dumps({"segmentation": {"agreement": {"ner (개체명)": 0.5}}}, ensure_ascii=False), encoding="utf-8")
    assert distill._segmentation_agreement(tmp_path) == {"ner (개체명)": 0.5}
    ascii_locale = {**__import__("os").environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    root = Path(distill.__file__).parents[2]  # the tree whose harness this test imported
    ascii_locale["PYTHONPATH"] = str(root)
    code = ("import sys; from pathlib import Path; from harness.koenbert.distill import _segmentation_agreement as a; "
            "print(ascii(a(Path(sys.argv[1]))))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=ascii_locale,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == ascii({"ner (개체명)": 0.5})


# ---------------------------------------------------------------------------------------------
# Setup's pieces: the processes, the parameters the loss cannot reach
# ---------------------------------------------------------------------------------------------
class Joined:
    """A stand-in for accelerate.Accelerator that records how it was made; ``joined`` processes."""

    made: list = []
    joined = 1

    def __init__(self, **kwargs):
        Joined.made.append(kwargs)
        self.num_processes = Joined.joined


@pytest.mark.parametrize("precision, expected", [("auto", "no"), ("fp32", "no"), ("bf16", "bf16")])
def test_the_precision_asked_for_is_the_one_run_and_cpu_processes_are_joined(monkeypatch, precision, expected):
    if torch.cuda.is_available():
        pytest.skip("on a GPU, auto means bf16 where supported and the processes are not CPU ones")
    monkeypatch.setattr("accelerate.Accelerator", Joined)
    monkeypatch.setattr(Joined, "made", [])
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    accelerator, chosen = distill._accelerator(settings("out", precision=precision, process_group_timeout=5400))
    made = Joined.made[0]
    assert chosen == expected and len(Joined.made) == 1
    assert {k: v for k, v in made.items() if k != "kwargs_handlers"} == {"mixed_precision": expected, "cpu": True}
    assert [handler.to_kwargs() for handler in made["kwargs_handlers"]] == [{"timeout": timedelta(seconds=5400)}]


def test_processes_launched_but_not_joined_are_an_error_naming_how_to_launch(monkeypatch):
    monkeypatch.setattr("accelerate.Accelerator", Joined)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(DistillError) as caught:
        distill._accelerator(settings("out", precision="fp32"))
    assert str(caught.value) == (
        "2 processes were launched but Accelerate joined 1; on CPU launch with `accelerate launch --multi_gpu "
        "--num_processes N` or `torchrun --nproc_per_node N` (`accelerate launch --cpu` starts one)")
    monkeypatch.setattr(Joined, "joined", 2)
    assert distill._accelerator(settings("out", precision="fp32"))[0].num_processes == 2


def test_the_parameters_the_loss_cannot_reach_are_frozen_without_drawing_randomness(tiny_english_bert):
    from transformers import BertForMaskedLM

    from harness.koenbert.minilm import QKVTap

    student = BertForMaskedLM.from_pretrained(tiny_english_bert)
    tap = QKVTap(student, -1, "--student fixture/model-a")
    student.train()  # as a model in training would be: dropout on
    rng = torch.get_rng_state()
    frozen = distill._freeze_unreachable(student, tap, 101, torch.device("cpu"))
    assert torch.equal(torch.get_rng_state(), rng)  # the probe ran in eval mode: no dropout mask drawn
    last = "bert.encoder.layer.1."
    assert frozen == [last + "attention.output.dense.weight", last + "attention.output.dense.bias",
                      last + "attention.output.LayerNorm.weight", last + "attention.output.LayerNorm.bias",
                      last + "intermediate.dense.weight", last + "intermediate.dense.bias",
                      last + "output.dense.weight", last + "output.dense.bias",
                      last + "output.LayerNorm.weight", last + "output.LayerNorm.bias",
                      "cls.predictions.bias", "cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
                      "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias"]
    for name, p in student.named_parameters():
        assert p.requires_grad == (name not in frozen) and p.grad is None
    assert student.training  # back to training mode for the loop


# ---------------------------------------------------------------------------------------------
# The chunk cache, and setup's report (one tiny BERT as the student and both teachers)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """Synthetic text: 120 short English lines for one language, 40 for the other."""
    root = tmp_path_factory.mktemp("edge-corpora")
    lines = [f"the film number {i} was a good one , and the story of it was short ." for i in range(120)]
    (root / "long.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "short.txt").write_text("\n".join(lines[:40]) + "\n", encoding="utf-8")
    return root


def as_second_teacher(model) -> Path:
    """A copy of ``model`` that is another model (its config says so, so its revision differs): distill refuses one
    model as both teachers, and these runs need two that read alike."""
    copy = Path(f"{model}-as-en-teacher")
    if not copy.exists():
        shutil.copytree(model, copy)
        if (copy / "config.json").exists():  # (a tokenizer-only folder is never loaded as a teacher)
            config = json.loads((copy / "config.json").read_text())
            (copy / "config.json").write_text(json.dumps({**config, "fixture_note": "synthetic: a copy as the second teacher"}))
    return copy


def tiny_settings(model, corpora, out, **overrides) -> DistillConfig:
    values = dict(student=str(model), ko_teacher=str(model), en_teacher=str(as_second_teacher(model)),
                  ko_corpus=[str(corpora / "short.txt")],
                  en_corpus=[str(corpora / "long.txt")], out=str(out), seq_len=16, batch_size=2,
                  steps=1000,  # a budget beyond the corpora: every chunk of them is prepared
                  relation_heads=2, precision="fp32")
    return DistillConfig(**{**values, **overrides})


def prepared(cfg, resuming=False, cutter=None):
    """prepare.prepare on the tiny run's corpora, cut by the student's tokenizer (or ``cutter``'s); its manifests
    and the lines it logged."""
    from transformers import AutoTokenizer

    from harness.koenbert import prepare
    from harness.koenbert.corpus import corpus_files

    tokenizer = AutoTokenizer.from_pretrained(cfg.student)
    files = {lang: corpus_files(getattr(cfg, f"{lang}_corpus"), f"--{lang}-corpus") for lang in ("ko", "en")}
    cut_by = cutter or tokenizer
    logged: list = []
    manifests = prepare.prepare(cfg, files, {lang: ("fixture/cutter@0", lambda: cut_by) for lang in files}, tokenizer,
                                processes=1, resuming=resuming, log=logged.append)
    return manifests, logged, tokenizer


def test_the_chunk_cache_is_built_once_in_the_work_folder_memory_mapped_and_described(tiny_english_bert, corpora, tmp_path):
    from harness.koenbert import prepare
    from harness.koenbert.corpus import build_chunks

    cfg = tiny_settings(tiny_english_bert, corpora, tmp_path / "run")
    manifests, logged, tokenizer = prepared(cfg)
    work = tmp_path / "run.work"  # beside --out, which preparing never creates
    assert sorted(p.name for p in (work / "chunks").iterdir()) == ["en.bin", "en.json", "ko.bin", "ko.json"]  # no temporary file
    assert not (tmp_path / "run").exists()
    chunks, manifest = prepare.load(cfg, "ko")
    assert isinstance(chunks, np.memmap) and chunks.dtype == np.uint16 and chunks.shape[1] == 16  # read from disk
    whole = build_chunks([corpora / "short.txt"], tokenizer, 16, "--ko-corpus")
    assert np.array_equal(chunks, whole)  # the same packing as in memory, two bytes a token on disk
    assert (work / "chunks" / "ko.bin").stat().st_size == whole.size * 2
    stat = (corpora / "short.txt").stat()
    budget = prepare.chunk_budget(cfg, 1)
    assert manifest["made_from"] == {"files": [[str(corpora / "short.txt"), stat.st_size, stat.st_mtime_ns]],
                                     "cut_by": "fixture/cutter@0", "packing": "a [SEP] after every line", "seq_len": 16,
                                     "max_chunks": budget["ko"]}
    assert manifest["chunks"] == len(whole) and not manifest["report"]["reached_budget"]
    assert manifest["report"]["lines_read"] == manifest["report"]["lines_used"] == 40
    assert logged == [f"tokenizing --{lang}-corpus (1 file(s)) with fixture/cutter@0 into {work / 'chunks' / (lang + '.bin')}, "
                      f"up to {budget[lang]:,} chunks of 16 tokens" for lang in ("ko", "en")]

    assert prepared(cfg, resuming=True)[1] == []  # kept: nothing tokenized again
    (work / "chunks" / "ko.bin").unlink()  # a cache half removed is built again
    again, logged, _ = prepared(cfg, resuming=True)
    assert np.array_equal(prepare.load(cfg, "ko")[0], whole) and len(logged) == 1
    data = work / "chunks" / "ko.bin"
    data.write_bytes(data.read_bytes()[: whole.size])  # cut short (a full disk, a partial copy): built again too
    again, logged, _ = prepared(cfg, resuming=True)
    assert np.array_equal(prepare.load(cfg, "ko")[0], whole) and len(logged) == 1


def test_each_language_is_cut_by_its_own_teacher_in_the_first_design_and_by_the_student_in_the_recipe(tmp_path):
    from harness.koenbert import prepare
    from harness.run.models import ResolvedModel

    models = {role: ResolvedModel(id=f"fixture/{role}", path=f"fixture/{role}", revision=f"r-{role}", source="hub")
              for role in ("student", "ko_teacher", "en_teacher")}
    load = lambda model, flag: (model.id, flag)  # noqa: E731  (what loading the cutter's tokenizer was asked)

    def called(cutters):
        return {lang: (name, cut()) for lang, (name, cut) in cutters.items()}

    teachers = prepare.cutters(settings(tmp_path, segmentation="teachers"), models, "the student's tokenizer", load)
    assert called(teachers) == {"ko": ("fixture/ko_teacher@r-ko_teacher", ("fixture/ko_teacher", "--ko-teacher")),
                                "en": ("fixture/en_teacher@r-en_teacher", ("fixture/en_teacher", "--en-teacher"))}
    recipe = prepare.cutters(settings(tmp_path), models, "the student's tokenizer", load)
    assert called(recipe) == {lang: ("fixture/student@r-student", "the student's tokenizer") for lang in ("ko", "en")}


def test_a_student_beyond_65536_pieces_is_stored_in_four_bytes_whoever_cuts_the_text(tiny_english_bert, corpora, tmp_path):
    """The chunks hold the student's ids: the student's vocabulary, not the cutter's, decides their width (with
    ``segmentation: teachers`` a 30,522-piece teacher cuts the text for a student of 100,522 pieces)."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    from harness.koenbert import prepare
    from harness.koenbert.corpus import build_chunks, to_student_ids

    teacher = AutoTokenizer.from_pretrained(tiny_english_bert)
    spec = json.loads(teacher.backend_tokenizer.to_str())  # the teacher's pieces at ids 70,000 and up (synthetic)
    spec["model"]["vocab"] = {**{f"[fill{i}]": i for i in range(70_000)},
                              **{p: 70_000 + i for p, i in spec["model"]["vocab"].items()}}
    spec["added_tokens"] = [{**t, "id": 70_000 + t["id"]} for t in spec["added_tokens"]]
    PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(spec)), unk_token="[UNK]", cls_token="[CLS]",
                            sep_token="[SEP]", pad_token="[PAD]", mask_token="[MASK]").save_pretrained(tmp_path / "student")
    cfg = tiny_settings(tmp_path / "student", corpora, tmp_path / "run", segmentation="teachers")
    manifests, _, student = prepared(cfg, cutter=teacher)
    chunks = prepare.load(cfg, "en")[0]
    cut = build_chunks([corpora / "long.txt"], teacher, 16, "--en-corpus")
    expected = to_student_ids(cut, teacher, student, "--en-corpus")
    assert manifests["en"]["dtype"] == "uint32" and np.array_equal(chunks, expected) and chunks.min() >= 1 << 16


def test_a_language_is_read_only_up_to_the_chunks_the_run_draws_of_it(tiny_english_bert, corpora, tmp_path):
    from harness.koenbert import prepare
    from harness.koenbert.corpus import build_chunks, text_batches

    lines = [f"line {i} of a long corpus ." for i in range(25_000)]  # two and a half batches of the tokenizer
    (tmp_path / "en.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = tiny_settings(tiny_english_bert, corpora, tmp_path / "run", steps=7, grad_accum=2, batch_size=3,
                        en_corpus=[str(tmp_path / "en.txt")])
    coins = [prepare.is_korean(cfg, i) for i in range(14)]
    budget = prepare.chunk_budget(cfg, processes=2)
    assert budget == {"ko": sum(coins) * 6, "en": (14 - sum(coins)) * 6} and 0 < sum(coins) < 14
    assert prepare.chunk_budget(cfg.model_copy(update={"p_ko": 0.0}), 1)["ko"] == 3  # never drawn: one batch, still checked
    manifests, _, tokenizer = prepared(cfg.model_copy(update={"batch_size": 1}))  # 1 x 1 process: a budget below the corpus
    en = manifests["en"]
    assert en["chunks"] == en["made_from"]["max_chunks"] == 14 - sum(coins) and en["report"]["reached_budget"]
    first_batch = next(text_batches(lines))
    assert en["report"]["lines_read"] == len(first_batch) < 10_000  # one batch of the tokenizer: the rest is never read
    whole = build_chunks([tmp_path / "en.txt"], tokenizer, 16, "--en-corpus")
    assert len(whole) > 10_000 and np.array_equal(prepare.load(cfg, "en")[0], whole[: en["chunks"]])


def test_a_changed_corpus_rebuilds_the_cache_before_the_first_checkpoint_and_stops_a_resume(tiny_english_bert, corpora,
                                                                                           tmp_path):
    from harness.koenbert import prepare
    from harness.koenbert.corpus import CorpusError

    text = tmp_path / "ko.txt"
    text.write_text((corpora / "short.txt").read_text(encoding="utf-8"), encoding="utf-8")
    cfg = tiny_settings(tiny_english_bert, corpora, tmp_path / "run", ko_corpus=[str(text)])
    first = prepared(cfg)[0]["ko"]
    text.write_text(text.read_text(encoding="utf-8") * 2, encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        prepared(cfg, resuming=True)
    data, manifest = prepare.cache_paths(tmp_path / "run.work", "ko")
    assert str(caught.value) == (
        f"--ko-corpus: the files or settings changed since {data} was made from them (see {manifest}); "
        "an exact resume needs the same text: restore the files or start a new --out")
    second, logged, _ = prepared(cfg)
    assert second["ko"]["chunks"] > first["chunks"] and logged[0].startswith("tokenizing --ko-corpus (1 file(s))")


def test_the_first_design_cuts_with_the_teachers_tokenizer_and_keeps_student_ids(tiny_english_bert, corpora, tmp_path):
    from transformers import AutoTokenizer

    from harness.koenbert import prepare

    cfg = tiny_settings(tiny_english_bert, corpora, tmp_path / "a")
    prepared(cfg)
    teachers = tiny_settings(tiny_english_bert, corpora, tmp_path / "b", segmentation="teachers")
    prepared(teachers, cutter=AutoTokenizer.from_pretrained(tiny_english_bert))  # the teacher's tokenizer, loaded apart
    # this teacher's tokenizer is the student's: through the table, the same pieces and the same ids
    assert np.array_equal(prepare.load(teachers, "en")[0], prepare.load(cfg, "en")[0])


def test_setup_reports_what_it_built_and_a_resume_with_nothing_to_resume(tiny_english_bert, corpora, tmp_path, capsys):
    from harness.koenbert import prepare
    from harness.run.models import local_revision, portable_id

    out = tmp_path / "nested" / "run"
    work = tmp_path / "nested" / "run.work"
    cfg = tiny_settings(tiny_english_bert, corpora, out)
    run = distill.setup(cfg, resume=True)
    model, second = ({"id": portable_id(str(m)), "revision": local_revision(m), "source": "local"}
                     for m in (tiny_english_bert, as_second_teacher(tiny_english_bert)))
    assert (work / "distill-config.json").read_text() == json.dumps(
        {**cfg.model_dump(mode="json"), "resolved": {"student": model, "ko_teacher": model, "en_teacher": second}}, indent=2) + "\n"
    assert not out.exists()  # the published folder is written at the end only
    assert run.latest is None and run.state == TrainState() and run.precision == "no" and run.work == work
    trained_count = f"{sum(p.numel() for p in run.trainable):,}"
    budget = prepare.chunk_budget(cfg, 1)
    shown = f"{model['id']}@{model['revision']}"
    assert capsys.readouterr().err.splitlines()[-6:] == [
        f"tokenizing --ko-corpus (1 file(s)) with {shown} into {work / 'chunks' / 'ko.bin'}, up to {budget['ko']:,} chunks of 16 tokens",
        f"tokenizing --en-corpus (1 file(s)) with {shown} into {work / 'chunks' / 'en.bin'}, up to {budget['en']:,} chunks of 16 tokens",
        f"--ko-corpus: {len(run.chunks['ko']):,} chunks of 16 tokens (uint16) from 40 of 40 lines read; 0 dropped as "
        "validation text of the 8 tasks; lines equal to a train text: none",
        f"--en-corpus: {len(run.chunks['en']):,} chunks of 16 tokens (uint16) from 120 of 120 lines read; 0 dropped as "
        "validation text of the 8 tasks; lines equal to a train text: none",
        f"--resume: no checkpoint in {work / 'checkpoints'}; starting at step 0",
        f"student {tiny_english_bert}: {trained_count} parameters trained, {len(run.frozen)} tensors frozen (unreachable "
        f"by the loss); 1 process(es), precision no; chunks: ko {len(run.chunks['ko']):,}, en {len(run.chunks['en']):,} "
        "of 16 tokens; teachers read as [UNK]: ko 0.000%, en 0.000%"]
    assert len(run.frozen) == 15 and len(run.chunks["en"]) > len(run.chunks["ko"]) >= 2
    assert run.orders["ko"].global_batch == 2 and run.teacher_pieces["ko"]["unknown_share"] == 0.0
    assert "unk_id" not in run.teacher_pieces["en"]
    assert run.models["student"].path == str(tiny_english_bert) and run.corpus["en"]["lines_used"] == 120


def test_a_corpus_shorter_than_one_global_batch_is_refused(tiny_english_bert, corpora, tmp_path):
    from harness.koenbert.corpus import CorpusError

    sizes = distill.setup(tiny_settings(tiny_english_bert, corpora, tmp_path / "a"), resume=False).chunks
    n = len(sizes["ko"])
    distill.setup(tiny_settings(tiny_english_bert, corpora, tmp_path / "b", batch_size=n), resume=False)  # exactly one batch
    with pytest.raises(CorpusError) as caught:
        distill.setup(tiny_settings(tiny_english_bert, corpora, tmp_path / "c", batch_size=n + 1), resume=False)
    assert str(caught.value) == (f"--ko-corpus: {n} chunks of 16 tokens, fewer than one batch ({n + 1} x 1 processes = "
                                 f"{n + 1}); add text or lower --batch-size")


# ---------------------------------------------------------------------------------------------
# The loop: log lines, checkpoints and the progress bar, around a scripted optimizer step
# ---------------------------------------------------------------------------------------------
SCRIPT = [(None, 4.0), (1.0, 2.0), (3.0, None), (5.0, None), (None, 6.0)]  # (ko, en) loss of steps 1-5; None: not drawn


def scripted(monkeypatch):
    """optimizer_step replaced by SCRIPT: step i has lr 0.1 i and gradient norm i, and reads 64 tokens;
    the clock ticks one second each time the loop reads it."""
    from itertools import count
    from types import SimpleNamespace

    def optimizer_step(run):
        ko, en = SCRIPT[run.state.step]
        run.state.step += 1
        run.state.tokens += 64
        losses = {"ko": None if ko is None else torch.tensor(ko), "en": None if en is None else torch.tensor(en)}
        return losses, 0.1 * run.state.step, torch.tensor(float(run.state.step))

    monkeypatch.setattr(distill, "optimizer_step", optimizer_step)
    ticks = count()
    monkeypatch.setattr(distill, "time", SimpleNamespace(perf_counter=lambda: float(next(ticks))))


def test_the_loop_logs_every_few_steps_and_at_the_end_and_checkpoints_likewise(tmp_path, monkeypatch):
    scripted(monkeypatch)
    run = tiny_run(tmp_path / "run", steps=5, log_every=2, save_every=3)
    run.out.mkdir()  # as setup leaves it
    first_loss, last = distill.train(run, show_progress=False)
    records = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert records == [
        {"step": 2, "lr": 0.2, "loss": pytest.approx(7 / 3), "loss_ko": 1.0, "loss_en": 3.0, "grad_norm": 2.0, "tokens": 128,
         "tokens_per_s": 64.0, "elapsed_s": 2.0},
        {"step": 4, "lr": 0.4, "loss": 4.0, "loss_ko": 4.0, "loss_en": None, "grad_norm": 4.0, "tokens": 256,
         "tokens_per_s": 128.0, "elapsed_s": 5.0},
        {"step": 5, "lr": 0.5, "loss": 6.0, "loss_ko": None, "loss_en": 6.0, "grad_norm": 5.0, "tokens": 320,
         "tokens_per_s": 64.0, "elapsed_s": 8.0},
    ]
    assert (first_loss, last) == (4.0, records[-1])  # the first loss drawn, whichever language
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["step-00000003", "step-00000005"]
    assert printed(run) == ""  # no progress bar asked for


def test_the_loop_stops_at_stop_at_with_a_log_line_and_a_checkpoint(tmp_path, monkeypatch):
    scripted(monkeypatch)
    run = tiny_run(tmp_path / "run", steps=5, log_every=2, save_every=2, stop_at=3)
    run.out.mkdir()  # as setup leaves it
    distill.train(run, show_progress=False)
    assert run.state.step == 3
    assert [json.loads(line)["step"] for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()] == [2, 3]
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["step-00000002", "step-00000003"]


def test_the_progress_bar_shows_the_steps_the_newest_loss_of_each_language_and_the_speed(tmp_path, monkeypatch):
    from rich.text import Text

    scripted(monkeypatch)
    run = tiny_run(tmp_path / "run", steps=5, log_every=2, save_every=5)
    run.out.mkdir()  # as setup leaves it
    run.state.step, run.state.tokens = 2, 128  # resumed at step 2
    distill.train(run, show_progress=True)
    frames = [Text.from_ansi(f).plain.strip() for f in printed(run).split("\r\x1b[2K") if "distill" in f]
    assert re.fullmatch(r"distill ━+╺━+ 2/5  -:--:--", frames[0]), frames[0]  # where the resumed run starts
    assert re.fullmatch(r"distill ━+ 5/5 loss ko 4\.0000 loss en 6\.0000  64 tok/s 0:00:00", frames[-1]), frames[-1]


@pytest.fixture(scope="module")
def still_bert(tmp_path_factory, english_model_dir):
    """A tiny BERT without dropout (synthetic): two passes over the same text give the same numbers."""
    from harness.testing import tiny

    return tiny.tiny_bert(english_model_dir, tmp_path_factory.mktemp("still-bert"), dropout=0.0)


def test_two_accumulated_micro_batches_make_the_step_of_one_batch_twice_the_size(still_bert, corpora, tmp_path):
    """All Korean (p_ko=1): 2 micro-steps of 2 chunks read the chunks 1 step of 4 reads, and average the same gradient."""
    common = dict(p_ko=1.0, warmup=0.0, lr=0.01, clip=1e6)
    accumulated = distill.setup(tiny_settings(still_bert, corpora, tmp_path / "a", batch_size=2, grad_accum=2, **common),
                                resume=False)
    whole = distill.setup(tiny_settings(still_bert, corpora, tmp_path / "b", batch_size=4, **common), resume=False)
    (loss_a, lr_a, norm_a), (loss_b, lr_b, norm_b) = distill.optimizer_step(accumulated), distill.optimizer_step(whole)
    assert loss_a["en"] is None and loss_b["en"] is None
    assert float(loss_a["ko"]) == pytest.approx(float(loss_b["ko"]), rel=1e-5)
    assert float(norm_a) == pytest.approx(float(norm_b), rel=1e-4) and float(norm_a) > 0
    assert lr_a == lr_b == 0.01  # the rate the step used (no warm-up)
    assert (accumulated.state.step, accumulated.state.micro_step, accumulated.state.tokens) == (1, 2, 64)
    assert (whole.state.step, whole.state.micro_step, whole.state.tokens) == (1, 1, 64)
    assert accumulated.state.cursor == whole.state.cursor == {"ko": [0, 4], "en": [0, 0]}
    assert all(p.grad is None for p in accumulated.trainable)  # gradients freed between steps, not kept as zeros


def test_each_micro_step_draws_its_own_language(still_bert, corpora, tmp_path):
    run = distill.setup(tiny_settings(still_bert, corpora, tmp_path / "run", grad_accum=2, warmup=0.0), resume=False)
    losses, _, _ = distill.optimizer_step(run)  # seed 0: the coins of micro-steps 0 and 1 are Korean, English
    assert losses["ko"] is not None and losses["en"] is not None
    assert run.state.cursor == {"ko": [0, 2], "en": [0, 2]}


# ---------------------------------------------------------------------------------------------
# A teacher reads the student's pieces: rows added when the student was extended from it
# ---------------------------------------------------------------------------------------------
NEW_PIECES = ["새말", "낱말", "말씨"]  # pieces the English teacher lacks (synthetic)


def extended(teacher_dir):
    """A student made from the teacher as step 1 makes one: the teacher's rows, plus rows for three new pieces."""
    from transformers import AutoTokenizer, BertForMaskedLM

    tokenizer = AutoTokenizer.from_pretrained(teacher_dir)
    tokenizer.add_tokens(NEW_PIECES)
    student = BertForMaskedLM.from_pretrained(teacher_dir)
    student.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    with torch.no_grad():
        student.get_input_embeddings().weight[-3:] = torch.arange(3 * 32, dtype=torch.float32).reshape(3, 32) / 100
    return student, tokenizer


def test_a_teacher_the_student_was_extended_from_reads_the_new_pieces_through_the_students_rows(tiny_english_bert,
                                                                                              corpora, tmp_path, caplog):
    student, tokenizer = extended(tiny_english_bert)
    cfg = tiny_settings(tiny_english_bert, corpora, tmp_path / "run")
    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    hf_logging.set_verbosity_info()  # a user who asked the library for its load reports
    caplog.clear()
    try:
        teacher, tap, table, pieces = distill.load_teacher(cfg, "en", student, tokenizer)
    finally:
        hf_logging.set_verbosity(before)
    said = "\n".join(record.getMessage() for record in caplog.records)
    assert "config.json" in said and "model.safetensors" not in said  # the teacher's weights load quietly (its unused
    # MLM head does not matter here); its tokenizer does not
    assert pieces == {"lacked": 3, "rows_added": 3, "unk_id": 100}
    ids = tokenizer.convert_tokens_to_ids(NEW_PIECES)
    assert table[ids].tolist() == [30522, 30523, 30524]  # new rows at the end of the teacher's table
    rows = teacher.get_input_embeddings().weight
    assert rows.shape == (30525, 32) and torch.equal(rows[30522:], student.get_input_embeddings().weight[ids])
    assert table[tokenizer.convert_tokens_to_ids("film")] == tokenizer.convert_tokens_to_ids("film")
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())  # frozen
    teacher(input_ids=torch.as_tensor(table[[[101, ids[0], 102]]]))  # it reads through its relation tap
    assert [t.shape for t in tap.take()] == [(1, 3, 32)] * 3


def test_a_teacher_the_student_was_not_extended_from_reads_the_new_pieces_as_unk(tiny_english_bert, corpora, tmp_path):
    from harness.testing import tiny

    other = tiny.tiny_bert(tiny_english_bert, tmp_path / "other-teacher", seed=7)  # the same vocabulary, other rows
    student, tokenizer = extended(tiny_english_bert)
    cfg = tiny_settings(tiny_english_bert, corpora, tmp_path / "run", ko_teacher=str(other))
    teacher, _, table, pieces = distill.load_teacher(cfg, "ko", student, tokenizer)
    assert pieces == {"lacked": 3, "rows_added": 0, "unk_id": 100}
    assert table[tokenizer.convert_tokens_to_ids(NEW_PIECES)].tolist() == [100, 100, 100]
    assert teacher.get_input_embeddings().weight.shape == (30522, 32)


def test_one_model_as_both_teachers_is_refused_before_anything_loads(tiny_english_bert, corpora, tmp_path):
    """The same folder, or a copy of it with the same files, as --ko-teacher and --en-teacher: the Korean corpus
    would be taught by the English teacher (or the reverse) without a word said; refused before any work."""
    shutil.copytree(tiny_english_bert, tmp_path / "copy")
    for teacher in (tiny_english_bert, tmp_path / "copy"):
        cfg = tiny_settings(tiny_english_bert, corpora, tmp_path / "run", en_teacher=str(teacher))
        with pytest.raises(DistillError, match=r"--ko-teacher and --en-teacher are the same model .*pass two models"):
            distill.distill(cfg, show_progress=False)
        assert not (tmp_path / "run").exists() and not (tmp_path / "run.work").exists()
