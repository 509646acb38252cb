"""`statements` from the shell: a week that has not ended is refused in one line, a finished
week is told in complete sentences, and a preview says when it shows only some statements."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from db import Database
from tasks.earnings import shift_week, week_of
from tests.helpers import cli, cli_into_a_closed_pipe, workers_paid

THIS_WEEK = week_of(datetime.now(UTC), ZoneInfo("Europe/Paris"))
WEDNESDAY_W47 = "2026-11-18T10:00:00.000000Z"


@pytest.mark.parametrize("week", [THIS_WEEK, shift_week(THIS_WEEK, 3)])
async def test_sending_a_week_that_has_not_ended_is_one_line_and_writes_nothing(
    tmp_path: Path, week: str
) -> None:
    path = tmp_path / "bot.sqlite3"
    await workers_paid(path, at=WEDNESDAY_W47, names=["Ana"])
    result = cli("statements", "send", "--week", week, db=path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: week {week} has not ended yet (it ends ")
    assert result.stderr.endswith("Europe/Paris): statements are for finished weeks\n")
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    async with Database(path) as db:
        assert await db.value("SELECT COUNT(*) FROM statement_weeks") == 0


async def test_a_finished_week_is_told_in_complete_sentences(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    await workers_paid(path, at=WEDNESDAY_W47, names=["Ana"])
    first = cli("statements", "send", "--week", "2026-W47", db=path)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "week 2026-W47: 1 statement computed and queued"
    assert lines[1] == "week 2026-W47: no statement waiting for a later time"  # due already
    assert lines[-1] == "week 2026-W47 in the outbox: 1 due"
    again = cli("statements", "send", "--week", "2026-W47", db=path).stdout.splitlines()
    assert again[0] == "week 2026-W47: computed before, its statements are kept as they are"
    assert again[1] == "week 2026-W47: no statement waiting for a later time"
    empty = cli("statements", "send", "--week", "2026-W40", db=path).stdout.splitlines()
    assert empty[0] == (
        "week 2026-W40: no statements: no worker earned or was owed anything that week"
    )
    for line in lines + again + empty:
        assert not line.rstrip().endswith(":")


async def test_a_preview_says_how_many_statements_it_leaves_out(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    await workers_paid(path, at=WEDNESDAY_W47, names=["Ana", "Ben", "Chloé", "Dan", "Eve"])
    result = cli("statements", "preview", "--week", "2026-W47", db=path)
    assert result.returncode == 0, result.stderr
    assert "  3 of 5 statements shown" in result.stdout.splitlines()
    assert result.stdout.count("--- worker ") == 3
    assert "--- worker 1 (Ana) ---" in result.stdout


async def test_a_preview_piped_into_a_reader_that_left_ends_quietly(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    await workers_paid(path, at=WEDNESDAY_W47, names=["Ana", "Ben"])
    result = cli_into_a_closed_pipe("statements", "preview", "--week", "2026-W47", db=path)
    assert result.returncode == 1 and result.stderr == ""
    script = f"{sys.executable} -m bot statements preview --week 2026-W47 | head -3"
    piped = subprocess.run(
        ["bash", "-c", script],
        env={"DATABASE_PATH": str(path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert len(piped.stdout.splitlines()) == 3 and piped.stderr == ""
