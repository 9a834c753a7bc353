"""A head and a metric are each one registry entry: added here, in this test alone, they go through
`bench run`, the site, `bench compare` and `bench export`, and nothing else names them.

The head and the metric are new to the harness: the head makes its own baseline ("first-label") and
names its own Hub task type; the metric (balanced accuracy: recall per class, averaged) brings its
own function, resampling statistic, site label and Hub names. Two tiny BERTs (different initial
weights) fine-tune one epoch on the bundled SST-2 samples.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from huggingface_hub import metadata_load
from huggingface_hub.repocard_data import model_index_to_eval_results
from typer.testing import CliRunner

from harness.cli import app
from harness.core import paths
from harness.demo import SAMPLES_DIR
from harness.results import export, predictions, records
from harness.tasks import heads, metrics, spec
from harness.testing import tiny

HEAD, METRIC, TASK = "fixture-polarity", "balanced_accuracy", "fixture/polarity"


class FirstLabelHead(heads.SequenceClassification):
    """A sentence classifier whose untrained floor predicts the first label for every row."""

    def baseline(self, train, validation, labels):
        references = np.asarray(validation["label"])
        return heads.Constant("first-label", f"label {labels[0]!r} for every row", np.zeros(len(references), int), references)


def balanced_accuracy(predictions, references, **_) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return 100.0 * balanced_accuracy_score(references, predictions)


def balanced_accuracy_statistic(predictions, references, **_) -> metrics.SummedStatistic:
    """Per example and class: 1 where it is of the class and predicted right, 1 where it is of the class."""
    gold, pred = np.asarray(references, dtype=np.int64), np.asarray(predictions, dtype=np.int64)
    classes = int(max(gold.max(), pred.max())) + 1
    of_class = np.eye(classes)[gold]
    columns = np.hstack([of_class * (gold == pred)[:, None], of_class])

    def finish(sums: np.ndarray) -> np.ndarray:
        right, seen = np.split(sums, 2, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return 100.0 * np.nanmean(np.where(seen > 0, right / np.where(seen > 0, seen, 1), np.nan), axis=1)

    return metrics.SummedStatistic(columns, finish)


NEW_HEAD = FirstLabelHead(HEAD, "label", frozenset({"text_a", "text_b", "label"}), frozenset({"text_a", "label"}),
                          hub_task_type="sentiment-analysis", carve_strata="label")
NEW_METRIC = metrics.Metric(METRIC, balanced_accuracy, balanced_accuracy_statistic, ("label",),
                            "recall of each class, averaged with equal weight per class",
                            "sklearn.metrics.balanced_accuracy_score", label="balanced acc.",
                            hub_id="balanced_accuracy", hub_name="balanced accuracy")

TASK_YAML = {
    "name": "Polarity (fixture)", "suite": "fixture", "language": "en",
    "description": "SST-2 samples under a head and a metric this test registers; synthetic set-up, not a benchmark.",
    "dataset": {
        "labels": ["negative", "positive"],
        "hub": {"path": "fixture/polarity", "columns": {"text_a": "sentence", "label": "label"}},
        "local": {"files": {split: {"path": f"glue/SST-2/{name}.tsv", "format": "glue-tsv",
                                    "columns": {"text_a": "sentence", "label": "label"},
                                    "label_map": {"0": "negative", "1": "positive"}}
                            for split, name in (("train", "train"), ("validation", "dev"))}},
    },
    "head": HEAD,
    "metrics": {"primary": METRIC, "others": ["accuracy"]},
    "hyperparameters": {"learning_rate": 1.0e-4, "batch_size": 16, "epochs": 1, "max_length": 64},
}


def bench(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """The head, the metric and the task's folder, for this module only; gone again afterwards."""
    tasks_dir = tmp_path_factory.mktemp("tasks")
    (tasks_dir / "fixture").mkdir()
    (tasks_dir / "fixture" / "polarity.yaml").write_text(yaml.safe_dump(TASK_YAML, allow_unicode=True), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(heads.HEADS, HEAD, NEW_HEAD)
        patch.setitem(metrics.METRICS, METRIC, NEW_METRIC)
        patch.setenv(paths.TASKS_PATH_ENV, str(tasks_dir))
        yield tasks_dir
    assert HEAD not in heads.HEADS and METRIC not in metrics.METRICS


@pytest.fixture(scope="module")
def two_runs(registered, tmp_path_factory, english_model_dir):
    output = tmp_path_factory.mktemp("results")
    runs, models = [], []
    for seed in (0, 1):
        models.append(tiny.tiny_bert(english_model_dir, tmp_path_factory.mktemp(f"tiny-{seed}"), seed=seed))
        runs.append(bench("run", "--model", str(models[-1]), "--data-dir", str(SAMPLES_DIR), "--tasks", TASK,
                          "--seeds", "42,43", "--output", str(output)))
    found = sorted(_records(output).items(), key=lambda item: item[1].started_at)
    return output, runs, [record for _, record in found], [path for path, _ in found], models


def _records(output: Path) -> dict[Path, records.ResultRecord]:
    """The result records of the fixture task under ``output``."""
    found = {}
    for path in output.glob("*/*.json"):
        if not path.name.endswith((".failed.json", ".predictions.json")):
            record = records.read_result(path)
            if record.task.id == TASK:
                found[path] = record
    return found


def test_the_new_head_and_metric_train_score_and_resample(two_runs):
    output, runs, found, record_paths, _ = two_runs
    assert all(r.exit_code == 0 for r in runs), runs[0].output + runs[1].output
    assert len(found) == 2
    for path, record in zip(record_paths, found):
        assert record.task.primary_metric == METRIC and set(record.scores) == {METRIC, "accuracy"}
        assert record.baseline.kind == "first-label"  # the head's own floor
        assert record.baseline.scores[METRIC] == 50.0  # one class predicted: balanced accuracy is chance
        assert "stratified" not in (record.data.note or "")  # two whole files: no carve
        kept = predictions.for_record(path, record)
        assert kept.kind == "label" and kept.seeds == [42, 43]
        for seed, predicted in zip(record.seeds, kept.predictions):
            assert metrics.compute([METRIC], predicted, kept.references) == {METRIC: seed.scores[METRIC]}
        # the resampling statistic scores all examples exactly as the function does
        assert kept.for_bootstrap().point(METRIC) == pytest.approx(np.mean([s.scores[METRIC] for s in record.seeds]),
                                                                   abs=1e-3)
    summary = " ".join(runs[0].output.split())
    assert METRIC in summary and "95% interval" in summary


def test_the_site_shows_the_new_task_under_the_metric_label(two_runs, registered, tmp_path):
    from harness.site.build import build_site

    output, _, found, _, models = two_runs
    reports = tmp_path / "reports"
    shutil.copytree(output, reports / "results", ignore=shutil.ignore_patterns(".seeds"))
    index = build_site(reports_dir=reports, out_dir=tmp_path / "site", tasks_dir=paths.task_dirs())
    task_page = (index.parent / "tasks" / "fixture__polarity.html").read_text(encoding="utf-8")
    assert "balanced acc." in task_page and f"{found[0].scores[METRIC]:.2f}" in task_page
    front = index.read_text(encoding="utf-8")
    assert "first-label" in front[front.index("Baselines (not ranked)"):]  # the head's own floor, listed apart


def test_compare_pairs_the_two_models_on_the_new_metric(two_runs):
    _, _, _, record_paths, _ = two_runs
    folders = [str(path.parent) for path in record_paths]  # each model's record folder
    result = bench("compare", *folders, "--resamples", "1000")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert TASK in text and METRIC in text and "not comparable" not in text
    assert any(verdict in text for verdict in ("no detectable difference", "A better", "B better"))


def test_export_names_the_new_metric_and_the_heads_hub_task(two_runs, tmp_path):
    output, _, found, _, models = two_runs
    model_id = str(models[0])  # as `bench run` was given it
    result = bench("export", "--model", model_id, "--format", "model-index", "--out", str(tmp_path), "--results", str(output))
    assert result.exit_code == 0, result.output
    _, parsed = model_index_to_eval_results(metadata_load(tmp_path / "README.md")["model-index"])
    by_metric = {r.metric_type: r for r in parsed}
    assert set(by_metric) == {"balanced_accuracy", "accuracy"}
    assert by_metric["balanced_accuracy"].metric_name.startswith("balanced accuracy (%)")
    assert by_metric["balanced_accuracy"].task_type == "sentiment-analysis"
    assert by_metric["balanced_accuracy"].metric_value == found[0].scores[METRIC]
    table = bench("export", "--model", model_id, "--format", "json", "--out", str(tmp_path), "--results", str(output))
    assert table.exit_code == 0, table.output
    (table_file,) = [p for p in tmp_path.glob("*.json") if not p.name.startswith(".")]  # beside export's manifest
    rows = json.loads(table_file.read_text(encoding="utf-8"))
    assert [row["metric"] for row in rows] == [METRIC, "accuracy"]  # the primary first


def test_bench_metrics_lists_the_new_metric_for_the_new_head(registered):
    text = " ".join(bench("metrics").output.split())
    assert METRIC in text and HEAD in text


def test_the_new_metric_is_refused_on_a_head_it_does_not_score(registered, tmp_path):
    (tmp_path / "fixture").mkdir()
    wrong = {**TASK_YAML, "head": "regression", "dataset": {**TASK_YAML["dataset"], "labels": None}}
    (tmp_path / "fixture" / "polarity.yaml").write_text(yaml.safe_dump(wrong), encoding="utf-8")
    with pytest.raises(spec.SpecError, match=f"'{METRIC}' does not score a regression task"):
        spec.load_tasks([TASK], tmp_path)


# --------------------------------------------------------------------------------------
# what a metric's parameters and an unknown metric do to the names it is given


def test_the_hub_name_carries_the_specs_own_threshold():
    sts = spec.load_tasks(["klue/sts"])[0]
    binarized = metrics.get("binarized_f1")
    assert binarized.hub_label(sts.metrics.parameters) == "F1 of similar/dissimilar at 3.0 (%)"
    assert binarized.hub_label({"binarize_threshold": 2.5}) == "F1 of similar/dissimilar at 2.5 (%)"
    with pytest.raises(metrics.MetricError, match="needs binarize_threshold"):
        binarized.hub_label({})


def test_export_of_a_spec_with_another_threshold_says_that_threshold(tmp_path):
    sts = spec.load_tasks(["klue/sts"])[0]
    changed = sts.model_copy(update={"metrics": sts.metrics.model_copy(update={"binarize_threshold": 4.0})})
    record = _record("klue/sts", {"pearson": 80.0, "binarized_f1": 70.0})
    items = export.entries([record], {"klue/sts": changed})
    binarized = next(e for e in items if e.metric == "binarized_f1")
    assert binarized.metric_name == "F1 of similar/dissimilar at 4.0 (%)" and "at 4.0 (%)" in binarized.notes
    assert "3.0" not in binarized.metric_name


def test_a_metric_this_version_lacks_is_a_clear_export_error_not_a_traceback(tmp_path):
    results_dir = tmp_path / "results"
    record = _record("glue/sst2", {"accuracy": 80.0, "bleu": 12.0})
    records.write(records.record_path(results_dir, "fixture__model-a", "glue/sst2"), record)
    result = bench("export", "--model", "fixture/model-a", "--format", "json", "--out", str(tmp_path / "out"),
                   "--results", str(results_dir), "--include-deviations")  # the synthetic record follows no protocol
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert "'bleu'" in text and "cannot name on the Hub" in text and "glue/sst2" in text


def test_compare_and_intervals_leave_out_a_metric_this_version_lacks_with_a_reason():
    from harness.results import compare

    gold = np.array([0, 1, 1, 0, 1, 0, 1, 1])
    kept = predictions.TaskPredictions("glue/sst2", "label", "fixture", [42], gold, [gold[::-1].copy()])
    load = lambda path, reference: kept  # noqa: E731 (the same synthetic predictions for every record)
    known = _record("glue/sst2", {"accuracy": 25.0, "bleu": 12.0})
    assert set(compare.record_intervals(Path("a.json"), known, resamples=200, load=load)) == {"accuracy"}
    unknown = _record("glue/sst2", {"bleu": 12.0, "accuracy": 25.0})
    assert compare.average_interval([(Path("a.json"), unknown)], resamples=200, load=load) is None
    a, b = compare.Side("fixture/model-a", {"glue/sst2": (Path("a.json"), unknown)}), compare.Side(
        "fixture/model-b", {"glue/sst2": (Path("b.json"), unknown)})
    row = compare.compare_task("glue/sst2", a, b, resamples=200, load=load)
    assert row.difference is None and "metric 'bleu' is not one this koenbench knows" in row.problem


def test_the_site_labels_an_unknown_metric_by_its_name():
    from harness.site.tables import metric_label

    assert metric_label("macro_f1") == "macro F1" and metric_label("bleu") == "bleu"


def _record(task_id: str, scores: dict[str, float]) -> records.ResultRecord:
    """A synthetic record of fixture/model-a: made up here, never a measurement."""
    return records.ResultRecord.model_validate({
        "model": {"id": "fixture/model-a", "revision": "fixture", "source": "hub"},
        "task": {"id": task_id, "spec_sha256": "0" * 64, "primary_metric": next(iter(scores))},
        "scores": scores, "std": {m: 0.0 for m in scores},
        "seeds": [{"seed": 42, "scores": scores, "epoch": 1, "step": 1, "evaluations": [], "train_s": 1.0}],
        "hyperparameters": {}, "data": {"source": "local", "train_examples": 8, "validation_examples": 8},
        "env": {"koenbench": "fixture"}, "started_at": "2026-01-01T00:00:00Z", "wall_s": 1.0, "synthetic": True,
    })
