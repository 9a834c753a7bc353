"""Task YAMLs: every shipped one parses; malformed ones fail loudly, naming the file and the field."""

import shutil
from pathlib import Path

import pytest
import yaml

from harness import spec
from harness.paths import TASKS_DIR

ALL_TASKS = ["glue/mrpc", "glue/qnli", "glue/sst2", "glue/stsb", "klue/ner", "klue/nli", "klue/sts", "klue/ynat"]


def test_every_shipped_task_parses():
    specs = spec.load_tasks(["all"])
    assert [s.id for s in specs] == ALL_TASKS
    for s in specs:
        assert s.suite == s.id.split("/")[0]
        assert len(s.sha256) == 64
        if s.head != "regression":
            assert len(set(s.dataset.labels)) == len(s.dataset.labels)


def test_protocols_follow_klue_baseline_and_koenbert():
    by_id = {s.id: s for s in spec.load_tasks(["all"])}
    epochs = {"klue/ynat": 4, "klue/sts": 4, "klue/nli": 5, "klue/ner": 3}
    for task_id, n in epochs.items():
        hp = by_id[task_id].hyperparameters
        assert (hp.learning_rate, hp.batch_size, hp.epochs, hp.warmup_ratio) == (5e-5, 32, n, 0.1)
        assert by_id[task_id].selection == "best"
    assert by_id["klue/ner"].hyperparameters.max_length == 510
    for task_id in ("glue/mrpc", "glue/stsb", "glue/sst2", "glue/qnli"):
        hp = by_id[task_id].hyperparameters
        assert (hp.learning_rate, hp.batch_size, hp.epochs, hp.max_length) == (1e-5, 32, 3, 128)
        assert by_id[task_id].selection == "last"


def test_suites_and_unknown_ids():
    assert spec.resolve_task_ids(["klue"]) == [t for t in ALL_TASKS if t.startswith("klue/")]
    assert spec.resolve_task_ids(["glue/mrpc", "glue/mrpc"]) == ["glue/mrpc"]
    with pytest.raises(spec.SpecError) as err:
        spec.resolve_task_ids(["klue/nerr"])
    message = str(err.value)
    assert "Did you mean klue/ner" in message and "Known tasks: glue/mrpc" in message


@pytest.fixture
def tasks_copy(tmp_path) -> Path:
    shutil.copytree(TASKS_DIR, tmp_path / "tasks")
    return tmp_path / "tasks"


def _edit(path: Path, change) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda r: r["hyperparameters"].pop("learning_rate"), "hyperparameters.learning_rate: required field is missing"),
        (lambda r: r.update(epochs=3), "epochs: unknown field"),
        (lambda r: r["metrics"].update(primary="f2"), "unknown metric 'f2'"),
        (lambda r: r.update(head="span-extraction"), "head: Input should be"),
        (lambda r: r["hyperparameters"].update(batch_size=0), "hyperparameters.batch_size: Input should be greater than 0"),
        (lambda r: r["dataset"].pop("labels"), "dataset.labels: a classification task lists its label names"),
        (lambda r: r["dataset"]["hub"]["columns"].pop("label"), "dataset.hub.columns: missing ['label']"),
        (lambda r: r.update(id="klue/other"), "the id comes from the path"),
    ],
)
def test_malformed_spec_names_file_and_field(tasks_copy, change, expected):
    path = tasks_copy / "klue" / "ynat.yaml"
    _edit(path, change)
    with pytest.raises(spec.SpecError) as err:
        spec.load_tasks(["klue/ynat"], tasks_copy)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_broken_yaml_is_an_error_not_a_skip(tasks_copy):
    path = tasks_copy / "glue" / "mrpc.yaml"
    path.write_text("name: MRPC\n  suite: [glue\n", encoding="utf-8")
    with pytest.raises(spec.SpecError, match="not valid YAML"):
        spec.load_tasks(["all"], tasks_copy)


def test_duplicate_task_ids_raise(tasks_copy):
    shutil.copy(tasks_copy / "glue" / "mrpc.yaml", tasks_copy / "glue" / "mrpc.yml")
    with pytest.raises(spec.SpecError, match="defined twice"):
        spec.discover(tasks_copy)
