"""Regenerate tests/data/records (the site's fixture records) with the real runner:

    python tests/site/make_fixtures.py            # 8.5 min on two CPU cores at load 7 (measured)
    python tests/site/make_fixtures.py --rehash   # only the way spec hashes are computed changed

Tiny random BERTs around a real vocabulary (harness/testing/tiny.py), named ``fixture/model-a`` ...
so that no page built from them can pass for a measurement of a real model, run by
``bench run --data-dir samples`` on the bundled sample rows. Every record is then marked
``synthetic: true``; the predictions file each record names is copied beside it. What the fixtures hold, and the site tests rely on:

- fixture/model-a: all 8 tasks, one seed. The samples hold no train file for KLUE-NLI, KLUE-NER and QNLI,
  so those three train on 80% of the validation file and the runner marks them outside the protocol
  (listed apart); the other five are ranked (a partial row, complete over those five).
- fixture/model-b: klue/ynat, glue/mrpc, glue/sst2 with two seeds (a partial row with ± std); an older
  one-seed klue/ynat record in archive/ (the newest must win); a failed klue/ner (a .failed.json).
- fixture/model-c (not in the fixture models.yaml): glue/sst2 with ``--set epochs=1``, a run outside the
  protocol, so it is listed apart and never ranked.
- older-spec/: a copy of model-a's glue/mrpc record whose spec hash is not the current YAML's.
- four bad files the build must skip with a warning: broken JSON, a foreign schema, a record
  missing its primary score, a .failed.json of an unknown schema.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.results import records
from harness.testing import tiny

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "data" / "records" / "results"
MODELS = {"fixture/model-a": 0, "fixture/model-b": 1, "fixture/model-c": 2}  # id -> weight seed
RUNS = [  # model, tasks, seeds, extra flags, folder under results/
    ("fixture/model-a", "all", "42", [], ""),
    ("fixture/model-b", "klue/ynat,glue/mrpc,glue/sst2", "42,43", [], ""),
    ("fixture/model-b", "klue/ynat", "7", [], "archive"),
    ("fixture/model-c", "glue/sst2", "42", ["--set", "epochs=1"], "other-runs"),
]
OLDER = "2026-01-01T00:00:00Z"  # the archive record's start: before any fresh run


def bench(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    command = [sys.executable, "-c", "from harness.cli import app; app()", *args]
    print("bench", " ".join(args), flush=True)
    subprocess.run(command, cwd=cwd, env=env, check=True)


def run_all(work: Path) -> Path:
    """Every run of RUNS, from ``work`` (so model ids are the relative folder names); returns the results folder."""
    for model_id, seed in MODELS.items():
        tiny.tiny_bert(tiny.minilm_dir(), work / model_id, seed=seed)
    for model_id, tasks, seeds, extra, folder in RUNS:
        selection = ["--suite", "all"] if tasks == "all" else ["--tasks", tasks]
        bench(["run", "--model", model_id, *selection, "--seeds", seeds, "--data-dir", str(REPO / "samples"),
               "--output", str(work / "results" / folder), *extra], cwd=work)
    return work / "results"


def mark(record: records.ResultRecord, **changes) -> records.ResultRecord:
    """The record as a fixture: synthetic (the runner says whether it followed the protocol)."""
    raw = records.to_json(record)
    raw.update(synthetic=True, **changes)
    return records.parse_result(raw)


def write_fixtures(results: Path) -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    folders = {folder for *_, folder in RUNS if folder}
    for path in sorted(results.rglob("*.json")):
        relative = path.relative_to(results)
        if any(part.startswith(".") for part in relative.parts):  # the runner's per-seed resume cache
            continue
        record = records.read_result(path)
        folder = relative.parts[0] if relative.parts[0] in folders else ""
        changes = {"started_at": OLDER} if folder == "archive" else {}
        records.write(OUT / relative, mark(record, **changes))
        if record.predictions is not None:  # the per-example predictions the record names (intervals, ties)
            shutil.copyfile(path.parent / record.predictions.path, OUT / relative.parent / record.predictions.path)

    model_a_mrpc = next(p for p in OUT.glob("*/glue__mrpc.json") if records.read_result(p).model.id == "fixture/model-a")
    raw = records.to_json(records.read_result(model_a_mrpc))
    raw["task"]["spec_sha256"] = hashlib.sha256(b"glue/mrpc.yaml as it was before").hexdigest()
    raw["started_at"] = OLDER
    records.write(OUT / "older-spec" / "glue__mrpc.json", records.parse_result(raw))
    kept = model_a_mrpc.parent / raw["predictions"]["path"]
    shutil.copyfile(kept, OUT / "older-spec" / kept.name)

    model_b = next(records.read_result(p).model for p in OUT.glob("*/*.json")
                   if records.read_result(p).model.id == "fixture/model-b")
    failure = records.FailureRecord(
        model=model_b, task={"id": "klue/ner"}, started_at="2026-11-27T11:00:00Z", seeds=[42], synthetic=True,
        error={"type": "FloatingPointError", "message": "the training loss became NaN at step 3 (a synthetic failure)"})
    b_folder = next(p.parent for p in OUT.glob("*/klue__ynat.json") if records.read_result(p).model.id == model_b.id)
    records.write(b_folder / "klue__ner.failed.json", failure)

    write_bad_files(OUT)
    print(f"wrote {sum(1 for _ in OUT.rglob('*.json'))} files under {OUT.relative_to(REPO)}")


def write_bad_files(out: Path) -> None:
    (out / "broken.json").write_text('{"schema": "koenbench.result/2", "model": {"id": "trunc', encoding="utf-8")
    (out / "foreign").mkdir()
    (out / "foreign" / "mteb-result.json").write_text(
        json.dumps({"dataset_revision": "abc", "mteb_version": "1.2.0", "scores": {"test": []}}, indent=2) + "\n",
        encoding="utf-8")
    good = records.to_json(records.read_result(next(out.glob("*/klue__ynat.json"))))
    del good["scores"][good["task"]["primary_metric"]]
    (out / "invalid").mkdir()
    (out / "invalid" / "klue__ynat.json").write_text(json.dumps(good, indent=2) + "\n", encoding="utf-8")
    (out / "invalid" / "klue__nli.failed.json").write_text('{"schema": "something/else"}\n', encoding="utf-8")


def rehash() -> None:
    """Give every fixture record (but the older-spec one) the current spec hash of its task.

    Only for a change in how the spec hash is computed, with the task YAMLs unchanged: the
    runs would be the same, so the fixtures need not be run again.
    """
    from harness.core.paths import TASKS_DIR
    from harness.site.inputs import load_tasks

    current = {spec.id: spec.sha256 for spec in load_tasks(TASKS_DIR)}
    for path in sorted(OUT.rglob("*.json")):
        if "older-spec" in path.parts or path.name.endswith(".failed.json"):
            continue
        try:
            record = records.read_result(path)
        except records.RecordError:  # the bad files, kept bad on purpose
            continue
        raw = records.to_json(record)
        raw["task"]["spec_sha256"] = current[record.task.id]
        records.write(path, records.parse_result(raw))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rehash", action="store_true", help="only refresh the spec hashes (see rehash())")
    if parser.parse_args().rehash:
        rehash()
        return
    with tempfile.TemporaryDirectory(prefix="koenbench-fixtures-") as tmp:
        write_fixtures(run_all(Path(tmp)))


if __name__ == "__main__":
    main()
