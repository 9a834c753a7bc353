"""The build on the fixture reports: every page, the marks the issue asks for, offline, no mkdocs warnings."""

from __future__ import annotations

import re
import shutil

import pytest
from typer.testing import CliRunner

from harness.core.paths import MODELS_FILE, TASKS_DIR
from harness.site.build import MARKER, SiteBuildError, build_site
from harness.site.inputs import load_results

TASK_PAGES = ["klue__ynat", "klue__sts", "klue__nli", "klue__ner", "glue__mrpc", "glue__stsb", "glue__sst2", "glue__qnli"]
MODEL_PAGES = [  # the fixture models.yaml's two, model-c (records only), and the models of reported numbers
    "fixture__model-a", "fixture__model-b", "fixture__model-c", "klue__bert-base", "respect5716__koenbert-base",
    "bert-base-cased",
]


def _rows(html: str, table_id: str) -> list[str]:
    table = re.search(rf'<table id="{table_id}".*?</table>', html, re.S).group(0)
    return re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)


def _record(fixture_reports, model_id: str, task_id: str):
    found = [r for f, r in load_results(fixture_reports / "results").records
             if r.model.id == model_id and r.task.id == task_id and not any(k in f for k in ("archive", "older-spec"))]
    assert len(found) == 1
    return found[0]


def test_every_page_is_built(built_site):
    expected = ["index.html", "klue.html", "glue.html", "models/index.html", "korean-vs-english.html",
                "korean-vs-english.svg", "reported.html", "how-to/adding-a-model.html", "how-to/adding-a-task.html",
                "assets/koenbench/sort.js", "assets/koenbench/koenbench.css", "search/search_index.js",
                *[f"tasks/{t}.html" for t in TASK_PAGES], *[f"models/{m}.html" for m in MODEL_PAGES]]
    missing = [p for p in expected if not (built_site.root / p).is_file()]
    assert not missing


def test_mkdocs_builds_without_warnings(built_site):
    noise = [r.getMessage() for r in built_site.warnings if not r.name.startswith("harness.site")]
    assert not noise


def test_home_leaderboard_rows_columns_and_marks(built_site):
    html = built_site.page("index.html")
    rows = _rows(html, "leaderboard")
    names = [re.search(r'href="models/([^"]+)\.html"', r).group(1) for r in rows]
    # both rows partial (model-a's carved runs are apart), so the higher overall average first; model-c has no
    # run under the protocol
    assert names == ["fixture__model-b", "fixture__model-a"]
    header = re.search(r'<table id="leaderboard".*?</thead>', html, re.S).group(0)
    labels = re.findall(r"<th[^>]*>(?:<a[^>]*>)?([^<]+)", header)
    assert labels == ["Model", "Params", "Languages", "KLUE avg", "GLUE avg", "Overall", "YNAT", "KLUE-STS", "KLUE-NLI",
                      "KLUE-NER", "MRPC", "STS-B", "SST-2", "QNLI"]
    assert 'href="tasks/klue__ynat.html"' in header
    model_b, model_a = rows
    assert ">0.5M<" in model_a and ">en<" in model_a  # the fixture models.yaml's params and languages
    assert "partial 1/4" in model_b and "partial 2/4" in model_b and "partial 3/8" in model_b and "kb-partial" in model_b
    assert ">failed<" in model_b and "FloatingPointError" in model_b
    assert model_b.count(">—<") == 4  # KLUE-STS, KLUE-NLI, STS-B, QNLI: missing, not zero (it has params, languages)
    assert "partial 2/4" in model_a and "partial 3/4" in model_a and "partial 5/8" in model_a
    assert model_a.count(">—<") == 3  # KLUE-NLI, KLUE-NER, QNLI: only runs outside the protocol, listed apart
    assert "Fixture model A" in model_a and "Fixture model B" in model_b


def test_synthetic_records_are_marked_wherever_they_are_shown(built_site):
    for page, table in (("index.html", "leaderboard"), ("tasks/glue__sst2.html", "measured-glue__sst2"),
                        ("tasks/glue__sst2.html", "not-ranked-glue__sst2")):
        for row in _rows(built_site.page(page), table):
            assert 'class="kb-synthetic"' in row and "<small>synthetic" in row, (page, table)
    model = built_site.page("models/fixture__model-a.html")
    assert "Synthetic" in model and "not measurements" in model
    scored = [row for row in _rows(model, "model-scores") if "kb-missing" not in row]
    assert len(scored) == 5 and all("synthetic" in row for row in scored)  # the three carved runs are listed apart


