"""Regenerate tests/data/records/results (the site's fixture records): python tests/site/make_fixtures.py

What the fixtures hold, and the tests rely on:
- respect5716/koenbert-base and klue/bert-base: all 8 tasks, 3 seeds (complete rows);
  klue/bert-base's klue/ynat also has an older record in archive/ (the newest must win).
- bert-base-uncased: the 4 GLUE tasks and klue/ynat (a partial KLUE average), and a
  failed klue/ner (a .failed.json).
- ./my-model (not in models.yaml): klue/sts and glue/sst2, one seed, on a CPU.
- four bad files the build must skip with a warning: broken JSON, a foreign schema,
  a koenbench record missing its primary score, a .failed.json of an unknown schema.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from site_synth import make_record, write_record

from harness.paths import TASKS_DIR
from harness.results import FAILURE_SCHEMA, failure_path, write_json_atomic
from harness.spec import discover, load_spec

OUT = Path(__file__).resolve().parents[1] / "data" / "records" / "results"

PRIMARY = {  # model -> task -> mean primary score
    "respect5716/koenbert-base": {"klue/ynat": 86.4, "klue/sts": 90.3, "klue/nli": 81.2, "klue/ner": 84.2,
                                  "glue/mrpc": 89.0, "glue/stsb": 84.6, "glue/sst2": 89.8, "glue/qnli": 88.3},
    "klue/bert-base": {"klue/ynat": 86.1, "klue/sts": 90.7, "klue/nli": 81.9, "klue/ner": 83.5,
                       "glue/mrpc": 86.0, "glue/stsb": 85.2, "glue/sst2": 88.1, "glue/qnli": 87.0},
    "bert-base-uncased": {"klue/ynat": 60.2, "glue/mrpc": 90.5, "glue/stsb": 87.9, "glue/sst2": 92.8,
                          "glue/qnli": 90.8},
}


def main() -> None:
    tasks = {task_id: load_spec(path, task_id) for task_id, path in discover(TASKS_DIR).items()}
    shutil.rmtree(OUT, ignore_errors=True)
    for model_id, scores in PRIMARY.items():
        for task_id, value in scores.items():
            write_record(OUT, make_record(model_id, tasks[task_id], value, started_at="2026-11-27T10:00:00Z"))

    older = make_record("klue/bert-base", tasks["klue/ynat"], 80.0, started_at="2026-10-01T08:00:00Z")
    write_record(OUT, older, OUT / "archive" / "klue__bert-base__klue__ynat.json")

    cpu = {"koenbench": "0.1.0", "git": "a12753b", "torch": "2.13.0", "transformers": "4.57.0",
           "device": "cpu", "precision": "fp32"}
    for task_id, value in {"klue/sts": 70.0, "glue/sst2": 80.0}.items():
        write_record(OUT, make_record("./my-model", tasks[task_id], value, seeds=1, env=cpu, wall_s=4210.0,
                                      revision="sha256:9f2c4e1a7b3d5f6e8a0c2b4d6f8e0a1c3e5f7a9b1d3f5e7a9c1e3f5a7b9d1f3e",
                                      started_at="2026-11-26T21:15:00Z"))

    write_json_atomic(failure_path(OUT, "bert-base-uncased", "klue/ner"), {
        "schema": FAILURE_SCHEMA, "model": {"id": "bert-base-uncased"}, "task": {"id": "klue/ner"},
        "error": {"type": "OutOfMemoryError", "message": "CUDA out of memory at max_length 510"},
        "started_at": "2026-11-27T11:00:00Z",
    })

    (OUT / "broken.json").write_text('{"schema": "koenbench.result/1", "model": {"id": "trunc', encoding="utf-8")
    (OUT / "foreign").mkdir()
    (OUT / "foreign" / "mteb-result.json").write_text(
        json.dumps({"dataset_revision": "abc", "mteb_version": "1.2.0", "scores": {"test": []}}, indent=2) + "\n",
        encoding="utf-8")
    bad = make_record("klue/roberta-base", tasks["klue/ynat"], 85.0)
    del bad["scores"]["macro_f1"]
    (OUT / "invalid").mkdir()
    (OUT / "invalid" / "klue__ynat.json").write_text(json.dumps(bad, indent=2) + "\n", encoding="utf-8")
    (OUT / "invalid" / "klue__nli.failed.json").write_text('{"schema": "something/else"}\n', encoding="utf-8")
    print(f"wrote {sum(1 for _ in OUT.rglob('*.json'))} files under {OUT}")


if __name__ == "__main__":
    main()
