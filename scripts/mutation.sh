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
"$mutmut" results --all true > "$out/results.txt" 2>&1 || "$mutmut" results > "$out/results.txt" 2>&1 || true

"$python" - "$out" <<'PY'
import re, subprocess, sys
from collections import Counter
from pathlib import Path

out = Path(sys.argv[1])
status = {}
for line in (out / "results.txt").read_text(encoding="utf-8").splitlines():
    m = re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line)
    if m:
        status[m.group(1)] = m.group(2).strip()
counts = Counter(status.values())
killed = counts.get("killed", 0) + counts.get("timeout", 0)
survived = counts.get("survived", 0)
untested = counts.get("no tests", 0)
tested = killed + survived + untested
lines = [f"mutants: {len(status)}", *(f"{k}: {v}" for k, v in sorted(counts.items())),
         f"score (killed or timed out / killed + survived + no tests): {killed}/{tested} = {100 * killed / max(tested, 1):.1f}%"]
(out / "score.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
diffs = []
for name, state in sorted(status.items()):
    if state in ("survived", "no tests"):
        shown = subprocess.run([str(Path(sys.executable).parent / "mutmut"), "show", name], capture_output=True, text=True)
        diffs.append(f"## {name} ({state})\n{shown.stdout.strip()}\n")
(out / "survivors.txt").write_text("\n".join(diffs), encoding="utf-8")
print("\n".join(lines))
PY
