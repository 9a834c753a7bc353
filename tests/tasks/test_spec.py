"""Task YAMLs: every shipped one parses; malformed ones fail loudly, naming the file and the field."""

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from harness.core import paths
from harness.core.paths import TASKS_DIR
from harness.tasks import heads, spec
from harness.tasks.metrics import METRICS

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
    warmup = {"klue/ynat": 0.1, "klue/sts": 0.1, "klue/nli": 0.1, "klue/ner": 0.0}  # run_all.sh gives NER none
    for task_id, n in epochs.items():
        hp = by_id[task_id].hyperparameters
        assert (hp.learning_rate, hp.batch_size, hp.epochs, hp.warmup_ratio) == (5e-5, 32, n, warmup[task_id])
        assert by_id[task_id].selection == "best" and hp.evals_per_epoch == 4  # run_klue.py: val_check_interval 0.25
    assert by_id["klue/ner"].hyperparameters.max_length == 510
    assert by_id["klue/ner"].selection_metric == "char_f1"  # run_all.sh: --metric_key character_macro_f1
    for task_id in ("glue/mrpc", "glue/stsb", "glue/sst2", "glue/qnli"):
        hp = by_id[task_id].hyperparameters
        assert (hp.learning_rate, hp.batch_size, hp.epochs, hp.max_length) == (1e-5, 32, 3, 128)
        assert by_id[task_id].selection == "last"


# Each task's metrics, the first the one the leaderboard ranks by: the KLUE paper's (YNAT macro F1, STS Pearson
# and F1, NLI accuracy, NER entity and character macro F1) and GLUE's (MRPC F1 and accuracy, STS-B Spearman and
# Pearson, SST-2 and QNLI accuracy). A change here changes what every published score means.
METRICS_OF_TASK = {
    "klue/ynat": ["macro_f1", "accuracy"],
    "klue/sts": ["pearson", "binarized_f1"],
    "klue/nli": ["accuracy"],
    "klue/ner": ["entity_f1", "char_f1"],
    "glue/mrpc": ["f1", "accuracy"],
    "glue/stsb": ["spearman", "pearson"],
    "glue/sst2": ["accuracy"],
    "glue/qnli": ["accuracy"],
}


def test_each_task_ranks_by_its_benchmarks_primary_metric():
    by_id = {s.id: s for s in spec.load_tasks(["all"])}
    assert {task_id: [s.metrics.primary, *s.metrics.others] for task_id, s in by_id.items()} == METRICS_OF_TASK
    assert by_id["klue/sts"].metrics.binarize_threshold == 3.0


def test_glue_tasks_score_once_an_epoch_without_warm_up():
    for task in spec.load_tasks(["glue"]):
        assert (task.hyperparameters.evals_per_epoch, task.hyperparameters.warmup_ratio) == (1, 0.0), task.id


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
        (lambda r: r.update(head="span-extraction"), "head: unknown head 'span-extraction'; use one of"),
        (lambda r: r["hyperparameters"].update(batch_size=0), "hyperparameters.batch_size: Input should be greater than 0"),
        (lambda r: r["dataset"].pop("labels"), "dataset.labels: a classification task lists its label names"),
        (lambda r: r["dataset"]["hub"]["columns"].pop("label"), "dataset.hub.columns: missing ['label']"),
        (lambda r: r.update(id="klue/other"), "the id comes from the path"),
        (lambda r: r.update(suite="glue"), "suite: is 'glue' but the file is in the folder 'klue'"),
        (lambda r: r.update(suite="../../x"), "suite: is '../../x' but the file is in the folder 'klue'"),
        (lambda r: r["dataset"].update(labels=["IT과학", "경제", "경제"]), "label names must be unique; ['경제']"),
        (lambda r: r["metrics"].update(primary="entity_f1"), "'entity_f1' does not score a sequence-classification task"),
        (lambda r: r["metrics"].update(others=["pearson"]), "'pearson' does not score a sequence-classification task"),
        (lambda r: r["metrics"].update(primary="f1"), "'f1' is the F1 of the second of two labels, but there are 7"),
        (lambda r: r.update(sha256="0" * 64), "sha256: set by koenbench"),
    ],
)
def test_malformed_spec_names_file_and_field(tasks_copy, change, expected):
    path = tasks_copy / "klue" / "ynat.yaml"
    _edit(path, change)
    with pytest.raises(spec.SpecError) as err:
        spec.load_tasks(["klue/ynat"], tasks_copy)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_broken_yaml_stops_loading_the_tasks_it_selects(tasks_copy):
    path = tasks_copy / "glue" / "mrpc.yaml"
    path.write_text("name: MRPC\n  suite: [glue\n", encoding="utf-8")
    with pytest.raises(spec.SpecError, match="not valid YAML"):
        spec.load_tasks(["all"], tasks_copy)


