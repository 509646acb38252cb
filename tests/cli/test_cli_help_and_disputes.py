"""What `--help` offers is what the README documents and what the CLI accepts; a dispute id
that SQLite cannot hold is one line, not an OverflowError traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def help_of(*command: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def listed(help_text: str) -> set[str]:
    """The subcommands a --help lists (its indented 'name  what it does' lines)."""
    return set(re.findall(r"^    ([a-z][a-z-]+)", help_text, re.MULTILINE))


def test_the_readme_commands_table_and_help_list_the_same_commands() -> None:
    table = README.read_text(encoding="utf-8").split("### Commands", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `python -m bot ([a-z-]+)", table, re.MULTILINE))
    assert documented == listed(help_of())


def test_every_disputes_action_the_readme_shows_is_one_the_cli_accepts(tmp_path: Path) -> None:
    row = next(
        line
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `python -m bot disputes")
    )
    documented = set(re.findall(r"(?:\[|\\\| )([a-z]+)\b", row.split("`")[1]))
    assert documented == {"list", "accept", "reject", "review"} == listed(help_of("disputes"))
    db = tmp_path / "bot.sqlite3"
    for listing in (["disputes"], ["disputes", "list"]):
        result = cli(*listing, db=db)
        assert (result.returncode, result.stdout) == (0, "no open dispute\n")


@pytest.mark.parametrize("action", [["accept"], ["reject", "--reason", "no"]])
def test_a_dispute_id_beyond_sqlites_integers_is_one_line_and_exit_2(
    tmp_path: Path, action: list[str]
) -> None:
    verb, *rest = action
    result = cli("disputes", verb, "123456789012345678901", *rest, db=tmp_path / "bot.sqlite3")
    assert result.returncode == 2
    assert result.stderr == (
        f"error: disputes {verb}: argument id: not a dispute id: '123456789012345678901'"
        f" (a whole number from 1 to 9,223,372,036,854,775,807)"
        f" (see python -m bot disputes {verb} --help)\n"
    )


def test_the_largest_dispute_id_sqlite_holds_is_looked_up_not_refused(tmp_path: Path) -> None:
    result = cli("disputes", "accept", "#9223372036854775807", db=tmp_path / "bot.sqlite3")
    assert result.returncode == 1
    assert result.stderr == "error: no dispute #9223372036854775807\n"
