"""Where records and seed results are written and how: paths, the file's exact text and mode, one seed read back."""

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core import files
from harness.results import records, store
from harness.run import models


@pytest.mark.parametrize("model_id, slug", [
    ("fixture/model-a", "fixture__model-a"),
    ("./runs/extended/student", "extended__student"),  # a local folder: its last two parts
    ("C:\\models\\my model", "models__my-model"),  # back slashes split too; anything odd becomes '-'
    ("fixture-model", "fixture-model"),
    ("../..", "model"),
    ("  org//name/  ", "org__name"),
])
def test_model_slugs(model_id, slug):
    assert records.model_slug(model_id) == slug


def test_a_korean_model_id_keeps_its_letters_in_its_page_and_file_names():
    assert records.model_slug("org/한국어모델") == "org__한국어모델"
    assert records.model_slug("한국어") != records.model_slug("영어")  # were both '-' when only ASCII was kept


@settings(max_examples=300, deadline=None)
@given(model_id=st.text(min_size=0, max_size=120))
def test_a_record_folder_name_starts_with_the_model_slug(model_id):
    """The one slug and the record folders built on it: page and file names are the slug; a folder adds a hash."""
    slug = records.model_slug(model_id)
    assert slug and len(slug) <= 60 and slug not in (".", "..") and not set("/\\") & set(slug)
    assert models.hub_dir_name(model_id).startswith(slug)
    assert models.local_dir_name(model_id, Path("/x/runs")) == f"{slug}-{models.short_hash('local:/x/runs')}"


@pytest.mark.parametrize("model_id, folder", [
    # record folders as earlier versions named them: records on disk are resumed and replaced by these names
    ("respect5716/koenbert-base", "respect5716__koenbert-base"),
    ("bert-base-uncased", "bert-base-uncased"),
    ("org/bert+base", "org__bert-base-c4d48bd3b4"),
    ("org/한국어", "org__한국어-6785c96bef"),
    ("org/" + "x" * 70, "org__" + "x" * 70),
])
def test_hub_record_folders_keep_their_names(model_id, folder):
    assert models.hub_dir_name(model_id) == folder


@pytest.mark.parametrize("model_id, folder", [
    ("runs/exp1/best", "exp1__best-ddd1cabe6c"),
    (".../ckpt/final@3f9a1c2b", "ckpt__final-3f9a1c2b-ddd1cabe6c"),
    ("한국어모델", "한국어모델-ddd1cabe6c"),
    ("fixture/model-a", "fixture__model-a-ddd1cabe6c"),
    ("org/" + "x" * 70, "org__" + "x" * 55 + "-ddd1cabe6c"),
])
def test_local_record_folders_keep_their_names(model_id, folder):
    assert models.local_dir_name(model_id, Path("/x/y")) == folder


PLACED_ELSEWHERE_ON_PURPOSE = {"older-spec", "invalid"}  # test_store's fixtures: a model's record in another folder


def test_every_committed_record_lies_in_a_folder_named_by_its_slug():
    repo = Path(__file__).resolve().parents[2]
    found = [p for folder in ("reports", "tests/data/records") for p in (repo / folder).rglob("*.json")
             if "/." not in str(p.relative_to(repo)) and p.parent.name not in PLACED_ELSEWHERE_ON_PURPOSE]
    checked = 0
    for path in found:
        try:
            record = records.read_result(path)
        except records.RecordError:
            continue  # failure records, broken fixtures, other JSON
        slug = records.model_slug(record.model.id)
        assert re.fullmatch(re.escape(slug) + r"(-[0-9a-f]{10})?", path.parent.name), (path, record.model.id)
        checked += 1
    assert checked > 20


def test_record_and_failure_paths(tmp_path):
    # the folder is the model's record_dir (models.ResolvedModel.record_dir), given as is
    assert records.record_path(tmp_path, "fixture__model-a", "klue/ner") == tmp_path / "fixture__model-a" / "klue__ner.json"
    assert records.failure_path(tmp_path, "fixture__model-a", "klue/ner") == tmp_path / "fixture__model-a" / "klue__ner.failed.json"


