"""The record store: one answer, for the site, compare, export and the store itself, about the same records.

The committed fixture records (tests/data/records/results, synthetic, tiny random BERTs) hold the
cases that used to split the readers: a record made under an older task YAML in another folder
(older-spec/), a model whose records sit one level deeper (other-runs/), an archived copy, broken
files and a foreign JSON file.
"""

import json
import os
import shutil
from pathlib import Path

import pytest

from harness.core.paths import MODELS_FILE, TASKS_DIR
from harness.results import compare, export, records, store
from harness.run import models
from harness.site import build
from harness.tasks.spec import load_tasks

FIXTURE = Path(__file__).parents[1] / "data" / "records"
RESULTS = FIXTURE / "results"


@pytest.fixture(scope="module")
def scanned() -> store.Store:
    return store.scan(RESULTS)


@pytest.fixture(scope="module")
def site_data():
    return build.collect(RESULTS, FIXTURE / "models.yaml", TASKS_DIR, FIXTURE / "reported.yaml")


def current_files(scanned, model_id):
    return {task: s.path for task, s in scanned.current(store.Identity(model_id)).items()}


def site_rows(site_data, model_id):
    """(task -> record file, ranked tasks) of one model as the site shows it."""
    ranked = site_data.latest[site_data.latest["model_id"] == model_id]
    apart = site_data.others[site_data.others["model_id"] == model_id]
    files = {r.task_id: RESULTS.parent / r.file for frame in (ranked, apart) for r in frame.itertuples()}
    return files, set(ranked["task_id"])


@pytest.mark.parametrize("model_id", ["fixture/model-a", "fixture/model-b", "fixture/model-c"])
def test_site_compare_export_and_the_store_agree(scanned, site_data, model_id):
    current = current_files(scanned, model_id)
    assert current, f"the store finds no records of {model_id}"
    # compare: the records it pairs
    side = compare.find_side(model_id, RESULTS)
    assert {task: path for task, (path, _) in side.records.items()} == current
    # export: one entry set per task, of the current record
    exported = export.model_records(RESULTS, model_id)
    assert sorted(r.task.id for r in exported) == sorted(current)
    assert {r.task.id: r.started_at for r in exported} == {t: records.read_result(p).started_at for t, p in current.items()}
    # the site: the same files, ranked exactly where the store says nothing stands against them
    shas = {s.id: s.sha256 for s in load_tasks(["all"])}
    files, ranked = site_rows(site_data, model_id)
    assert files == current
    assert ranked == {t for t, s in scanned.current(store.Identity(model_id)).items() if not scanned.standing(s, shas)}


def test_an_older_spec_in_another_folder_is_neither_current_nor_paired(scanned):
    older = RESULTS / "older-spec" / "glue__mrpc.json"
    assert older in [s.path for s in scanned.of_model(store.Identity("fixture/model-a"))]
    assert current_files(scanned, "fixture/model-a")["glue/mrpc"] != older
    side = compare.find_side("fixture/model-a", RESULTS)
    assert side.records["glue/mrpc"][0] == RESULTS / "fixture__model-a-3f7a368105" / "glue__mrpc.json"
    stale = next(s for s in scanned.records if s.path == older)
    reasons = scanned.standing(stale, {s.id: s.sha256 for s in load_tasks(["all"])})
    assert store.OLDER_SPEC in reasons and any(r.startswith("superseded by a newer run") for r in reasons)


def test_export_writes_one_entry_per_task_and_metric(tmp_path):
    exported = export.export_model("fixture/model-a", "json", tmp_path, RESULTS)
    rows = json.loads(exported.written[0].read_text(encoding="utf-8"))
    keys = [(r["task_id"], r["metric"]) for r in rows]
    assert len(keys) == len(set(keys)) and ("glue/mrpc", "f1") in keys


def test_a_model_one_folder_down_is_found_by_compare_and_export():
    assert compare.find_side("fixture/model-c", RESULTS).records
    assert [r.task.id for r in export.model_records(RESULTS, "fixture/model-c")] == ["glue/sst2"]


