"""A confirmation is answered once: its two buttons pressed in quick succession (Replace then
Cancel, Cancel then Replace; Send then Cancel; Close then Cancel) do exactly one thing, and
what the operator is told is what happened. The real bot through the simulator.

Each question is tried two ways: with the bot's own update processor (one user's updates run in
order: the second press is handled after the first has finished), and with every update handled
at once (`at_once`: as when several processes share the database), where the two presses race.
The loser is always told the button has expired, and nothing else.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import bot.transport.processor
from db import Database
from simulator import SimMessage, SimulatorServer
from tasks.clock import Clock
from tasks.packs import load_pack
from tests.helpers import PACK_HEADER, RunBot, join, table

OPERATOR = 900
WORKER = 42
PACK_ID = "reviews"
EXPIRED = "This button has expired: run the command again."
NOTHING = "Nothing was changed."


def pack_file(tasks: int, reward: str) -> bytes:
    rows = [{"id": f"t{i}", "text": f"Review {i}"} for i in range(tasks)]
    return json.dumps({**PACK_HEADER, "id": PACK_ID, "reward": reward, "tasks": rows}).encode()


@pytest.fixture(params=["in_order", "at_once"])
def handling(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """in_order: the bot's processor (one user's updates one after the other); at_once: each
    update is a queue of its own, so the two presses of one operator are handled together."""
    if request.param == "at_once":
        monkeypatch.setattr(
            bot.transport.processor,
            "_sender",
            lambda update: (getattr(update, "update_id", 0), None),
        )
    return str(request.param)


@pytest.fixture
async def operator(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path, write_pack: Any, handling: str
) -> int:
    async with Database(db_path) as db:
        assert (await load_pack(db, write_pack(PACK_ID, 4), clock=Clock())).ok
    await run_bot(operator_ids=str(OPERATOR), quiet_hours="off")
    sim.add_user(OPERATOR, "Olga", language_code="en")
    sim.send_text(OPERATOR, "/help")
    await sim.wait_for_text(OPERATOR, "Operator", timeout=10)
    return OPERATOR


def data_of(message: SimMessage, label: str) -> str:
    button = next(b for b in message.buttons if b.text.startswith(label))
    assert button.callback_data is not None and button.callback_data.startswith("o:")
    return button.callback_data


async def press_both(
    sim: SimulatorServer, db_path: Path, question: SimMessage, first: str, second: str
) -> tuple[str | None, str | None]:
    """Presses two buttons of a question one right after the other (the second before the bot
    has handled the first); returns each press's toast once every update is handled."""
    one = sim.press(OPERATOR, question.message_id, data_of(question, first))
    two = sim.press(OPERATOR, question.message_id, data_of(question, second))
    answers = [await sim.wait_callback_answer(query, timeout=15) for query in (one, two)]
    await all_handled(db_path)
    return answers[0]["params"].get("text"), answers[1]["params"].get("text")


async def all_handled(db_path: Path) -> None:
    """Every update the bot received has been handled to the end (the inbox says so)."""
    async with Database(db_path) as db, asyncio.timeout(15):
        while await table(db, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") != [(0,)]:
            await asyncio.sleep(0.05)


def said(sim: SimulatorServer, user: int, fragment: str) -> int:
    return sum(fragment in message.text for message in sim.chat(user).bot_messages)


def winner(toasts: tuple[str | None, str | None], handling: str) -> int:
    """Which press did something (0 or 1): exactly one did; the other was told it expired."""
    assert set(toasts) == {None, EXPIRED}, toasts
    won = toasts.index(None)
    if handling == "in_order":
        assert won == 0  # one user's presses are handled in the order they were made
    return won


@pytest.mark.parametrize("order", [("Replace", "Cancel"), ("Cancel", "Replace")])
async def test_replace_and_cancel_pressed_together_do_one_thing_and_say_it(
    sim: SimulatorServer, operator: int, db_path: Path, handling: str, order: tuple[str, str]
) -> None:
    sim.send_document(OPERATOR, pack_file(8, "0.03"), "reviews.json")
    question = await sim.wait_for_text(OPERATOR, "already", timeout=15)

    toasts = await press_both(sim, db_path, question, *order)
    won = order[winner(toasts, handling)]

    async with Database(db_path) as db:
        reward = await table(db, "SELECT reward_micros FROM packs")
        live = await table(db, "SELECT COUNT(*) FROM tasks WHERE retired = 0")
    if won == "Replace":
        assert reward == [(30_000,)] and live == [(8,)]
        assert said(sim, OPERATOR, "Pack reviews replaced") == 1
        assert said(sim, OPERATOR, NOTHING) == 0
    else:
        assert reward == [(20_000,)] and live == [(4,)]
        assert said(sim, OPERATOR, NOTHING) == 1
        assert said(sim, OPERATOR, "replaced") == 0
    assert said(sim, OPERATOR, EXPIRED) == 0  # the loser got a toast, not a message
    assert sim.chat(OPERATOR).messages[question.message_id].buttons == []


@pytest.mark.parametrize("order", [("Send", "Cancel"), ("Cancel", "Send")])
async def test_a_broadcast_pressed_send_and_cancel_together_goes_once_or_not_at_all(
    sim: SimulatorServer, operator: int, db_path: Path, handling: str, order: tuple[str, str]
) -> None:
    await join(sim, WORKER)
    sim.send_text(OPERATOR, "/broadcast Doors open at nine")
    question = await sim.wait_for_text(OPERATOR, "will go to", timeout=10)

    toasts = await press_both(sim, db_path, question, *order)
    won = order[winner(toasts, handling)]

    async with Database(db_path) as db:
        broadcasts = await table(db, "SELECT COUNT(*) FROM broadcasts")
        queued = await table(db, "SELECT COUNT(*) FROM outbox WHERE kind = 'op_broadcast'")
    if won == "Send":
        assert broadcasts == [(1,)] and queued == [(1,)]
        await sim.wait_for_text(WORKER, "Doors open at nine", timeout=10)
        assert said(sim, OPERATOR, "Message queued for 1 workers") == 1
        assert said(sim, OPERATOR, NOTHING) == 0
    else:
        assert broadcasts == [(0,)] and queued == [(0,)]
        assert said(sim, OPERATOR, NOTHING) == 1
        assert said(sim, OPERATOR, "Message queued") == 0
    assert said(sim, WORKER, "Doors open at nine") == (1 if won == "Send" else 0)


@pytest.mark.parametrize("order", [("Yes, close it", "Cancel"), ("Cancel", "Yes, close it")])
async def test_a_close_pressed_with_its_cancel_closes_once_or_not_at_all(
    sim: SimulatorServer, operator: int, db_path: Path, handling: str, order: tuple[str, str]
) -> None:
    sim.send_text(OPERATOR, "/packs")
    card = await sim.wait_for_text(OPERATOR, "answers", timeout=10)
    sim.press(OPERATOR, card.message_id, data_of(card, "⏹ Close"))
    question = await sim.wait_for_text(OPERATOR, "for good", timeout=10)

    toasts = await press_both(sim, db_path, question, *order)
    won = order[winner(toasts, handling)]

    async with Database(db_path) as db:
        status = await table(db, "SELECT status FROM packs")
    if won == "Cancel":
        assert status == [("active",)]
        assert said(sim, OPERATOR, NOTHING) == 1
        assert said(sim, OPERATOR, "closed") == 0
    else:
        assert status == [("closed",)]
        assert said(sim, OPERATOR, "Pack reviews closed") == 1
        assert said(sim, OPERATOR, NOTHING) == 0
