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
    assert records.record_path(tmp_path, "fixture/model-a", "klue/ner") == tmp_path / "fixture__model-a" / "klue__ner.json"
    assert records.failure_path(tmp_path, "fixture/model-a", "klue/ner") == tmp_path / "fixture__model-a" / "klue__ner.failed.json"


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
