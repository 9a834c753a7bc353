"""A real browser on the built site: headless Debian chromium (driven by playwright) opens it from disk.

Skipped only on a developer machine without /usr/bin/chromium; with CI set, a missing
browser fails the test (.ci/browser.sh installs it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MEASURED_ORDER = ["Fixture model B", "Fixture model A"]  # both rows partial: the higher overall average first


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{why}; on CI the browser test must run: .ci/browser.sh installs Debian's chromium")
    pytest.skip(f"{why} (install it with `apt-get install -y chromium`; required when CI is set)")


@pytest.fixture(scope="module")
def page():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(15_000)
        page.problems = []
        page.dialogs = []  # alert(), confirm(), prompt(): none of the site's pages opens one
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: page.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
        page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:", "about:"))
                else page.problems.append(f"network request: {r.url}"))
        yield page
        browser.close()


ACTIVE_IN_DOM = """() => {
    const found = [];
    for (const el of document.querySelectorAll('*')) {
        for (const attr of el.attributes) {
            const value = attr.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
            if (attr.name.startsWith('on') || attr.name === 'autofocus' || attr.name === 'srcdoc')
                found.push(`<${el.tagName} ${attr.name}>`);
            if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(attr.name)
                    && /^[a-z][a-z0-9+.-]*:/.test(value) && !/^(https?|file):/.test(value))
                found.push(`<${el.tagName} ${attr.name}=${attr.value}>`);
        }
        if (['SCRIPT', 'STYLE', 'IFRAME', 'BASE'].includes(el.tagName) && /xss/i.test(el.outerHTML))
            found.push(el.outerHTML.slice(0, 80));
    }
    return found;
}"""


POKE = """() => {  // what a reader's mouse and keyboard would do to every element
    for (const el of document.querySelectorAll('body *')) {
        for (const type of ['mouseover', 'mouseenter', 'focus', 'click'])
            if (type !== 'click' || el.tagName !== 'A') el.dispatchEvent(new Event(type, {bubbles: true}));
        if (el.focus) el.focus();
    }
}"""


def _model_names(page) -> list[str]:
    return page.locator("#leaderboard tbody tr td:first-child a").all_inner_texts()


def test_home_page_from_disk_sorts_by_a_clicked_column(page, built_site, tmp_path_factory, capsys):
    page.goto(built_site.index.as_uri())
    page.wait_for_selector("#leaderboard tbody tr")
    assert _model_names(page) == MEASURED_ORDER

    shots = tmp_path_factory.mktemp("screenshots")
    page.screenshot(path=shots / "home.png", full_page=True)

    sts = page.locator("#leaderboard thead th", has_text="KLUE-STS")
    sts.locator("small").click()  # the header's task link navigates; the rest of the header sorts
    # whichever way the column is sorted, model B's missing KLUE-STS stays below model A's score
    assert _model_names(page) == ["Fixture model A", "Fixture model B"]
    assert sts.get_attribute("aria-sort") == "descending"
    sts.locator("small").click()
    assert _model_names(page) == ["Fixture model A", "Fixture model B"]
    assert sts.get_attribute("aria-sort") == "ascending"
    glue = page.locator("#leaderboard thead th", has_text="GLUE avg")
    glue.click()  # two partial averages sort by value: B's 2 of 4 tasks above A's 3 of 4, then the other way
    assert glue.get_attribute("aria-sort") == "descending"
    descending = _model_names(page)
    glue.click()
    assert _model_names(page) == list(reversed(descending)) and sorted(descending) == sorted(MEASURED_ORDER)

    name = page.locator("#leaderboard thead th", has_text="Model")
    name.click()
    assert _model_names(page) == ["Fixture model A", "Fixture model B"]
    name.click()
    assert _model_names(page) == ["Fixture model B", "Fixture model A"]
    page.mouse.move(0, 0)  # no hover tooltip over the table in the picture
    page.screenshot(path=shots / "home-sorted.png", full_page=True)
    with capsys.disabled():
        print(f"\nscreenshots: {shots / 'home.png'} {shots / 'home-sorted.png'}")
    assert not page.problems


def test_partial_missing_and_synthetic_cells_are_visible_marks(page, built_site):
    page.goto(built_site.index.as_uri())
    row = page.locator("#leaderboard tbody tr", has_text="Fixture model B")
    assert "partial 1/4" in row.inner_text()
    assert row.locator("td.kb-failed").inner_text() == "failed"
    assert row.locator("td.kb-missing").count() == 5  # KLUE-STS, KLUE-NLI, STS-B, QNLI missing; KLUE-NER failed
    mark = row.locator("td.kb-synthetic small")
    assert mark.inner_text().upper().startswith("SYNTHETIC") and mark.is_visible()


def test_task_link_in_a_header_navigates_instead_of_sorting(page, built_site):
    page.goto(built_site.index.as_uri())
    page.locator("#leaderboard thead th a", has_text="KLUE-NER").click()
    page.wait_for_url("**/tasks/klue__ner.html")
    assert page.locator("h1").inner_text().startswith("KLUE-NER")
    assert not page.problems


def test_search_works_from_disk(page, built_site):
    page.goto(built_site.index.as_uri())
    page.locator("input.md-search__input").click()
    # real key presses: the theme's search listens to keyboard events, which fill() does not send
    page.locator("input.md-search__input").press_sequentially("hyperparameters", delay=20)
    page.wait_for_selector(".md-search-result__item", timeout=15_000)
    assert page.locator(".md-search-result__item").count() > 0
    assert not page.problems


def _catch_dialogs(page) -> list[str]:
    """Every dialog the page opens from now on, dismissed (the one handler of the shared page)."""
    page.dialogs.clear()
    return page.dialogs


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    from hostile import ATTACKS, hostile_world

    from harness.core.paths import TASKS_DIR
    from harness.site.build import build_site

    root = tmp_path_factory.mktemp("hostile")
    world = hostile_world(root, TASKS_DIR, ATTACKS)
    return build_site(reports_dir=world.reports, out_dir=root / "site", models_file=world.models, tasks_dir=world.tasks)


def test_injected_text_stays_inert_in_the_browser(page, hostile_site):
    dialogs = _catch_dialogs(page)
    pages = sorted(hostile_site.parent.rglob("*.html"))
    assert len(pages) > 10
    for html_file in pages:
        page.goto(html_file.as_uri())
        page.wait_for_load_state("load")
        page.evaluate(POKE)
        assert page.evaluate(ACTIVE_IN_DOM) == [], html_file.name
    home = hostile_site.as_uri()
    page.goto(home)
    assert "<script>alert('xss')</script>" in page.locator("#leaderboard").inner_text()  # shown as text
    page.locator("input.md-search__input").click()
    page.locator("input.md-search__input").press_sequentially("script", delay=20)
    page.wait_for_selector(".md-search-result__item", timeout=15_000)
    assert page.evaluate(ACTIVE_IN_DOM) == []
    page.wait_for_timeout(500)  # a dialog from a late handler would land here
    assert dialogs == []


def test_the_inertness_check_sees_a_live_page(page, tmp_path):
    live = tmp_path / "live.html"
    live.write_text("<p title='t'>x</p><img src=x onerror=\"alert('xss')\"><a href='javascript:void(0)'>a</a>",
                    encoding="utf-8")
    dialogs = _catch_dialogs(page)
    page.goto(live.as_uri())
    page.wait_for_timeout(300)
    assert dialogs == ["xss"]
    assert len(page.evaluate(ACTIVE_IN_DOM)) == 2


# --- intervals, tie marks and the comparison with a reference, as a reader sees them ------------------------

INTERVAL = r"95% \d+\.\d\d–\d+\.\d\d"


def _row(page, table: str, model: str):
    return page.locator(f"{table} tbody tr", has_text=model)


def test_measured_scores_show_intervals_and_tie_marks_reported_ones_neither(page, compared_site):
    import re

    page.problems.clear()  # the hostile pages before this test leave their broken links behind
    page.goto(compared_site.as_uri())
    board = page.locator("#leaderboard")
    board.wait_for()
    for model in ("Fixture model A", "Fixture model B", "Fixture model C", "Fixture model D"):
        # four task scores and three averages (KLUE, GLUE, overall), each with its interval in view
        cells = _row(page, "#leaderboard", model).locator("td small").all_inner_texts()
        assert len([c for c in cells if re.search(INTERVAL, c)]) == 7, (model, cells)
    tied = board.locator("td.kb-tied")
    assert tied.count() > 0 and tied.first.is_visible() and "≈" in tied.first.inner_text()
    worse = _row(page, "#leaderboard", "Fixture model A")
    assert worse.locator("td.kb-tied, td.kb-best").count() == 0 and "≈" not in worse.inner_text()
    reported = page.locator("#reported-leaderboard")
    assert "91.0" in reported.inner_text()
    assert not re.search(r"95%|≈", reported.inner_text()) and reported.locator("td.kb-tied, td.kb-best").count() == 0

    page.goto((compared_site.parent / "tasks" / "glue__sst2.html").as_uri())
    measured = "#measured-glue__sst2"
    b, c = _row(page, measured, "Fixture model B"), _row(page, measured, "Fixture model C")  # same accuracy: either best
    best, tied_row = (b, c) if b.locator("td.kb-best").count() else (c, b)
    assert best.locator("td.kb-best").count() == 1
    mark = tied_row.locator("td.kb-tied")
    assert mark.count() == 1 and mark.is_visible() and "≈" in mark.inner_text()
    assert "no detectable difference from the best" in mark.get_attribute("title")
    assert re.search(INTERVAL, _row(page, measured, "Fixture model A").inner_text())
    assert _row(page, measured, "Fixture model A").locator("td.kb-tied, td.kb-best").count() == 0
    paper = page.locator("#reported-glue__sst2")
    assert "91.0" in paper.inner_text() and not re.search(r"95%|≈", paper.inner_text())
    assert not page.problems


def _verdicts(page, table: str) -> list[str]:
    return page.locator(f"{table} tbody tr td:last-child").all_inner_texts()


def test_model_pages_compare_with_the_reference(page, compared_site):
    page.problems.clear()
    models = compared_site.parent / "models"
    page.goto((models / "fixture__model-a.html").as_uri())
    heading = page.locator("h2", has_text="Compared with Fixture model C")
    assert heading.is_visible()
    table = "#vs-fixture-model-c"
    assert page.locator(f"{table} thead").inner_text().count("95% interval") == 1
    assert _verdicts(page, table) == ["worse"] * 4
    averages = page.locator(f"{table} tfoot tr").all_inner_texts()
    assert [a.split("\n")[0] for a in averages] == ["KLUE average", "GLUE average"]  # the site's suite order
    assert all(a.rstrip().endswith("worse") for a in averages)
    page.locator(f"{table} thead th", has_text="Difference").click()  # sorting moves tasks, never the averages
    assert page.locator(f"{table} tfoot tr").all_inner_texts() == averages

    page.goto((models / "fixture__model-b.html").as_uri())
    assert _verdicts(page, table) == ["no detectable difference"] * 4

    page.goto((models / "fixture__model-d.html").as_uri())
    sst2 = _row(page, table, "SST-2")
    assert "not compared" in sst2.inner_text() and "different validation examples" in sst2.inner_text()
    assert sst2.locator("td.kb-missing").count() == 5  # difference, interval, p, Holm's p, verdict
    assert "an average needs two" in page.locator(f"{table} tfoot tr", has_text="GLUE average").inner_text()

    for name in ("fixture__model-c.html", "published__model.html"):  # the reference itself; a paper's numbers only
        page.goto((models / name).as_uri())
        assert page.locator("h2", has_text="Compared with").count() == 0
    assert not page.problems


def test_the_board_filters_its_rows_and_a_score_opens_its_record(page, built_site):
    import json

    page.goto(built_site.index.as_uri())
    search = page.locator('input[data-filter-for="leaderboard"]')
    search.fill("model a")
    visible = page.locator("#leaderboard tbody tr:not([hidden]) td:first-child a").all_inner_texts()
    assert visible == ["Fixture model A"]
    search.fill("")
    assert sorted(_model_names(page)) == sorted(MEASURED_ORDER)
    row = page.locator("#leaderboard tbody tr", has_text="Fixture model A")
    mrpc = list(page.locator("#leaderboard thead th").all_inner_texts()).index(
        next(t for t in page.locator("#leaderboard thead th").all_inner_texts() if t.startswith("MRPC")))
    row.locator("td").nth(mrpc).locator("a").click()
    page.wait_for_url("**/records/results/fixture__model-a-*/glue__mrpc.json")
    record = json.loads(page.locator("body").inner_text())
    assert (record["model"]["id"], record["task"]["id"]) == ("fixture/model-a", "glue/mrpc")
    assert not page.problems


def test_the_demo_ends_on_its_own_board_with_its_eight_scores(page, demo_run):
    """The site `bench demo` built (tests/conftest.py's demo_run: a tiny model, 16 rows a task), as a reader sees it:
    the demo's eight scores on the home page's demo board, labelled as the demo tier, and none in the protocols' table."""
    from harness.results import records
    from harness.tasks import spec

    names = {s.id: s.name for s in spec.load_tasks(["all"])}  # the board's column headers
    output, result = demo_run
    assert result.exit_code == 0, result.output
    page.problems.clear()
    page.goto((output / "site" / "index.html").as_uri())
    board = page.locator("#demo-leaderboard")
    board.wait_for()
    heading = page.locator("h2", has_text="Demo tier")
    assert heading.is_visible() and "bench demo" in heading.inner_text()
    # the label comes before the board, and the protocols' table (empty: the demo followed its own protocol) before both
    protocols = page.locator("#leaderboard")
    assert protocols.bounding_box()["y"] < heading.bounding_box()["y"] < board.bounding_box()["y"]
    assert protocols.locator("tbody tr").count() == 0
    assert page.get_by_text("No runs of the tasks' protocols yet").is_visible()
    assert page.locator("#not-ranked").count() == 0

    found = [records.read_result(p) for p in (output / "results").glob("*/*.json")]
    assert len(found) == 8
    (row,) = board.locator("tbody tr").all()
    assert row.is_visible()
    headers = board.locator("thead th").all_inner_texts()
    for record in found:  # each task's score under its own column, linking to the record it came from
        column = next(i for i, h in enumerate(headers) if h.split("\n")[0] == names[record.task.id])
        cell = row.locator("td").nth(column)
        assert cell.is_visible() and f"{record.scores[record.task.primary_metric]:.2f}" in cell.inner_text(), record.task.id
        assert cell.locator("a").get_attribute("href").endswith(f"/{record.task.id.replace('/', '__')}.json")
    assert not page.problems


def test_demo_rows_and_protocol_rows_stay_on_their_own_boards(page, demo_run, fixture_reports, tmp_path):
    """The demo's records beside a model's protocol runs (the fixture records): each board holds its own rows only."""
    import shutil

    from harness.core.paths import TASKS_DIR
    from harness.site.build import build_site

    output, _ = demo_run
    reports = tmp_path / "reports"
    shutil.copytree(output / "results", reports / "results")
    shutil.copytree(fixture_reports / "results" / "fixture__model-a-3f7a368105", reports / "results" / "fixture__model-a")
    index = build_site(reports_dir=reports, out_dir=tmp_path / "site", models_file=fixture_reports / "models.yaml",
                       tasks_dir=TASKS_DIR)
    page.problems.clear()
    page.goto(index.as_uri())
    page.locator("#demo-leaderboard").wait_for()
    demo_rows = page.locator("#demo-leaderboard tbody tr td:first-child").all_inner_texts()
    assert _model_names(page) == ["Fixture model A"]
    assert len(demo_rows) == 1 and "Fixture model A" not in demo_rows[0]
    assert not page.get_by_text("No runs of the tasks' protocols yet").is_visible()
    assert not page.problems
