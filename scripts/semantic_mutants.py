"""Apply each hand-made semantic mutant (scripts/semantic_mutants.yaml) alone and check that its tests catch it.

    python scripts/semantic_mutants.py                       # every mutant
    python scripts/semantic_mutants.py warm-up-ignored ...   # only these (names from the YAML)
    python scripts/semantic_mutants.py --list                # the mutants and their tests, nothing run

The repository's files (tracked, and untracked ones git does not ignore) are copied once into a temporary
folder; each mutant changes one file there, its tests run there (the quick suite's options, stopping at the
first failure), and the file is put back before the next. The working tree is never edited. First the tests
of every selected mutant run once unmutated: a test that fails without any mutant would catch everything.

Prints one line per mutant (caught, with the first test that failed; or SURVIVED) and the total; exit status
0 when every mutant was caught, 1 otherwise, 2 for a mistake in the YAML or tests that fail unmutated.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MUTANTS_FILE = Path(__file__).with_suffix(".yaml")
FIELDS = ("name", "why", "file", "original", "replacement", "tests")
TIMEOUT_S = 900  # one mutant's tests; a mutant that hangs them is reported as a timeout, not as caught


@dataclass(frozen=True)
class Mutant:
    name: str
    why: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]


class MutantsError(ValueError):
    """A mistake in the mutants file; the message names the entry, the field and the fix."""


def load(path: Path = MUTANTS_FILE, root: Path = ROOT) -> list[Mutant]:
    """The mutants of ``path``, each checked against the tree at ``root`` (the original found exactly once)."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise MutantsError(f"{path}: expected a list of mutants, one '- name: ...' entry each")
    problems, mutants, names = [], [], set()
    for i, entry in enumerate(entries):
        where = f"{path.name}[{i}]" + (f" ({entry.get('name')})" if isinstance(entry, dict) else "")
        if not isinstance(entry, dict) or set(entry) != set(FIELDS):
            problems.append(f"{where}: needs exactly the fields {', '.join(FIELDS)}")
            continue
        tests = entry["tests"] if isinstance(entry["tests"], list) else [entry["tests"]]
        mutant = Mutant(entry["name"], entry["why"], entry["file"], entry["original"], entry["replacement"], tuple(tests))
        if mutant.name in names:
            problems.append(f"{where}: name {mutant.name!r} is used twice; names must be unique")
        names.add(mutant.name)
        source = root / mutant.file
        if not source.is_file():
            problems.append(f"{where}: file {mutant.file!r} does not exist under the repository root")
        else:
            found = source.read_text(encoding="utf-8").count(mutant.original)
            if found != 1:
                problems.append(f"{where}: original text found {found} times in {mutant.file}; give text that occurs "
                                "exactly once (the code changed since the mutant was written?)")
        if mutant.original == mutant.replacement:
            problems.append(f"{where}: replacement equals the original")
        for test in mutant.tests:
            if not (root / test.split("::")[0]).is_file():
                problems.append(f"{where}: test file {test.split('::')[0]!r} does not exist")
        mutants.append(mutant)
    if problems:
        raise MutantsError("\n".join(problems))
    return mutants


def repository_files(root: Path) -> list[str]:
    """Tracked files and untracked ones git does not ignore: what a fresh clone with these edits would hold."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            check=True, capture_output=True).stdout.decode("utf-8").split("\0")
    return [name for name in listed if name and (root / name).is_file()]


def copy_tree(root: Path, target: Path) -> None:
    for name in repository_files(root):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)


def environment(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    # the tests read ../shared/data beside the clone; the copy has no such neighbour
    env.setdefault("KOENBENCH_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    env["PYTHONPATH"] = str(tree)  # harness from the copy, never from the working tree
    env.pop("KOENBENCH_TEST_CACHE", None)  # each test run its own caches (tests/conftest.py)
    env.pop("MUTANT_UNDER_TEST", None)
    return env


def run_tests(tree: Path, tests: tuple[str, ...], timeout_s: float = TIMEOUT_S) -> tuple[str, str, float]:
    """('passed' | 'failed' | 'timeout', the first failed test or the output's tail, seconds)."""
    began = time.monotonic()
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(command, cwd=tree, env=environment(tree), capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return "timeout", f"no result in {timeout_s:.0f} s", time.monotonic() - began
    seconds = time.monotonic() - began
    if done.returncode == 0:
        return "passed", "", seconds
    # "FAILED <test id> - <message>"; ERROR: the mutant broke an import or a fixture
    failed = re.search(r"^((?:FAILED|ERROR) .+?)(?: - .*)?$", done.stdout, re.MULTILINE)
    return "failed", failed.group(1) if failed else (done.stdout + done.stderr)[-2000:], seconds


def check_imports_from(tree: Path) -> None:
    where = subprocess.run([sys.executable, "-c", "import harness; print(harness.__file__)"], cwd=tree,
                           env=environment(tree), capture_output=True, text=True, check=True).stdout.strip()
    if not Path(where).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"the copy imports harness from {where}, not from itself: the results would say nothing")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only these mutants (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests; run nothing")
    args = parser.parse_args(argv)
    try:
        mutants = load()
    except MutantsError as err:
        print(f"{MUTANTS_FILE}: {err}", file=sys.stderr)
        return 2
    unknown = sorted(set(args.names) - {m.name for m in mutants})
    if unknown:
        print(f"unknown mutant(s) {', '.join(unknown)}; known: {', '.join(m.name for m in mutants)}", file=sys.stderr)
        return 2
    chosen = [m for m in mutants if not args.names or m.name in args.names]
    if args.list:
        for m in chosen:
            print(f"{m.name}: {m.file}; {' '.join(m.tests)}\n    {m.why}")
        return 0
    with tempfile.TemporaryDirectory(prefix="koenbench-mutants-") as folder:
        tree = Path(folder) / "tree"
        copy_tree(ROOT, tree)
        check_imports_from(tree)
        every_test = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
        status, detail, seconds = run_tests(tree, every_test)
        print(f"unmutated: the {len(every_test)} test files {status} ({seconds:.0f} s)", flush=True)
        if status != "passed":
            print(f"the tests fail without any mutant ({detail}); fix them first", file=sys.stderr)
            return 2
        caught = 0
        for m in chosen:
            source = tree / m.file
            text = source.read_text(encoding="utf-8")
            source.write_text(text.replace(m.original, m.replacement), encoding="utf-8")
            try:
                status, detail, seconds = run_tests(tree, m.tests)
            finally:
                source.write_text(text, encoding="utf-8")
            verdict = {"failed": "caught", "passed": "SURVIVED", "timeout": "TIMEOUT"}[status]
            caught += verdict == "caught"
            print(f"{verdict:8} {m.name} ({m.file}; {seconds:.0f} s){': ' + detail if detail else ''}", flush=True)
    print(f"total: {caught} of {len(chosen)} mutants caught, {len(chosen) - caught} not")
    return 0 if caught == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
