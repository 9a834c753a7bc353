"""`bench export` never destroys a file and never passes on active content.

Writes: a file in --out that export did not write (a model card of the user's own) is refused
unless --force; a full disk part-way leaves every old file whole and no temporary or empty file;
--out that is a file, or lies under one, is named before anything is written.

Cells and text: hostile strings in every string field of a record arrive inert in every
format: CSV cells never start a spreadsheet formula, the model card's body has no element,
link or extra line, and the YAML and JSON read back to exactly what the record says.
"""

from __future__ import annotations

import csv
import errno
import io
import itertools
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from huggingface_hub import metadata_load, parse_eval_result_entries
from typer.testing import CliRunner

from harness.cli import app
from harness.core import files
from harness.results import export, records
from harness.tasks.spec import load_tasks

FIXTURE_RESULTS = Path(__file__).parents[1] / "data" / "records" / "results"
MODEL = "fixture/model-a"  # synthetic fixture records of a tiny random BERT


def bench(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def results(tmp_path) -> Path:
    return Path(shutil.copytree(FIXTURE_RESULTS, tmp_path / "results"))


def export_to(results: Path, out: Path, fmt: str, *extra: str):
    return bench("export", "--model", MODEL, "--format", fmt, "--out", str(out), "--results", str(results),
                 "--include-deviations", *extra)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------------------------------
# writes that never destroy


def test_a_model_card_of_the_users_own_is_not_replaced_without_force(results, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("# My model\n\nWeeks of writing.\n", encoding="utf-8")
    result = export_to(results, out, "model-index")
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "README.md" in said and "--force" in said and "Traceback" not in said
    assert tree(out) == {"README.md": b"# My model\n\nWeeks of writing.\n"}  # nothing written at all
    assert export_to(results, out, "model-index", "--force").exit_code == 0
    assert "model-index" in (out / "README.md").read_text(encoding="utf-8")


def test_files_export_wrote_are_replaced_but_an_edited_one_is_not(results, tmp_path):
    out = tmp_path / "out"
    for fmt in ("model-index", "csv", "eval-results"):
        assert export_to(results, out, fmt).exit_code == 0
        assert export_to(results, out, fmt).exit_code == 0, f"{fmt}: refused to replace its own files"
    csv_file = next(out.glob("*.csv"))
    csv_file.write_text(csv_file.read_text(encoding="utf-8") + "my,own,row\n", encoding="utf-8")
    edited = csv_file.read_bytes()
    result = export_to(results, out, "csv")
    assert result.exit_code == 2 and csv_file.name in " ".join(result.output.split())
    assert csv_file.read_bytes() == edited


@pytest.mark.parametrize("fmt", ["model-index", "csv", "json", "eval-results"])
def test_a_full_disk_part_way_leaves_every_old_file_whole(results, tmp_path, monkeypatch, fmt):
    out = tmp_path / "out"
    assert export_to(results, out, fmt).exit_code == 0
    before = tree(out)
    calls = []

    def full_after_first_file(handle, payload: bytes) -> None:  # the disk fills during the second file
        calls.append(1)
        handle.write(payload if len(calls) == 1 else payload[: len(payload) // 2])
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "_write_all", full_after_first_file)
    result = export_to(results, out, fmt, "--force")
    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert tree(out) == before  # no file replaced, none emptied, no temporary file left


def test_out_that_is_a_file_or_lies_under_one_is_named(results, tmp_path):
    a_file = tmp_path / "scores.txt"
    a_file.write_text("keep me\n", encoding="utf-8")
    for out, said in ((a_file, "is a file"), (a_file / "sub", "which is a file")):
        result = export_to(results, out, "json")
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert said in text and str(a_file) in text and "Traceback" not in text
    assert a_file.read_text(encoding="utf-8") == "keep me\n"


def test_a_metric_this_koenbench_lacks_is_named(results, tmp_path):
    (path,) = results.glob("fixture__model-a-*/glue__qnli.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    for seed in raw["seeds"]:
        seed["scores"]["f2"] = seed["scores"]["accuracy"]
    raw["scores"]["f2"], raw["std"]["f2"] = raw["scores"]["accuracy"], raw["std"]["accuracy"]
    raw["predictions"] = None
    path.write_text(json.dumps(raw), encoding="utf-8")
    result = export_to(results, tmp_path / "out", "csv")
    assert result.exit_code == 2 and "'f2'" in result.output and "Traceback" not in result.output


# --------------------------------------------------------------------------------------------------
# hostile text arrives inert

ATTACKS = ["=HYPERLINK(\"http://x\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "=cmd|' /C calc'!A0",
           "<script>alert('xss')</script>", "x</title><script>alert(1)</script>", "a\n[r]: javascript:alert(1)\n\n[x][r]",
           "# heading\n---\nname: injected", "[click](javascript:alert(1))", "<img src=x onerror=alert(1)>",
           "*em* `code` | pipe |", "1. list\n- item\n> quote", "모델 \u2028 \u0085 \ufeff", "'quoted'", "\"dq\"", "---"]
hostile = st.one_of(st.sampled_from(ATTACKS), st.text(min_size=1, max_size=30),
                    st.lists(st.sampled_from(ATTACKS), min_size=2, max_size=3).map("".join))
SPECS = {s.id: s for s in load_tasks(["glue/mrpc", "klue/ynat"])}


def hostile_record(task_id: str, say) -> records.ResultRecord:
    """A synthetic record whose every free-text string field holds hostile text."""
    spec = SPECS[task_id]
    seeds = [records.SeedResult(seed=s, scores={m: 50.0 + s for m in spec.metrics.names}, epoch=1, train_s=1.0)
             for s in (1, 2)]
    return records.ResultRecord.from_seeds(
        seeds, model={"id": say(), "revision": say(), "source": "local"},
        task={"id": task_id, "spec_sha256": say(), "primary_metric": spec.metrics.primary},
        hyperparameters={"note": say()},
        data={"source": say(), "train_examples": 1, "validation_examples": 1, "hub_revision": say(), "note": say(),
              "train_split": say(), "validation_split": say(), "fingerprint": say()},
        env={"koenbench": say(), "git": say(), "device": say()}, started_at="2026-11-27T10:00:00Z", wall_s=1.0,
        run_key=say(), protocol={"followed": False, "deviations": [say(), say()]}, synthetic=True, warnings=[say()])


def _say(strings: list[str]):
    it = itertools.cycle(strings)
    return lambda: next(it)


def assert_inert_cell(cell: str, original: str) -> None:
    assert not cell.startswith(export.SPREADSHEET_TRIGGERS), f"a cell starts a formula: {cell!r}"
    assert (cell[1:] if original.startswith(export.SPREADSHEET_TRIGGERS) else cell) == original  # nothing lost


def check_csv(text: str, items: list[export.ExportEntry]) -> None:
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == len(items)
    for row, item in zip(rows, items):
        fields = dict(zip(export.ExportEntry.model_fields, row))
        for name, value in item.model_dump().items():
            if isinstance(value, str):
                assert_inert_cell(fields[name], value)
            elif isinstance(value, float):
                assert float(fields[name]) == value  # numbers stay numbers
    assert header == list(export.ExportEntry.model_fields)


BODY_TAGS = {"h1", "h2", "p", "ul", "li"}


class Elements(HTMLParser):
    """Every element of rendered HTML, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.found.append((tag, attrs))


def check_card(text: str, items: list[export.ExportEntry], tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_text(text, encoding="utf-8")
    front = metadata_load(card)
    assert front["model-index"][0]["name"] == items[0].model_id  # the YAML holds the id exactly
    body = text.split("\n---\n", 1)[1]
    assert sum(line.startswith("- ") for line in body.splitlines()) == len(items)  # one line per entry, none added
    assert len([line for line in body.splitlines() if line.strip()]) == len(items) + 3
    elements = Elements()
    elements.feed(markdown.markdown(body))
    assert {tag for tag, _ in elements.found} <= BODY_TAGS, elements.found  # no element, link or image from a record
    assert not any(attrs for _, attrs in elements.found), elements.found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(strings=st.lists(hostile, min_size=1, max_size=12), name=hostile)
def test_hostile_strings_in_every_field_arrive_inert_in_every_format(strings, name, tmp_path):
    say = _say(strings)
    found = [hostile_record("glue/mrpc", say), hostile_record("klue/ynat", say)]
    found[1] = found[1].model_copy(update={"model": found[0].model})
    specs = {task: spec.model_copy(update={"name": name}) for task, spec in SPECS.items()}
    items = export.entries(found, specs)
    check_csv(export.contents(items, "csv")[f"{records.model_slug(items[0].model_id)}.csv"], items)
    (json_text,) = export.contents(items, "json").values()
    assert json.loads(json_text) == [e.model_dump() for e in items]  # JSON: every value exactly
    read_back = [parse_eval_result_entries(yaml.safe_load(text)) for text in export.contents(items, "eval-results").values()]
    assert [(e.notes, e.dataset_revision, e.value) for (e,) in read_back] == \
        [(e.notes, e.dataset_revision, e.value) for e in items if e.primary]  # YAML: every value exactly (primary metrics)
    check_card(export.contents(items, "model-index")["README.md"], items, tmp_path)


@settings(max_examples=25, deadline=None)
@given(ids=st.lists(hostile, min_size=1, max_size=4, unique=True))
def test_the_sites_leaderboard_csv_cells_are_inert(ids):
    import tempfile

    import pandas as pd

    from harness.site import aggregate

    tasks = aggregate.tasks_frame(load_tasks(["glue/mrpc", "klue/ynat"]))
    long = pd.DataFrame([{"model_id": m, "task_id": t, "metric": tasks.loc[t, "primary"], "mean": -5.0 + i, "std": 0.0,
                          "n_seeds": 1} for i, m in enumerate(ids) for t in tasks.index])
    board = aggregate.leaderboard(long, tasks)
    with tempfile.TemporaryDirectory() as folder:
        csv_path, json_path = export.write_leaderboard(board, tasks, Path(folder))
        shown = csv_path.read_bytes().decode("utf-8")
        kept = json.loads(json_path.read_text(encoding="utf-8"))
    header, *rows = list(csv.reader(io.StringIO(shown, newline="")))
    assert [r["model_id"] for r in kept] == list(board.index)  # the JSON keeps every id exactly
    for row, model_id in zip(rows, board.index):
        assert_inert_cell(row[1], model_id)
        assert all(isinstance(float(cell), float) for cell in row[2:4])  # scores stay numbers, negative ones too
