"""What the site reads from a results folder: each model's records and failures, never `bench run`'s hidden seed cache."""

from harness.results import records
from harness.site import inputs

SEED = records.SeedResult(seed=42, scores={"f1": 80.0, "accuracy": 70.0}, epoch=1, train_s=1.0)


def _record() -> records.ResultRecord:
    """A made-up MRPC record of fixture/model-a."""
    return records.ResultRecord.from_seeds(
        [SEED], model=records.ModelIdentity(id="fixture/model-a", revision="synthetic", source="local"),
        task=records.TaskIdentity(id="glue/mrpc", spec_sha256="s" * 64, primary_metric="f1"),
        hyperparameters={}, data=records.DataProvenance(source="local", train_examples=8, validation_examples=8),
        env={}, started_at="2026-11-28T10:00:00Z", wall_s=1.0, synthetic=True)


def test_the_seed_cache_beside_the_records_is_not_read_as_records(tmp_path, caplog):
    """`bench run` keeps each seed's result in <model>/.seeds/ to resume; those files are neither records nor
    broken records, so the site neither lists nor warns about them."""
    model_dir = tmp_path / "fixture__model-a"
    record_file = records.write(model_dir / "glue__mrpc.json", _record())
    seeds = model_dir / ".seeds" / "glue__mrpc"
    records.write(seeds / "0123456789abcdef-seed42.json", SEED)
    records.write(seeds / "fedcba9876543210-seed43.json", SEED.model_copy(update={"seed": 43}))
    found = inputs.load_results(tmp_path)
    assert [(path, r.task.id) for path, r in found.records] == [(str(record_file), "glue/mrpc")]
    assert found.failures == [] and found.skipped == []
    assert ".seeds" not in caplog.text  # no warning about them either
