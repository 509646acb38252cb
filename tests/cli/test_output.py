"""Output files: written whole or not at all, never over something without --force."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from bot.cli.output import OutputError, output_file


def test_a_file_is_written_whole_and_nothing_is_left_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with output_file(target) as out:
        out.write("a,b\n")
    assert target.read_text(encoding="utf-8") == "a,b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_failure_midway_leaves_the_previous_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("precious\n", encoding="utf-8")
    with pytest.raises(LookupError), output_file(target, force=True) as out:
        out.write("half")
        raise LookupError("no such pack")
    assert target.read_text(encoding="utf-8") == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_an_existing_file_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("precious\n", encoding="utf-8")
    with pytest.raises(OutputError, match="exists: add --force"), output_file(target):
        pass
    with output_file(target, force=True) as out:
        out.write("new\n")
    assert target.read_text(encoding="utf-8") == "new\n"


def test_the_database_is_never_an_output_even_with_force(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    database.write_bytes(b"SQLite format 3\x00")
    for target in (database, tmp_path / "bot.sqlite3-wal", tmp_path / "." / "bot.sqlite3"):
        with pytest.raises(OutputError, match="the bot's database"):
            with output_file(target, force=True, protected=[database]):
                pass
    assert database.read_bytes() == b"SQLite format 3\x00"


def test_a_folder_or_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a folder"), output_file(tmp_path):
        pass
    with pytest.raises(OutputError, match="is not an existing folder"):
        with output_file(tmp_path / "nowhere" / "out.csv"):
            pass


def test_a_full_disk_is_one_clear_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)  # the disk fills as the file is flushed
    target = tmp_path / "out.csv"
    with pytest.raises(OutputError, match=r"cannot write .*out\.csv: No space left on device"):
        with output_file(target) as out:
            out.write("a,b\n")
    assert list(tmp_path.iterdir()) == []
