"""Hostile text in every input the site renders stays inert text; names never become paths outside --out."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hostile import ATTACKS, FUZZ_TASKS, active_content, copy_tasks, hostile_world

from harness.core.paths import MODELS_FILE, TASKS_DIR
from harness.site import escape
from harness.site.build import SiteBuildError, build_site, collect
from harness.site.inputs import SiteInputError
from harness.site.render import write_docs

SITE = Path(__file__).resolve().parents[2] / "site"
DOCS = Path(__file__).resolve().parents[2] / "docs"
HOSTILE_ALPHABET = "<>\"'&[](){}:;=#*_`|!\\/ \n\tjavascriptonerrorxss가é\u2028"
hostile_text = st.lists(st.one_of(st.sampled_from(ATTACKS), st.text(HOSTILE_ALPHABET, max_size=16)),
                        min_size=1, max_size=3).map("".join)
# a build takes seconds: few examples, each a whole site full of hostile text, and no shrinking (a failure
# prints its example as found)
one_build = settings(max_examples=4, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def clean_tags(built_site, compared_site) -> set[str]:
    """Every tag the clean sites use: the fixture records', and one with intervals, ties and comparisons."""
    tags, problems = active_content(built_site.root)
    compared_tags, compared_problems = active_content(compared_site.parent)
    assert not problems and not compared_problems, problems + compared_problems  # else the checker proves nothing
    return tags | compared_tags


def _build(world, out: Path) -> Path:
    return build_site(reports_dir=world.reports, out_dir=out, models_file=world.models, tasks_dir=world.tasks)


def test_the_known_attacks_stay_text(tmp_path, clean_tags):
    world = hostile_world(tmp_path, TASKS_DIR, ATTACKS)
    index = _build(world, tmp_path / "site")
    _, problems = active_content(index.parent, clean_tags)
    assert not problems, problems[:20]
    # the attacks are shown, as text: a reader sees exactly what the file says
    home = index.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in home or "&lt;script&gt;alert(&#x27;xss&#x27;)" in home
    model_page = next(p for p in (index.parent / "models").glob("*.html") if "onfocus" in p.read_text(encoding="utf-8"))
    title = model_page.read_text(encoding="utf-8").split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title
    # the comparison with the reference model (hostile name, ids, fingerprint in the reasons) is on the pages too
    compared = [p.read_text(encoding="utf-8") for p in (index.parent / "models").glob("*.html")]
    compared = [page for page in compared if 'id="vs-' in page]
    assert len(compared) == 1 and "not compared" in compared[0] and "different validation examples" in compared[0]
    assert re.search(r'class="kb-(better|worse|same)"', compared[0])  # one task paired, with a number and a verdict
    # the fields added for protocols reach the pages too, so they were fuzzed as well
    assert 'id="not-ranked"' in home and "Warnings from the runs" in (index.parent / "tasks" / "glue__mrpc.html").read_text(
        encoding="utf-8")


def test_the_checker_finds_what_it_looks_for(tmp_path):
    page = tmp_path / "p.html"
    page.write_text('<p onclick="x">a</p><a href=" JaVa\tscript:alert(1)">b</a><script>xss()</script><img src=x>',
                    encoding="utf-8")
    _, problems = active_content(tmp_path, {"p", "a", "script"})
    assert len(problems) == 4, problems


@one_build
@given(strings=st.lists(hostile_text, min_size=40, max_size=40))
def test_generated_hostile_text_in_every_field_stays_inert(tmp_path_factory, clean_tags, strings):
    root = tmp_path_factory.mktemp("hostile")
    world = hostile_world(root, TASKS_DIR, strings)
    index = _build(world, root / "site")
    _, problems = active_content(index.parent, clean_tags)
    assert not problems, problems[:20]


@settings(max_examples=300, deadline=None)
@given(value=st.text())
def test_escaped_text_has_no_markdown_or_html_syntax_left(value):
    escaped = str(escape.text(value))
    assert not set(escaped) & set("<>\"'`*_{}[]()|!\\\n\r")


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.text(), st.sampled_from(["javascript:alert(1)", " JAVASCRIPT:x", "java\nscript:x",
                                                     "\x01javascript:x", "data:text/html,x", "vbscript:x"])))
def test_only_http_and_relative_urls_survive(value):
    url = escape.safe_url(value)
    if url is None:
        return
    head = re.split(r"[/?#]", str(url), maxsplit=1)[0]
    assert ":" not in head or head.split(":", 1)[0].lower() in ("http", "https")
    assert not set(str(url)) & set("<>\"'() \t\n[]")


def test_links_keep_their_query_and_drop_script_urls():
    assert str(escape.link("docs", "https://example.org/a?b=1&c=2")) == "[docs](https://example.org/a?b=1&amp;c=2)"
    assert str(escape.link("x", "javascript:alert(1)")) == "x"
    assert escape.safe_url("models/a.html#top") == "models/a.html#top"


# --- paths ---------------------------------------------------------------------------------------------------

def _path_suite_task(root: Path, suite: str) -> Path:
    """tasks/evil/t.yaml: a copy of MRPC whose suite is a path."""
    spec = yaml.safe_load((TASKS_DIR / "glue/mrpc.yaml").read_text(encoding="utf-8"))
    spec["suite"] = suite
    target = root / "evil" / "t.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return target


