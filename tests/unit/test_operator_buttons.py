"""Operator buttons kept in the database (tasks/conversation.py): a question is answered by
its first press only, even when presses race in one process or come from two connections (two
processes) on one file; buttons survive a restart and expire after 24 hours."""

from __future__ import annotations

import asyncio
from pathlib import Path

from db import Database
from tasks.clock import FakeClock
from tasks.conversation import ACTION_SECONDS, OperatorButtons

OPERATOR = 900


def token(data: str) -> str:
    assert data.startswith("o:") and len(data) == 18
    return data[2:]


async def test_the_first_press_of_a_question_spends_every_button_of_it(
    db: Database, clock: FakeClock
) -> None:
    buttons = OperatorButtons(db, clock)
    send, cancel = await buttons.issue(
        OPERATOR, [("broadcast_send", "Hello"), ("dismiss",)], one_shot=True
    )
    pressed = await buttons.press(token(cancel), OPERATOR)
    assert pressed is not None and pressed.kind == "dismiss" and pressed.one_shot
    assert await buttons.press(token(send), OPERATOR) is None  # the question was answered
    assert await buttons.press(token(cancel), OPERATOR) is None


async def test_presses_racing_on_one_question_get_one_action(
    db: Database, clock: FakeClock
) -> None:
    buttons = OperatorButtons(db, clock)
    for _ in range(20):
        replace, cancel = await buttons.issue(
            OPERATOR, [("replace", "/tmp/x/p.json", None), ("replace_cancel", "/tmp/x/p.json")],
            one_shot=True,
        )  # fmt: skip
        presses = [buttons.press(token(data), OPERATOR) for data in (replace, cancel) * 3]
        results = await asyncio.gather(*presses)
        assert len([r for r in results if r is not None]) == 1


async def test_two_processes_pressing_one_question_get_one_action(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Two connections on one file (what two bot processes would hold): SQLite's write lock
    makes one find the question unanswered, the other answered."""
    path = tmp_path / "shared.sqlite3"
    async with Database(path) as first, Database(path) as second:
        one, two = OperatorButtons(first, clock), OperatorButtons(second, clock)
        for _ in range(20):
            send, cancel = await one.issue(
                OPERATOR, [("broadcast_send", "Hi"), ("dismiss",)], one_shot=True
            )
            results = await asyncio.gather(
                one.press(token(send), OPERATOR), two.press(token(cancel), OPERATOR)
            )
            assert len([r for r in results if r is not None]) == 1


async def test_a_button_that_is_no_question_works_again_and_only_for_its_operator(
    db: Database, clock: FakeClock
) -> None:
    buttons = OperatorButtons(db, clock)
    details, pause = await buttons.issue(
        OPERATOR, [("pack_details", "reviews"), ("pack_pause", "reviews")]
    )
    assert await buttons.press(token(details), 901) is None  # another operator: nothing
    for _ in range(2):
        pressed = await buttons.press(token(details), OPERATOR)
        assert pressed is not None and pressed.args == ("reviews",) and not pressed.one_shot
    assert await buttons.press(token(pause), OPERATOR) is not None  # not a question's sibling
    (suspend,) = await buttons.issue(OPERATOR, [("worker_suspend", 42)], one_shot=True)
    assert await buttons.press(token(suspend), 901) is None  # nor does it spend the question
    pressed = await buttons.press(token(suspend), OPERATOR)
    assert pressed is not None and pressed.args == (42,)
    assert await buttons.press("A" * 16, OPERATOR) is None  # never issued


async def test_buttons_survive_a_restart_and_expire_after_a_day(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:
        export, old = await OperatorButtons(db, clock).issue(
            OPERATOR, [("export_file", "reviews", "csv", True), ("pack_details", "old")]
        )
    clock.advance(seconds=ACTION_SECONDS - 60)
    async with Database(path) as db:  # the bot started again
        buttons = OperatorButtons(db, clock)
        pressed = await buttons.press(token(export), OPERATOR)
        assert pressed is not None and pressed.args == ("reviews", "csv", True)
        clock.advance(seconds=120)
        assert await buttons.press(token(export), OPERATOR) is None  # a day old: expired
        await buttons.issue(OPERATOR, [("pack_details", "new")])  # removes the expired ones
        assert await db.value("SELECT COUNT(*) FROM operator_buttons") == 1
        assert await buttons.press(token(old), OPERATOR) is None
