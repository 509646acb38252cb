"""`export --out` and `payouts export --out` as an operator mistypes them: nothing that was
there is destroyed (the live database least of all), and each refusal is one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from db import Database, Tx
from tests.helpers import cli, cli_into_a_closed_pipe


def loaded(tmp_path: Path, tasks: int = 5) -> Path:
    """A database holding the pack `reviews` with `tasks` tasks."""
    db = tmp_path / "bot.sqlite3"
    pack = tmp_path / "reviews.json"
    header = {"id": "reviews", "title": "Reviews", "instructions": "Pick one.", "reward": "0.02"}
    options = [{"id": "pos", "label": "Positive"}, {"id": "neg", "label": "Negative"}]
    rows = [{"id": f"t{i:04d}", "text": f"Review {i}"} for i in range(tasks)]
    content = {**header, "type": "single_choice", "options": options, "tasks": rows}
    pack.write_text(json.dumps(content), encoding="utf-8")
    assert cli("load-pack", str(pack), db=db).returncode == 0
    return db


async def owe(db_path: Path, worker: int, micros: int, name: str = "Ana") -> None:
    def seed(tx: Tx) -> None:
        tx.execute(
            "INSERT INTO workers (id, first_name, language, created_at, last_seen_at)"
            " VALUES (?, ?, 'fr', 'x', 'x')",
            (worker, name),
        )
        tx.execute(
            "INSERT INTO ledger (worker_id, kind, amount_micros, currency, reason,"
            " idempotency_key, created_at) VALUES (?, 'reward', ?, 'EUR', 'r', ?, 'x')",
            (worker, micros, f"seed:{worker}"),
        )

    async with Database(db_path) as db:
        await db.run(seed)


def refused_in_one_line(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert fragment in result.stderr


EXPORTS = [["export", "reviews"], ["payouts", "export", "--min", "1"]]


@pytest.mark.parametrize("command", EXPORTS)
def test_an_export_onto_the_database_leaves_the_database_intact(
    tmp_path: Path, command: list[str]
) -> None:
    db = loaded(tmp_path)
    before = db.read_bytes()
    for force in ([], ["--force"]):
        result = cli(*command, "--out", str(db), *force, db=db)
        refused_in_one_line(result, "is the bot's database")
    assert db.read_bytes() == before
    assert "reviews" in cli("packs", db=db).stdout  # still a working database


@pytest.mark.parametrize("command", EXPORTS)
async def test_an_existing_file_is_replaced_only_with_force(
    tmp_path: Path, command: list[str]
) -> None:
    db = loaded(tmp_path)
    await owe(db, 7, 25_500_000)
    target = tmp_path / "out.csv"
    target.write_text("last month's figures\n", encoding="utf-8")
    refused_in_one_line(cli(*command, "--out", str(target), db=db), "exists: add --force")
    assert target.read_text(encoding="utf-8") == "last month's figures\n"
    replaced = cli(*command, "--out", str(target), "--force", db=db)
    assert replaced.returncode == 0, replaced.stderr
    assert target.read_text(encoding="utf-8").startswith(("task,", "id,name"))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_unknown_pack_leaves_an_existing_out_file_intact(tmp_path: Path) -> None:
    db = loaded(tmp_path)
    target = tmp_path / "results.csv"
    target.write_text("precious\n", encoding="utf-8")
    for force in ([], ["--force"]):
        result = cli("export", "reveiws", "--out", str(target), *force, db=db)
        refused_in_one_line(result, "no pack 'reveiws'")
    assert target.read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bot.sqlite3",
        "results.csv",
        "reviews.json",
    ]


@pytest.mark.parametrize("command", EXPORTS)
def test_out_onto_a_folder_or_into_a_missing_folder_is_named(
    tmp_path: Path, command: list[str]
) -> None:
    db = loaded(tmp_path)
    refused_in_one_line(cli(*command, "--out", str(tmp_path), db=db), "is a folder")
    missing = tmp_path / "no-such-folder" / "out.csv"
    refused_in_one_line(cli(*command, "--out", str(missing), db=db), "is not an existing folder")
    assert not missing.parent.exists()


def test_an_export_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    db = loaded(tmp_path, tasks=3000)  # far more than a pipe holds: head leaves mid-stream
    script = f"{sys.executable} -m bot export reviews | head -1"
    result = subprocess.run(
        ["bash", "-c", script],
        env={"DATABASE_PATH": str(db), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.startswith("task,label,confidence")
    assert result.stderr == ""
    closed = cli_into_a_closed_pipe("export", "reviews", "--format", "jsonl", db=db)
    assert closed.returncode == 1 and closed.stderr == ""
