"""Time `build_site` on synthetic records: python tests/site/bench_build.py [--models 100]

Writes N models x every task under a temporary reports dir, then builds the site once
and prints the build's wall time (records are written before the clock starts).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from site_synth import synthetic_reports

from harness.core.paths import MODELS_FILE, TASKS_DIR
from harness.site.build import build_site
from harness.tasks.spec import discover, load_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="build into this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tasks = [load_spec(path, task_id) for task_id, path in discover(TASKS_DIR).items()]
    with tempfile.TemporaryDirectory() as tmp:
        n = synthetic_reports(Path(tmp) / "reports", args.models, tasks)
        out = args.keep or Path(tmp) / "site"
        start = time.perf_counter()
        index = build_site(reports_dir=Path(tmp) / "reports", out_dir=out, models_file=MODELS_FILE, tasks_dir=TASKS_DIR)
        seconds = time.perf_counter() - start
        pages = sum(1 for _ in index.parent.rglob("*.html"))
    print(f"{args.models} models x {len(tasks)} tasks = {n} records -> {pages} HTML pages in {seconds:.2f} s")


if __name__ == "__main__":
    main()