def test_duplicate_task_ids_raise(tasks_copy):
    shutil.copy(tasks_copy / "glue" / "mrpc.yaml", tasks_copy / "glue" / "mrpc.yml")
    with pytest.raises(spec.SpecError, match="defined twice"):
        spec.discover(tasks_copy)


@pytest.mark.parametrize("change, expected", [
    (lambda r: r["metrics"].update(primary="accuracy"), "'accuracy' does not score a token-classification task"),
    (lambda r: r["dataset"].update(labels=["B-PS", "I-PS", "PER"]), "entity_f1 reads IOB2 tags (B-X, I-X, O); ['PER']"),
])
def test_token_metrics_fit_token_tasks_only(tasks_copy, change, expected):
    _edit(tasks_copy / "klue" / "ner.yaml", change)
    with pytest.raises(spec.SpecError, match=re.escape(expected)):
        spec.load_tasks(["klue/ner"], tasks_copy)


def test_regression_metrics_need_a_regression_head(tasks_copy):
    _edit(tasks_copy / "glue" / "stsb.yaml", lambda r: r["metrics"].update(others=["macro_f1"]))
    with pytest.raises(spec.SpecError, match="'macro_f1' does not score a regression task"):
        spec.load_tasks(["glue/stsb"], tasks_copy)


def test_every_metric_declares_what_it_scores_and_every_head_has_metrics():
    kinds = {head.kind for head in heads.HEADS.values()}
    for name, metric in METRICS.items():
        assert metric.kinds and set(metric.kinds) <= kinds, name
        assert metric.description and metric.reference and metric.label and metric.hub_id, name
    for name, head in heads.HEADS.items():
        assert any(head.kind in metric.kinds for metric in METRICS.values()), name


def test_ids_and_suites_are_plain_names(tasks_copy):
    (tasks_copy / "My Suite").mkdir()
    shutil.copy(tasks_copy / "glue" / "mrpc.yaml", tasks_copy / "My Suite" / "mrpc.yaml")
    registry = spec.Registry.search(tasks_copy)
    assert "My Suite/mrpc" not in registry.files
    specs, problems = registry.load_all()
    assert len(specs) == 8 and len(problems) == 1
    assert "My Suite/mrpc.yaml" in problems[0] and "must match" in problems[0]


# --------------------------------------------------------------------------------------
# The search path: built-in tasks, $KOENBENCH_TASKS_PATH, --tasks-dir
# --------------------------------------------------------------------------------------

TOY = """\
name: Toy sentiment
suite: {suite}
language: en
description: A user task outside the clone.
dataset:
  labels: [negative, positive]
  local:
    files:
      train: {{path: toy/train.jsonl, format: jsonl, columns: {{text_a: text, label: label}}}}
      validation: {{path: toy/dev.jsonl, format: jsonl, columns: {{text_a: text, label: label}}}}
head: sequence-classification
metrics: {{primary: accuracy}}
hyperparameters: {{learning_rate: 1.0e-4, batch_size: 8, epochs: 1, max_length: 32}}
"""


