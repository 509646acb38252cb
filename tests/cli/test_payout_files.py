"""`payouts mark-paid FILE` with the wrong file: one line that names the file and what is wrong
with it, nothing recorded, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import cli


def named_in_one_line(file: Path, problem: str, db: Path) -> None:
    result = cli("payouts", "mark-paid", str(file), db=db)
    assert result.returncode == 1
    assert result.stderr == f"error: {file}{problem}; nothing recorded\n"


def test_a_payout_file_that_is_not_utf8_is_named_with_the_problem(tmp_path: Path) -> None:
    latin1 = tmp_path / "payouts.csv"
    latin1.write_bytes("id,name,amount,currency\n7,Zoé,25.50,EUR\n".encode("latin-1"))
    named_in_one_line(
        latin1,
        ": not UTF-8 text (byte 0xe9 at offset 28): save the payout list as CSV in UTF-8",
        tmp_path / "bot.sqlite3",
    )


def test_a_folder_a_missing_file_or_a_fifo_is_named_as_what_it_is(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    named_in_one_line(tmp_path, " is a folder: name the payout file (a CSV)", db)
    named_in_one_line(tmp_path / "payouts.csv", ": no such file", db)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # reading it would wait forever for a writer
    named_in_one_line(fifo, " is not a regular file: name the payout file (a CSV)", db)


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("99999999999999999999999,A,1,EUR", "line 2: not a worker id: '99999999999999999999999'"),
        ("7,A", "line 2: 2 values, expected 4: id,name,amount,currency"),
        ("7,A,1e400,EUR", "line 2: too large: '1e400' (at most 1,000,000,000)"),
    ],
)
def test_a_bad_line_is_listed_and_nothing_is_recorded(
    tmp_path: Path, line: str, error: str
) -> None:
    file = tmp_path / "payouts.csv"
    file.write_text(f"id,name,amount,currency\n{line}\n", encoding="utf-8")
    result = cli("payouts", "mark-paid", str(file), db=tmp_path / "bot.sqlite3")
    assert result.returncode == 1
    assert result.stderr == f"refused, nothing recorded:\n{error}\n"
