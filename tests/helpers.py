"""Helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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
