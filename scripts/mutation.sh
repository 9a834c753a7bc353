#!/usr/bin/env bash
# Mutation testing of the core modules ([tool.mutmut] in pyproject.toml lists them and their tests).
#   bash scripts/mutation.sh                      # every mutant of every listed module
#   bash scripts/mutation.sh 'harness.records.*'  # only the mutants whose names match
# Writes reports/mutation/score.txt (killed / survived / score) and reports/mutation/survivors.txt
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

"$mutmut" run --max-children "${MUTATION_JOBS:-2}" "$@" || true
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
counts = Counter(checked.values())
modules = Counter(re.sub(r"\.x.*", "", n) for n in checked)
killed = counts["killed"] + counts["timeout"]
open_ = [n for n, s in checked.items() if s in ("survived", "no tests") and n not in equivalent]
scored = killed + len(open_)
lines = [f"modules: {', '.join(f'{m} ({k})' for m, k in sorted(modules.items()))}",
         f"mutants checked: {len(checked)} (not checked: {len(status) - len(checked)})",
         *(f"{k}: {v}" for k, v in sorted(counts.items())),
         f"equivalent (listed in equivalent.txt): {sum(1 for n in checked if n in equivalent)}",
         f"score = killed / (killed + survived + no tests, equivalent ones left out): {killed}/{scored} = "
         f"{100 * killed / max(scored, 1):.1f}%"]
(out / "score.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
with open(out / "survivors.txt", "w", encoding="utf-8") as f:
    for name in sorted(open_):
        f.write(f"## {name} ({checked[name]})\n{get_diff_for_mutant(name, path=paths[name]).strip()}\n\n")
print("\n".join(lines))
PY
