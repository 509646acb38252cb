"""A mistyped path or a closed pipe gets one clear line and a non-zero exit, never a traceback
or a hang."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.run import EXIT_UNREACHABLE, _preflight
from bot.settings import load_settings
from simulator import SimulatorServer
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


async def test_run_with_a_refused_token_says_so_without_printing_it(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    token = "999:NotTheSimulatorsToken"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env={
            **os.environ,
            "DATABASE_PATH": str(tmp_path / "db.sqlite3"),
            "BOT_TOKEN": token,
            "TELEGRAM_API_URL": sim.base_url,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    assert err.decode().strip() == (
        "error: setting BOT_TOKEN: the Bot API refused this token (revoked or mistyped;"
        " ask @BotFather)"
    )
    assert token.split(":")[1] not in (out + err).decode()


async def test_an_unreachable_bot_api_is_one_line_per_try_then_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(
        bot_token="123:SecretPart",
        telegram_api_url="http://127.0.0.1:9",  # the discard port: nothing listens
        database_path=tmp_path / "db.sqlite3",
        _env_file=None,
    )
    code = await _preflight(settings, attempts=3, first_delay=0.01)
    err = capsys.readouterr().err
    assert code == EXIT_UNREACHABLE
    lines = err.strip().splitlines()
    assert len(lines) == 3 and "Traceback" not in err and "SecretPart" not in err
    assert lines[0].startswith("cannot reach the Bot API at http://127.0.0.1:9 (")
    assert lines[-1].startswith("error: cannot reach the Bot API at http://127.0.0.1:9 after 3")


@pytest.mark.parametrize(
    "url", ["http://exa mple.org", "https://", "https://host:99999", "https://h/?q=1", "ftp://h"]
)
def test_a_malformed_api_url_is_refused_at_settings_time(tmp_path: Path, url: str) -> None:
    result = cli("packs", db=tmp_path / "db.sqlite3", TELEGRAM_API_URL=url)
    assert result.returncode == 2
    assert result.stderr.startswith("error: setting TELEGRAM_API_URL: ")


def test_ctrl_c_in_the_demo_exits_quietly_and_leaves_no_folder(tmp_path: Path) -> None:
    environment = {**os.environ, "TMPDIR": str(tmp_path), "PTB_TIMEDELTA": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--workers", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        # A shell's background job ignores SIGINT; a person's terminal does not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "simulated workers start now" in line:
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # the demo's temporary folder is gone


def test_the_demo_without_the_simulator_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """The simulator is a distribution of its own (simulator/): a bot installed without it says
    so in one line. Here it is hidden from the import system, as if it were not installed."""
    hidden = (
        "import sys; sys.modules['simulator'] = None;"
        " from bot.cli import main; raise SystemExit(main(['demo', '--workers', '5']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", hidden], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        "error: demo: the Telegram simulator is not installed (it is not part of the bot):"
        " pip install -e ./simulator from a clone, or run make demo\n"
    )
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing written


def test_version_and_a_negative_crowd() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0 and version.stdout.startswith("python -m bot 0.")
    refused = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--workers", "-3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "not a number of workers from 1 to 500: '-3'" in refused.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["nosuch"], "invalid choice: 'nosuch'"),
        (["export"], "error: export: the following arguments are required: pack"),
        (["bonus", "x", "1", "--reason", "r"], "error: bonus: argument"),
    ],
)
def test_a_mistyped_command_line_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    result = cli(*args, db=tmp_path / "db.sqlite3")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr
