"""harness.core.files: every write is whole or not at all, even when the disk fills up part-way."""

import errno
import stat

import pytest

from harness.core import files


def full_disk_after(monkeypatch, allowed: int) -> None:
    """Our one write helper writes ``allowed`` bytes of the next file, then fails as a full disk does."""

    def write_all(handle, payload: bytes) -> None:
        handle.write(payload[:allowed])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "_write_all", write_all)


def test_a_file_is_written_whole_and_readable_by_everyone(tmp_path):
    path = tmp_path / "new" / "card.md"
    assert files.write(path, "# 모델\n") == path
    assert path.read_text(encoding="utf-8") == "# 모델\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["card.md"]


def test_a_full_disk_part_way_leaves_the_old_file_whole_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "README.md"
    path.write_text("the user's own model card\n", encoding="utf-8")
    full_disk_after(monkeypatch, allowed=3)
    with pytest.raises(OSError) as err:
        files.write(path, "a new card, much longer than three bytes\n")
    assert err.value.errno == errno.ENOSPC
    assert path.read_text(encoding="utf-8") == "the user's own model card\n"
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]


def test_write_many_replaces_none_when_one_file_cannot_be_written(tmp_path, monkeypatch):
    old = {tmp_path / "a.csv": "old a\n", tmp_path / "b.json": "old b\n"}
    for path, text in old.items():
        path.write_text(text, encoding="utf-8")
    calls = []
    real = files._write_all

    def second_fails(handle, payload):
        calls.append(payload)
        if len(calls) == 2:
            handle.write(payload[:2])
            raise OSError(errno.ENOSPC, "No space left on device")
        real(handle, payload)

    monkeypatch.setattr(files, "_write_all", second_fails)
    with pytest.raises(OSError):
        files.write_many({tmp_path / "a.csv": "new a\n", tmp_path / "b.json": "new b\n", tmp_path / "c.yaml": "c\n"})
    assert {p: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()} == old
