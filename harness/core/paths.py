"""Where koenbench's files are: the clone's own folders, or the copies the wheel carries.

Run from a clone (``pip install -e .`` or ``PYTHONPATH``), the top-level folders are used as
they are, so an edited ``tasks/klue/ynat.yaml`` is what the next run reads. Installed from a
wheel, the same files are package data under ``harness/bundled/`` (pyproject.toml maps the
top-level folders there at build time), found through ``importlib.resources``; what ``bench``
writes (records, the site, the demo) then goes under the current folder, never into the
installed package.

This module is the one place that knows; everything else imports its names.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Iterable, Optional

REPO_ROOT = Path(__file__).resolve().parents[2]  # harness/core/paths.py -> the clone
# A clone has its pyproject.toml beside the package; an installed package sits in site-packages.
FROM_CLONE = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "tasks").is_dir()


def _bundled() -> Path:
    root = resources.files("harness") / "bundled"
    if not isinstance(root, Path):  # jinja2, mkdocs and the data readers need real folders
        raise RuntimeError("koenbench must be installed as files (pip install koenbench), not imported from a zip")
    return root


# What the tool reads: shipped with it.
RESOURCES = REPO_ROOT if FROM_CLONE else _bundled()
TASKS_DIR = RESOURCES / "tasks"  # the built-in tasks: <suite>/<name>.yaml
MODELS_FILE = RESOURCES / "models.yaml"
REPORTED_FILE = RESOURCES / "reports" / "reported.yaml"  # numbers published elsewhere, with their sources
SITE_DIR = RESOURCES / "site"  # mkdocs.yml, templates/, static/
HOWTO_DIR = RESOURCES / "docs"  # the how-to pages the site carries
SAMPLES_DIR = RESOURCES / "samples"  # the demo's real data samples

# What the tool writes: the clone, or the folder the user runs it in.
WORKSPACE = REPO_ROOT if FROM_CLONE else Path.cwd()
REPORTS_DIR = WORKSPACE / "reports"
RESULTS_DIR = REPORTS_DIR / "results"
SITE_OUT = WORKSPACE / "site" / "build"
DEMO_OUT = WORKSPACE / "demo"

# Real KLUE/GLUE files for offline runs and tests; beside the clone unless told otherwise.
SHARED_DATA = Path(os.environ.get("KOENBENCH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))

# More task folders, each laid out like tasks/ (<suite>/<name>.yaml), separated by os.pathsep.
TASKS_PATH_ENV = "KOENBENCH_TASKS_PATH"


def task_dirs(extra: Optional[Iterable[Path]] = None, environ: Optional[dict[str, str]] = None) -> list[Path]:
    """The task search path: the built-in tasks, then $KOENBENCH_TASKS_PATH, then ``extra`` (--tasks-dir).

    A folder named twice is searched once.
    """
    environ = os.environ if environ is None else environ
    from_env = [Path(p) for p in environ.get(TASKS_PATH_ENV, "").split(os.pathsep) if p.strip()]
    dirs: dict[Path, Path] = {}
    for folder in [TASKS_DIR, *from_env, *(extra or [])]:
        dirs.setdefault(Path(folder).resolve(), Path(folder))
    return list(dirs.values())
