"""The result record: aggregation over seeds, validation, atomic writes."""

import json

import pytest

from harness import results


def _record(**changes):
    seeds = [{"seed": 42, "scores": {"f1": 80.0, "accuracy": 70.0}}, {"seed": 43, "scores": {"f1": 84.0, "accuracy": 72.0}}]
    kwargs = dict(
        model={"id": "org/model", "revision": "abc"},
        task={"id": "glue/mrpc", "spec_sha256": "0" * 64, "primary_metric": "f1"},
        seed_results=seeds, hyperparameters={"learning_rate": 1e-5}, data={"source": "local:x"},
        env={"koenbench": "0.1.0"}, started_at="2026-11-27T10:00:00Z", wall_s=3.14159,
    )
    kwargs.update(changes)
    return results.build_record(**kwargs)


def test_mean_and_sample_std_over_seeds():
    record = _record()
    assert record["scores"] == {"f1": 82.0, "accuracy": 71.0}
    assert record["std"]["f1"] == pytest.approx(2.8284, abs=1e-4)  # stdev(80, 84) = 2 * sqrt(2)
    assert record["wall_s"] == 3.14
    assert results.validate_record(record) == []


def test_invalid_records_are_described():
    record = _record()
    bad = dict(record, scores={"f1": float("nan")})
    assert "scores.f1 must be a finite number" in results.validate_record(bad)
    assert results.validate_record(dict(record, schema="other/2")) == ["schema is 'other/2', expected 'koenbench.result/1'"]
    missing = {k: v for k, v in record.items() if k != "env"}
    assert "missing field 'env'" in results.validate_record(missing)


def test_write_is_atomic_and_readable(tmp_path):
    path = results.write_record(tmp_path, _record())
    assert path == tmp_path / "org__model" / "glue__mrpc.json"
    assert results.read_record(path)["scores"]["f1"] == 82.0
    assert [p.name for p in path.parent.iterdir()] == ["glue__mrpc.json"]  # no temporary file left
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="glue__mrpc.json: not readable JSON"):
        results.read_record(path)


def test_model_slugs():
    assert results.model_slug("respect5716/koenbert-base") == "respect5716__koenbert-base"
    assert results.model_slug("./runs/my model/") == "runs__my-model"
    assert results.model_slug("bert-base-uncased") == "bert-base-uncased"
    json.dumps(_record())  # records are plain JSON
