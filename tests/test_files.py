"""reporting.files: a reader sees the old whole file or the new one, and nothing is left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting.files import atomic_path, atomic_write


def test_writes_bytes_and_text_as_given(tmp_path: Path) -> None:
    assert atomic_write(tmp_path / "a" / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    text = atomic_write(tmp_path / "c.txt", "één\r\ntwo\n")
    assert text.read_bytes() == "één\r\ntwo\n".encode()  # newlines not translated
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b.bin", "c.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = atomic_write(tmp_path / "out.txt", "old")
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_path(target) as temporary:
        temporary.write_text("half of the new")
        raise RuntimeError("disk on fire")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_temporary_names_are_unique_and_keep_the_suffix_asked_for(tmp_path: Path) -> None:
    target = tmp_path / "chart.png"
    with atomic_path(target, suffix=".part.png") as first, atomic_path(target, suffix=".part.png") as second:
        assert first != second and first.parent == second.parent == tmp_path
        assert first.name.startswith(".chart.png.") and first.suffix == ".png"
        first.write_bytes(b"1")
        second.write_bytes(b"2")
    assert target.read_bytes() == b"1"  # the outer writer finished last: its bytes are what is left
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]