def test_runs_outside_the_protocol_are_listed_apart_with_why(built_site):
    home = built_site.page("index.html")
    assert "Not ranked: runs outside the protocol" in home
    apart = _rows(home, "not-ranked")
    assert len(apart) == 4  # current records only: model-a's older-spec MRPC run is superseded by its newer one
    why = {(re.search(r'href="models/([^"]+)\.html"', r).group(1), re.search(r'href="tasks/([^"]+)\.html"', r).group(1)): r
           for r in apart}
    assert set(why) == {("fixture__model-c", "glue__sst2"),
                        ("fixture__model-a", "klue__nli"), ("fixture__model-a", "klue__ner"), ("fixture__model-a", "glue__qnli")}
    assert "epochs 1 (protocol: 3)" in why[("fixture__model-c", "glue__sst2")]
    for task in ("klue__nli", "klue__ner", "glue__qnli"):  # the samples have no train file: 80% of dev trains
        assert "trained on validation[:80%] and scored on validation[80%:]" in why[("fixture__model-a", task)]
    leaderboard = re.search(r'<table id="leaderboard".*?</table>', home, re.S).group(0)
    assert "fixture__model-c" not in leaderboard


def test_a_task_page_names_an_older_record_its_newer_run_replaced(built_site):
    """model-a's MRPC under an older task YAML (older-spec/, an earlier run) is superseded, not a second row."""
    html = built_site.page("tasks/glue__mrpc.html")
    ranked = _rows(html, "measured-glue__mrpc")
    assert len(ranked) == 2 and 'id="not-ranked-glue__mrpc"' not in html  # no table when nothing is apart
    model_a = next(r for r in ranked if "fixture__model-a" in r)
    assert "newest of 2 records" in model_a
    assert "results/older-spec/glue__mrpc.json" in html


def test_record_warnings_are_shown_on_task_and_model_pages(tmp_path, fixture_reports):
    from harness.results import records

    reports = tmp_path / "reports"
    shutil.copytree(fixture_reports / "results", reports / "results")
    source = next(p for p in (reports / "results").glob("*/glue__sst2.json")
                  if records.read_result(p).model.id == "fixture/model-a")
    raw = records.to_json(records.read_result(source))
    raw["warnings"] = ["validation shares 3 rows with train"]
    records.write(source, records.parse_result(raw))
    index = build_site(reports_dir=reports, out_dir=tmp_path / "o", models_file=fixture_reports / "models.yaml",
                       tasks_dir=TASKS_DIR)
    task = (index.parent / "tasks" / "glue__sst2.html").read_text(encoding="utf-8")
    model = (index.parent / "models" / "fixture__model-a.html").read_text(encoding="utf-8")
    for page in (task, model):
        assert "Warnings from the runs" in page and "validation shares 3 rows with train" in page


def test_models_named_in_korean_get_pages_of_their_own_names(tmp_path, fixture_reports):
    """Page names come from records.model_slug, which keeps Hangul; they are linked percent-encoded."""
    from urllib.parse import unquote

    from harness.tasks.spec import load_tasks
    from site_synth import make_record, write_record

    sst2 = load_tasks(["glue/sst2"])[0]
    for model_id in ("fixture/한국어모델", "fixture/영어모델"):
        write_record(tmp_path / "reports" / "results", make_record(model_id, sst2, 80.0))
    index = build_site(reports_dir=tmp_path / "reports", out_dir=tmp_path / "o",
                       models_file=fixture_reports / "models.yaml", tasks_dir=TASKS_DIR)
    for name in ("fixture__한국어모델", "fixture__영어모델"):
        assert (index.parent / "models" / f"{name}.html").is_file()
    task_page = index.parent / "tasks" / "glue__sst2.html"
    linked = {unquote(href) for href in re.findall(r'href="(\.\./models/[^"#]+\.html)"', task_page.read_text(encoding="utf-8"))}
    assert {"../models/fixture__한국어모델.html", "../models/fixture__영어모델.html"} <= linked


def test_text_between_printed_values_keeps_its_spaces(built_site):
    # every printed value is escaped (and trimmed), so the words between values are template text, not values
    home = built_site.page("index.html")
    text = re.sub(r"<[^>]+>", "", home)
    assert "KLUE and GLUE" in text
    replaced = [r for r in re.findall(r"replaces (.*?)</li>", home, re.S) if "results/archive/" in r]
    assert len(replaced) == 1 and ",<" not in replaced[0]  # model-b's YNAT replaced one record


