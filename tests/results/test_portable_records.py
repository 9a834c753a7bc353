"""Committed records are portable: no string in them is an absolute path of the machine that wrote them."""

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ABSOLUTE = re.compile(r"^(local:)?(/|~|[A-Za-z]:\\)")


def strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


BROKEN_ON_PURPOSE = {"tests/data/records/results/broken.json"}  # the site's skip-a-bad-file fixture


def committed_records() -> list[Path]:
    found = [p for folder in ("reports", "tests/data/records") for p in (REPO / folder).rglob("*.json")]
    return sorted(p for p in found if "/." not in str(p.relative_to(REPO))
                  and str(p.relative_to(REPO)) not in BROKEN_ON_PURPOSE)


def test_there_are_committed_records_to_check():
    assert len(committed_records()) > 20
    assert all((REPO / name).is_file() for name in BROKEN_ON_PURPOSE)


@pytest.mark.parametrize("path", committed_records(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_committed_record_holds_an_absolute_path(path):
    record = json.loads(path.read_text(encoding="utf-8"))
    absolute = [s for s in strings(record) if ABSOLUTE.match(s)]
    assert absolute == [], f"{path.relative_to(REPO)}: {absolute[:3]}"
