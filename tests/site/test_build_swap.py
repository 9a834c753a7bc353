"""`bench site build` builds beside the published site and swaps it in: a build killed or failing mid-way
leaves the old site whole, and the next build cleans up after it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.core.paths import TASKS_DIR
from harness.site import build
from harness.site.build import MARKER, build_site

REPO = Path(__file__).resolve().parents[2]


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


@pytest.fixture
def published(tmp_path, fixture_reports) -> Path:
    out = tmp_path / "public" / "site"
    build_site(reports_dir=fixture_reports, out_dir=out, models_file=fixture_reports / "models.yaml", tasks_dir=TASKS_DIR)
    return out


def test_a_build_killed_mid_way_leaves_the_old_site_whole(published, fixture_reports):
    before = tree(published)
    assert len(before) > 30
    command = [sys.executable, "-m", "harness.cli", "site", "build", "--reports", str(fixture_reports),
               "--models", str(fixture_reports / "models.yaml"), "--out", str(published)]
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            building = [p for p in published.parent.glob(f".{published.name}.building-*") if any(p.rglob("*.html"))]
            if building:
                break
            time.sleep(0.01)
        assert child.poll() is None, "the build ended before it could be killed mid-way"
        os.kill(child.pid, signal.SIGKILL)  # as an out-of-memory killer or a closed CI job does
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    assert tree(published) == before  # the published site is whole: every file there, unchanged
    assert any(name.startswith(f".{published.name}.building-") for name in leftovers(published))
    build_site(reports_dir=fixture_reports, out_dir=published, models_file=fixture_reports / "models.yaml",
               tasks_dir=TASKS_DIR)
    assert leftovers(published) == [] and (published / MARKER).exists()  # the next build cleans up after it


def test_a_build_that_fails_mid_way_leaves_the_old_site_whole(published, fixture_reports, monkeypatch):
    before = tree(published)

    def fails_half_way(docs_dir, out_dir, site_nav):
        (out_dir / "index.html").write_text("half a site", encoding="utf-8")
        raise build.SiteBuildError("mkdocs could not build the site")

    monkeypatch.setattr(build, "_mkdocs_build", fails_half_way)
    with pytest.raises(build.SiteBuildError):
        build_site(reports_dir=fixture_reports, out_dir=published, models_file=fixture_reports / "models.yaml",
                   tasks_dir=TASKS_DIR)
    assert tree(published) == before and leftovers(published) == []


def test_a_site_being_replaced_when_the_build_died_is_put_back(published):
    before = tree(published)
    replaced = published.with_name(f".{published.name}.replaced-12345")
    os.rename(published, replaced)  # killed between the two renames of the swap
    build._recover(published)
    assert tree(published) == before and leftovers(published) == []
