"""The package's shape: no import cycles in harness/, and functions a screen or two long."""

import ast
from pathlib import Path

import harness

PACKAGE = Path(harness.__file__).parent
MAX_FUNCTION_LINES = 80
# Subpackages left out of the length check (none: every module of harness/, koenbert and site included).
LENGTH_CHECK_SKIPS: tuple[str, ...] = ()
# "<module path>:<function>" -> why it must stay one function. Empty: every function fits.
LONG_FUNCTION_EXCEPTIONS: dict[str, str] = {}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package at ``package`` (harness/ by default; the layer test also reads a planted copy)."""
    return {module_name(p, package): p for p in package.rglob("*.py")}


def imported_modules(path: Path, known: set[str], package_dir: Path = PACKAGE) -> set[str]:
    """Every harness module ``path`` imports, at the top or inside a function (a lazy import is still a dependency)."""
    found = set()
    name = module_name(path, package_dir)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name in known}


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    known = modules(package)
    return {name: imported_modules(path, set(known), package) - {name} for name, path in known.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as [a, b, ..., a], or [] when there is none (depth-first search, colouring nodes)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_import_graph_sees_lazy_and_relative_imports(tmp_path):
    graph = import_graph()
    assert "harness.run.runner" in graph["harness.run.grid"]  # the scheduler uses the task steps
    assert "harness.tasks.heads" in graph["harness.tasks.spec"]
    assert "harness.site.cli" in graph["harness.cli"]


def test_no_import_cycle_in_harness():
    cycle = find_cycle(import_graph())
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def long_functions() -> list[tuple[str, int]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in LENGTH_CHECK_SKIPS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    found.append((f"harness/{relative.as_posix()}:{node.name}", lines))
    return found


def test_functions_fit_a_screen_or_two():
    too_long = [(where, n) for where, n in long_functions() if where not in LONG_FUNCTION_EXCEPTIONS]
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines (split them, or list them with a reason): {too_long}"
    for where, reason in LONG_FUNCTION_EXCEPTIONS.items():
        assert reason.strip(), f"{where}: an exception needs its reason"
