"""What benchmarks/gpu_check.py needs before it can measure: packages, data and models.

Two sides:
- here (a CPU machine with the project's venv): ``pack`` fills the ignored folder ``.gpu-carry/``
  with what the lent GPU machine lacks, small enough for the device tool's 64 MiB ``carry``:
  the task files of ../shared/data as one .tar.xz (19 MB of text -> ~3.6 MB), all-MiniLM-L6-v2
  in half precision (44 MiB; the fp32 original is 87 MiB) and the wheels of the packages the
  image lacks (datasets, seqeval, pydantic, ...);
- there (the GPU image: torch, transformers, accelerate, pandas, scikit-learn, but no datasets,
  seqeval or pydantic): ``check_packages`` prints every needed package's version, installs the
  missing ones from the carried wheels into a private folder, and fails before any measurement
  if something is still missing or too old.

Standard library only (and ``packaging``, which transformers needs): this runs before the
project's own imports, which need the packages it installs.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
CARRY_DIR = REPO_ROOT / ".gpu-carry"  # ignored by git; name it in the device tool's `carry`
CARRY_LIMIT_BYTES = 64 * 2**20  # the device tool carries the working tree and `carry` paths up to 64 MiB
SITE_DIR = Path("/tmp/koenbench-site")  # where carried wheels are installed on the device

# Distributions gpu_check imports (the project's dependencies minus the site's mkdocs, plus the
# needs of datasets and pydantic that the GPU image lacks); the versions come from pyproject.toml.
NEEDED = ("torch", "transformers", "accelerate", "datasets", "tokenizers", "safetensors", "scikit-learn", "scipy",
          "seqeval", "pandas", "pyyaml", "pydantic", "pydantic-core", "typer", "rich", "dill", "multiprocess",
          "xxhash", "pyarrow", "fsspec", "annotated-types", "typing-inspection")
# Wheels to carry: what the image lacks (KINDS.md's package list of the device machine).
CARRIED = ("datasets", "dill", "multiprocess", "seqeval", "pydantic", "pydantic-core", "annotated-types",
           "typing-inspection",
           "fsspec", "typing-extensions")  # installed only if the image's version misses a carried wheel's needs


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def required_versions() -> dict[str, str]:
    """pyproject.toml's version specifiers by normalized distribution name, e.g. {'transformers': '>=4.44'}."""
    from packaging.requirements import Requirement

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {normalize(r.name): str(r.specifier) for r in map(Requirement, project["dependencies"])}


def installed_version(name: str) -> Optional[str]:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def wheel_versions(wheels: Optional[Path]) -> dict[str, tuple[str, Path]]:
    """{normalized name: (version, path)} of the wheels in ``wheels`` (names as in PEP 427 file names)."""
    if wheels is None or not wheels.is_dir():
        return {}
    found = {}
    for path in sorted(wheels.glob("*.whl")):
        name, version = path.name.split("-")[:2]
        if normalize(name) in found:
            raise SystemExit(f"{wheels}: two wheels of {name} ({found[normalize(name)][1].name}, {path.name}); keep one")
        found[normalize(name)] = (version, path)
    return found


@dataclass
class PackageRow:
    name: str
    required: str
    installed: Optional[str]
    wheel: Optional[str]
    ok: bool
    action: str  # "image" | "install from wheel" | "MISSING" | "TOO OLD"


def package_plan(wheels: Optional[Path], needed=NEEDED) -> list[PackageRow]:
    """Each needed package: the version required, found, and carried; what to do about it."""
    from packaging.specifiers import SpecifierSet

    required, carried = required_versions(), wheel_versions(wheels)
    rows = []
    for name in map(normalize, needed):
        spec, have = SpecifierSet(required.get(name, "")), installed_version(name)
        wheel = carried.get(name, (None,))[0]
        if have is not None and spec.contains(have, prereleases=True):
            rows.append(PackageRow(name, str(spec), have, wheel, True, "present"))
        elif wheel is not None and spec.contains(wheel, prereleases=True):
            rows.append(PackageRow(name, str(spec), have, wheel, True, "install from wheel"))
        else:
            rows.append(PackageRow(name, str(spec), have, wheel, False, "TOO OLD" if have or wheel else "MISSING"))
    return rows


