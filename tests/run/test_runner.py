"""`bench run` end to end on all eight tasks with a tiny BERT around a real vocabulary; skip, resume, failures."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import torch
from transformers import AutoTokenizer

from harness.cli import app
from harness.core import paths
from harness.demo import SAMPLES_DIR
from harness.results import predictions as predictions_module
from harness.results import records as records_module
from harness.run import finetune as finetune_module
from harness.run import runner
from harness.tasks import data
from harness.tasks import spec as spec_module

ALL_TASKS = ["glue/mrpc", "glue/qnli", "glue/sst2", "glue/stsb", "klue/ner", "klue/nli", "klue/sts", "klue/ynat"]


def bench(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def run_args(model: Path, output: Path, *extra: str) -> list[str]:
    return ["run", "--model", str(model), "--data-dir", str(SAMPLES_DIR), "--set", "epochs=1", "--output", str(output), *extra]


def records(output: Path) -> dict[str, dict]:
    found = {}
    for path in sorted(output.glob("*/*.json")):
        if not path.name.endswith(".failed.json"):
            record = records_module.to_json(records_module.read_result(path))
            found[record["task"]["id"]] = record
    return found


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, tiny_english_bert):
    output = tmp_path_factory.mktemp("results")
    result = bench(*run_args(tiny_english_bert, output))
    return output, result


def test_all_eight_tasks_write_valid_records(full_run, tiny_english_bert):
    output, result = full_run
    assert result.exit_code == 0, result.output
    found = records(output)
    assert sorted(found) == ALL_TASKS
    for task_id, record in found.items():
        assert record["model"]["revision"].startswith("sha256:")
        assert record["task"]["primary_metric"] in record["scores"]
        assert record["seeds"][0]["seed"] == 42 and record["hyperparameters"]["epochs"] == 1
        assert record["data"]["source"] == "local"  # never this machine's absolute folder
        assert record["env"]["precision"] == "fp32"
    assert found["klue/ner"]["data"]["train_split"] == "validation[:80%]"
    assert found["klue/ner"]["data"]["validation_examples"] == 60
    assert set(found["klue/sts"]["scores"]) == {"pearson", "binarized_f1"}
    assert "glue/mrpc" in result.output and "records in" in result.output  # the summary table


def test_every_records_predictions_pass_their_checks_against_it(full_run):
    """A run's own predictions files are never refused: every seed's scores recomputed from them equal its record's
    (harness.results.predictions.check_against), on all eight tasks and their metrics."""
    from harness.results import predictions

    output, _ = full_run
    paths_ = [p for p in sorted(output.glob("*/*.json")) if not p.name.endswith(".failed.json")]
    assert len(paths_) == len(ALL_TASKS)
    for path in paths_:
        assert predictions.for_record(path, records_module.read_result(path)) is not None, path


# Seed 42, one epoch, the tiny English BERT (built with seed 0) on the bundled samples, on CPU. Recorded with
# the runner as it was before the records, heads and grid were restructured, and equal after it. Changed since
# only where what is measured changed: glue/qnli by the seeded, stratified carve of its dev file, klue/* by
# validating 4 times an epoch (the losses are per evaluation) and klue/ner by training without warm-up.
PINNED_SCORES = {
    "glue/mrpc": {"accuracy": 70.0, "f1": 82.3529}, "glue/qnli": {"accuracy": 51.6667},
    "glue/sst2": {"accuracy": 51.6667}, "glue/stsb": {"pearson": -2.9032, "spearman": -3.3062},
    "klue/ner": {"char_f1": 2.9527, "entity_f1": 0.0}, "klue/nli": {"accuracy": 33.3333},
    "klue/sts": {"binarized_f1": 0.0, "pearson": 19.9336}, "klue/ynat": {"accuracy": 8.3333, "macro_f1": 2.1978},
}
PINNED_LOSSES = {
    "glue/mrpc": [0.69201], "glue/qnli": [0.6931], "glue/sst2": [0.69289], "glue/stsb": [10.4817],
    "klue/ner": [2.55178, 2.54888, 2.54568, 2.53855], "klue/nli": [1.09814, 1.09901, 1.0982, 1.0984],
    "klue/sts": [8.16178, 7.89938, 7.42428, 9.24996], "klue/ynat": [1.94346, 1.94306, 1.94471, 1.94424],
}


def test_the_tiny_run_scores_what_it_scored_before(full_run):
    output, result = full_run
    assert result.exit_code == 0, result.output
    found = records(output)
    assert {t: r["scores"] for t, r in found.items()} == {t: pytest.approx(s, abs=1e-3) for t, s in PINNED_SCORES.items()}
    losses = {t: [e["loss"] for e in r["seeds"][0]["evaluations"]] for t, r in found.items()}
    assert losses == {t: pytest.approx(v, abs=1e-4) for t, v in PINNED_LOSSES.items()}


def test_rerun_skips_finished_work_and_force_reruns(full_run, tiny_english_bert):
    output, _ = full_run
    (path,) = output.glob("*/glue__sst2.json")
    before = path.read_text(encoding="utf-8")
    again = bench(*run_args(tiny_english_bert, output, "--tasks", "glue/sst2"))
    assert again.exit_code == 0 and "skipped" in again.output
    assert path.read_text(encoding="utf-8") == before
    forced = bench(*run_args(tiny_english_bert, output, "--tasks", "glue/sst2", "--force"))
    assert forced.exit_code == 0 and "done" in forced.output
    assert json.loads(path.read_text(encoding="utf-8"))["started_at"] >= json.loads(before)["started_at"]
    # same seed, same data, same model: the same score (seeded, deterministic on CPU)
    assert json.loads(path.read_text(encoding="utf-8"))["scores"] == json.loads(before)["scores"]


def test_a_failing_task_fails_alone(tmp_path, tiny_english_bert, monkeypatch):
    real = finetune_module.finetune

    def diverge_on_mrpc(spec, *args, **kwargs):
        if spec.id == "glue/mrpc":
            raise finetune_module.TrainingDiverged("loss became nan at epoch 1, step 3")
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(runner, "finetune", diverge_on_mrpc)
    result = bench(*run_args(tiny_english_bert, tmp_path, "--tasks", "glue/mrpc,glue/sst2"))
    assert result.exit_code == 1
    assert sorted(records(tmp_path)) == ["glue/sst2"]
    failure = json.loads(next(tmp_path.glob("*/glue__mrpc.failed.json")).read_text(encoding="utf-8"))
    assert failure["schema"] == records_module.FAILURE_SCHEMA and "nan" in failure["error"]["message"]
    assert "failed" in result.output


def test_a_nan_loss_is_detected(tmp_path, tiny_english_bert):
    result = bench(*run_args(tiny_english_bert, tmp_path, "--tasks", "glue/sst2", "--set", "learning_rate=1e30"))
    assert result.exit_code == 1
    assert "TrainingDiverged" in result.output and not records(tmp_path)


def test_a_model_that_predicts_one_value_gets_zero_correlations_and_a_warning_naming_why(tmp_path, tiny_english_bert):
    """Pearson and Spearman of constant predictions are undefined (scipy: NaN): recorded as 0.0, and said so."""
    from transformers import AutoModel

    # a pooler saturated at tanh(50) == 1.0 for every input: its gradient is exactly 0, so it stays so, and
    # the regression head sees the same vector for every row all through training
    collapsed = tmp_path / "collapsed"
    model = AutoModel.from_pretrained(tiny_english_bert)
    with torch.no_grad():
        model.pooler.dense.weight.zero_()
        model.pooler.dense.bias.fill_(50.0)
    model.save_pretrained(collapsed)
    AutoTokenizer.from_pretrained(tiny_english_bert).save_pretrained(collapsed)
    result = bench(*run_args(collapsed, tmp_path / "out", "--tasks", "glue/stsb", "--limit", "16", "--seeds", "1,2"))
    assert result.exit_code == 0, result.output
    record = records(tmp_path / "out")["glue/stsb"]
    assert record["scores"] == {"spearman": 0.0, "pearson": 0.0}
    notes = [w for w in record["warnings"] if "undefined" in w]
    assert [n.split(":", 1)[0] for n in notes] == ["glue/stsb seed 1", "glue/stsb seed 2"]
    assert all("spearman and pearson undefined: every prediction is the same value" in n and "recorded as 0.0" in n
               for n in notes)
    assert notes[0] in " ".join(result.output.split())  # the console says it too, after the summary
    # the predictions file holds the constant column, and its scores recomputed match the record's 0.0
    path = next((tmp_path / "out").glob("*/glue__stsb.json"))
    kept = predictions_module.for_record(path, records_module.read_result(path))
    assert all(len(set(seed.tolist())) == 1 for seed in kept.predictions)


def test_ctrl_c_keeps_finished_records_and_seeds_and_resumes(tmp_path, tiny_english_bert, monkeypatch):
    real = finetune_module.finetune
    calls = []

    def interrupt_second_seed_of_stsb(spec, model_path, tokenizer, data, hp, seed, *args, **kwargs):
        calls.append((spec.id, seed))
        if spec.id == "glue/stsb" and seed == 2:
            raise KeyboardInterrupt
        return real(spec, model_path, tokenizer, data, hp, seed, *args, **kwargs)

    monkeypatch.setattr(runner, "finetune", interrupt_second_seed_of_stsb)
    args = run_args(tiny_english_bert, tmp_path, "--tasks", "glue/sst2,glue/stsb", "--seeds", "1,2")
    interrupted = bench(*args)
    assert interrupted.exit_code == 130
    assert sorted(records(tmp_path)) == ["glue/sst2"]  # finished; no partial stsb record
    assert not list(tmp_path.rglob("*.tmp"))

    monkeypatch.setattr(runner, "finetune", real)
    calls_before = len(calls)
    resumed = bench(*args)
    assert resumed.exit_code == 0
    assert sorted(records(tmp_path)) == ["glue/sst2", "glue/stsb"]
    assert len(calls) == calls_before  # the real finetune ran only stsb's seed 2; sst2 was skipped, seed 1 reused
    assert [s["seed"] for s in records(tmp_path)["glue/stsb"]["seeds"]] == [1, 2]


def test_user_mistakes_get_a_message_not_a_traceback(tmp_path, tiny_english_bert):
    unknown_task = bench(*run_args(tiny_english_bert, tmp_path, "--tasks", "klue/nerr"))
    assert unknown_task.exit_code == 2 and "Did you mean klue/ner" in unknown_task.output
    offline_model = bench("run", "--model", "no-such-org/no-such-model", "--tasks", "glue/mrpc")
    assert offline_model.exit_code == 2 and "--model DIR" in offline_model.output
    bad_override = bench(*run_args(tiny_english_bert, tmp_path, "--set", "batch_size=-1"))
    assert bad_override.exit_code == 2 and "batch_size" in bad_override.output
    tasks = absent_hub_tasks(tmp_path / "tasks")
    offline_data = bench("run", "--model", str(tiny_english_bert), "--tasks", "absent/mrpc", "--tasks-dir", str(tasks),
                         "--output", str(tmp_path / "results"))
    assert offline_data.exit_code == 2 and "--data-dir" in offline_data.output
    assert "hf download fixture/absent-glue --repo-type dataset" in offline_data.output


def absent_hub_tasks(folder: Path) -> Path:
    """MRPC and SST-2 copied as suite 'absent', their hub dataset a repo this run's (offline) cache does not hold."""
    (folder / "absent").mkdir(parents=True)
    for name in ("mrpc", "sst2"):
        text = (paths.TASKS_DIR / "glue" / f"{name}.yaml").read_text(encoding="utf-8")
        text = text.replace("suite: glue", "suite: absent").replace("nyu-mll/glue", "fixture/absent-glue")
        (folder / "absent" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def test_usage_mistakes_of_all_tasks_are_reported_together_before_training(tmp_path, tiny_english_bert, monkeypatch):
    monkeypatch.setattr(runner, "finetune", lambda *a, **k: pytest.fail("trained despite a usage mistake"))
    device = [] if torch.cuda.is_available() else ["--device", "cuda"]
    tasks = absent_hub_tasks(tmp_path.parent / f"{tmp_path.name}-tasks")
    result = bench("run", "--model", str(tiny_english_bert), "--tasks", "absent/mrpc,absent/sst2", "--set", "max_length=9999",
                   "--tasks-dir", str(tasks), "--output", str(tmp_path), *device)
    assert result.exit_code == 2
    for expected in ("absent/mrpc: max_length 9999 is above the 512 positions", "absent/sst2: max_length 9999",
                     "absent/mrpc: reads fixture/absent-glue (revision main) from the hub, which is not in the Hugging Face cache",
                     "absent/sst2: reads fixture/absent-glue"):
        assert expected in result.output
    if device:
        assert "no CUDA device" in result.output
    assert not list(tmp_path.rglob("*"))  # no record, no failure record, no cache


@pytest.mark.parametrize("args, expected", [
    (["--tasks", ""], "names no task"), (["--tasks", ","], "names no task"),
    (["--set", "epochs=[1"], "not valid YAML"), (["--set", "epochs"], "expected key=value"),
])
def test_empty_task_lists_and_bad_overrides_are_usage_errors(tmp_path, tiny_english_bert, args, expected):
    result = bench("run", "--model", str(tiny_english_bert), "--data-dir", str(SAMPLES_DIR), "--output", str(tmp_path), *args)
    assert result.exit_code == 2 and expected in result.output, result.output
    assert not list(tmp_path.rglob("*"))


def test_text_in_brackets_prints_as_written(tmp_path, tiny_english_bert):
    odd = tmp_path / "[" / "x]"  # a data folder whose path holds '[/x]', which rich would read as a closing tag
    odd.mkdir(parents=True)
    result = bench("run", "--model", str(tiny_english_bert), "--data-dir", str(odd), "--tasks", "glue/sst2",
                   "--train-split", "train[/x]", "--output", str(tmp_path / "out"), "--set", "epochs=1")
    assert result.exit_code == 2, result.output  # a split expression that does not parse: refused before any work
    assert "MarkupError" not in result.output and "train[/x]" in result.output
    assert not (tmp_path / "out").exists()


def test_a_nan_on_the_last_optimizer_step_is_caught(tmp_path, tiny_english_bert, monkeypatch):
    real = finetune_module._train_step

    def poison_the_last_step(run, batch):
        result = real(run, batch)
        if run.step + 1 == run.hp.epochs * len(run.loader):  # the update after the last finite loss
            with torch.no_grad():
                next(run.model.parameters()).fill_(float("nan"))
        return result

    monkeypatch.setattr(finetune_module, "_train_step", poison_the_last_step)
    result = bench(*run_args(tiny_english_bert, tmp_path, "--tasks", "glue/sst2"))
    assert result.exit_code == 1
    assert not records(tmp_path)
    failure = records_module.read_failure(next(tmp_path.glob("*/glue__sst2.failed.json")))
    assert failure.error.type == "TrainingDiverged" and "weights" in failure.error.message


def test_records_say_how_the_run_departs_from_the_protocol(full_run):
    output, _ = full_run
    found = records(output)
    for task_id, record in found.items():
        assert record["protocol"]["followed"] is False
        assert any(d.startswith("epochs 1 (protocol:") for d in record["protocol"]["deviations"]), task_id
    ner = found["klue/ner"]["protocol"]["deviations"]
    assert any("trained on validation[:80%]" in d and "no train file" in d for d in ner)
    assert not any("no train file" in d for d in found["glue/sst2"]["protocol"]["deviations"])


def test_protocol_runs_have_no_deviations(shared_data):
    ner = spec_module.load_tasks(["klue/ner"])[0]
    hub_run = runner.RunOptions(overrides={"epochs": ner.hyperparameters.epochs})  # the protocol's own value
    assert runner.protocol_deviations(ner, hub_run, None) == []
    limited = runner.RunOptions(limit=8, train_split="train[:100]")
    assert [d.split(" ")[0] for d in runner.protocol_deviations(ner, limited, None)] == ["--train-split", "smoke"]


def test_a_local_only_task_is_defined_by_its_own_split_expressions(tmp_path, shared_data):
    """A user's task with no hub source carves its one file as its YAML says: that is its protocol, not a deviation;
    the same carve of a task whose protocol is the hub's train split is one."""
    import yaml

    folder = tmp_path / "tasks" / "mine"
    folder.mkdir(parents=True)
    raw = yaml.safe_load((paths.TASKS_DIR / "glue" / "mrpc.yaml").read_text(encoding="utf-8"))
    raw["suite"] = "mine"
    del raw["dataset"]["hub"]
    raw["dataset"]["local"]["train"], raw["dataset"]["local"]["validation"] = "validation[:80%]", "validation[80%:]"
    (folder / "paraphrase.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    mine = spec_module.load_tasks(["mine/paraphrase"], [tmp_path / "tasks"])[0]
    opts = runner.RunOptions(data_dir=shared_data)
    assert runner.protocol_deviations(mine, opts, data.load(mine, shared_data)) == []
    nli = spec_module.load_tasks(["klue/nli"])[0]
    carved = runner.protocol_deviations(nli, opts, data.load(nli, shared_data))
    assert len(carved) == 1 and "no train file there" in carved[0]


def test_each_ner_record_counts_the_sentences_with_an_unknown_piece(full_run, tiny_english_bert):
    output, _ = full_run
    record = records(output)["klue/ner"]
    tokenizer = AutoTokenizer.from_pretrained(tiny_english_bert)
    ner = spec_module.load_tasks(["klue/ner"])[0]
    validation = data.load(ner, SAMPLES_DIR).dataset["validation"]
    ids = tokenizer(["".join(t) for t in validation["tokens"]], truncation=True, max_length=510)["input_ids"]
    expected = sum(tokenizer.unk_token_id in row for row in ids)
    assert expected > 0  # an English vocabulary on Korean text: many unknown pieces
    assert record["data"]["unk_sentences"] == expected
    assert records(output)["glue/sst2"]["data"]["unk_sentences"] is None  # counted for token tasks only


def test_evaluations_are_spread_evenly_and_the_last_ends_the_epoch():
    assert finetune_module.evaluation_steps(1428, 4) == [357, 714, 1071, 1428]  # YNAT at batch 32: as run_klue.py
    assert finetune_module.evaluation_steps(10, 4) == [3, 5, 8, 10]
    assert finetune_module.evaluation_steps(3, 4) == [1, 2, 3]  # never more evaluations than steps
    assert finetune_module.evaluation_steps(7, 1) == [7]


def test_without_a_terminal_a_run_says_how_far_it_is(tiny_english_bert, tmp_path, monkeypatch):
    """Output to a log file or a batch job draws no bars: progress comes as lines (here: after every step)."""
    monkeypatch.setattr(runner, "LOG_EVERY_S", 0.0)
    result = bench(*run_args(tiny_english_bert, tmp_path / "results", "--tasks", "glue/mrpc", "--limit", "16",
                             "--set", "batch_size=8"))
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines() if line.strip().startswith("glue/mrpc seed 42 epoch 1/1")]
    assert [line.rsplit(", ", 1)[1] for line in lines] == ["step 1/2", "step 2/2"]  # 16 rows, batches of 8
