"""Imports go one way: the layer order ARCHITECTURE.md states, read from it and checked against every import."""

import re
from pathlib import Path

import pytest

from test_architecture import import_graph

ARCHITECTURE = Path(__file__).resolve().parents[1] / "ARCHITECTURE.md"
PACKAGES = {"harness", "harness.site", "harness.koenbert"}  # their __init__ files hold no code


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


@pytest.fixture(scope="module")
def layers() -> dict[str, int]:
    return stated_layers(ARCHITECTURE.read_text(encoding="utf-8"))


def test_every_module_has_a_stated_layer(layers):
    unplaced = sorted(set(import_graph()) - set(layers) - PACKAGES)
    assert not unplaced, f"place these modules in ARCHITECTURE.md's layers: {unplaced}"
    gone = sorted(set(layers) - set(import_graph()))
    assert not gone, f"ARCHITECTURE.md's layers name modules that do not exist: {gone}"


def test_no_module_imports_from_a_layer_above_its_own(layers):
    assert upward_imports(import_graph(), layers) == []


def test_a_planted_upward_import_is_found(layers):
    graph = {name: set(targets) for name, targets in import_graph().items()}
    graph["harness.results.records"].add("harness.run.grid")  # the record model reaching up into the scheduler
    assert upward_imports(graph, layers) == ["harness.results.records (1) -> harness.run.grid (4)"]
