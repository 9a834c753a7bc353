"""Regenerate docs/img/demo-board.png, the picture near the top of README.md: the demo tier's board on the home
page of a real `bench demo` run's site, shown by headless chromium and cropped to the board.

    .venv/bin/python scripts/demo_board_png.py               # runs `bench demo --out demo` first when demo/ has no records
    .venv/bin/python scripts/demo_board_png.py --demo DIR    # the records of an earlier `bench demo --out DIR`

The site is built anew from the demo's records with this checkout's site code, as `bench demo` builds it, so the
picture shows today's board. Needs playwright and Debian's chromium (`bash scripts/setup.sh --test`), as the browser
test does; never the network.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
MAX_BYTES = 200_000  # README's first screen, kept light
PAD = 12  # pixels around the heading and the board


def demo_site(folder: Path, site: Path) -> Path:
    """The home page of a site built into ``site`` from the demo records in ``folder`` (`bench demo --out folder` runs
    first when it has none), the way `bench demo` builds its own."""
    if not list(folder.glob("results/*/*.json")):
        subprocess.run([sys.executable, "-m", "harness.cli", "demo", "--out", str(folder)], cwd=ROOT, check=True)
    sys.path.insert(0, str(ROOT))
    from harness.core.paths import REPORTED_FILE
    from harness.site.build import build_site

    return build_site(reports_dir=folder, out_dir=site, reported_file=REPORTED_FILE)


def shoot(index: Path, out: Path, width: int) -> int:
    """Save the demo tier's heading and board of ``index`` as ``out``; returns its size in bytes."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": 1000})
        page.goto(index.as_uri())
        board = page.locator("#demo-leaderboard")
        board.wait_for()
        heading = page.locator("h2", has_text="Demo tier")
        heading.scroll_into_view_if_needed()
        top, table = heading.bounding_box(), board.bounding_box()
        if table["x"] + table["width"] > width:
            sys.exit(f"the board is {table['width']:.0f} px wide and does not fit a {width} px window: give a larger --width")
        left = min(top["x"], table["x"]) - PAD
        clip = {"x": max(left, 0), "y": max(top["y"] - PAD, 0),
                "width": max(top["x"] + top["width"], table["x"] + table["width"]) - left + PAD,
                "height": table["y"] + table["height"] - top["y"] + 2 * PAD}
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), clip=clip, full_page=True)
        browser.close()
    return out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=ROOT / "demo", help="a `bench demo --out` folder (default: demo/)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "demo-board.png")
    parser.add_argument("--width", type=int, default=1700, help="the browser window's width in pixels")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} not found: bash scripts/setup.sh --test installs it (or .ci/browser.sh)")
    with tempfile.TemporaryDirectory() as scratch:
        size = shoot(demo_site(args.demo, Path(scratch) / "site"), args.out, args.width)
    print(f"wrote {args.out} ({size / 1000:.0f} KB)")
    if size > MAX_BYTES:
        sys.exit(f"{args.out} is {size} bytes, over {MAX_BYTES}: give a smaller --width")


if __name__ == "__main__":
    main()
