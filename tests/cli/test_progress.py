"""Where packs stand and what the operator's terminal shows: the numbers of the packs table,
its layout, the report after a load, and the progress bar drawn while a load runs."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli.progress import (
    ProgressBar,
    format_load_report,
    format_progress,
    format_table,
    media_off_notes,
)
from db import Database, Tx
from db import packs as db_packs
from tasks.clock import FakeClock
from tasks.packs import LoadReport, PackError, PackProgress, load_pack, pack_progress, reader
from tests.helpers import add_answer, make_tasks, write_pack_file

# -- the numbers ------------------------------------------------------------------------------


async def test_progress_numbers(db: Database, tmp_path: Path, clock: FakeClock) -> None:
    assert (
        await load_pack(db, write_pack_file(tmp_path / "a.json", make_tasks(4)), clock=clock)
    ).ok
    other = write_pack_file(tmp_path / "b.json", make_tasks(2), id="other", overlap=1, reward="0.5")
    assert (await load_pack(db, other, clock=clock)).ok
    for worker in (1, 2, 3):
        await add_answer(db, "t0", worker=worker, answer="pos")
    await add_answer(db, "t1", worker=1, answer="neg")
    await add_answer(db, "t2", worker=1, answer=None, status="open")

    reviews, second = await pack_progress(db)
    assert (reviews.id, reviews.status, reviews.tasks) == ("reviews", "active", 4)
    assert (reviews.tasks_complete, reviews.answers, reviews.answers_wanted) == (1, 4, 12)
    assert reviews.open_leases == 1
    assert reviews.spent_micros == 4 * 20_000
    assert reviews.percent == pytest.approx(100 * 4 / 12)
    assert (second.id, second.tasks, second.answers_wanted, second.percent) == ("other", 2, 2, 0)
    assert (second.reward_micros, second.spent_micros) == (500_000, 0)


async def test_a_paused_pack_shows_as_paused_and_is_not_served(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    assert (
        await load_pack(db, write_pack_file(tmp_path / "a.json", make_tasks(1)), clock=clock)
    ).ok

    def pause(tx: Tx) -> None:
        tx.execute("UPDATE packs SET status = 'paused' WHERE id = 'reviews'")

    await db.run(pause)
    assert await db.run_read(db_packs.active_packs) == []
    assert (await pack_progress(db))[0].status == "paused"


# -- the terminal -----------------------------------------------------------------------------


def test_format_table_aligns_numbers_right() -> None:
    table = format_table(["pack", "tasks", "%"], [["a", "1,000", "5.0%"], ["bb", "7", "100.0%"]])
    assert table.splitlines() == [
        "pack  tasks       %",
        "----  -----  ------",
        "a     1,000    5.0%",
        "bb        7  100.0%",
    ]


def test_format_load_report() -> None:
    ok = LoadReport(
        "demo-reviews",
        ok=True,
        created=True,
        tasks_added=120,
        tasks_total=120,
        budget_micros=7_200_000,
        overlap=3,
        reward_micros=20_000,
    )
    assert format_load_report(ok) == (
        'pack "demo-reviews" loaded: 120 tasks (120 added), overlap 3, reward 0.02 EUR,'
        " budget 7.20 EUR"
    )
    errors = [
        PackError(3, "a", "gold", "bad"),
        PackError(None, None, None, "... and 2 more errors"),
    ]
    refused = LoadReport("x", ok=False, errors=errors, error_count=3)
    assert format_load_report(refused).splitlines() == [
        'pack "x" refused: 3 errors, nothing imported',
        '  line 3, task "a", field "gold": bad',
        "  ... and 2 more errors",
    ]


def test_format_progress() -> None:
    row = PackProgress(
        id="demo",
        title="Demo",
        status="active",
        type="single_choice",
        tasks=150,
        tasks_complete=10,
        answers=40,
        answers_wanted=450,
        open_leases=2,
        reward_micros=20_000,
        currency="EUR",
        spent_micros=800_000,
        percent=40 / 450 * 100,
        gold_tasks=15,
        gold_answers=626,
        media_held=1,
        media_out=2,
    )
    header, _, line = format_progress([row]).splitlines()
    columns = dict(zip(re.split(r"\s{2,}", header), re.split(r"\s{2,}", line), strict=True))
    assert columns == {
        "pack": "demo",
        "status": "active",
        "tasks": "150",
        "complete": "10",
        "answers": "40",
        "wanted": "450",
        "% done": "8.9%",
        "checks": "15",
        "check answers": "626",  # never mixed with the answers wanted
        "open leases": "2",
        "held": "1",  # media changed since the load: not handed out
        "out of service": "2",  # media Telegram refused 3 times in a row
        "reward": "0.02 EUR",
        "spent": "0.80 EUR",
    }
    assert format_progress([]) == "no packs loaded"
    assert media_off_notes([row, replace(row, id="clean", media_held=0, media_out=0)]) == [
        "warning: pack demo: 1 task held (a media file changed since the pack was loaded) and"
        " 2 tasks out of service (Telegram refused its media 3 times in a row): not handed out"
        " until the pack is reloaded (python -m bot load-pack --replace FILE); the bot's log"
        " names each task and file"
    ]


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_and_throttled() -> None:
    quiet = io.StringIO()
    bar = ProgressBar(100, "loading", quiet)
    bar.update(50, 10)
    bar.finish()
    assert quiet.getvalue() == ""

    now = [0.0]
    tty = FakeTty()
    bar = ProgressBar(1000, "loading", tty, clock=lambda: now[0])
    now[0] = 1.0
    bar(500, 1000, 100)
    bar.update(600, 120)  # within 0.1 s: not redrawn
    assert tty.getvalue().count("\r") == 1
    assert "50%" in tty.getvalue() and "100 tasks" in tty.getvalue()
    now[0] = 2.0
    bar.update(1000, 200)
    bar.finish()
    assert tty.getvalue().endswith("\n")
    assert "100%" in tty.getvalue() and "100 tasks/s" in tty.getvalue()


async def test_the_progress_bar_draws_a_load_batch_by_batch(
    db: Database, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "BATCH_SIZE", 3)
    path = write_pack_file(tmp_path / "big.jsonl", make_tasks(10))
    tty = FakeTty()
    bar = ProgressBar(path.stat().st_size, "loading big.jsonl", tty, interval=0)
    assert (await load_pack(db, path, clock=clock, on_progress=bar)).ok
    bar.finish()
    drawn = tty.getvalue()
    assert drawn.count("\r") == 4 + 1  # a draw per batch of 3 (the last one has 1), then finish
    assert drawn.endswith("\n") and "100%" in drawn and "10 tasks" in drawn
