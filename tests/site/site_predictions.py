"""A reports folder of synthetic records (marked so) with per-example predictions drawn at known accuracies.

fixture/model-c is the reference (``reference: true`` in the models.yaml written here);
fixture/model-b makes the same predictions as model-c but for a few examples redrawn at the
same accuracy (no detectable difference from it anywhere); fixture/model-a is 20 points worse; fixture/model-d
is as good as model-c but scored glue/sst2 on other validation examples (another fingerprint),
so that pair cannot be compared there. published/model has reported numbers only, and is
marked as a reference too: it must never be compared, having no predictions.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.core.paths import TASKS_DIR
from harness.results import predictions, records
from harness.stats import bootstrap
from harness.tasks.spec import load_tasks

TASK_IDS = ["klue/nli", "klue/ynat", "glue/sst2", "glue/qnli"]  # two per suite: each suite gets an average
EXAMPLES = 1500
SEEDS = [42, 43, 44]  # three: with two, a seed variance rests on one degree of freedom
ACCURACY = {"fixture/model-a": 0.70, "fixture/model-c": 0.90, "fixture/model-d": 0.90}
REDRAWN = 0.03  # the share of examples model-b redraws (at model-c's accuracy)
OTHER_SPLIT = ("fixture/model-d", "glue/sst2")
MODELS_YAML = """\
models:
  - {id: fixture/model-a, name: Fixture model A}
  - {id: fixture/model-b, name: Fixture model B}
  - {id: fixture/model-c, name: Fixture model C, reference: true}
  - {id: fixture/model-d, name: Fixture model D}
  - {id: published/model, name: Published model, reference: true}
"""
REPORTED_YAML = """\
sources:
  paper: {title: A paper}
numbers:
  - {source: paper, model: published/model, task: glue/sst2, metric: accuracy, value: 91.0}
  - {source: paper, model: published/model, task: klue/nli, metric: accuracy, value: 88.0}
"""


@dataclass
class World:
    reports: Path
    tasks: Path
    models: Path


def _draw(rng, gold, accuracy, classes):
    return np.where(rng.random(len(gold)) < accuracy, gold, (gold + rng.integers(1, classes, len(gold))) % classes)


def _write(folder: Path, model_id: str, spec, gold, seeds, fingerprint: str) -> None:
    path = folder / f"{spec.id.replace('/', '__')}.json"
    kept = predictions.TaskPredictions(spec.id, "label", fingerprint, SEEDS, gold, seeds)
    digest = predictions.save(predictions.file_for(path), kept)
    results = [records.SeedResult(seed=seed, scores={m: round(bootstrap.SeedPredictions(gold, [p]).point(m), 4)
                                                     for m in spec.metrics.names}, epoch=1, train_s=1.0)
               for seed, p in zip(SEEDS, seeds)]
    record = records.ResultRecord.from_seeds(
        results, model=records.ModelIdentity(id=model_id, revision="synthetic", source="local"),
        task=records.TaskIdentity(id=spec.id, spec_sha256=spec.sha256, primary_metric=spec.metrics.primary),
        hyperparameters={}, data=records.DataProvenance(source="local", train_examples=1, validation_examples=len(gold)),
        env={}, started_at="2026-11-28T10:00:00Z", wall_s=1.0, synthetic=True, protocol=records.Protocol(followed=True),
        predictions=records.PredictionsRef(path=predictions.file_for(path).name, sha256=digest))
    records.write(path, record)


def predictions_world(root: Path, seed: int = 0) -> World:
    """Write the records, their predictions files, the task YAMLs (only TASK_IDS), models.yaml and reported.yaml."""
    world = World(root / "reports", root / "tasks", root / "models.yaml")
    rng = np.random.default_rng(seed)
    for spec in load_tasks(TASK_IDS):
        classes = len(spec.dataset.labels)
        gold = rng.integers(0, classes, EXAMPLES)
        drawn = {m: [_draw(rng, gold, acc, classes) for _ in SEEDS] for m, acc in ACCURACY.items()}
        redraw = rng.random(EXAMPLES) < REDRAWN
        drawn["fixture/model-b"] = [np.where(redraw, _draw(rng, gold, ACCURACY["fixture/model-c"], classes), p)
                                    for p in drawn["fixture/model-c"]]
        for i, model_id in enumerate(sorted(drawn)):
            folder = world.reports / "results" / f"m{i}"
            folder.mkdir(parents=True, exist_ok=True)
            fingerprint = ("e" if (model_id, spec.id) == OTHER_SPLIT else "f") * 64
            _write(folder, model_id, spec, gold, drawn[model_id], fingerprint)
        target = world.tasks / f"{spec.id}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TASKS_DIR / f"{spec.id}.yaml", target)
    world.models.write_text(MODELS_YAML, encoding="utf-8")
    (world.reports / "reported.yaml").write_text(REPORTED_YAML, encoding="utf-8")
    return world