def _user_task(root: Path, suite: str = "mine", name: str = "toy") -> Path:
    (root / suite).mkdir(parents=True, exist_ok=True)
    path = root / suite / f"{name}.yaml"
    path.write_text(TOY.format(suite=suite), encoding="utf-8")
    return path


def test_user_task_folders_join_the_built_in_tasks(tmp_path):
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    _user_task(mine)
    _user_task(theirs, suite="other", name="toy2")
    dirs = paths.task_dirs([mine], environ={paths.TASKS_PATH_ENV: str(theirs)})
    assert dirs == [paths.TASKS_DIR, theirs, mine]
    assert spec.resolve_task_ids(["all"], dirs) == ALL_TASKS + ["other/toy2", "mine/toy"]
    assert spec.resolve_task_ids(["mine"], dirs) == ["mine/toy"]
    assert spec.load_tasks(["mine/toy"], dirs)[0].path == str(mine / "mine" / "toy.yaml")


def test_the_environment_variable_is_read_by_default(tmp_path, monkeypatch):
    _user_task(tmp_path)
    monkeypatch.setenv(paths.TASKS_PATH_ENV, os.pathsep.join([str(tmp_path), ""]))
    assert "mine/toy" in spec.discover()


def test_an_id_in_two_folders_names_both_files(tmp_path):
    first, second = _user_task(tmp_path / "a"), _user_task(tmp_path / "b")
    with pytest.raises(spec.SpecError) as err:
        spec.discover([paths.TASKS_DIR, tmp_path / "a", tmp_path / "b"])
    assert "'mine/toy' is defined twice" in str(err.value)
    assert str(first) in str(err.value) and str(second) in str(err.value)


def test_a_missing_task_folder_and_an_empty_selection_are_errors(tmp_path):
    with pytest.raises(spec.SpecError, match="does not exist"):
        spec.discover([tmp_path / "nope"])
    for names in ([""], [",".strip(",")], []):
        with pytest.raises(spec.SpecError, match="no task selected"):
            spec.load_tasks(names)
    (tmp_path / "empty").mkdir()
    with pytest.raises(spec.SpecError, match="No tasks found"):
        spec.load_tasks(["all"], tmp_path / "empty")


def test_a_yaml_outside_a_suite_folder_is_reported(tmp_path):
    path = _user_task(tmp_path)
    shutil.move(path, tmp_path / "toy.yaml")
    specs, problems = spec.Registry.search([paths.TASKS_DIR, tmp_path]).load_all()
    assert len(specs) == 8
    assert problems == [f"{tmp_path / 'toy.yaml'}: not in a suite folder; move it to {tmp_path}/<suite>/toy.yaml"]


