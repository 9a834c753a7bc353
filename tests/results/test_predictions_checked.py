"""A predictions file is checked before it is trusted: its arrays on read, its scores against its record.

Each bad file here carries the sha256 its record names (as a file written wrong, or a record
rewritten to match, would): the hash check passes, so only the checks on the content can stop it.
A bad file makes that record's interval and comparison unavailable, with a message naming the
file; `bench compare` and the site never crash on it and never show an interval made from it.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.results import compare, predictions, records

FIXTURE_RESULTS = Path(__file__).parents[1] / "data" / "records" / "results"
MODEL_A = "fixture__model-a-3f7a368105"  # synthetic fixture records of tiny random BERTs


def arrays_of(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {name: z[name] for name in z.files}


def npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def with_meta(arrays, **changes):
    meta = json.loads(str(arrays["meta"]))
    meta.update(changes)
    meta = {k: v for k, v in meta.items() if v is not ...}
    return {**arrays, "meta": np.array(json.dumps(meta))}


def setitem(arrays, name, value):
    return {**arrays, name: value}


def without(arrays, name):
    return {k: v for k, v in arrays.items() if k != name}


def scaled(arrays, name, factor):
    return {**arrays, name: arrays[name] * factor}


# task file -> how its good file is made bad, and the words the error must hold
BAD: dict[str, tuple[str, Callable[[dict], object], str]] = {
    "short": ("glue__sst2", lambda a: setitem(a, "predictions", a["predictions"][:, :-7]), "shape"),
    "no kind": ("glue__sst2", lambda a: npz(with_meta(a, kind=...)), "kind None"),
    "no offsets": ("klue__ner", lambda a: without(a, "offsets"), "no 'offsets' array"),
    "offsets out of order": ("klue__ner", lambda a: setitem(a, "offsets", a["offsets"][::-1].copy()), "offsets do not cut"),
    "truncated zip": ("glue__sst2", None, "not a koenbench predictions file"),
    "NaN": ("glue__stsb", lambda a: setitem(a, "predictions", np.where(np.arange(120) == 3, np.nan, a["predictions"])),
            "NaN or infinite"),
    "2^40": ("glue__stsb", lambda a: setitem(a, "predictions", a["predictions"] + 2.0**40), "does not match its record"),
    "label out of range": ("glue__sst2", lambda a: setitem(a, "predictions", a["predictions"] + 5), "outside 0..1"),
    "a huge label": ("glue__sst2", lambda a: setitem(a, "predictions", a["predictions"].astype(np.int64) + 2**40),
                     "outside 0..1"),
    "another run's predictions": ("glue__sst2", lambda a: setitem(a, "predictions", 1 - a["predictions"]),
                                  "does not match its record"),
    "other seeds": ("glue__sst2", lambda a: setitem(a, "seeds", a["seeds"] + 1), "seeds"),
    "fewer examples": ("glue__sst2", lambda a: {**a, "predictions": a["predictions"][:, :100],
                                                "references": a["references"][:100], "positions": a["positions"][:100]},
                       "examples"),
}


@pytest.fixture
def results(tmp_path) -> Path:
    return Path(shutil.copytree(FIXTURE_RESULTS, tmp_path / "results"))


def spoil(results: Path, case: str) -> tuple[Path, Path]:
    """Replace the case's predictions file with a bad one and point its record at it (sha256 and all)."""
    task_file, make_bad, _ = BAD[case]
    record_path = results / MODEL_A / f"{task_file}.json"
    file = predictions.file_for(record_path)
    if make_bad is None:
        payload = file.read_bytes()[: file.stat().st_size // 2]
    else:
        made = make_bad(arrays_of(file))
        payload = made if isinstance(made, bytes) else npz(made)
    file.write_bytes(payload)
    raw = json.loads(record_path.read_text(encoding="utf-8"))
    raw["predictions"]["sha256"] = hashlib.sha256(payload).hexdigest()
    record_path.write_text(json.dumps(raw), encoding="utf-8")
    return record_path, file


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_file_is_refused_naming_the_file_and_what_is_wrong(results, case):
    record_path, file = spoil(results, case)
    with pytest.raises(predictions.PredictionsError) as err:
        predictions.for_record(record_path, records.read_result(record_path))
    assert str(file) in str(err.value) and BAD[case][2] in str(err.value), str(err.value)


@pytest.mark.parametrize("case", ["short", "truncated zip", "label out of range", "another run's predictions"])
def test_bench_compare_names_the_file_and_shows_no_interval(results, case, tmp_path):
    record_path, file = spoil(results, case)
    task = BAD[case][0].replace("__", "/")
    result = CliRunner().invoke(app, ["compare", "fixture/model-a", "fixture/model-b", "--results", str(results),
                                      "--tasks", task, "--resamples", "200", "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    (row,) = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))["tasks"]
    assert row["difference"] is None and str(file) in row["problem"] and BAD[case][2] in row["problem"]


@pytest.mark.parametrize("case", ["no kind", "NaN", "label out of range", "another run's predictions"])
def test_the_leaderboard_leaves_out_the_records_interval_with_a_named_warning(results, case, caplog):
    record_path, file = spoil(results, case)
    record = records.read_result(record_path)
    others = [(p, records.read_result(p)) for p in sorted((results / MODEL_A).glob("*.json"))]
    stats = compare.leaderboard_statistics(others, {"all": [r.task.id for _, r in others]}, resamples=200,
                                           load=compare.CachedLoader(results.parent))
    assert stats.intervals.get(("fixture/model-a", record.task.id), {}) == {}
    assert ("fixture/model-a", "all") not in stats.averages  # an average over a bad file is no average
    assert any(("fixture/model-a", t) in stats.intervals and stats.intervals[("fixture/model-a", t)]
               for t in ("glue/mrpc", "klue/ynat"))  # the other records keep theirs
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(file.name in w and "left out" in w for w in warned), warned


def test_the_fixture_files_match_their_records():
    for path in sorted(FIXTURE_RESULTS.rglob("*.json")):
        try:
            record = records.read_result(path)
        except records.RecordError:
            continue
        if record.predictions is not None and predictions.file_for(path).exists():
            assert predictions.for_record(path, record) is not None


def test_the_site_builds_with_bad_files_and_names_them(results, caplog):
    from harness.core.paths import TASKS_DIR
    from harness.site.build import build_site

    bad = [spoil(results, case)[1] for case in ("truncated zip", "2^40")]
    fixture = FIXTURE_RESULTS.parent
    index = build_site(reports_dir=results.parent, out_dir=results.parent / "site", models_file=fixture / "models.yaml",
                       tasks_dir=TASKS_DIR, reported_file=fixture / "reported.yaml")
    assert index.exists()
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert all(f"{MODEL_A}/{file.name}" in warned for file in bad), warned