def check_packages(wheels: Optional[Path], dry_run: bool, needed=NEEDED, site: Path = SITE_DIR,
                   print_=print) -> list[PackageRow]:
    """Print the versions, install what is missing from ``wheels`` into ``site`` (dry run: only print the
    command), then import them all in a fresh process; exit before any measurement if that fails."""
    rows = package_plan(wheels, needed)
    print_(f"{'package':<20}{'required':<12}{'here':<16}{'carried wheel':<16}action")
    for r in rows:
        print_(f"{r.name:<20}{r.required or '-':<12}{r.installed or '-':<16}{r.wheel or '-':<16}{r.action}")
    problems = [f"{r.name} {r.action.lower()} (needs {r.required or 'any'})" for r in rows if not r.ok]
    if problems:
        raise SystemExit("cannot measure: " + "; ".join(problems) + ". Rebuild the carry: python benchmarks/gpu_check.py --pack")
    names, warnings = resolve_needs(wheels, [r.name for r in rows if r.action == "install from wheel"])
    for line in warnings:  # pip's metadata is stricter than most imports: the import check below decides
        print_(f"warning: {line}")
    to_install = [wheel_versions(wheels)[name][1] for name in names]
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
               "--no-cache-dir", "--upgrade", "--target", str(site), *map(str, to_install)]
    print_(("dry run, would run: " if dry_run else "installing: ") + (" ".join(command) if to_install else "nothing to install"))
    if to_install and not dry_run:
        subprocess.run(command, check=True)
        use_site(site)
    return rows


def resolve_needs(wheels: Optional[Path], names: list[str]) -> tuple[list[str], list[str]]:
    """The wheels to install: ``names`` and every carried wheel that their needs call for because the
    image's version does not satisfy them; and the needs that nothing here satisfies, as warnings."""
    from packaging.requirements import Requirement

    carried = wheel_versions(wheels)
    todo, chosen, warnings = list(names), list(names), []
    while todo:
        name = todo.pop()
        for text in wheel_requirements(carried[name][1]):
            req = Requirement(text)
            dep, have = normalize(req.name), installed_version(req.name)
            wheel = carried.get(dep, (None,))[0]
            if dep in chosen and req.specifier.contains(wheel, prereleases=True):
                continue
            if have is not None and req.specifier.contains(have, prereleases=True):
                continue
            if wheel is not None and req.specifier.contains(wheel, prereleases=True):
                chosen.append(dep)
                todo.append(dep)
                continue
            warnings.append(f"{name} asks for {text}; found {have or 'nothing'} here, {wheel or 'no wheel'} carried")
    return chosen, warnings


def import_check(modules: tuple[str, ...] = ("torch", "transformers", "accelerate", "datasets", "seqeval", "pydantic",
                                             "sklearn", "scipy", "yaml", "rich", "typer")) -> None:
    """Import the packages in a fresh process (with the installed wheels), as the parts will."""
    done = subprocess.run([sys.executable, "-c", "import " + ", ".join(modules)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    if done.returncode != 0:
        raise SystemExit("cannot measure: importing " + ", ".join(modules) + " failed:\n" + done.stderr[-3000:])
    print("imports: " + ", ".join(modules) + ": ok")


def use_site(site: Path) -> None:
    """Make ``site`` importable here and in every child process (parts, `bench run` workers)."""
    if site.is_dir() and str(site) not in sys.path:
        sys.path.insert(0, str(site))
    paths = [str(REPO_ROOT)] + ([str(site)] if site.is_dir() else []) + [os.environ.get("PYTHONPATH", "")]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in paths if p))


