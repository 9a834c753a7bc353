"""The build on the fixture reports: every page, the marks the issue asks for, offline, no mkdocs warnings."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from harness.paths import MODELS_FILE, TASKS_DIR
from harness.site.build import MARKER, SiteBuildError, build_site

TASK_PAGES = ["klue__ynat", "klue__sts", "klue__nli", "klue__ner", "glue__mrpc", "glue__stsb", "glue__sst2", "glue__qnli"]
MODEL_PAGES = [  # every models.yaml entry, plus ./my-model (records only) and bert-base-cased (reported only)
    "respect5716__koenbert-base", "klue__bert-base", "bert-base-uncased", "bert-base-multilingual-uncased",
    "bert-base-multilingual-cased", "sentence-transformers__all-MiniLM-L6-v2", "my-model", "bert-base-cased",
]


def _rows(html: str, table_id: str) -> list[str]:
    table = re.search(rf'<table id="{table_id}".*?</table>', html, re.S).group(0)
    return re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)


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
    assert names == ["respect5716__koenbert-base", "klue__bert-base", "bert-base-uncased", "my-model"]
    header = re.search(r'<table id="leaderboard".*?</thead>', html, re.S).group(0)
    labels = re.findall(r"<th[^>]*>(?:<a[^>]*>)?([^<]+)", header)
    assert labels == ["Model", "KLUE avg", "GLUE avg", "Overall", "YNAT", "KLUE-STS", "KLUE-NLI", "KLUE-NER",
                      "MRPC", "STS-B", "SST-2", "QNLI"]
    assert 'href="tasks/klue__ynat.html"' in header
    uncased = rows[2]
    assert "partial 1/4" in uncased and "partial 5/8" in uncased and "kb-partial" in uncased
    assert ">failed<" in uncased and "OutOfMemoryError" in uncased
    assert uncased.count(">—<") == 2  # KLUE-STS and KLUE-NLI: missing, not zero
    assert "KLUE BERT-base" in rows[1] and "koenbert-base" in rows[0]


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
    assert "archive/klue__bert-base__klue__ynat.json" in html and "newest" in html


def test_model_page_scores_and_provenance(built_site):
    html = built_site.page("models/klue__bert-base.html")
    assert "KLUE BERT-base" in html and "https://huggingface.co/klue/bert-base" in html
    scores = _rows(html, "model-scores")
    assert len(scores) == 8 and "86.10" in scores[0] and "± 0.30" in scores[0]
    provenance = " ".join(_rows(html, "model-provenance"))
    for fact in ("0123456789ab", "0.1.0", "a12753b0c4f1", "NVIDIA H200", "bf16", "2026-11-27 10:00 UTC", "5 min 10 s"):
        assert fact in provenance
    assert "newest of 2 records" in provenance
    assert "Reported elsewhere" in html and "85.73" in html  # measured and reported, both shown


def test_model_page_of_a_model_not_in_models_yaml(built_site):
    html = built_site.page("models/my-model.html")
    assert "./my-model" in html and "Not in <code>models.yaml</code>" in html
    assert "1 h 10 min" in html and "cpu" in html and "sha256:9f2c4e1a7b3d" in html


def test_model_page_lists_failed_runs(built_site):
    html = built_site.page("models/bert-base-uncased.html")
    assert "Failed runs" in html and "CUDA out of memory" in html and "klue__ner.failed.json" in html


def test_task_page_has_protocol_and_each_models_mean_std_seeds(built_site):
    html = built_site.page("tasks/klue__ner.html")
    assert re.search(r"<h1[^>]*>KLUE-NER", html) and "Named entity recognition" in html and "entity F1" in html
    for name, value in (("learning_rate", "5e-05"), ("batch_size", "32"), ("epochs", "3"), ("max_length", "510")):
        assert re.search(rf"<td>{name}</td>\s*<td>{re.escape(value)}</td>", html)
    rows = _rows(html, "measured-klue__ner")
    assert len(rows) == 2 and "84.20" in rows[0] and "± 0.30" in rows[0] and ">3<" in rows[0]
    assert "91.39" in html  # reported char F1, source B


def test_suite_page_shows_every_metric(built_site):
    html = built_site.page("klue.html")
    for metric in ("macro F1", "accuracy", "Pearson", "F1 (binarized)", "entity F1", "char F1"):
        assert metric in html
    assert 'id="measured-klue__sts"' in html and 'id="reported-klue__ner"' in html


def test_scatter_has_a_point_per_model_with_both_languages(built_site):
    html = built_site.page("korean-vs-english.html")
    assert "<svg" in html
    titles = re.findall(r"<g><title>([^<]+)</title>", html)
    assert len(titles) == 5  # 4 measured models + koenbert-base [A]; B and C cover only one language
    assert any(t.startswith("koenbert-base [A] (reported)") for t in titles)


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


def test_build_with_no_records_at_all(tmp_path):
    index = build_site(reports_dir=tmp_path / "empty", out_dir=tmp_path / "o", models_file=MODELS_FILE,
                       tasks_dir=TASKS_DIR)
    assert "No result records yet" in index.read_text(encoding="utf-8")


def test_reported_numbers_from_another_file(tmp_path):
    from harness.paths import REPORTS_DIR

    index = build_site(reports_dir=tmp_path / "demo", out_dir=tmp_path / "o", models_file=MODELS_FILE,
                       tasks_dir=TASKS_DIR, reported_file=REPORTS_DIR / "reported.yaml")
    reported = (index.parent / "reported.html").read_text(encoding="utf-8")
    for source in ("Source A", "Source B", "Source C"):
        assert source in reported
    assert "91.39" in reported and "bert-base-cased" in reported
