"""Predictions kept by a real `bench run`, and `bench compare` of two tiny models on two demo tasks (samples/)."""

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.demo import SAMPLES_DIR
from harness.results import predictions, records
from harness.stats import bootstrap
from harness.tasks import metrics
from harness.tasks.spec import load_tasks
from harness.testing import tiny

TASKS = "glue/sst2,klue/ner"
pytestmark = pytest.mark.slow  # three tiny-model runs: about 5 minutes on 2 busy cores


def bench(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, english_model_dir):
    """Two tiny BERTs (different initial weights), one epoch, seeds 42 and 43, on SST-2 and KLUE-NER samples."""
    output = tmp_path_factory.mktemp("results")
    models, runs = [], []
    for seed in (0, 1):
        model = tiny.tiny_bert(english_model_dir, tmp_path_factory.mktemp(f"tiny-{seed}"), seed=seed)
        runs.append(bench("run", "--model", str(model), "--data-dir", str(SAMPLES_DIR), "--tasks", TASKS,
                          "--seeds", "42,43", "--set", "epochs=1", "--output", str(output)))
        models.append(model)
    return output, models, runs


def _records(output):
    return {p: records.read_result(p) for p in sorted(output.glob("*/*.json")) if not p.name.endswith(".failed.json")}


def test_every_record_keeps_the_predictions_of_its_seeds(two_runs):
    output, _, runs = two_runs
    assert all(r.exit_code == 0 for r in runs), runs[0].output + runs[1].output
    found = _records(output)
    assert len(found) == 4
    specs = {s.id: s for s in load_tasks(TASKS.split(","))}
    for path, record in found.items():
        kept = predictions.for_record(path, record)  # checks the sha256 the record names, and its scores
        assert kept.seeds == [42, 43] and kept.task_id == record.task.id
        assert len(kept.references) == record.data.validation_examples
        spec = specs[record.task.id]
        options = {"labels": spec.dataset.labels, "binarize_threshold": spec.metrics.binarize_threshold}
        for seed, predicted in zip(record.seeds, kept.predictions):
            # the kept predictions are the selected evaluation's: they score exactly what the record says
            assert metrics.compute(spec.metrics.names, predicted, kept.references, **options) == seed.scores
        assert predictions.file_for(path).stat().st_size < 200_000


def test_the_summary_shows_an_interval_per_score(two_runs):
    output, _, runs = two_runs
    summary = " ".join(runs[0].output.split())
    assert "95% interval" in summary
    record_path = next(p for p in _records(output) if p.name == "glue__sst2.json")
    interval = bootstrap.score_interval(predictions.for_record(record_path, records.read_result(record_path))
                                        .for_bootstrap(), "accuracy")
    assert f"[{interval.low:.2f}, {interval.high:.2f}]" in summary or interval.low == interval.high


def test_compare_prints_the_table_for_two_tiny_runs(two_runs):
    output, models, _ = two_runs
    ids = sorted({r.model.id for r in _records(output).values()})
    assert len(ids) == 2
    result = bench("compare", ids[0], ids[1], "--results", str(output), "--resamples", "1000")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for expected in ("glue/sst2", "klue/ner", "entity_f1", "95% interval"):
        assert expected in text
    assert any(v in text for v in ("no detectable difference", "A better", "B better"))
    assert "not comparable" not in text  # both scored the same carved validation split


def test_a_split_scored_differently_is_not_paired(two_runs, tmp_path):
    """The same model scored on another validation split (--eval-limit) has another fingerprint: compare says so."""
    output, models, _ = two_runs
    other = tmp_path / "other"
    ran = bench("run", "--model", str(models[1]), "--data-dir", str(SAMPLES_DIR), "--tasks", "glue/sst2",
                "--seeds", "42", "--set", "epochs=1", "--eval-limit", "60", "--output", str(other))
    assert ran.exit_code == 0, ran.output
    ids = sorted({r.model.id for r in _records(output).values()})
    first = next(p.parent for p, r in _records(output).items() if r.model.id == ids[0])
    second = next(p.parent for p in other.glob("*/glue__sst2.json"))
    result = bench("compare", str(first), str(second), "--tasks", "glue/sst2", "--resamples", "200")
    assert result.exit_code == 0, result.output
    assert "different validation examples" in " ".join(result.output.split())
    assert np.isfinite(records.read_result(second / "glue__sst2.json").scores["accuracy"])
