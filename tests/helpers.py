"""Helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from db import Database


def cli(
    *args: str, db: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` as an operator runs it, on the database `db`, from db's folder."""
    environment = {**os.environ, "DATABASE_PATH": str(db), "PTB_TIMEDELTA": "1", **env}
    if "BOT_TOKEN" not in env:
        environment.pop("BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=db.parent if db.parent.is_dir() else None,
        input=stdin,
    )


def cli_into_a_closed_pipe(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS | head` where the reader has already gone: stdout is a pipe whose
    reading end is closed before the command starts, so its first write meets a broken pipe."""
    reading, writing = os.pipe()
    os.close(reading)
    environment = {**os.environ, "DATABASE_PATH": str(db), "PTB_TIMEDELTA": "1"}
    environment.pop("BOT_TOKEN", None)
    try:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=environment,
            stdout=writing,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            cwd=db.parent,
        )
    finally:
        os.close(writing)


async def queued(db: Database) -> list[SimpleNamespace]:
    """The messages queued in the outbox and not sent yet (worker_id None: the operators)."""
    rows = await db.query("SELECT recipient, kind, params FROM outbox WHERE status = 'due'")
    return [
        SimpleNamespace(worker_id=row[0], text_key=row[1], params=json.loads(row[2]))
        for row in rows
    ]
