"""`load-pack` and `packs` as a careless or hostile operator meets them: odd paths, and packs
paused, resumed and closed from the shell. One clear line and an exit code, never a hang."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from db import Database
from tasks.clock import FakeClock
from tasks.work import WorkService
from tasks.work_results import NoTask, Outcome, TaskCard
from tests.helpers import cli, newcomer, pack_dict


def test_load_pack_names_a_folder_a_fifo_and_a_socket_and_never_hangs_on_a_fifo(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db.sqlite3"
    folder = tmp_path / "packs"
    folder.mkdir()
    fifo = tmp_path / "pack.json"
    os.mkfifo(fifo)
    sock_path = tmp_path / "pack.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        cases = [
            (folder, "is a folder, not a pack file"),
            (fifo, "is not a regular file (a FIFO)"),  # the helper would time out on a hang
            (sock_path, "is not a regular file (a socket)"),
            (tmp_path / "missing.json", "no such file"),
        ]
        for path, said in cases:
            result = cli("load-pack", str(path), db=db)
            assert result.returncode == 1, result.stderr
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and said in lines[0], result.stderr
            assert "Traceback" not in result.stderr
    finally:
        sock.close()


async def test_a_pack_paused_from_the_shell_lets_open_leases_finish_and_hands_out_nothing_new(
    db: Database, work: WorkService, clock: FakeClock, load: Callable[..., Any]
) -> None:
    await load(tasks=5)
    path = Path(db.path)
    card = await newcomer(work, 1)
    assert isinstance(card, TaskCard)

    paused = cli("packs", "pause", "reviews", db=path)
    assert paused.returncode == 0, paused.stderr
    assert "reviews paused" in paused.stdout and "1 open lease may finish" in paused.stdout
    work.forget_packs()  # the bot would see it within a second
    answered = await work.answer(worker_id=1, assignment_id=card.assignment_id, choice=0)
    assert answered.outcome is Outcome.RECORDED  # the open lease finished and counted
    assert isinstance(answered.next, NoTask)  # nothing new
    assert isinstance(await newcomer(work, 2), NoTask)
    assert "paused" in cli("packs", db=path).stdout

    resumed = cli("packs", "resume", "reviews", db=path)
    assert resumed.returncode == 0 and "resumed" in resumed.stdout, resumed.stderr
    work.forget_packs()
    again = await work.resume(2)
    assert again is not None and isinstance(again[1], TaskCard)


def test_closing_a_pack_asks_for_yes_and_a_closed_pack_stays_closed(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    pack = tmp_path / "reviews.json"
    pack.write_text(json.dumps(pack_dict(tasks=3)), encoding="utf-8")
    assert cli("load-pack", str(pack), db=db).returncode == 0

    unsure = cli("packs", "close", "reviews", db=db)
    assert unsure.returncode == 1 and "--yes" in unsure.stderr and "nothing done" in unsure.stderr
    assert "active" in cli("packs", db=db).stdout

    closed = cli("packs", "close", "reviews", "--yes", db=db)
    assert closed.returncode == 0 and "reviews closed" in closed.stdout, closed.stderr
    assert "closed" in cli("packs", db=db).stdout
    refused = cli("packs", "resume", "reviews", db=db)
    assert refused.returncode == 1 and "stays closed" in refused.stderr


def test_an_unknown_pack_is_one_line_and_exit_1(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    for action in (["pause"], ["resume"], ["close", "--yes"]):
        result = cli("packs", action[0], "nope", *action[1:], db=db)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            "error: no pack 'nope' (python -m bot packs lists them)"
        ]
