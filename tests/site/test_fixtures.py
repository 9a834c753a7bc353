"""The committed fixture records (tests/data/records) are what the runner writes today.

A fresh `bench run` of a tiny model on one task must give a record of the same shape (every field,
nested, with the same kinds of values) as the fixtures; the scores are not compared. When this
fails, the record format changed: rerun ``python tests/site/make_fixtures.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from harness.results import records

REPO = Path(__file__).resolve().parents[2]


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys of objects, the shape of a list's first item, the kind of a scalar."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return None
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def differences(fresh: Any, fixture: Any, where: str = "") -> list[str]:
    """Where two shapes disagree; a null or empty list on either side matches anything (an optional field)."""
    if fresh is None or fixture is None or fresh == [] or fixture == []:
        return []
    if isinstance(fresh, dict) and isinstance(fixture, dict):
        problems = [f"{where}.{k}: only in the fresh record" for k in fresh.keys() - fixture.keys()]
        problems += [f"{where}.{k}: only in the fixtures" for k in fixture.keys() - fresh.keys()]
        for key in fresh.keys() & fixture.keys():
            if f"{where}.{key}" != ".env":  # which versions are listed depends on the machine
                problems += differences(fresh[key], fixture[key], f"{where}.{key}")
        return problems
    if isinstance(fresh, list) and isinstance(fixture, list):
        return differences(fresh[0], fixture[0], where + "[]")
    return [] if fresh == fixture else [f"{where}: {fresh} in the fresh record, {fixture} in the fixtures"]


def test_the_shape_check_sees_a_missing_field():
    fresh = shape({"a": 1, "b": {"c": "x", "d": [{"e": 1}]}})
    assert differences(fresh, shape({"a": 1, "b": {"c": "x", "d": [{"e": 2}]}})) == []
    assert differences(fresh, shape({"a": 1, "b": {"c": "x", "d": [{}]}})) == [".b.d[].e: only in the fresh record"]
    assert differences(fresh, shape({"a": "1", "b": {"c": "x", "d": []}})) == [".a: number in the fresh record, str in the fixtures"]


def test_fixture_records_have_the_shape_of_a_fresh_run(tmp_path, tiny_english_bert, fixture_reports, monkeypatch):
    from harness.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "--model", str(tiny_english_bert), "--tasks", "glue/sst2",
                                      "--data-dir", str(REPO / "samples"), "--limit", "8", "--eval-limit", "8",
                                      "--output", str(tmp_path / "results")])
    assert result.exit_code == 0, result.output
    (fresh_file,) = (tmp_path / "results").glob("*/glue__sst2.json")
    fresh = records.to_json(records.read_result(fresh_file))
    fixtures = [p for p in (fixture_reports / "results").rglob("glue__sst2.json")]
    assert fixtures
    for path in fixtures:
        committed = records.read_json(path)  # as written, before any migration or defaults
        assert committed["schema"] == fresh["schema"] == records.RESULT_SCHEMA, path
        assert differences(shape(fresh), shape(committed)) == [], path


def test_fixture_records_were_made_under_the_current_task_specs(fixture_reports):
    from harness.core.paths import TASKS_DIR
    from harness.site.inputs import load_tasks

    current = {spec.id: spec.sha256 for spec in load_tasks(TASKS_DIR)}
    stale = []
    for path in sorted((fixture_reports / "results").rglob("*.json")):
        try:
            record = records.read_result(path)
        except records.RecordError:  # the bad files the site must skip
            continue
        if "older-spec" not in path.parts and record.task.spec_sha256 != current[record.task.id]:
            stale.append(str(path.relative_to(fixture_reports)))
    # a task YAML changed: rerun make_fixtures.py; only the hash's definition changed: make_fixtures.py --rehash
    assert not stale