def test_a_suite_that_is_a_path_is_left_out_by_name_and_nothing_lands_outside(tmp_path, caplog):
    tasks = copy_tasks(TASKS_DIR, tmp_path / "tasks")
    _path_suite_task(tasks, "../../../escaped")
    out = tmp_path / "deep" / "er" / "site"
    with caplog.at_level("WARNING"):
        index = build_site(reports_dir=tmp_path / "reports", out_dir=out, models_file=MODELS_FILE, tasks_dir=tasks)
    assert any("evil/t.yaml" in r.getMessage() and "suite" in r.getMessage() for r in caplog.records)
    assert not list(tmp_path.rglob("escaped*"))
    assert sorted(p.name for p in (index.parent / "tasks").glob("*.html")) == [
        f"{t.replace('/', '__')}.html" for t in sorted(FUZZ_TASKS)]


def test_a_page_name_that_leaves_the_site_folder_is_refused(tmp_path):
    from harness.site.render import page_path

    assert page_path(tmp_path, "tasks/klue__ynat.md") == tmp_path / "tasks" / "klue__ynat.md"
    for name in ("../outside.md", "tasks/../../outside.md", "/etc/x.md"):
        with pytest.raises(SiteInputError, match="outside the site folder"):
            page_path(tmp_path / "docs", name)


def test_cli_names_a_task_whose_suite_is_a_path_without_a_traceback(tmp_path):
    from harness.cli import app

    tasks = tmp_path / "tasks"
    _path_suite_task(tasks, "../x")
    result = CliRunner().invoke(app, ["site", "build", "--reports", str(tmp_path / "r"), "--tasks-dir", str(tasks),
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "t.yaml" in result.output and "suite" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.html").exists() and not (tmp_path / "x.md").exists()


def test_out_pointing_at_a_file_is_a_clear_error(tmp_path):
    from harness.cli import app

    target = tmp_path / "index.html"
    target.write_text("mine", encoding="utf-8")
    with pytest.raises(SiteBuildError, match="is a file, not a folder"):
        build_site(reports_dir=tmp_path / "r", out_dir=target, models_file=MODELS_FILE, tasks_dir=TASKS_DIR)
    result = CliRunner().invoke(app, ["site", "build", "--reports", str(tmp_path / "r"), "--out", str(target)])
    assert result.exit_code == 2 and "is a file, not a folder" in result.output and "Traceback" not in result.output
    assert target.read_text(encoding="utf-8") == "mine"


# --- corrupt records -----------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                                     st.text(max_size=8)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5),
                                                                                                 inner, max_size=3)),
                           max_leaves=6)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _mutate(record: dict, rng: random.Random, value) -> str:
    """One corruption of a valid record, as the text of a file: a value replaced, a key dropped, or a truncation."""
    kind = rng.choice(["replace", "drop", "truncate"])
    if kind == "truncate":
        text = json.dumps(record)
        return text[: rng.randrange(len(text))]
    record = json.loads(json.dumps(record))
    path = rng.choice([p for p in _paths(record) if p])
    parent = record
    for key in path[:-1]:
        parent = parent[key]
    if kind == "drop":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return json.dumps(record, allow_nan=True)


@one_build
@given(seed=st.integers(0, 2**32 - 1), values=st.lists(JSON_VALUES, min_size=25, max_size=25))
def test_corrupt_records_are_skipped_with_a_warning_never_a_traceback(tmp_path_factory, fixture_reports, seed, values):
    root = tmp_path_factory.mktemp("corrupt")
    reports = root / "reports"
    shutil.copytree(fixture_reports / "results", reports / "results")
    good = [p for p in sorted((reports / "results").rglob("*.json")) if _is_object(p)]
    rng = random.Random(seed)
    corrupted = []
    for i, value in enumerate(values):
        source = rng.choice(good)
        record = json.loads(source.read_text(encoding="utf-8"))
        target = reports / "results" / "corrupt" / f"{i}{'.failed' if source.name.endswith('.failed.json') else ''}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_mutate(record, rng, value), encoding="utf-8")
        corrupted.append(target)
    data = collect(reports / "results", MODELS_FILE, TASKS_DIR, fixture_reports / "reported.yaml")
    write_docs(data, root / "docs", SITE / "templates", SITE / "static", DOCS)
    used = (set(data.latest["file"]) | set(data.others["file"]) | set(data.failures["file"])
            | {f for f, _ in data.skipped})
    shown_or_skipped = {str(p.relative_to(reports)) for p in corrupted}
    # every corrupted file was either read (the corruption was harmless) or skipped by name
    assert shown_or_skipped <= used | _replaced(data)


def _replaced(data) -> set[str]:
    return {f for frame in (data.latest, data.others) for files in frame["replaced"] for f, _ in files}


def _is_object(path: Path) -> bool:
    try:
        return isinstance(json.loads(path.read_text(encoding="utf-8")), dict)
    except ValueError:
        return False


def test_the_theme_never_turns_title_attributes_into_html():
    # mkdocs-material's content.tooltips copies each title attribute into the page as HTML: a record's text
    # in a cell's title would become elements on hover (found by the browser test)
    config = yaml.safe_load((SITE / "mkdocs.yml").read_text(encoding="utf-8"))
    assert "content.tooltips" not in config["theme"].get("features", [])
