"""The result and failure records: strict types, messages naming the field, atomic writes, one migration."""

import copy
import json

import pytest

from harness.results import records
from harness.results.records import FailureRecord, RecordError, ResultRecord, SeedResult


def _seed(seed: int, f1: float, accuracy: float) -> SeedResult:
    return SeedResult(seed=seed, scores={"f1": f1, "accuracy": accuracy}, epoch=1, train_s=1.5,
                      evaluations=[{"epoch": 1, "step": 4, "loss": 0.7, "scores": {"f1": f1, "accuracy": accuracy}}])


def _record(seeds=None, **changes) -> ResultRecord:
    fields = dict(
        model={"id": "fixture/model-a", "revision": "0" * 40, "source": "hub"},
        task={"id": "glue/mrpc", "spec_sha256": "0" * 64, "primary_metric": "f1"},
        hyperparameters={"learning_rate": 1e-5, "epochs": 1}, data={"source": "local", "train_examples": 8,
                                                                    "validation_examples": 4},
        env={"koenbench": "0.1.0"}, started_at="2026-11-27T10:00:00Z", wall_s=3.14, synthetic=True,
    )
    fields.update(changes)
    return ResultRecord.from_seeds(seeds or [_seed(43, 84.0, 72.0), _seed(42, 80.0, 70.0)], **fields)


def _raw(**changes) -> dict:
    raw = records.to_json(_record())
    raw.update(changes)
    return raw


def test_mean_and_sample_std_over_seeds_sorted_by_seed():
    record = _record()
    assert record.scores == {"f1": 82.0, "accuracy": 71.0}
    assert record.std["f1"] == pytest.approx(2.8284, abs=1e-4)  # stdev(80, 84) = 2 * sqrt(2)
    assert [s.seed for s in record.seeds] == [42, 43]
    assert records.to_json(record)["schema"] == records.RESULT_SCHEMA


def test_one_seed_has_a_std_of_zero_and_stays_standard_json(tmp_path):
    record = _record(seeds=[_seed(42, 80.0, 70.0)])
    assert record.std == {"f1": 0.0, "accuracy": 0.0}
    path = records.write(tmp_path / "r.json", record)
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert records.read_result(path) == record


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda r: r["std"].update(f1="0.3"), "std.f1"),
        (lambda r: r["seeds"][0].update(seed="42"), "seeds[0].seed"),
        (lambda r: r["seeds"][1].update(seed=True), "seeds[1].seed"),
        (lambda r: r["seeds"][1].pop("seed"), r"seeds[1].seed: required field is missing"),  # a seed must say which it is
        (lambda r: r["seeds"][0]["scores"].update(f1=True), "seeds[0].scores.f1"),
        (lambda r: r["scores"].update(f1=float("nan")), "scores.f1"),
        (lambda r: r["std"].update(f1=float("inf")), "std.f1"),
        (lambda r: r.update(seeds=[]), "seeds"),
        (lambda r: r["task"].update(id="mrpc"), "task.id"),
        (lambda r: r["seeds"].__setitem__(0, 42), "seeds[0]"),
        (lambda r: r["seeds"][0].pop("scores"), "seeds[0].scores"),
        (lambda r: r["seeds"][0].update(scores={}), "seeds[0].scores"),
        (lambda r: r["model"].update(source="ftp"), "model.source"),
        (lambda r: r.update(wall_s=-1.0), "wall_s"),
        (lambda r: r.update(started_at="yesterday"), "started_at"),
        (lambda r: r.update(unexpected=1), "unexpected"),
        (lambda r: r["data"].update(files=[{"path": "/home/me/klue/train.json", "sha256": "a" * 64}]), "data.files[0].path"),
        (lambda r: r["data"].update(files=[{"path": "../up.tsv", "sha256": "a" * 64}]), "data.files[0].path"),
        (lambda r: r["data"].update(source="local:/home/me/data"), "must be a relative path"),
        (lambda r: r.update(protocol={"followed": True, "deviations": ["--set epochs=1"]}), "protocol"),
        (lambda r: r["hyperparameters"].update(epochs=[1, 2]), "hyperparameters.epochs"),
    ],
)
def test_bad_fields_are_rejected_naming_the_field(change, field):
    raw = _raw()
    change(raw)
    with pytest.raises(RecordError, match=field.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        records.parse_result(raw)


def test_scores_must_be_the_mean_of_the_seeds_and_metrics_agree():
    with pytest.raises(RecordError, match="scores.f1 = 90.0 is not the mean"):
        records.parse_result(_raw(scores={"f1": 90.0, "accuracy": 71.0}))
    with pytest.raises(RecordError, match="primary_metric 'f1' is not among scores"):
        records.parse_result(_raw(scores={"accuracy": 71.0}, std={"accuracy": 1.0}))
    with pytest.raises(RecordError, match="std has metrics"):
        records.parse_result(_raw(std={"f1": 1.0}))


def test_reading_names_the_file_and_the_field(tmp_path):
    path = tmp_path / "bad.json"
    raw = _raw()
    raw["seeds"][0]["seed"] = "42"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(RecordError, match=r"bad\.json: seeds\[0\]\.seed: Input should be a valid integer"):
        records.read_result(path)
    path.write_text(json.dumps(_raw()).replace('"wall_s": 3.14', '"wall_s": NaN'), encoding="utf-8")
    with pytest.raises(RecordError, match=r"bad\.json: not readable JSON \(NaN is not a number"):
        records.read_result(path)
    path.write_bytes(b'{"schema": "koenbench.result/2", "model": "\xff"}')
    with pytest.raises(RecordError, match=r"bad\.json: not readable JSON"):
        records.read_result(path)
    path.write_text('{"schema": "koenbench.result/2", "mod', encoding="utf-8")
    with pytest.raises(RecordError, match=r"bad\.json: not readable JSON"):
        records.read_result(path)
    path.write_text('{"scores": {}}', encoding="utf-8")
    with pytest.raises(RecordError, match=r"bad\.json: schema: missing; expected 'koenbench\.result/2'"):
        records.read_result(path)
    with pytest.raises(RecordError, match=r"missing\.json: not readable JSON"):
        records.read_result(tmp_path / "missing.json")


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path):
    record = _record()
    path = records.record_path(tmp_path, "fixture__model-a", record.task.id)
    assert path == tmp_path / "fixture__model-a" / "glue__mrpc.json"
    records.write(path, record)
    assert records.read_result(path).scores["f1"] == 82.0
    assert [p.name for p in path.parent.iterdir()] == ["glue__mrpc.json"]
    with pytest.raises(ValueError):
        records.write_json_atomic(path, {"x": float("nan")})  # refused before the file is touched
    assert records.read_result(path) == record
    assert [p.name for p in path.parent.iterdir()] == ["glue__mrpc.json"]


