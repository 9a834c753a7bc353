"""Predictions files: what goes in comes out, altered files are refused, fingerprints tell splits apart.

The predictions here are synthetic (random labels, values and tags).
"""

import numpy as np
import pytest

from harness.results import predictions
from harness.stats import bootstrap
from harness.tasks.spec import load_tasks

NER_LABELS = list(load_tasks(["klue/ner"])[0].dataset.labels)


def _sample(kind, seeds=(42, 43), n=30):
    rng = np.random.default_rng(0)
    if kind == "tags":
        refs = [rng.integers(0, len(NER_LABELS), int(rng.integers(1, 20))).tolist() for _ in range(n)]
        preds = [[rng.integers(0, len(NER_LABELS), len(r)).tolist() for r in refs] for _ in seeds]
        labels = NER_LABELS
    elif kind == "value":
        refs, preds, labels = rng.uniform(0, 5, n), [rng.uniform(0, 5, n) for _ in seeds], None
    else:
        refs, preds, labels = rng.integers(0, 3, n), [rng.integers(0, 3, n) for _ in seeds], ["a", "b", "c"]
    return predictions.TaskPredictions("suite/task", kind, "f" * 64, list(seeds), refs, preds, labels=labels,
                                       binarize_threshold=3.0 if kind == "value" else None)


@pytest.mark.parametrize("kind", ["label", "value", "tags"])
def test_round_trip_keeps_every_prediction(tmp_path, kind):
    original = _sample(kind)
    digest = predictions.save(tmp_path / "x.predictions.npz", original)
    loaded = predictions.load(tmp_path / "x.predictions.npz", digest)
    assert (loaded.task_id, loaded.kind, loaded.seeds, loaded.labels) == ("suite/task", kind, [42, 43], original.labels)
    assert loaded.positions.tolist() == list(range(30))
    if kind == "tags":
        assert loaded.references == original.references and loaded.predictions == original.predictions
    else:
        np.testing.assert_array_equal(loaded.references, original.references)
        np.testing.assert_array_equal(np.stack(loaded.predictions), np.stack(original.predictions))
    metric = {"label": "accuracy", "value": "pearson", "tags": "entity_f1"}[kind]
    assert loaded.for_bootstrap().point(metric) == original.for_bootstrap().point(metric)


def test_a_changed_file_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "x.predictions.npz"
    digest = predictions.save(path, _sample("label"))
    predictions.save(path, _sample("label", seeds=(1, 2)))
    with pytest.raises(predictions.PredictionsError, match="sha256 is not the one its record names.*bench run --force"):
        predictions.load(path, digest)
    with pytest.raises(predictions.PredictionsError, match="cannot read"):
        predictions.load(tmp_path / "missing.npz")


def test_not_a_predictions_file(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.arange(3))
    with pytest.raises(predictions.PredictionsError, match="not a koenbench predictions file"):
        predictions.load(path)


def test_merge_gathers_seeds_of_one_split_only():
    a, b = _sample("label", seeds=(42,)), _sample("label", seeds=(43,))
    merged = a.merge(b)
    assert merged.seeds == [42, 43] and len(merged.predictions) == 2
    with pytest.raises(ValueError, match="twice"):
        merged.merge(a)
    other = _sample("label", seeds=(44,))
    other.validation_fingerprint = "0" * 64
    with pytest.raises(ValueError, match="different validation splits"):
        a.merge(other)


def test_fingerprint_sees_content_and_order():
    rows = [{"text_a": "가나", "label": 0}, {"text_a": "b", "label": 1}]
    same = predictions.validation_fingerprint([dict(r) for r in rows])
    assert predictions.validation_fingerprint(rows) == same
    assert predictions.validation_fingerprint(rows[::-1]) != same
    assert predictions.validation_fingerprint([rows[0], {"text_a": "b", "label": 0}]) != same


def test_lengths_must_agree():
    with pytest.raises(ValueError, match="seed 42: 2 predictions for 3 examples"):
        predictions.TaskPredictions("s/t", "label", "f" * 64, [42], np.zeros(3), [np.zeros(2)])


def test_file_sits_beside_its_record(tmp_path):
    assert predictions.file_for(tmp_path / "m" / "klue__ner.json") == tmp_path / "m" / "klue__ner.predictions.npz"


def test_bootstrap_of_a_loaded_file_matches_the_metric(tmp_path):
    original = _sample("tags", seeds=(1,), n=50)
    predictions.save(tmp_path / "p.npz", original)
    model = predictions.load(tmp_path / "p.npz").for_bootstrap()
    assert isinstance(model, bootstrap.SeedPredictions)
    from harness.tasks import metrics

    expected = metrics.METRICS["char_f1"](original.predictions[0], original.references, labels=NER_LABELS)
    assert model.point("char_f1") == pytest.approx(expected, abs=1e-9)


def test_split_fingerprint_of_columns_equals_that_of_rows():
    columns = {"text_a": ["가나", "b"], "label": [0, 1]}
    rows = [{"text_a": "가나", "label": 0}, {"text_a": "b", "label": 1}]
    assert predictions.split_fingerprint(columns) == predictions.validation_fingerprint(rows)


def test_gather_merges_the_seeds_or_names_none(tmp_path):
    record = tmp_path / "glue__z.json"
    files = []
    for seed in (43, 42):
        one = _sample("label", seeds=(seed,))
        one.predictions = [np.full(30, seed % 3)]
        files.append(predictions.seed_file(tmp_path / ".seeds" / f"k-seed{seed}.json"))
        predictions.save(files[-1], one)
    name, digest = predictions.gather(files, record)
    assert name == "glue__z.predictions.npz"
    merged = predictions.load(tmp_path / name, digest)
    assert merged.seeds == [43, 42] and [p[0] for p in merged.predictions] == [1, 0]
    assert predictions.gather([*files, tmp_path / "missing.npz"], record) is None
    assert not (tmp_path / name).exists()  # a stale file never outlives the record it belonged to
