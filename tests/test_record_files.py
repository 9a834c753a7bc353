"""Where records and seed results are written and how: paths, the file's exact text and mode, one seed read back."""

import json
import stat

import pytest

from harness import records


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

    monkeypatch.setattr(records.os, "replace", refuse)
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
