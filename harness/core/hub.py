"""The Hugging Face hub, resolved once per run to a snapshot: the one module that calls huggingface_hub to fetch.

A hub model or dataset is named by a repo id and a revision (a branch, a tag or a commit). Loading
it by id, twice (once to learn the commit, once for the weights), lets a push between the two
put one commit in the record and another's files in the run. So every hub read goes through
``snapshot``: huggingface_hub resolves the revision to a commit once and hands back the cache
folder of exactly that commit (``<HF_HUB_CACHE>/models--org--name/snapshots/<commit>/``), and
everything (config, tokenizer, weights, data files) is loaded from that folder.

Offline (``HF_HUB_OFFLINE=1``, or no network) huggingface_hub answers from the same cache: the
revision's ``refs/`` entry names the commit, and the snapshot folder holds what an earlier
download (``hf download org/name``) put there. What is missing is named with the command that
fetches it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional, Sequence

from harness.core import checked

RepoType = Literal["model", "dataset"]
COMMIT = re.compile(r"[0-9a-f]{40}")


class HubUnavailable(checked.InputError):
    """A hub repo, revision or file could not be had; the message says which and how to get it."""


@dataclass(frozen=True)
class Snapshot:
    """One commit of one hub repo, in the local cache."""

    repo_id: str
    repo_type: RepoType
    commit: str  # 40 hex digits: what the record names
    folder: Path  # the cache's folder of that commit; what the libraries load from

    @property
    def shown(self) -> str:
        return f"{self.repo_id}@{self.commit[:12]}"


def download_hint(repo_id: str, repo_type: RepoType, revision: Optional[str], patterns: Optional[Sequence[str]]) -> str:
    """The command that puts ``repo_id`` into the cache, for where the network is."""
    parts = ["hf download", repo_id]
    if repo_type == "dataset":
        parts.append("--repo-type dataset")
    if revision:
        parts.append(f"--revision {revision}")
    if patterns:
        parts.append("--include " + " ".join(f"'{p}'" for p in patterns))
    return " ".join(parts)


def snapshot(repo_id: str, repo_type: RepoType, revision: Optional[str] = None,
             patterns: Optional[Sequence[str]] = None, hint_patterns: Optional[Sequence[str]] = None) -> Snapshot:
    """Resolve ``revision`` (default: main) of a hub repo to its commit, with the files matching ``patterns``
    (fnmatch patterns of huggingface_hub; None: every file) in the local cache. A missing repo or file is
    answered with the command that downloads ``hint_patterns`` (default: ``patterns``; () for the whole repo)."""
    import huggingface_hub
    from huggingface_hub import errors

    incomplete = getattr(errors, "IncompleteSnapshotError", ())  # huggingface_hub 2: a partial cached snapshot
    kind = "dataset" if repo_type == "dataset" else "model"
    where = f"{kind} {repo_id!r}" + (f" at revision {revision!r}" if revision else "")
    hint = download_hint(repo_id, repo_type, revision, patterns if hint_patterns is None else hint_patterns)
    try:
        folder = huggingface_hub.snapshot_download(repo_id, repo_type=repo_type, revision=revision,
                                                   allow_patterns=list(patterns) if patterns else None)
    except errors.RevisionNotFoundError:
        raise HubUnavailable(f"{where}: the hub has no such revision (a branch, tag or 40-digit commit)") from None
    except errors.GatedRepoError:
        raise HubUnavailable(f"{where}: gated on the hub; accept its terms on the model page and log in "
                             "(hf auth login), or download it where you can and pass its folder") from None
    except errors.RepositoryNotFoundError:
        raise HubUnavailable(f"{where}: no such repo on the hub (or it is private: hf auth login)") from None
    except incomplete as err:
        raise HubUnavailable(f"{where}: the cached copy is incomplete ({err}); complete it where the network is: {hint}") from None
    except errors.LocalEntryNotFoundError:
        raise HubUnavailable(
            f"{where}: not in the Hugging Face cache ({_cache_shown()}) and the hub cannot be reached (offline or no "
            f"network). Download it once where the network is, into the same cache (HF_HOME): {hint}"
        ) from None
    except (errors.HfHubHTTPError, OSError, ValueError) as err:  # a malformed id, a broken cache, the hub failing
        raise HubUnavailable(f"{where}: could not be read from the hub or the cache ({type(err).__name__}: {err})") from None
    folder = Path(folder)
    if not COMMIT.fullmatch(folder.name):
        raise HubUnavailable(f"{where}: huggingface_hub returned {checked.shown_path(folder)}, not a cache snapshot; "
                             "unset HF_HUB_CACHE's local-dir style settings")
    return Snapshot(repo_id=repo_id, repo_type=repo_type, commit=folder.name, folder=folder)


def _cache_shown() -> str:
    from huggingface_hub import constants

    return f"HF_HUB_CACHE={checked.shown_path(Path(constants.HF_HUB_CACHE))}"


def is_offline() -> bool:
    """Whether huggingface_hub is told not to reach the hub (HF_HUB_OFFLINE, read when it is imported)."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def cached_commit(repo_id: str, repo_type: RepoType, revision: Optional[str] = None) -> Optional[str]:
    """The commit the local cache holds for ``revision`` (default main) of a repo, or None; never the network."""
    from huggingface_hub import constants
    from huggingface_hub.file_download import repo_folder_name

    storage = Path(constants.HF_HUB_CACHE) / repo_folder_name(repo_id=repo_id, repo_type=repo_type)
    revision = revision or "main"
    if COMMIT.fullmatch(revision):
        commit: Optional[str] = revision
    else:
        ref = storage / "refs" / revision
        commit = ref.read_text(encoding="utf-8").strip() if ref.is_file() else None
    return commit if commit and (storage / "snapshots" / commit).is_dir() else None


