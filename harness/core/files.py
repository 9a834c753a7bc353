"""Writing files so that nothing is lost: every file koenbench writes goes through here.

A file is written to a temporary file beside it and renamed over it (``os.replace``), so a
reader, a kill or a full disk never leaves half a file: the old file stays whole until the
new one is complete. ``write_many`` does the same for several files at once: every new file
is complete before the first old one is replaced, so a full disk replaces none of them.

``_write_all`` is the one place bytes reach a file; tests make it fail part-way (a full disk)
to check that nothing is left half-written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Mapping, Optional, Union

Content = Union[str, bytes]
READABLE = 0o644  # mkstemp makes files private; records, pages and exports are for everyone to read


def _write_all(handle, payload: bytes) -> None:
    handle.write(payload)


def _as_bytes(content: Content) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def _staged(path: Path, content: Content) -> Path:
    """``content`` complete in a temporary file beside ``path`` (same folder, so the rename is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_all(handle, _as_bytes(content))
        os.chmod(tmp, READABLE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write(path: Path, content: Content) -> Path:
    """Write ``content`` (text as UTF-8) to ``path`` atomically; on any error the old file is left as it was."""
    path = Path(path)
    return write_many({path: content})[0]


def write_many(contents: Mapping[Path, Content]) -> list[Path]:
    """Write every file atomically, all complete before any is replaced; an error replaces none and leaves no
    temporary file. Returns the paths in the order given."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, content in contents.items():
            staged.append((_staged(Path(path), content), Path(path)))
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)  # after a failure; a replaced one is gone already
    return [Path(p) for p in contents]


def unwritable(folder: Path) -> Optional[str]:
    """Why files cannot be written into ``folder`` (created if missing), in words; None when they can.

    Checked before any work: a folder that is a file, lies under a file, or sits where this user may not
    write. (A full disk shows only when writing; ``write_many`` then replaces nothing.)
    """
    folder = Path(folder)
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None:
        return None
    if not existing.is_dir():
        return "is a file, not a folder" if existing == folder else f"lies under {existing}, which is a file"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot be written: {existing} is read-only for this user"
    return None
