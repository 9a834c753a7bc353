#!/usr/bin/env bash
# Mutation testing of the core modules ([tool.mutmut] in pyproject.toml lists them and their tests).
#   bash scripts/mutation.sh                      # every mutant not checked yet (all of them in a fresh clone)
#   bash scripts/mutation.sh 'harness.results.records.*'  # only the mutants whose names match (checked again)
#   bash scripts/mutation.sh --report             # the report alone, from mutmut's state in mutants/
#   bash scripts/mutation.sh --sample 80 'harness.tasks.data.*'  # a seeded random sample of 80 mutants a module
#                                                 # (MUTATION_SEED, 0 by default), listed in sample.txt
# mutmut keeps every verdict in mutants/ (not committed); a run of some modules adds to it, and the report
# covers every mutant there, saying per module whether each one was checked. The verdicts are also saved in
# reports/mutation/state/ (committed) and put back into a fresh clone's mutants/ before a run, so a clone
# resumes where the last run stopped; mutmut itself checks again every function whose code changed since.
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
# one thread a test process: the workers (MUTATION_JOBS) share the cores; torch's threads spin-wait when there
# are more of them than free cores, which mutmut's CPU-time limit then reads as a mutant that hangs
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}

state=$out/state  # mutmut's verdicts, one .meta file per mutated module
if [ -d "$state" ]; then
  (cd "$state" && find . -name '*.meta' -print0) | while IFS= read -r -d '' meta; do
    [ -e "mutants/$meta" ] || { mkdir -p "$(dirname "mutants/$meta")"; cp "$state/$meta" "mutants/$meta"; }
  done
fi

if [ "${1:-}" = "--report" ]; then
  shift  # only the report, from the state a previous run left in mutants/
elif [ "${1:-}" = "--sample" ]; then
  # too many mutants to check every one: an unbiased estimate of the score from a random sample per module
  size=$2; shift 2
  # mutmut has no command that only makes the mutants (and their test stats): a name that matches no mutant
  # makes them, then stops
  "$mutmut" run --max-children "${MUTATION_JOBS:-2}" "no-such-mutant" >/dev/null 2>&1 || true
  mapfile -t picked < <("$python" scripts/mutation_report.py "$out" --pick "$size" "${MUTATION_SEED:-0}" "$@")
  if [ ${#picked[@]} -gt 0 ]; then  # only those not checked yet: a stopped sample run resumes
    "$mutmut" run --max-children "${MUTATION_JOBS:-2}" "${picked[@]}" || true
  fi
else
  "$mutmut" run --max-children "${MUTATION_JOBS:-2}" "$@" || true
fi
"$python" scripts/mutation_report.py "$out"
(cd mutants && find harness -name '*.meta' -print0) | while IFS= read -r -d '' meta; do
  mkdir -p "$(dirname "$state/$meta")"
  "$python" -c 'import json, sys; json.dump(json.load(open(sys.argv[1])), open(sys.argv[2], "w"), sort_keys=True)' \
    "mutants/$meta" "$state/$meta"
done
