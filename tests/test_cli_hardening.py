"""A mistyped path or a closed pipe gets one clear line and a non-zero exit, never a traceback
or a hang."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import cli


def one_clear_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: setting DATABASE_PATH: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("command", [["packs"], ["run"], ["statements", "preview"]])
def test_a_database_path_that_is_a_folder_is_named_as_one(
    tmp_path: Path, command: list[str]
) -> None:
    result = cli(*command, db=tmp_path, BOT_TOKEN="1:fake")
    one_clear_line(result, "is a folder")


@pytest.mark.parametrize("command", [["packs"], ["run"]])
def test_a_file_that_is_not_sqlite_is_refused_without_hanging(
    tmp_path: Path, command: list[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list: not a database\n" * 100, encoding="utf-8")
    result = cli(*command, db=notes, BOT_TOKEN="1:fake")  # the helper times out at 60 s
    one_clear_line(result, "not an SQLite database")
    assert notes.read_text(encoding="utf-8").startswith("shopping list")  # left as it was


def test_a_path_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    one_clear_line(cli("packs", db=tmp_path / "plain" / "db.sqlite3"), "is not a folder")


def test_a_place_where_nothing_can_be_written_is_refused() -> None:
    one_clear_line(cli("packs", db=Path("/proc/petites-mains.sqlite3")), "cannot open")


def test_a_reader_that_goes_away_ends_the_output_quietly(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    env = f"DATABASE_PATH={db}"
    script = f"{env} {sys.executable} -m bot --help | head -1"
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