def test_a_written_file_is_indented_utf8_json_readable_by_everyone(tmp_path):
    path = tmp_path / "new" / "folder" / "r.json"
    assert records.write_json_atomic(path, {"이름": "서울", "n": 1}) == path
    assert path.read_text(encoding="utf-8") == '{\n  "이름": "서울",\n  "n": 1\n}\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    records.write_json_atomic(path, {"n": 1})

    def refuse(*args):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        records.write_json_atomic(path, {"n": 2})
    assert json.loads(path.read_text(encoding="utf-8")) == {"n": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


SEED = {"seed": 42, "scores": {"accuracy": 70.0}, "epoch": 2, "train_s": 1.5,
        "evaluations": [{"epoch": 1, "scores": {"accuracy": 60.0}}, {"epoch": 2, "scores": {"accuracy": 70.0}}]}


def test_a_seed_result_is_read_back_and_an_old_one_migrated(tmp_path):
    path = tmp_path / "seed.json"
    records.write_json_atomic(path, SEED)
    seed = records.read_seed(path)
    assert (seed.seed, seed.epoch, [e.epoch for e in seed.evaluations]) == (42, 2, [1, 2])
    old = {**{k: v for k, v in SEED.items() if k != "evaluations"}, "epochs": SEED["evaluations"]}
    assert records.parse_seed(old) == seed


def test_a_bad_seed_result_names_the_file_and_the_field(tmp_path):
    path = tmp_path / "seed.json"
    records.write_json_atomic(path, {**SEED, "epoch": 0})
    with pytest.raises(records.RecordError, match=r"seed\.json: epoch: Input should be greater than or equal to 1"):
        records.read_seed(path)
    with pytest.raises(records.RecordError, match="seed: Input should be a valid integer"):
        records.parse_seed({**SEED, "seed": "42"})
    records.write_json_atomic(path, {k: v for k, v in SEED.items() if k != "seed"})  # a seed cache without its seed
    with pytest.raises(records.RecordError, match=r"seed\.json: seed: required field is missing"):
        records.read_seed(path)


@pytest.mark.parametrize("given, stored", [("train.tsv", "train.tsv"), ("klue\\ner\\dev.tsv", "klue/ner/dev.tsv"),
                                           ("./glue/x.tsv", "glue/x.tsv")])
def test_a_data_file_path_is_stored_relative_with_forward_slashes(given, stored):
    assert records.DataFile(path=given, sha256="a" * 64).path == stored


@pytest.mark.parametrize("path", ["/home/user/train.tsv", "C:\\data\\train.tsv", "c:/data/train.tsv", "..\\up.tsv", ""])
def test_a_data_file_path_of_this_machine_is_refused(path):
    with pytest.raises(ValueError, match="must be a relative path inside its folder"):
        records.DataFile(path=path, sha256="a" * 64)


def test_a_bad_sha256_says_what_is_expected():
    with pytest.raises(ValueError, match=r"expected 64 lowercase hex digits \(a sha256\)"):
        records.DataFile(path="train.tsv", sha256="A" * 64)


@pytest.mark.parametrize("error, kind, message", [
    ("ValueError: bad: worse", "ValueError", "bad: worse"),
    ("torch.OutOfMemoryError: CUDA out of memory", "torch.OutOfMemoryError", "CUDA out of memory"),
    ("no kind here", "Error", "no kind here"),
    ("two words: then a message", "Error", "two words: then a message"),
])
def test_an_old_failure_message_is_split_into_its_kind_and_message(error, kind, message):
    old = {"schema": "koenbench.failure/1", "model": {"id": "fixture/model-a", "revision": "0" * 40},
           "task": {"id": "glue/mrpc"}, "error": error, "started_at": "2026-11-27T10:00:00Z"}
    failure = records.parse_failure(old)
    assert (failure.error.type, failure.error.message) == (kind, message)


def _seed(seed, f1):
    return records.SeedResult(seed=seed, scores={"f1": f1}, epoch=1, train_s=1.0)


def _result(model_id="fixture/model-a", task_id="glue/mrpc", seeds=None, **changes):
    fields = dict(model={"id": model_id, "revision": "0" * 40, "source": "hub"},
                  task={"id": task_id, "spec_sha256": "0" * 64, "primary_metric": "f1"},
                  hyperparameters={}, data={"source": "local", "train_examples": 8, "validation_examples": 4},
                  env={}, started_at="2026-11-27T10:00:00Z", wall_s=1.0, synthetic=True)
    fields.update(changes)
    return records.ResultRecord.from_seeds(seeds or [_seed(42, 80.0)], **fields)


def _message(parse, raw) -> str:
    with pytest.raises(records.RecordError) as caught:
        parse(raw)
    return str(caught.value)


def test_error_messages_name_the_field_and_say_what_is_wrong_in_plain_words():
    raw = records.to_json(_result())
    assert _message(records.parse_result, [raw]) == "a record is a JSON object, not list"
    bad_hash = {**raw, "data": {**raw["data"], "files": [{"path": "train.tsv", "sha256": "A" * 64}]}}
    assert _message(records.parse_result, bad_hash) == "data.files[0].sha256: expected 64 lowercase hex digits (a sha256)"
    no_scores = {**raw, "seeds": [{**raw["seeds"][0], "scores": {}}]}
    assert _message(records.parse_result, no_scores) == "seeds[0].scores: needs at least one metric"
    assert _message(records.parse_result, {**raw, "task": {**raw["task"], "id": "mrpc"}}) == (
        "task.id: 'mrpc' is not a task id like 'suite/name' (letters, digits, _ . -)")
    assert _message(records.parse_result, {**raw, "started_at": "yesterday"}) == (
        "started_at: 'yesterday' is not an ISO 8601 time like 2026-11-27T10:00:00Z")
    # a check over the whole record has no field to name: the message alone, and two problems are both told
    assert _message(records.parse_result, {**raw, "scores": {"f1": 90.0}}) == (
        "scores.f1 = 90.0 is not the mean of the seeds' f1 (80.0)")
    assert _message(records.parse_result, {**raw, "wall_s": -1.0, "env": {"x": 1}}) == (
        "env.x: Input should be a valid string; wall_s: Input should be greater than or equal to 0")
    assert _message(records.parse_result, {**raw, "Xtra": 1}) == "Xtra: unknown field; remove it or check its spelling"


def test_building_a_bad_record_says_what_was_wrong():
    with pytest.raises(records.RecordError) as caught:
        _result(task_id="mrpc")
    assert str(caught.value).startswith("built an invalid result record: task.id: 'mrpc' is not a task id")


def test_task_ids_and_model_slugs_keep_upper_case():
    assert _result(task_id="KLUE/NER-v1.1").task.id == "KLUE/NER-v1.1"
    assert records.model_slug("Org/Model-A") == "Org__Model-A"
    assert records.model_slug("org/model/.") == "org__model"  # '.' is no folder name


def test_means_and_stds_are_rounded_to_4_decimals():
    record = _result(seeds=[_seed(1, 1.00001), _seed(2, 1.00002)])  # mean 1.000015, std 0.0000071
    assert record.scores == {"f1": 1.0} and record.std == {"f1": 0.0}


def test_an_old_record_without_data_is_refused_naming_the_field():
    raw = records.to_json(_result())
    raw["schema"] = "koenbench.result/1"
    del raw["data"]
    assert _message(records.parse_result, raw) == "data: required field is missing"


def test_the_temporary_file_is_written_beside_the_record(tmp_path, monkeypatch):
    # a rename is atomic only within one file system: the temporary file must sit in the record's folder
    renames = []
    real_replace = files.os.replace
    monkeypatch.setattr(files.os, "replace", lambda src, dst: (renames.append(Path(src).parent), real_replace(src, dst)))
    records.write_json_atomic(tmp_path / "r.json", {"n": 1})
    assert renames == [tmp_path]


def test_a_record_is_the_same_utf8_bytes_whatever_the_locale(tmp_path):
    # a user whose locale is not UTF-8 (ASCII here; cp1252 on many Windows machines) writes and reads the same bytes
    script = ("import sys; from pathlib import Path; from harness.results import records; p = Path(sys.argv[1]); "
              r"name, city = '\uc774\ub984', '\uc11c\uc6b8'; records.write_json_atomic(p, {name: city}); "
              "print(records.read_json(p)[name] == city)")  # escaped: an ASCII locale's command line holds ASCII only
    env = {**os.environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0", "PYTHONIOENCODING": "utf-8",
           "PYTHONPATH": str(Path(records.__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "r.json")], env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "True", done.stderr[-2000:]
    # the same bytes as written here, in this process's own locale
    here = records.write_json_atomic(tmp_path / "here.json", {"이름": "서울"})
    assert records.read_json(here) == {"이름": "서울"}
    assert (tmp_path / "r.json").read_bytes() == here.read_bytes() == '{\n  "이름": "서울"\n}\n'.encode("utf-8")


def test_the_store_finds_a_model_in_any_folder_and_skips_broken_files(tmp_path):
    records.write(tmp_path / "a" / "glue__mrpc.json", _result("fixture/model-a"))
    records.write(tmp_path / "b" / "glue__mrpc.json", _result("fixture/model-b"))
    records.write(tmp_path / "b" / "glue__qqp.json", _result("fixture/model-b", "glue/qqp"))
    (tmp_path / "0-broken").mkdir()
    (tmp_path / "0-broken" / "glue__mrpc.json").write_text("{", encoding="utf-8")
    found = store.scan(tmp_path)

    def path(model_id, task_id):
        stored = found.current(store.Identity(model_id)).get(task_id)
        return stored.path if stored else None

    assert path("fixture/model-b", "glue/mrpc") == tmp_path / "b" / "glue__mrpc.json"
    assert path("fixture/model-b", "glue/qqp") == tmp_path / "b" / "glue__qqp.json"
    assert path("fixture/model-a", "glue/qqp") is None and path("fixture/model-c", "glue/mrpc") is None
    assert [p for p, _ in found.skipped] == [tmp_path / "0-broken" / "glue__mrpc.json"]
    with pytest.raises(ValueError, match="not a task id"):
        records.record_path(tmp_path, "m", "mrpc")