# ---------------------------------------------------------------------------------------------
# Packing (here) and unpacking (there)
# ---------------------------------------------------------------------------------------------
def task_files(shared: Path) -> list[str]:
    """The local files that the task YAMLs name, relative to ``shared``."""
    sys.path.insert(0, str(REPO_ROOT))
    from harness.tasks import spec

    names = {f.path for s in spec.load_tasks(["all"]) if s.dataset.local for f in s.dataset.local.files.values()}
    missing = [n for n in sorted(names) if not (shared / n).is_file()]
    if missing:
        raise SystemExit(f"{shared}: missing {', '.join(missing)}; point --shared-data at the shared data folder")
    return sorted(names)


def pack(shared: Path, carry: Path = CARRY_DIR) -> int:
    """Fill ``carry`` with data.tar.xz, minilm-fp16/ and wheels/; returns the bytes that will travel."""
    pack_data(shared, carry)
    _minilm_fp16(carry / "minilm-fp16")
    _wheels(carry / "wheels")
    tree = subprocess.run(["git", "-C", str(REPO_ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
                          capture_output=True, check=True).stdout.decode().split("\0")
    total = sum((REPO_ROOT / f).stat().st_size for f in tree if f and (REPO_ROOT / f).is_file())
    total += sum(p.stat().st_size for p in carry.rglob("*") if p.is_file())
    print(f"{carry.name}: " + ", ".join(f"{p.name} {_size(p) / 2**20:.1f} MiB" for p in sorted(carry.iterdir())))
    print(f"working tree + carry: {total / 2**20:.1f} MiB of the device tool's 64 MiB")
    if total > CARRY_LIMIT_BYTES:
        raise SystemExit("too large to carry: leave out a wheel or a task file")
    return total


def pack_data(shared: Path, carry: Path) -> Path:
    """The task files of ``shared`` as ``carry/data.tar.xz`` (text: about a fifth of its size)."""
    carry.mkdir(parents=True, exist_ok=True)
    with tarfile.open(carry / "data.tar.xz", "w:xz") as tar:
        for name in task_files(shared):
            tar.add(shared / name, arcname=name)
    return carry / "data.tar.xz"


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _minilm_fp16(out: Path) -> None:
    """all-MiniLM-L6-v2 in float16 (the device converts it back to float32 before training)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    sys.path.insert(0, str(REPO_ROOT))
    from harness.testing import tiny

    src = tiny.minilm_dir()
    AutoModel.from_pretrained(src, dtype=torch.float16).save_pretrained(out)
    AutoTokenizer.from_pretrained(src).save_pretrained(out)


def _wheels(out: Path) -> None:
    """Wheels of CARRIED for the device's Python 3.12 on x86-64, at this venv's versions (whose tests pass).

    Like ../shared/tools/gpu-wheels.sh, but pinned: an unpinned dill or multiprocess can be newer
    than the pinned datasets accepts."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    pinned = [f"{n}=={installed_version(n)}" for n in CARRIED if n != "seqeval"]
    platforms = [a for p in ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
                 for a in ("--platform", p)]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(out), *pinned], check=True)
    # seqeval has no wheel upstream (an sdist of pure Python): build one here
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    f"seqeval=={installed_version('seqeval')}"], check=True)


def wheel_requirements(wheel: Path) -> list[str]:
    """The Requires-Dist lines of a wheel that apply to this interpreter (extras left out)."""
    import zipfile

    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        lines = z.read(meta).decode("utf-8").splitlines()
    reqs = [Requirement(line.split(":", 1)[1].strip()) for line in lines if line.startswith("Requires-Dist:")]
    return [str(r) for r in reqs if r.marker is None or r.marker.evaluate({"extra": ""})]


def unpack_data(carry: Path, dest: Path) -> Path:
    """The carried task files under ``dest``, laid out like ../shared/data."""
    archive = carry / "data.tar.xz"
    if not archive.is_file():
        raise SystemExit(f"{archive}: not found; make it here with python benchmarks/gpu_check.py --pack")
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest


# ---------------------------------------------------------------------------------------------
# The plan: what each part measures, at which size, within which budget
# ---------------------------------------------------------------------------------------------
# In this order: the compile part, whose compilations cost the most per figure, goes last. "memory" is
# read off the grid's runs.
PARTS = ("prepare", "quality", "grid", "distill", "compile")


