"""What a result came from: package versions, git commit, device and precision."""

from __future__ import annotations

import platform
import subprocess
from functools import lru_cache

import torch
import transformers

from harness import __version__
from harness.core.paths import FROM_CLONE, REPO_ROOT


@lru_cache(maxsize=1)
def git_commit() -> str:
    if not FROM_CLONE:  # an installed package: git would answer for whatever repository holds the venv
        return "unknown"
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: no CUDA device is visible here; use --device cpu")
    return device


def precision(device: torch.device) -> str:
    return "bf16" if device.type == "cuda" else "fp32"


def describe(device: torch.device) -> dict[str, str]:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({platform.processor() or platform.machine()})"
    return {
        "koenbench": __version__,
        "git": git_commit(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "device": name,
        "precision": precision(device),
    }