def test_home_shows_reported_numbers_apart_with_their_source(built_site):
    html = built_site.page("index.html")
    rows = _rows(html, "reported-leaderboard")
    keyed = {(re.search(r'href="models/([^"]+)\.html"', r).group(1), re.search(r"#source-(\w)", r).group(1)) for r in rows}
    assert keyed == {("klue__bert-base", "a"), ("klue__bert-base", "b"), ("respect5716__koenbert-base", "a"),
                     ("bert-base-cased", "c")}
    assert "kb-reported" in rows[0] and "not measured here" in html


def test_home_says_which_files_were_skipped_and_which_record_won(built_site):
    html = built_site.page("index.html")
    for name in ("broken.json", "mteb-result.json", "invalid/klue__ynat.json"):
        assert name in html
    assert re.search(r"results/archive/[^ <]+/klue__ynat\.json", html) and "newest" in html


def test_model_page_scores_and_provenance(built_site, fixture_reports):
    html = built_site.page("models/fixture__model-b.html")
    assert "Fixture model B" in html
    scores = _rows(html, "model-scores")
    sst2 = _record(fixture_reports, "fixture/model-b", "glue/sst2")
    row = next(r for r in scores if "SST-2" in r)
    assert f"{sst2.scores['accuracy']:.2f}" in row and f"± {sst2.std['accuracy']:.2f}" in row
    provenance = " ".join(_rows(html, "model-provenance"))
    for fact in (sst2.model.revision[:19], sst2.env["koenbench"], sst2.env["device"], sst2.env["precision"]):
        assert fact in provenance
    assert "newest of 2 records" in provenance
    assert "Failed runs" in html and "became NaN" in html and "klue__ner.failed.json" in html


def test_model_page_of_a_model_not_in_models_yaml(built_site):
    html = built_site.page("models/fixture__model-c.html")
    assert "fixture/model-c" in html and "Not in <code>models.yaml</code>" in html
    assert "epochs 1 (protocol: 3)" in html  # its one run (--set epochs=1), listed apart


def test_model_links_from_models_yaml(built_site):
    assert 'href="https://example.org/fixture/model-a"' in built_site.raw("models/fixture__model-a.html")


def test_task_page_has_protocol_and_each_models_mean_std_seeds(built_site, fixture_reports):
    html = built_site.page("tasks/glue__sst2.html")
    assert re.search(r"<h1[^>]*>SST-2", html) and "accuracy" in html
    for name, value in (("learning_rate", "1e-05"), ("batch_size", "32"), ("epochs", "3"), ("max_length", "128")):
        assert re.search(rf"<td>{name}</td>\s*<td>{re.escape(value)}</td>", html), name
    rows = _rows(html, "measured-glue__sst2")
    b = _record(fixture_reports, "fixture/model-b", "glue/sst2")
    row = next(r for r in rows if "fixture__model-b" in r)
    assert f"{b.scores['accuracy']:.2f}" in row and f"± {b.std['accuracy']:.2f}" in row and ">2<" in row


def test_suite_page_shows_every_metric(built_site):
    html = built_site.page("klue.html")
    for metric in ("macro F1", "accuracy", "Pearson", "F1 (binarized)", "entity F1", "char F1"):
        assert metric in html
    assert 'id="measured-klue__sts"' in html and 'id="reported-klue__ner"' in html


def test_scatter_has_a_point_per_model_with_both_languages(built_site):
    html = built_site.page("korean-vs-english.html")
    assert "<svg" in html
    titles = re.findall(r"<g><title>([^<]+)</title>", html)
    assert len(titles) == 3  # the 2 ranked fixture models + koenbert-base [A]; B and C cover only one language
    assert any(t.startswith("respect5716/koenbert-base [A] (reported)") for t in titles)  # not in the fixture models.yaml


def test_site_is_offline(built_site):
    for page in built_site.root.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        external = re.findall(r'<(?:script|link|img|iframe)\b[^>]*(?:src|href)="(?:https?:)?//[^"]+"', html)
        assert not external, f"{page}: {external}"
        assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
    index = built_site.page("index.html")
    assert 'src="assets/koenbench/sort.js"' in index and "iframe-worker-shim.js" in index


def test_links_between_pages_resolve(built_site):
    for page in built_site.root.rglob("*.html"):
        if page.name == "404.html":  # mkdocs' own, with root-absolute links for a server
            continue
        for href in re.findall(r'href="([^"#:?]+\.html)(?:#[^"]*)?"', page.read_text(encoding="utf-8")):
            assert (page.parent / href).resolve().is_file(), f"{page}: broken link {href}"