@dataclass
class Plan:
    dry_run: bool
    work: str  # scratch folder: data, models, every run's output
    carry: str  # the carried folder (.gpu-carry); unused by a dry run
    minilm_id: str  # how the records call the MiniLM stand-in
    base_id: str  # how they call the random bert-base (or its tiny stand-in)
    model_shape: dict  # BertConfig settings of the random models; {} = bert-base
    quality_tasks: list  # part 1: all-MiniLM-L6-v2, full data, task protocols; MRPC also through Trainer
    quality_jobs: int  # runs at a time for the quality tasks other than MRPC
    quality_overrides: dict
    quality_limit: Optional[int]  # --limit for the quality runs; None = the full train split (the GPU run)
    grid_tasks: list  # part 2: the suite grid, random bert-base
    grid_seeds: list
    grid_jobs: list  # bench run --jobs N for each N, most concurrent first
    grid_limit: int  # --limit: train rows per task (after its carve)
    grid_eval_limit: int  # --eval-limit
    grid_overrides: dict
    compile_tasks: list  # part 3, in order, as far as the budget goes
    compile_limit: int  # train rows per task; two epochs (the second is the steady state)
    distill_batches: list  # part 5: chunks per step, one run each
    distill_seq_len: int
    distill_steps: int
    distill_log_every: int
    relation_heads: int
    budgets: dict  # part -> seconds

    def path(self, *parts: str) -> Path:
        return Path(self.work, *parts)


def gpu_plan(work: Path, carry: Path) -> Plan:
    """One H100/H200, under 8 minutes all told (the budgets sum to 475 s; the package check comes on top).

    The sizes are estimates from the issue's reference rates (Trainer ~430 examples/s on bert-base):
    the first GPU run's JSON gives each run's time, to size the next."""
    return Plan(
        dry_run=False, work=str(work), carry=str(carry),
        minilm_id="sentence-transformers/all-MiniLM-L6-v2", base_id="bert-base-random", model_shape={},
        quality_tasks=["glue/mrpc", "glue/stsb", "glue/sst2", "klue/sts", "klue/ynat"], quality_jobs=4,
        quality_overrides={}, quality_limit=None,
        grid_tasks=["klue/ynat", "klue/sts", "klue/nli", "klue/ner", "glue/mrpc", "glue/stsb", "glue/sst2", "glue/qnli"],
        grid_seeds=[42, 43, 44], grid_jobs=[8, 4, 2, 1], grid_limit=512, grid_eval_limit=400,
        grid_overrides={"epochs": 1},
        compile_tasks=["glue/sst2", "klue/ner", "glue/mrpc", "klue/ynat"], compile_limit=2000,
        distill_batches=[128, 64, 16], distill_seq_len=256, distill_steps=30, distill_log_every=5, relation_heads=48,
        budgets={"prepare": 40, "quality": 130, "grid": 160, "distill": 75, "compile": 75},
    )


def dry_plan(work: Path) -> Plan:
    """Every code path of the GPU plan on CPU with tiny models and the repository's samples, in about a minute."""
    return Plan(
        dry_run=True, work=str(work), carry="",
        minilm_id="fixture/tiny-bert", base_id="fixture/tiny-bert-random",
        model_shape={"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64},
        quality_tasks=["glue/mrpc", "glue/stsb"], quality_jobs=1, quality_overrides={"epochs": 1},
        quality_limit=16,
        grid_tasks=["glue/mrpc", "klue/ner"], grid_seeds=[1, 2], grid_jobs=[2, 1], grid_limit=12, grid_eval_limit=8,
        grid_overrides={"epochs": 1},
        compile_tasks=["glue/mrpc"], compile_limit=16,
        distill_batches=[2], distill_seq_len=32, distill_steps=4, distill_log_every=1, relation_heads=4,
        # generous: the dry run checks code paths, and a shared CPU can be many times slower than an idle one
        budgets={"prepare": 600, "quality": 600, "grid": 600, "compile": 600, "distill": 600},
    )
