"""The site shows a 95% interval on every measured score and marks models with no detectable difference from the best;
reported numbers get neither.

Records here are synthetic (fixture/model-a..c, marked synthetic) with predictions drawn at known accuracies.
"""

import html
import re
import shutil

import numpy as np
import pytest

from harness.core.paths import TASKS_DIR
from harness.results import predictions, records
from harness.site import build, render
from harness.tasks.spec import load_tasks

TASKS = {t.id: t for t in load_tasks(["klue/nli", "glue/sst2"])}
ACCURACY = {"fixture/model-a": 0.70, "fixture/model-b": 0.895, "fixture/model-c": 0.90}  # b not told from c, a is


def _write(folder, model_id, spec, gold, rng):
    seeds = [np.where(rng.random(len(gold)) < ACCURACY[model_id], gold, (gold + 1) % 3) for _ in range(2)]
    path = folder / f"{spec.id.replace('/', '__')}.json"
    kept = predictions.TaskPredictions(spec.id, "label", "f" * 64, [42, 43], gold, seeds)
    digest = predictions.save(predictions.file_for(path), kept)
    results = [records.SeedResult(seed=42 + i, scores={"accuracy": round(100 * float(np.mean(p == gold)), 4)}, epoch=1,
                                  train_s=1.0) for i, p in enumerate(seeds)]
    record = records.ResultRecord.from_seeds(
        results, model=records.ModelIdentity(id=model_id, revision="synthetic", source="local"),
        task=records.TaskIdentity(id=spec.id, spec_sha256=spec.sha256, primary_metric="accuracy"),
        hyperparameters={}, data=records.DataProvenance(source="local", train_examples=1, validation_examples=len(gold)),
        env={}, started_at="2026-11-28T10:00:00Z", wall_s=1.0, synthetic=True,
        protocol=records.Protocol(followed=True), predictions=records.PredictionsRef(path=predictions.file_for(path).name,
                                                                                     sha256=digest))
    records.write(path, record)


@pytest.fixture(scope="module")
def site_data(tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    rng = np.random.default_rng(0)
    gold = {task_id: rng.integers(0, 3 if task_id == "klue/nli" else 2, 1500) for task_id in TASKS}
    for i, model_id in enumerate(ACCURACY):
        folder = reports / "results" / f"m{i}"
        folder.mkdir(parents=True)
        for task_id, spec in TASKS.items():
            _write(folder, model_id, spec, gold[task_id], rng)
    (reports / "reported.yaml").write_text(
        "sources:\n  paper: {title: A paper}\nnumbers:\n"
        "  - {source: paper, model: published/model, task: glue/sst2, metric: accuracy, value: 91.0}\n"
        "  - {source: paper, model: published/model, task: klue/nli, metric: accuracy, value: 88.0}\n", encoding="utf-8")
    tasks_dir = reports / "tasks"  # just these two tasks, so that each suite's average is complete
    for task_id in TASKS:
        (tasks_dir / task_id).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TASKS_DIR / f"{task_id}.yaml", tasks_dir / f"{task_id}.yaml")
    data = build.collect(reports / "results", reports / "models.yaml", tasks_dir, reports / "reported.yaml")
    return reports, data


def test_statistics_cover_every_ranked_record(site_data):
    _, data = site_data
    stats = data.statistics
    assert len(stats.intervals) == 6
    assert stats.ties["glue/sst2"].best == "fixture/model-c" and stats.ties["glue/sst2"].tied == ["fixture/model-b"]
    assert ("fixture/model-a", "ko") in stats.averages and ("fixture/model-a", "klue") in stats.averages
    assert not any(model.startswith("published") for model, _ in stats.intervals)


def test_pages_show_intervals_and_tie_marks_and_reported_numbers_get_neither(site_data, tmp_path):
    _, data = site_data
    docs = tmp_path / "docs"
    render.write_docs(data, docs, build.SITE_DIR / "templates", build.SITE_DIR / "static", build.HOWTO_DIR)
    home = html.unescape((docs / "index.md").read_text(encoding="utf-8"))
    measured = home[home.index('id="leaderboard"'):home.index('id="reported-leaderboard"')]
    reported = home[home.index('id="reported-leaderboard"'):]
    reported = reported[:reported.index("</table>")]
    assert len(re.findall(r"95% \d+\.\d\d–\d+\.\d\d", measured)) >= 6  # every measured score, and the averages
    assert 'class="kb-best"' in measured and 'class="kb-tied"' in measured and "≈" in measured
    assert "95%" not in reported and "kb-tied" not in reported and "kb-best" not in reported
    task = html.unescape((docs / "tasks" / "glue__sst2.md").read_text(encoding="utf-8"))
    assert "no detectable difference from the best" in task and "95% " in task
    plot = (docs / "korean-vs-english.svg").read_text(encoding="utf-8")
    assert plot.count("<path") == 6  # a horizontal and a vertical bar for each measured model, none for the paper's
