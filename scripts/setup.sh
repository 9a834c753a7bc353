#!/usr/bin/env bash
# Set up a fresh clone: a virtual environment in .venv with koenbench installed.
#   bash scripts/setup.sh          # for the demo and real use
#   bash scripts/setup.sh --test   # also the test tools and Debian's chromium for the browser test
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build where a CPU one is wanted
python -m pip install -q "torch==2.13.0"
if [[ "${1:-}" == "--test" ]]; then
  python -m pip install -q -e ".[test]"
  bash .ci/browser.sh
else
  python -m pip install -q -e ".[demo]"
fi
echo "koenbench installed in .venv ($(python -c 'import harness; print(harness.__version__)'))"
