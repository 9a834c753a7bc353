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
MEASURED_ORDER = ["koenbert-base", "KLUE BERT-base", "BERT-base uncased", "./my-model"]


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
        page.on("console", lambda m: page.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
        page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:", "about:"))
                else page.problems.append(f"network request: {r.url}"))
        yield page
        browser.close()


def _model_names(page) -> list[str]:
    return page.locator("#leaderboard tbody tr td:first-child a").all_inner_texts()


def test_home_page_from_disk_sorts_by_a_clicked_column(page, built_site, tmp_path_factory, capsys):
    page.goto(built_site.index.as_uri())
    page.wait_for_selector("#leaderboard tbody tr")
    assert _model_names(page) == MEASURED_ORDER

    shots = tmp_path_factory.mktemp("screenshots")
    page.screenshot(path=shots / "home.png", full_page=True)

    glue = page.locator("#leaderboard thead th", has_text="GLUE avg")
    glue.click()
    # best first; the partial GLUE average of ./my-model stays below the complete ones
    assert _model_names(page) == ["BERT-base uncased", "koenbert-base", "KLUE BERT-base", "./my-model"]
    assert glue.get_attribute("aria-sort") == "descending"
    glue.click()
    assert _model_names(page) == ["KLUE BERT-base", "koenbert-base", "BERT-base uncased", "./my-model"]
    assert glue.get_attribute("aria-sort") == "ascending"

    page.locator("#leaderboard thead th", has_text="Model").click()
    assert _model_names(page) == sorted(MEASURED_ORDER, key=str.lower)
    page.mouse.move(0, 0)  # no hover tooltip over the table in the picture
    page.screenshot(path=shots / "home-sorted.png", full_page=True)
    with capsys.disabled():
        print(f"\nscreenshots: {shots / 'home.png'} {shots / 'home-sorted.png'}")
    assert not page.problems


def test_partial_and_missing_cells_are_visible_marks(page, built_site):
    page.goto(built_site.index.as_uri())
    row = page.locator("#leaderboard tbody tr", has_text="BERT-base uncased")
    assert "partial 1/4" in row.inner_text()
    assert row.locator("td.kb-failed").inner_text() == "failed"
    assert row.locator("td.kb-missing").count() == 3  # KLUE-STS, KLUE-NLI missing; KLUE-NER failed


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