def test_current_of_answers_any_model_value_and_names_the_models_that_have_records(tmp_path, tiny_english_bert,
                                                                                    monkeypatch):
    scanned = store.scan(RESULTS)
    assert {t: s.path for t, s in scanned.current_of("fixture/model-a").items()} == current_files(scanned, "fixture/model-a")
    with pytest.raises(store.NoRecords) as caught:
        scanned.current_of("fixture/nobody")
    assert str(caught.value) == (f"no result records of model 'fixture/nobody' under {RESULTS} "
                                 "(models with records there: fixture/model-a, fixture/model-b, fixture/model-c)")
    with pytest.raises(store.NoRecords, match=r"\(there are no records there\)"):
        store.scan(tmp_path / "empty").current_of("fixture/model-a")
    # a local model folder, typed as `bench run` was given it: its local records only, not a hub model's of that id
    monkeypatch.chdir(tiny_english_bert.parent)
    base = records.read_result(RESULTS / "fixture__model-b-355687cc39" / "glue__mrpc.json")
    for source, task in (("local", "glue/mrpc"), ("hub", "glue/sst2")):
        model = base.model.model_copy(update={"id": tiny_english_bert.name, "source": source})
        records.write(tmp_path / "results" / source / records.task_file_stem(task) / "r.json",
                      base.model_copy(update={"model": model, "task": base.task.model_copy(update={"id": task})}))
    assert list(store.scan(tmp_path / "results").current_of(str(tiny_english_bert))) == ["glue/mrpc"]
    monkeypatch.chdir(tmp_path)  # where the name is no folder: the id as written, records of either source
    assert list(store.scan(tmp_path / "results").current_of(tiny_english_bert.name)) == ["glue/mrpc", "glue/sst2"]


def test_hidden_folders_are_not_records(tmp_path):
    record = records.read_result(RESULTS / "fixture__model-b-355687cc39" / "glue__mrpc.json")
    records.write(tmp_path / "m" / "glue__mrpc.json", record)
    records.write(tmp_path / "m" / ".seeds" / "glue__mrpc" / "x.json", record)
    records.write(tmp_path / "m" / store.HISTORY / "abc" / "glue__mrpc.json", record)
    assert [s.path for s in store.scan(tmp_path).records] == [tmp_path / "m" / "glue__mrpc.json"]


def test_the_newest_of_two_folders_is_current_everywhere(tmp_path):
    """One model and task in two folders: the newer record (90.0) is the answer of every reader."""
    base = records.read_result(RESULTS / "fixture__model-b-355687cc39" / "glue__mrpc.json")
    older = base.model_copy(update={"started_at": "2025" + base.started_at[4:]})
    newer_seeds = [s.model_copy(update={"scores": {**s.scores, "f1": 90.0}}) for s in base.seeds]
    newer = records.ResultRecord.from_seeds(newer_seeds, **{k: v for k, v in base.model_dump().items()
                                                             if k not in ("seeds", "scores", "std", "schema_version")})
    records.write(tmp_path / "results" / "z-old" / "glue__mrpc.json", older)  # sorts last, is older
    records.write(tmp_path / "results" / "a-new" / "glue__mrpc.json", newer)
    results = tmp_path / "results"
    side = compare.find_side("fixture/model-b", results)
    assert side.records["glue/mrpc"][1].scores["f1"] == 90.0
    assert [r.scores["f1"] for r in export.model_records(results, "fixture/model-b")] == [90.0]
    data = build.collect(results, FIXTURE / "models.yaml", TASKS_DIR, tmp_path / "none.yaml")
    shown = data.latest if len(data.latest) else data.others
    assert [s["f1"] for s in shown["scores"]] == [90.0]


def test_a_local_folder_given_absolute_or_relative_is_one_model(tmp_path, tiny_english_bert, monkeypatch):
    monkeypatch.chdir(tiny_english_bert.parent)
    relative = models.reference(tiny_english_bert.name)
    absolute = models.reference(str(tiny_english_bert))
    climbing = models.reference(os.path.join(tiny_english_bert.name, "..", tiny_english_bert.name))
    assert relative.id == absolute.id == climbing.id == tiny_english_bert.name


def test_two_checkpoints_of_the_same_name_elsewhere_are_two_models(tmp_path, tiny_english_bert, monkeypatch):
    a, b = tmp_path / "teamA" / "ckpt" / "final", tmp_path / "teamB" / "ckpt" / "final"
    for folder in (a, b):
        shutil.copytree(tiny_english_bert, folder)
    work = tmp_path / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)
    id_a, id_b = models.reference(str(a)).id, models.reference(str(b)).id
    assert id_a != id_b and id_a.startswith(".../ckpt/final@") and id_b.startswith(".../ckpt/final@")
    assert models.local_model(a, id_a).record_dir != models.local_model(b, id_b).record_dir


def test_task_ids_that_spell_alike_get_distinct_files(tmp_path):
    one, two = records.record_path(tmp_path, "m", "glue/a__b"), records.record_path(tmp_path, "m", "glue__a/b")
    assert one != two
    assert records.record_path(tmp_path, "m", "klue/ynat").name == "klue__ynat.json"  # plain ids keep their names