def _v1_result() -> dict:
    raw = records.to_json(_record())
    raw["schema"] = "koenbench.result/1"
    raw["model"] = {"id": "fixture/model-b", "revision": "sha256:" + "1" * 64}
    raw["data"]["source"] = "local:/home/someone/klue_glue"
    for seed in raw["seeds"]:
        seed["epochs"] = seed.pop("evaluations")
    for key in ("protocol", "warnings", "predictions", "synthetic", "run_key"):
        raw.pop(key)
    return raw


def test_a_result_v1_is_migrated():
    old = _v1_result()
    record = records.parse_result(copy.deepcopy(old))
    assert record.schema_version == records.RESULT_SCHEMA
    assert record.model.source == "local" and record.model.revision == old["model"]["revision"]
    assert record.data.source == "local"  # the absolute folder of the machine that ran it is dropped
    assert record.seeds[0].evaluations[0].scores == old["seeds"][0]["epochs"][0]["scores"]
    assert record.protocol is None and record.synthetic is False
    hub = dict(old, model={"id": "fixture/model-c", "revision": "abc123"})
    assert records.parse_result(hub).model.source == "hub"


def test_both_old_failure_shapes_are_migrated(tmp_path):
    base = {"schema": "koenbench.failure/1", "task": {"id": "klue/ner"}, "started_at": "2026-11-27T11:00:00Z"}
    from_runner = dict(base, model={"id": "fixture/model-a", "revision": "sha256:" + "2" * 64},
                       error="TrainingDiverged: loss became nan at epoch 1, step 3",
                       traceback='File "/home/someone/harness/run/finetune.py", line 1')
    from_site = dict(base, model={"id": "fixture/model-b"},
                     error={"type": "OutOfMemoryError", "message": "CUDA out of memory at max_length 510"})
    plain = dict(base, model={"id": "fixture/model-c"}, error="something broke: badly")
    a, b, c = (records.parse_failure(raw) for raw in (from_runner, from_site, plain))
    assert (a.error.type, a.error.message) == ("TrainingDiverged", "loss became nan at epoch 1, step 3")
    assert a.model.source == "local" and "traceback" not in records.to_json(a)
    assert (b.error.type, b.error.message) == ("OutOfMemoryError", "CUDA out of memory at max_length 510")
    assert b.model.revision == "unknown" and b.model.source == "hub"
    assert (c.error.type, c.error.message) == ("Error", "something broke: badly")
    path = records.write(tmp_path / "x.failed.json", a)
    assert records.read_failure(path) == a
    assert json.loads(path.read_text(encoding="utf-8"))["schema"] == records.FAILURE_SCHEMA


def test_failure_records_are_strict_too():
    good = {"schema": records.FAILURE_SCHEMA, "model": {"id": "fixture/model-a", "revision": "r", "source": "hub"},
            "task": {"id": "glue/mrpc"}, "error": {"type": "ValueError", "message": "m"},
            "started_at": "2026-11-27T11:00:00Z"}
    assert isinstance(records.parse_failure(good), FailureRecord)
    with pytest.raises(RecordError, match="error.type"):
        records.parse_failure(dict(good, error={"type": "", "message": "m"}))
    with pytest.raises(RecordError, match=r"seeds\[0\]"):
        records.parse_failure(dict(good, seeds=["42"]))
    with pytest.raises(RecordError, match="schema: 'koenbench.result/2'"):
        records.parse_failure(dict(good, schema=records.RESULT_SCHEMA))


def test_protocol_and_provenance_fields_round_trip():
    record = _record(
        protocol={"followed": False, "deviations": ["--set epochs=1"]},
        data={"source": "local", "train_examples": 8, "validation_examples": 4,
              "files": [{"path": "glue/MRPC/train.tsv", "sha256": "a" * 64}], "fingerprint": "f" * 16,
              "label_counts": {"train": {"yes": 5, "no": 3}}, "unk_sentences": 2},
        warnings=["validation lacks label 'no'"], run_key="k" * 16,
        predictions={"path": "predictions/glue__mrpc.jsonl", "sha256": "b" * 64},
    )
    again = records.parse_result(json.loads(json.dumps(records.to_json(record))))
    assert again == record and again.protocol.deviations == ["--set epochs=1"]


def test_model_slugs():
    assert records.model_slug("org/model-a") == "org__model-a"
    assert records.model_slug("./runs/my model/") == "runs__my-model"
    assert records.model_slug("bert-base-uncased") == "bert-base-uncased"
