#!/usr/bin/env bash
# The hub tests, and koenbert's saved student loading three ways, on the LOWEST versions pyproject.toml allows
# of the Hugging Face libraries (transformers, datasets, huggingface_hub, tokenizers), so that its floors are
# tested, not hoped for. The floors are read from
# pyproject.toml, installed into .floor/ and put ahead of .venv's own versions with PYTHONPATH.
#   bash scripts/test-floor.sh            # after scripts/setup.sh --test
set -euo pipefail
cd "$(dirname "$0")/.."

pins=$(.venv/bin/python - <<'PY'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
floors = dict(re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", d.split(";")[0].strip()).groups() for d in deps if ">=" in d)
print(" ".join(f"{name}=={floors[name]}" for name in ("transformers", "datasets", "huggingface_hub", "tokenizers")))
PY
)
echo "floor versions: $pins"
rm -rf .floor
# --no-deps: only these four (and what the older huggingface_hub needs, httpx) shadow .venv; datasets 4.7 wants an older fsspec
.venv/bin/python -m pip install -q --no-deps --target .floor $pins "fsspec==2026.2.0"
.venv/bin/python -m pip install -q --target .floor httpx
PYTHONPATH=.floor .venv/bin/python - <<'PY'
import datasets, huggingface_hub, tokenizers, transformers
print("testing with", *(f"{m.__name__} {m.__version__}" for m in (transformers, datasets, huggingface_hub, tokenizers)))
PY
PYTHONPATH=.floor .venv/bin/python -m pytest -q tests/core/test_hub.py tests/run/test_models.py tests/tasks/test_data_hub.py \
  "tests/koenbert/test_extend.py::test_the_saved_student_loads_to_the_same_ids_three_ways_with_hangul_intact"