# A dataset repo's card (README.md) says, in its YAML `configs:`, which files make each config.
CARD = "README.md"


def dataset_snapshot(repo_id: str, config: Optional[str], revision: Optional[str] = None) -> Snapshot:
    """A hub dataset at one commit, with the data files of ``config`` (and its card) in the cache.

    The card is fetched first, which fixes the commit; the config's files are then fetched at
    that commit, so both come from one commit even while the repo's branch moves.
    """
    # Without the card, which files make the config is unknown: the hint then names the whole repo, not the
    # card alone (a download of the card only would leave the data for a second round).
    card = snapshot(repo_id, "dataset", revision, (CARD,), hint_patterns=())
    patterns = config_patterns(card.folder / CARD, config)
    return snapshot(repo_id, "dataset", card.commit, (CARD, *patterns) if patterns else None)


def config_patterns(card: Path, config: Optional[str]) -> list[str]:
    """The repo paths (fnmatch patterns) holding ``config``'s data, from the card's ``configs:``; [] means
    every file (a card without configs: ``datasets`` then finds the data files by its own naming rules)."""
    from huggingface_hub import DatasetCard

    if not card.is_file():
        return []
    configs = DatasetCard.load(card).data.to_dict().get("configs") or []
    entries = [c for c in configs if isinstance(c, dict)]
    chosen = next((c for c in entries if c.get("config_name", "default") == (config or "default")), None)
    if chosen is None and config is None:
        chosen = next((c for c in entries if c.get("default")), entries[0] if len(entries) == 1 else None)
    if chosen is None:
        if config is None:
            return []
        return [f"{config}/*"]  # no card entry: the hub's own convention, one folder a config
    data_dir = str(chosen.get("data_dir") or "").strip("/")
    patterns = [p for p in _data_file_paths(chosen.get("data_files"))]
    if data_dir:
        patterns = [f"{data_dir}/{p}" for p in patterns] or [f"{data_dir}/*"]
    return patterns


def _data_file_paths(data_files: object) -> list[str]:
    """A card's ``data_files`` (a path, a list of paths, or a list of {split, path}) as a flat list of paths."""
    if isinstance(data_files, str):
        return [data_files]
    paths: list[str] = []
    for item in data_files if isinstance(data_files, list) else []:
        if isinstance(item, dict):
            paths += _data_file_paths(item.get("path"))
        elif isinstance(item, str):
            paths.append(item)
    return paths