def test_load_all_reports_every_bad_file_and_keeps_the_good(tasks_copy):
    (tasks_copy / "glue" / "mrpc.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    _edit(tasks_copy / "klue" / "sts.yaml", lambda r: r.update(suite="glue"))
    specs, problems = spec.Registry.search(tasks_copy).load_all()
    assert [s.id for s in specs] == [t for t in ALL_TASKS if t not in ("glue/mrpc", "klue/sts")]
    assert len(problems) == 2
    assert str(tasks_copy / "glue" / "mrpc.yaml") in problems[0] and "not valid YAML" in problems[0]
    assert str(tasks_copy / "klue" / "sts.yaml") in problems[1] and "suite:" in problems[1]
    with pytest.raises(spec.SpecError) as err:  # bench run: a bad selected task stops the run, naming each
        spec.load_tasks(["all"], tasks_copy)
    assert "mrpc.yaml" in str(err.value) and "sts.yaml" in str(err.value)
    assert [s.id for s in spec.load_tasks(["klue/ynat"], tasks_copy)] == ["klue/ynat"]


# --------------------------------------------------------------------------------------
# include: a variant is the included spec plus the keys it changes
# --------------------------------------------------------------------------------------


def _variant(root: Path, task_id: str, text: str) -> Path:
    suite, name = task_id.split("/")
    (root / suite).mkdir(parents=True, exist_ok=True)
    path = root / suite / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_include_merges_the_changed_keys_into_the_included_spec(tmp_path):
    _variant(tmp_path, "klue/ner_long", "include: klue/ner\nname: KLUE-NER long\n"
                                        "hyperparameters: {max_length: 1024, epochs: 3}\n")
    dirs = [paths.TASKS_DIR, tmp_path]
    base, variant = spec.load_tasks(["klue/ner", "klue/ner_long"], dirs)
    assert variant.id == "klue/ner_long" and variant.includes == "klue/ner"
    assert variant.changed_keys == ["name", "hyperparameters.max_length"]  # epochs: 3 is what klue/ner has
    assert variant.hyperparameters.max_length == 1024
    assert variant.hyperparameters.model_dump(exclude={"max_length"}) == base.hyperparameters.model_dump(exclude={"max_length"})
    assert variant.dataset == base.dataset and variant.metrics == base.metrics and variant.suite == "klue"
    assert base.includes is None and base.changed_keys == []
    assert variant.sha256 != base.sha256
    elsewhere = _variant(tmp_path, "mine/ner", "include: klue/ner\n")  # a variant's suite is its own folder
    mine = spec.load_spec(elsewhere, "mine/ner", spec.discover(dirs))
    assert mine.suite == "mine" and mine.changed_keys == [] and mine.dataset == base.dataset


def test_a_variant_of_a_variant_and_a_changed_include_rehash(tmp_path):
    _variant(tmp_path, "klue/ner_long", "include: klue/ner\nhyperparameters: {max_length: 1024}\n")
    path = _variant(tmp_path, "klue/ner_longer", "include: klue/ner_long\nhyperparameters: {epochs: 5}\n")
    dirs = [paths.TASKS_DIR, tmp_path]
    longer = spec.load_tasks(["klue/ner_longer"], dirs)[0]
    assert (longer.hyperparameters.max_length, longer.hyperparameters.epochs) == (1024, 5)
    assert longer.includes == "klue/ner_long" and longer.changed_keys == ["hyperparameters.epochs"]
    _variant(tmp_path, "klue/ner_long", "include: klue/ner\nhyperparameters: {max_length: 2048}\n")
    again = spec.load_spec(path, "klue/ner_longer", spec.discover(dirs))
    assert again.hyperparameters.max_length == 2048 and again.sha256 != longer.sha256  # the run key follows the base


@pytest.mark.parametrize("text, expected", [
    ("include: klue/nerr\n", "include: unknown task 'klue/nerr'. Did you mean klue/ner"),
    ("include: [klue/ner]\n", "include: expected a task id such as klue/ner"),
    ("include: mine/loop\n", "includes itself (mine/loop -> mine/loop)"),
    ("include: klue/ner\nmetrics: {primary: accuracy}\n",
     "invalid task spec (after include: klue/ner)\n  metrics: 'accuracy' does not score a token-classification task"),
    ("include: klue/ner\nhyperparameters: {epochs: 0}\n", "hyperparameters.epochs: Input should be greater than 0"),
    ("include: klue/ner\nsuite: klue\n", "suite: is 'klue' but the file is in the folder 'mine'"),
])
def test_a_bad_include_names_the_file_and_the_fix(tmp_path, text, expected):
    path = _variant(tmp_path, "mine/loop", text)
    with pytest.raises(spec.SpecError) as err:
        spec.load_tasks(["mine/loop"], [paths.TASKS_DIR, tmp_path])
    assert str(err.value).startswith(f"{path}: ")
    assert expected in str(err.value)


def test_include_cycles_across_files_are_caught(tmp_path):
    _variant(tmp_path, "mine/a", "include: mine/b\n")
    _variant(tmp_path, "mine/b", "include: mine/a\n")
    with pytest.raises(spec.SpecError, match=re.escape("includes itself (mine/a -> mine/b -> mine/a)")):
        spec.load_tasks(["mine/a"], tmp_path)
