#!/usr/bin/env bash
# Submit the grid as SHARDS array tasks (default 8), then merge.sbatch once they have all ended.
#   MODEL=klue/bert-base SEEDS=42,43,44 SHARDS=8 bash scripts/slurm/submit.sh [extra sbatch options]
# The environment (MODEL, SEEDS, TASKS, DATA_DIR, OUTPUT, JOBS, BENCH, EXTRA) goes to both jobs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${MODEL:?set MODEL, e.g. MODEL=klue/bert-base}"
shards=${SHARDS:-8}
array=$(sbatch --parsable --export=ALL --array="0-$((shards - 1))" "$@" "$here/grid.sbatch")
array=${array%%;*}  # --parsable prints "jobid[;cluster]"
merge=$(sbatch --parsable --export=ALL --dependency="afterany:$array" "$@" "$here/merge.sbatch")
echo "grid: array job $array ($shards shards); merge: job ${merge%%;*} after it"
