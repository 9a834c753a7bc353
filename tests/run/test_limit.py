"""--limit / --eval-limit: the first N rows of each task's own train / validation split, after its carve,
on all eight tasks at once."""

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.results import records
from harness.run import runner
from harness.tasks import data, spec

ALL_TASKS = ["glue/mrpc", "glue/qnli", "glue/sst2", "glue/stsb", "klue/ner", "klue/nli", "klue/sts", "klue/ynat"]


def test_limit_keeps_the_first_rows_of_every_tasks_carved_splits(shared_data):
    for task in spec.load_tasks(["all"]):
        full = data.load(task, shared_data)
        small = data.load(task, shared_data, limit=32, eval_limit=16)
        assert (small.train_examples, small.validation_examples) == (32, 16), task.id
        assert small.dataset["train"][:] == full.dataset["train"][:32], task.id
        assert small.dataset["validation"][:] == full.dataset["validation"][:16], task.id
        assert small.note.endswith(f"--limit 32: the first 32 of {full.train_examples} train rows; "
                                   f"--eval-limit 16: the first 16 of {full.validation_examples} validation rows")
        if full.note:  # the carve comes first and is still said
            assert small.note.startswith(full.note)


def test_a_limit_beyond_the_split_keeps_it_whole_and_says_so(shared_data):
    task = spec.load_tasks(["klue/nli"])[0]
    loaded = data.load(task, shared_data, eval_limit=10**6)
    assert loaded.validation_examples == 600  # the last 20% of KLUE-NLI dev's 3,000 rows
    assert "--eval-limit 1000000: the first 600 of 600 validation rows" in loaded.note


def test_the_deviation_text_names_both_limits():
    assert runner.RunOptions().limit_deviations() == []
    (text,) = runner.RunOptions(limit=64, eval_limit=32).limit_deviations()
    assert "--limit 64" in text and "--eval-limit 32" in text and "smoke run" in text


def test_bench_run_with_limit_on_all_eight_tasks(tiny_english_bert, tmp_path):
    from harness.demo import SAMPLES_DIR

    result = CliRunner().invoke(app, ["run", "--model", str(tiny_english_bert), "--data-dir", str(SAMPLES_DIR),
                                      "--limit", "16", "--eval-limit", "8", "--set", "epochs=1",
                                      "--output", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    found = {}
    for path in tmp_path.glob("*/*.json"):
        record = records.to_json(records.read_result(path))
        found[record["task"]["id"]] = record
    assert sorted(found) == ALL_TASKS
    for task_id, record in found.items():
        assert (record["data"]["train_examples"], record["data"]["validation_examples"]) == (16, 8), task_id
        assert "--limit 16: the first 16 of" in record["data"]["note"], task_id
        deviations = (record.get("protocol") or {}).get("deviations")
        if deviations is not None:  # once records carry the protocol's deviations, the smoke run is one
            assert any("--limit 16" in d for d in deviations), task_id


@pytest.mark.parametrize("flag", ["--limit", "--eval-limit"])
def test_a_limit_below_one_is_a_usage_error(tmp_path, flag):
    result = CliRunner().invoke(app, ["run", "--model", str(tmp_path), flag, "0"])
    assert result.exit_code == 2 and "greater than or equal to 1" in result.output
