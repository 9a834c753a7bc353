"""Where the project's files are: the package runs from a clone (pip install -e .)."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TASKS_DIR = REPO_ROOT / "tasks"
MODELS_FILE = REPO_ROOT / "models.yaml"
REPORTS_DIR = REPO_ROOT / "reports"
RESULTS_DIR = REPORTS_DIR / "results"
# Real KLUE/GLUE files for offline runs and tests; beside the clone unless told otherwise.
SHARED_DATA = Path(os.environ.get("KOENBENCH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
