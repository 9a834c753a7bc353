"""Imports go one way: the layer order ARCHITECTURE.md states, read from it and checked against every import."""

import ast
import re
import shutil
from pathlib import Path

import pytest

from test_architecture import PACKAGE, import_graph, modules

ARCHITECTURE = Path(__file__).resolve().parents[1] / "ARCHITECTURE.md"


def stated_layers(text: str) -> dict[str, int]:
    """module -> its layer (1 lowest), from the numbered list between the layers markers."""
    block = text.split("<!-- layers:", 1)[1].split("<!-- /layers -->", 1)[0]
    layers: dict[str, int] = {}
    for line in block.splitlines():
        found = re.match(r"(\d+)\. ", line)
        for name in re.findall(r"`([a-z_.]+)`", line) if found else []:
            assert f"harness.{name}" not in layers, f"ARCHITECTURE.md places {name} twice"
            layers[f"harness.{name}"] = int(found[1])
    return layers


def upward_imports(graph: dict[str, set[str]], layers: dict[str, int]) -> list[str]:
    """Every import of a module from a higher layer than its own, as 'a (layer) -> b (layer)'."""
    return sorted(f"{a} ({layers[a]}) -> {b} ({layers[b]})" for a, targets in graph.items() if a in layers
                  for b in targets if b in layers and layers[b] > layers[a])


def unplaced(package: Path, layers: dict[str, int]) -> list[str]:
    """The modules the list does not place. A package whose __init__.py imports nothing needs no place: it
    depends on nothing, and an import of it is an import of its modules, which are placed."""
    def imports_something(path: Path) -> bool:
        return any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))

    return sorted(name for name, path in modules(package).items()
                  if name not in layers and (path.name != "__init__.py" or imports_something(path)))


@pytest.fixture(scope="module")
def layers() -> dict[str, int]:
    return stated_layers(ARCHITECTURE.read_text(encoding="utf-8"))


def test_every_module_has_a_stated_layer(layers):
    missing = unplaced(PACKAGE, layers)
    assert not missing, f"place these modules in ARCHITECTURE.md's layers: {missing}"
    gone = sorted(set(layers) - set(import_graph()))
    assert not gone, f"ARCHITECTURE.md's layers name modules that do not exist: {gone}"


def test_no_module_imports_from_a_layer_above_its_own(layers):
    assert upward_imports(import_graph(), layers) == []


def test_an_upward_import_planted_in_a_copy_of_the_package_is_found(layers, tmp_path):
    """The check reads the source: an upward import written into a module, lazy or relative, is named."""
    copy = tmp_path / "harness"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert upward_imports(import_graph(copy), layers) == []  # the copy is as clean as the package
    with (copy / "results" / "records.py").open("a", encoding="utf-8") as f:
        f.write("\n\ndef _planted():\n    from harness.run import grid  # the record model reaching up into the scheduler\n")
    with (copy / "core" / "files.py").open("a", encoding="utf-8") as f:
        f.write("\nfrom ..tasks import catalog  # a foundation reaching up, written relatively\n")
    assert upward_imports(import_graph(copy), layers) == [
        "harness.core.files (1) -> harness.tasks.catalog (3)",
        "harness.results.records (2) -> harness.run.grid (4)",
    ]


def test_a_module_the_list_misses_or_names_twice_is_named(layers, tmp_path):
    copy = tmp_path / "harness"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "run" / "newcomer.py").write_text("from harness.run import grid\n", encoding="utf-8")
    (copy / "stats" / "__init__.py").write_text("from harness.stats import bootstrap\n", encoding="utf-8")
    assert unplaced(copy, layers) == ["harness.run.newcomer", "harness.stats"]
    with pytest.raises(AssertionError, match="places core.paths twice"):
        stated_layers("<!-- layers: -->\n1. low: `core.paths`\n2. high: `core.paths`\n<!-- /layers -->")
