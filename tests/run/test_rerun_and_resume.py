"""What `bench run` trains again, as a user sees it: a rerun trains exactly the (task, seed) pairs whose
result would differ or is missing, and an interrupted run resumes with the seeds it had not finished.

Every training is counted by wrapping the one function that fine-tunes a seed, wherever the harness
has imported it; the wrapper stays in place for every run of a test, so a run that retrains
finished work is seen."""

import inspect
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.demo import SAMPLES_DIR
from harness.run import finetune as finetune_module


def bench(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def run_args(model: Path, output: Path, *extra: str) -> list[str]:
    # a few rows of the bundled samples: each training takes a second, and what is counted is whether it ran
    return ["run", "--model", str(model), "--data-dir", str(SAMPLES_DIR), "--set", "epochs=1", "--limit", "16",
            "--eval-limit", "16", "--output", str(output), *extra]


def record(output: Path, task: str) -> dict:
    suite, name = task.split("/")
    (path,) = output.glob(f"*/{suite}__{name}.json")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def trainings(monkeypatch):
    """The (task id, seed) of every seed fine-tuned from now on; `interrupt_at` raises Ctrl-C instead of training one."""
    real = finetune_module.finetune
    signature = inspect.signature(real)
    calls: list[tuple[str, int]] = []
    interrupt_at: set[tuple[str, int]] = set()

    def counted(*args, **kwargs):
        bound = signature.bind(*args, **kwargs).arguments
        job = (bound["spec"].id, bound["seed"])
        if job in interrupt_at:
            interrupt_at.discard(job)
            raise KeyboardInterrupt
        calls.append(job)
        return real(*args, **kwargs)

    patched = 0
    for name, module in list(sys.modules.items()):
        if name == "harness" or name.startswith("harness."):
            for attr, value in list(vars(module).items()):
                if value is real:
                    monkeypatch.setattr(module, attr, counted)
                    patched += 1
    assert patched >= 2  # its own module and the one that calls it
    counted.calls = calls
    counted.interrupt_at = interrupt_at
    return counted


def test_an_unchanged_rerun_trains_nothing_and_a_changed_hyperparameter_trains_again(tmp_path, tiny_english_bert, trainings):
    first = bench(*run_args(tiny_english_bert, tmp_path, "--tasks", "glue/stsb"))
    assert first.exit_code == 0, first.output
    assert trainings.calls == [("glue/stsb", 42)]

    again = bench(*run_args(tiny_english_bert, tmp_path, "--tasks", "glue/stsb"))
    assert again.exit_code == 0 and "skipped" in again.output
    assert trainings.calls == [("glue/stsb", 42)]

    default_lr = record(tmp_path, "glue/stsb")["hyperparameters"]["learning_rate"]
    changed = bench(*run_args(tiny_english_bert, tmp_path, "--tasks", "glue/stsb", "--set", f"learning_rate={default_lr * 10}"))
    assert changed.exit_code == 0, changed.output
    assert trainings.calls == [("glue/stsb", 42), ("glue/stsb", 42)]  # the old seed result is not reused
    assert record(tmp_path, "glue/stsb")["hyperparameters"]["learning_rate"] == pytest.approx(default_lr * 10)

    # and going back to the first settings finds the first run's seed again instead of training it a third time
    back = bench(*run_args(tiny_english_bert, tmp_path, "--tasks", "glue/stsb"))
    assert back.exit_code == 0, back.output
    assert len(trainings.calls) == 2
    assert record(tmp_path, "glue/stsb")["hyperparameters"]["learning_rate"] == pytest.approx(default_lr)


def test_an_added_seed_trains_only_that_seed(tmp_path, tiny_english_bert, trainings):
    assert bench(*run_args(tiny_english_bert, tmp_path, "--tasks", "glue/stsb", "--seeds", "1")).exit_code == 0
    one_seed = record(tmp_path, "glue/stsb")
    more = bench(*run_args(tiny_english_bert, tmp_path, "--tasks", "glue/stsb", "--seeds", "1,2"))
    assert more.exit_code == 0, more.output
    assert trainings.calls == [("glue/stsb", 1), ("glue/stsb", 2)]
    both = record(tmp_path, "glue/stsb")
    assert [s["seed"] for s in both["seeds"]] == [1, 2]
    assert both["seeds"][0] == one_seed["seeds"][0]  # seed 1 is the first run's result, kept


def test_ctrl_c_keeps_finished_work_and_the_resumed_run_trains_only_what_was_left(tmp_path, tiny_english_bert, trainings):
    args = run_args(tiny_english_bert, tmp_path, "--tasks", "glue/sst2,glue/stsb", "--seeds", "1,2")
    trainings.interrupt_at.add(("glue/stsb", 2))
    interrupted = bench(*args)
    assert interrupted.exit_code == 130
    assert trainings.calls == [("glue/sst2", 1), ("glue/sst2", 2), ("glue/stsb", 1)]
    assert [p.name for p in tmp_path.glob("*/*.json")] == ["glue__sst2.json"]  # no partial stsb record

    resumed = bench(*args)
    assert resumed.exit_code == 0, resumed.output
    # sst2 finished and seed 1 of stsb was kept: only stsb's seed 2 trains
    assert trainings.calls[3:] == [("glue/stsb", 2)]
    assert [s["seed"] for s in record(tmp_path, "glue/stsb")["seeds"]] == [1, 2]


def test_an_edited_task_yaml_that_keeps_the_hyperparameters_trains_again(tmp_path, tiny_english_bert, trainings):
    """A change of what the task is (here: which evaluation it keeps), its hyperparameters untouched: neither the
    finished record nor a cached seed of the old YAML may stand for the new one."""
    task_file = tmp_path / "tasks" / "mine" / "stsb.yaml"
    task_file.parent.mkdir(parents=True)
    task_file.write_text("include: glue/stsb\n", encoding="utf-8")
    args = run_args(tiny_english_bert, tmp_path / "results", "--tasks", "mine/stsb", "--tasks-dir", str(tmp_path / "tasks"))
    assert bench(*args, "--seeds", "1").exit_code == 0
    old = record(tmp_path / "results", "mine/stsb")

    task_file.write_text("include: glue/stsb\nselection: best\n", encoding="utf-8")
    edited = bench(*args, "--seeds", "1,2")
    assert edited.exit_code == 0, edited.output
    assert trainings.calls == [("mine/stsb", 1), ("mine/stsb", 1), ("mine/stsb", 2)]  # seed 1 of the old YAML not reused
    new = record(tmp_path / "results", "mine/stsb")
    assert new["hyperparameters"] == old["hyperparameters"] and new["task"]["spec_sha256"] != old["task"]["spec_sha256"]


def test_a_successful_rerun_removes_the_failure_record_of_the_task(tmp_path, tiny_english_bert, monkeypatch):
    """The site shows a `.failed.json` as the task's failure: once the task has a record again, that failure is gone."""
    from harness.run import runner
    from harness.site import inputs

    args = run_args(tiny_english_bert, tmp_path, "--tasks", "glue/stsb")
    with monkeypatch.context() as patch:
        def diverge(*_args, **_kwargs):
            raise finetune_module.TrainingDiverged("loss became nan at epoch 1, step 1")

        patch.setattr(runner, "finetune", diverge)
        assert bench(*args).exit_code == 1
    assert [p.name for p in tmp_path.glob("*/*.json")] == ["glue__stsb.failed.json"]
    assert [f.task.id for _, f in inputs.load_results(tmp_path).failures] == ["glue/stsb"]

    rerun = bench(*args)
    assert rerun.exit_code == 0, rerun.output
    assert [p.name for p in tmp_path.glob("*/*.json")] == ["glue__stsb.json"]
    found = inputs.load_results(tmp_path)
    assert [r.task.id for _, r in found.records] == ["glue/stsb"] and found.failures == []
