"""Model pages compare each model with the reference models (paired bootstrap); reported numbers are never compared.

Synthetic records with predictions drawn at known accuracies (tests/site/site_predictions.py):
model-a is 20 points below the reference model-c, model-b makes model-c's predictions but for
a few redrawn examples, model-d scored glue/sst2 on other validation examples.
"""

import html
import re

import pytest

from site_predictions import OTHER_SPLIT, TASK_IDS, predictions_world

from harness.results import compare, predictions, records
from harness.site import build, comparisons, render, tables

REFERENCE = "fixture/model-c"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return predictions_world(tmp_path_factory.mktemp("compared"))


@pytest.fixture(scope="module")
def site_data(world):
    return build.collect(world.reports / "results", world.models, world.tasks, world.reports / "reported.yaml")


@pytest.fixture(scope="module")
def docs(site_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    render.write_docs(site_data, out, build.SITE_DIR / "templates", build.SITE_DIR / "static", build.HOWTO_DIR)
    return out


def _rows(comparison: compare.Comparison) -> dict[str, compare.TaskComparison]:
    return {row.task_id: row for row in comparison.tasks}


def _verdicts(table: tables.Table) -> list[str]:
    return [row[-1].text for row in table.rows]


def test_references_come_from_models_yaml_else_the_defaults():
    flagged = {"x": {"reference": True}, "y": {"reference": False}, "z": {}}
    assert comparisons.reference_ids(flagged) == ["x"]
    assert comparisons.reference_ids({"x": {}, "klue/bert-base": {"name": "KLUE"}}) == list(comparisons.DEFAULT_REFERENCES)
    assert comparisons.reference_ids({"klue/bert-base": {"reference": False}}) == []  # switched off


def test_a_clearly_worse_model_is_worse_on_every_task_and_average(site_data):
    (against,) = site_data.comparisons["fixture/model-a"]
    assert (against.model_a, against.model_b) == (REFERENCE, "fixture/model-a")  # B - A: this model - the reference
    for row in against.tasks:
        assert row.difference.verdict == "A better" and row.difference.high < -10, row.task_id
        assert row.difference.difference == pytest.approx(row.score_b - row.score_a, abs=1e-3)
    assert sorted(a.suite for a in against.averages) == ["glue", "klue"]
    assert all(a.difference.verdict == "A better" for a in against.averages)
    table = tables.comparison_table("t", against, site_data.tasks, "../")
    assert _verdicts(table) == ["worse"] * len(TASK_IDS)
    assert [row[0].text for row in table.foot] == ["GLUE average", "KLUE average"]
    assert [row[-1].text for row in table.foot] == ["worse", "worse"]


def test_a_clearly_better_model_is_better_and_two_references_agree_but_for_the_sign(world, site_data):
    entries = [(p, records.read_result(p)) for p in sorted((world.reports / "results").rglob("*.json"))]
    found = comparisons.reference_comparisons(entries, ["fixture/model-a", REFERENCE], list(site_data.tasks.index),
                                              compare.CachedLoader(world.reports), resamples=2000)
    (against,) = found[REFERENCE]  # model-c's page, against model-a
    table = tables.comparison_table("t", against, site_data.tasks, "../")
    assert _verdicts(table) == ["better"] * len(TASK_IDS)
    assert all(float(row[3].text) > 10 and row[5].text == "< 0.001" for row in table.rows)
    assert [row[-1].text for row in table.foot] == ["better", "better"]
    # model-a's page against model-c: the same bootstrap, read the other way
    (back,) = [c for c in found["fixture/model-a"] if c.model_a == REFERENCE]
    for there, here in zip(back.tasks, against.tasks):
        assert there.task_id == here.task_id and there.difference.verdict == "A better"
        assert (there.difference.low, there.difference.high) == (-here.difference.high, -here.difference.low)
        assert (there.score_a, there.score_b) == (here.score_b, here.score_a)
    assert [a.difference.difference for a in back.averages] == [-a.difference.difference for a in against.averages]


def test_a_reference_flag_that_is_not_true_or_false_is_refused_by_name(tmp_path):
    from harness.site.inputs import SiteInputError, load_models

    models = tmp_path / "models.yaml"
    models.write_text("models:\n  - {id: fixture/model-a, reference: 'yes'}\n", encoding="utf-8")
    with pytest.raises(SiteInputError, match=r"models\[0\]\.reference"):
        load_models(models)


def test_a_same_accuracy_pair_is_no_detectable_difference(site_data):
    (against,) = site_data.comparisons["fixture/model-b"]
    for row in against.tasks:
        assert row.difference.verdict == "no detectable difference", row.task_id
        assert row.difference.low < 0 < row.difference.high
    table = tables.comparison_table("t", against, site_data.tasks, "../")
    assert set(_verdicts(table)) == {"no detectable difference"}


def test_other_validation_examples_are_stated_instead_of_a_number(site_data):
    (against,) = site_data.comparisons["fixture/model-d"]
    model, task = OTHER_SPLIT
    row = _rows(against)[task]
    assert row.difference is None and "different validation examples" in row.problem
    table = tables.comparison_table("t", against, site_data.tasks, "../")
    cells = next(r for r in table.rows if r[0].text == site_data.tasks.loc[task, "name"])
    assert [c.text for c in cells[3:6]] == ["—"] * 3 and cells[-1].text == "not compared"
    assert "different validation examples" in cells[-1].sub
    # the suite's average covers only the tasks that could be paired: glue has one left, so none, and the page says so
    assert [a.suite for a in against.averages] == ["klue"]
    assert [(row[0].text, row[-1].text) for row in table.foot] == [("GLUE average", "not compared"),
                                                                    ("KLUE average", "no detectable difference")]
    assert table.foot[0][-1].sub == "1 of 2 tasks paired; an average needs two"


def test_reported_models_and_the_reference_itself_are_never_compared(site_data):
    assert "published/model" in site_data.models and site_data.models["published/model"]["reference"]
    assert "published/model" not in site_data.comparisons
    assert all(c.model_a == REFERENCE for found in site_data.comparisons.values() for c in found)
    assert REFERENCE not in site_data.comparisons  # no other reference has predictions
    assert sorted(site_data.comparisons) == ["fixture/model-a", "fixture/model-b", "fixture/model-d"]


def test_model_pages_show_the_table_and_reported_models_never_appear(site_data, docs, world):
    pages = {p.stem: html.unescape(p.read_text(encoding="utf-8")) for p in (docs / "models").glob("*.md")}
    worse = pages["fixture__model-a"]
    assert "## Compared with Fixture model C" in worse and 'id="vs-fixture-model-c"' in worse
    assert worse.count('class="kb-worse"') == len(TASK_IDS) + 2  # every task and both averages
    assert "<tfoot>" in worse and "KLUE average" in worse and "GLUE average" in worse
    assert re.search(r"−\d+\.\d\d to −?\d+\.\d\d|-\d+\.\d\d to -\d+\.\d\d", worse)
    assert "no detectable difference" in pages["fixture__model-b"]
    assert "not compared" in pages["fixture__model-d"] and "different validation examples" in pages["fixture__model-d"]
    assert "Compared with" not in pages["fixture__model-c"] and "Compared with" not in pages["published__model"]
    assert not any("Compared with Published" in page for page in pages.values())
    assert not any(str(world.reports) in page for page in pages.values())


def test_a_missing_predictions_file_is_named_relative_to_the_reports_folder(world, tmp_path):
    path = next((world.reports / "results").rglob("*.json"))
    record = records.read_result(path)
    gone = records.PredictionsRef(path="gone.predictions.npz", sha256="0" * 64)
    with pytest.raises(predictions.PredictionsError) as err:
        compare.CachedLoader(world.reports)(path, record.model_copy(update={"predictions": gone}))
    assert str(world.reports) not in str(err.value) and "gone.predictions.npz" in str(err.value)
    loader = compare.CachedLoader(world.reports)
    assert loader(path, record) is loader(path, record)  # read once
