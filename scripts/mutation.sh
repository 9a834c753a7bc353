#!/usr/bin/env bash
# Mutation testing of the core modules ([tool.mutmut] in pyproject.toml lists them and their tests).
#   bash scripts/mutation.sh                      # every mutant not checked yet (all of them in a fresh clone)
#   bash scripts/mutation.sh 'harness.records.*'  # only the mutants whose names match (checked again)
#   bash scripts/mutation.sh --report             # the report alone, from mutmut's state in mutants/
# mutmut keeps every verdict in mutants/ (not committed); a run of some modules adds to it, and the report
# covers every mutant there, saying per module whether each one was checked.
# Writes reports/mutation/score.txt (per module: mutants, killed / survived / equivalent, score; "full run"
# only when every mutant of the module was checked) and reports/mutation/survivors.txt
# (each surviving mutant's diff). Slow: one test run per mutant; run it with nice on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
python=${PYTHON:-$root/.venv/bin/python}
[ -x "$python" ] || python=$(command -v python)
mutmut="$(dirname "$python")/mutmut"
out=reports/mutation
mkdir -p "$out"

# the tests read ../shared/data beside the clone; mutmut runs them from mutants/, one level deeper
export KOENBENCH_SHARED_DATA=${KOENBENCH_SHARED_DATA:-$(cd .. && pwd)/shared/data}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
unset PYTHONPATH  # mutmut must import harness from mutants/, never the unmutated tree

if [ "${1:-}" = "--report" ]; then
  shift  # only the report, from the state a previous run left in mutants/
else
  "$mutmut" run --max-children "${MUTATION_JOBS:-2}" "$@" || true
fi
"$python" - "$out" <<'PY'
"""Score and survivors from mutmut's own state (read in this process: `mutmut show` per mutant is slow)."""
import re
import sys
from collections import Counter
from pathlib import Path

from mutmut.__main__ import SourceFileMutationData, get_diff_for_mutant, status_by_exit_code, walk_mutatable_files

out = Path(sys.argv[1])
# Mutants judged equivalent (no test can tell them apart from the original), one per line: "name  # why".
equivalent = {}
for line in (out / "equivalent.txt").read_text(encoding="utf-8").splitlines() if (out / "equivalent.txt").exists() else []:
    if line.strip() and not line.startswith("#"):
        name, _, why = line.partition("#")
        equivalent[name.strip()] = why.strip()

status, paths = {}, {}
for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    for name, code in data.exit_code_by_key.items():
        status[name], paths[name] = status_by_exit_code[code], path
checked = {n: s for n, s in status.items() if s != "not checked"}
open_ = [n for n, s in checked.items() if s in ("survived", "no tests") and n not in equivalent]


def module_of(name: str) -> str:
    return re.sub(r"\.x.*", "", name)


def summary(names) -> tuple[str, str]:
    """(the counts, the score) of these mutants; killed includes timeouts (a mutant that hangs the tests is caught)."""
    counts = Counter(status[n] for n in names)
    done = [n for n in names if status[n] != "not checked"]
    killed = counts["killed"] + counts["timeout"]
    equiv = sum(1 for n in done if n in equivalent and status[n] in ("survived", "no tests"))
    survived = sum(1 for n in done if status[n] == "survived" and n not in equivalent)
    no_tests = sum(1 for n in done if status[n] == "no tests" and n not in equivalent)
    other = len(done) - killed - equiv - survived - no_tests  # e.g. suspicious, skipped
    scored = killed + survived + no_tests
    run = "full run" if len(done) == len(names) else f"PARTIAL: {len(names) - len(done)} not checked"
    timeouts = f" ({counts['timeout']} by timeout)" if counts["timeout"] else ""
    text = f"{len(names)} mutants ({run}), {killed} killed{timeouts}, {survived} survived, {no_tests} no tests, {equiv} equivalent"
    if other:
        text += f", {other} other ({', '.join(sorted({status[n] for n in done} - {'killed', 'timeout', 'survived', 'no tests'}))})"
    return text, f"{killed}/{scored} = {100 * killed / max(scored, 1):.1f}%"


by_module = {}
for name in status:
    by_module.setdefault(module_of(name), []).append(name)
lines = ["score = killed / (killed + survived + no tests); equivalent mutants (equivalent.txt) are left out", ""]
for module, names in sorted(by_module.items()):
    text, score = summary(names)
    lines.append(f"{module}: {score}  ({text})")
text, score = summary(list(status))
lines += ["", f"all modules: {score}  ({text})"]
wrongly_listed = sorted(n for n in equivalent if status.get(n) in ("killed", "timeout"))
if wrongly_listed:  # a test tells them apart after all: they count as killed; take them out of equivalent.txt
    lines += ["", f"listed as equivalent but killed: {', '.join(wrongly_listed)}"]
(out / "score.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
with open(out / "survivors.txt", "w", encoding="utf-8") as f:
    for name in sorted(open_):
        f.write(f"## {name} ({checked[name]})\n{get_diff_for_mutant(name, path=paths[name]).strip()}\n\n")
print("\n".join(lines))
PY
