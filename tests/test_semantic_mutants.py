"""scripts/semantic_mutants.py: its mutants file stays applicable to the code, and a mistake in it is named."""

import importlib.util
import subprocess
import sys

import pytest

from harness.core.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "semantic_mutants.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("semantic_mutants", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_every_mutant_still_applies_to_the_code(script):
    """Each original text is found exactly once: a change to the code it mutates must update the mutant too."""
    mutants = script.load()
    assert len(mutants) >= 9 and len({m.name for m in mutants}) == len(mutants)
    assert all(m.tests for m in mutants)


def test_a_mutant_whose_text_is_gone_or_repeated_is_named_with_the_fix(script, tmp_path):
    (tmp_path / "code.py").write_text("a = 1\nb = 1\n", encoding="utf-8")
    (tmp_path / "test_code.py").write_text("", encoding="utf-8")
    mutants = tmp_path / "mutants.yaml"
    entry = "- {name: %s, why: w, file: code.py, original: '%s', replacement: '2', tests: [test_code.py]}\n"
    mutants.write_text(entry % ("gone", "c = 1") + entry % ("twice", "= 1") + entry % ("fine", "a = 1"), encoding="utf-8")
    with pytest.raises(script.MutantsError) as err:
        script.load(mutants, tmp_path)
    assert str(err.value).splitlines() == [
        "mutants.yaml[0] (gone): original text found 0 times in code.py; give text that occurs exactly once "
        "(the code changed since the mutant was written?)",
        "mutants.yaml[1] (twice): original text found 2 times in code.py; give text that occurs exactly once "
        "(the code changed since the mutant was written?)",
    ]


def test_list_names_every_mutant_and_runs_nothing():
    listed = subprocess.run([sys.executable, str(SCRIPT), "--list"], capture_output=True, text=True, check=True).stdout
    assert "kept-predictions-of-the-last-evaluation: harness/run/finetune.py; tests/run/test_finetune.py" in listed