def test_rebuild_into_a_built_folder_but_never_into_a_foreign_one(tmp_path, fixture_reports):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(SiteBuildError, match="not empty and was not built"):
        build_site(reports_dir=fixture_reports, out_dir=foreign, models_file=MODELS_FILE, tasks_dir=TASKS_DIR)
    assert (foreign / "thesis.tex").read_text(encoding="utf-8") == "precious"


def test_cli_build_prints_the_index_path(tmp_path, fixture_reports):
    from harness.cli import app

    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["site", "build", "--reports", str(fixture_reports), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert str(out / "index.html") in result.output
    assert (out / MARKER).exists()
    again = CliRunner().invoke(app, ["site", "build", "--reports", str(fixture_reports), "--out", str(out)])
    assert again.exit_code == 0, again.output


def test_cli_reports_a_bad_input_file_without_a_traceback(tmp_path):
    reports = tmp_path / "reports"
    (reports / "results").mkdir(parents=True)
    (reports / "reported.yaml").write_text("sources: {}\nnumbers: [{source: X}]\n", encoding="utf-8")
    from harness.cli import app

    result = CliRunner().invoke(app, ["site", "build", "--reports", str(reports), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "reported.yaml" in result.output and "numbers[0]" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("content, message", [
    (b"- a list\n- not a mapping\n", "expected top-level 'sources:'"),
    (b"sources: {a: {title: \"x\"\nnumbers: [\n", "not valid YAML at line"),
    ("sources: {}\nnumbers: []  # caf\u00e9\n".encode("latin-1"), "not UTF-8 text"),
])
def test_cli_reports_an_unreadable_reported_file_without_a_traceback(tmp_path, content, message):
    reports = tmp_path / "reports"
    (reports / "results").mkdir(parents=True)
    (reports / "reported.yaml").write_bytes(content)
    from harness.cli import app

    result = CliRunner().invoke(app, ["site", "build", "--reports", str(reports), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "reported.yaml" in result.output and message in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def test_build_with_no_records_at_all(tmp_path):
    index = build_site(reports_dir=tmp_path / "empty", out_dir=tmp_path / "o", models_file=MODELS_FILE,
                       tasks_dir=TASKS_DIR)
    assert "No runs of the tasks' protocols yet" in index.read_text(encoding="utf-8")


def test_reported_numbers_from_another_file(tmp_path):
    from harness.core.paths import REPORTS_DIR

    index = build_site(reports_dir=tmp_path / "demo", out_dir=tmp_path / "o", models_file=MODELS_FILE,
                       tasks_dir=TASKS_DIR, reported_file=REPORTS_DIR / "reported.yaml")
    reported = (index.parent / "reported.html").read_text(encoding="utf-8")
    for source in ("Source A", "Source B", "Source C"):
        assert source in reported
    assert "91.39" in reported and "bert-base-cased" in reported


def test_the_projects_own_records_still_build(tmp_path, caplog):
    """reports/ holds records of older shapes: each is read through the migration and shown on the home page."""
    from harness.core.paths import REPORTS_DIR
    from harness.results import records

    folders = sorted(p.parent for p in REPORTS_DIR.glob("*/results"))
    assert folders
    for reports in folders:
        files = [p for p in (reports / "results").rglob("*.json") if ".seeds" not in p.parts]
        model_ids = {records.read_result(p).model.id for p in files}  # raises if the migration cannot read one
        with caplog.at_level("WARNING"):
            index = build_site(reports_dir=reports, out_dir=tmp_path / reports.name, models_file=MODELS_FILE,
                               tasks_dir=TASKS_DIR, reported_file=REPORTS_DIR / "reported.yaml")
        assert not [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
        home = index.read_text(encoding="utf-8")
        tables = "".join(re.findall(r'<table id="(?:leaderboard|not-ranked)".*?</table>', home, re.S))
        for model_id in model_ids:
            assert f"<small>{model_id}</small>" in tables or f">{model_id}<" in tables, model_id


def test_serve_serves_the_site_that_is_there(tmp_path):
    """`bench site serve --out DIR` serves a site built elsewhere as it is: it never rebuilds it from the defaults."""
    import subprocess
    import sys
    import urllib.request

    site = tmp_path / "mine"
    site.mkdir()
    (site / "index.html").write_text("<p>a site of my own records</p>", encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-m", "harness.cli", "site", "serve", "--out", str(site), "--port", "0"],
                              stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        line = ""
        while "serving" not in line:
            line = server.stderr.readline()
            assert line, "the server stopped before serving"
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=30) as answer:
            assert answer.read().decode("utf-8") == "<p>a site of my own records</p>"
    finally:
        server.kill()
        server.wait(timeout=30)
    assert sorted(p.name for p in site.iterdir()) == ["index.html"]
