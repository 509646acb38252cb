"""The CLI as an operator uses it: `python -m bot load-pack`, `packs`, and bad settings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.helpers import pack_dict


def cli(*args: str, db: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_PATH": str(db), "PTB_TIMEDELTA": "1", **env}
    environment.pop("BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=db.parent,
    )


def write(path: Path, pack: dict[str, Any]) -> Path:
    path.write_text(json.dumps(pack, indent=2), encoding="utf-8")
    return path


def test_a_pack_loads_once_and_a_reload_is_refused_without_replace(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite3"
    pack = write(tmp_path / "reviews.json", pack_dict(tasks=4))
    first = cli("load-pack", str(pack), db=db)
    assert first.returncode == 0, first.stderr
    assert "reviews" in first.stdout and "4 tasks" in first.stdout

    again = cli("load-pack", str(pack), db=db)
    assert again.returncode == 1
    assert "already exists" in again.stdout + again.stderr and "--replace" in again.stdout

    replaced = cli("load-pack", str(pack), "--replace", db=db)
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr

    table = cli("packs", db=db)
    assert table.returncode == 0
    assert table.stdout.count("reviews") == 1  # nothing duplicated
    header, _, row = table.stdout.splitlines()[:3]
    columns = dict(zip(re.split(r"\s{2,}", header), re.split(r"\s{2,}", row.strip()), strict=True))
    assert (columns["tasks"], columns["answers"], columns["wanted"]) == ("4", "0", "12")


def test_a_bad_pack_lists_every_error_with_line_and_task_and_imports_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "cli.sqlite3"
    pack = pack_dict(tasks=6)
    pack["tasks"][1]["gold"] = "maybe"
    pack["tasks"][3]["text"] = "x" * 3501
    pack["tasks"][5]["id"] = pack["tasks"][0]["id"]
    path = write(tmp_path / "bad.json", pack)
    result = cli("load-pack", str(path), db=db)
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "nothing imported" in out
    assert 'task "t001"' in out and "maybe" in out
    assert 'task "t003"' in out
    assert 'task "t000"' in out and "duplicate" in out.lower()
    lines = [line for line in out.splitlines() if line.strip().startswith("line ")]
    assert len(lines) == 3
    assert "no pack" in cli("packs", db=db).stdout


def test_a_bad_setting_is_one_clear_line_and_exit_code_2(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite3"
    result = cli("packs", db=db, TIMEZONE="Mars/Olympus")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: setting TIMEZONE: unknown time zone 'Mars/Olympus' (e.g. Europe/Paris)"
    ]
    assert "Traceback" not in result.stderr
    ids = cli("packs", db=db, OPERATOR_IDS="12,abc")
    assert ids.returncode == 2 and "OPERATOR_IDS" in ids.stderr

    no_token = cli("run", db=db)
    assert no_token.returncode == 2 and "BOT_TOKEN" in no_token.stderr
