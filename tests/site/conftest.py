"""The site tests share one build of the fixture reports (tests/data/records), made once per session."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.core.paths import TASKS_DIR
from harness.site.build import build_site

FIXTURE_REPORTS = Path(__file__).resolve().parents[1] / "data" / "records"
FIXTURE_MODELS = FIXTURE_REPORTS / "models.yaml"


@dataclass
class BuiltSite:
    index: Path
    warnings: list[logging.LogRecord] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.index.parent

    def raw(self, relative: str) -> str:
        return (self.root / relative).read_text(encoding="utf-8")

    def page(self, relative: str) -> str:
        """The page with character references decoded (the pages write markdown syntax in text as ``&#N;``)."""
        return html.unescape(self.raw(relative))


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="session")
def fixture_reports() -> Path:
    return FIXTURE_REPORTS


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> BuiltSite:
    handler = _Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        index = build_site(reports_dir=FIXTURE_REPORTS, out_dir=tmp_path_factory.mktemp("site") / "build",
                           models_file=FIXTURE_MODELS, tasks_dir=TASKS_DIR)
    finally:
        root.removeHandler(handler)
    return BuiltSite(index=index, warnings=handler.records)


@pytest.fixture(scope="session")
def compared_site(tmp_path_factory) -> Path:
    """index.html of a site from synthetic records with predictions at known accuracies (site_predictions.py):
    model-a far below the reference model-c, model-b no detectably different from it, model-d scored SST-2 on other examples,
    a paper's numbers beside them."""
    from site_predictions import predictions_world

    root = tmp_path_factory.mktemp("compared")
    world = predictions_world(root)
    return build_site(reports_dir=world.reports, out_dir=root / "site", models_file=world.models, tasks_dir=world.tasks)
