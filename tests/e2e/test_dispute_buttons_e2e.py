"""A dispute's buttons (Fix, Retire, Reject) are one question too: the dispute's own state
decides it once; a press after it was decided changes nothing and says so (a Reject no longer
asks for a reason for a dispute already accepted). The real bot through the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from db import Database
from simulator import SimulatorServer
from tests.e2e.test_e2e_disputes import (
    OPERATOR,
    StartBot,
    add_operator,
    miss_g00_and_dispute,
    open_disputes,
    start_bot,
)
from tests.helpers import table

__all__ = ["start_bot"]  # the fixture, used here by name


@pytest.mark.parametrize(
    ("first", "second"), [("fix", "reject"), ("retire", "fix"), ("fix", "fix")]
)
async def test_a_dispute_decided_by_one_press_ignores_the_next(
    sim: SimulatorServer, start_bot: StartBot, db_path: Path, first: str, second: str
) -> None:
    await start_bot()
    add_operator(sim)
    await miss_g00_and_dispute(sim, 1, comment=None)
    [screen] = await open_disputes(sim)
    since = len(sim.chat(OPERATOR).bot_messages)

    one = sim.press(OPERATOR, screen.message_id, f"op:1:{first}")
    two = sim.press(OPERATOR, screen.message_id, f"op:1:{second}", check=False)
    for query in (one, two):
        await sim.wait_callback_answer(query, timeout=10)
    await sim.wait_for_text(OPERATOR, "Not possible: dispute #1 is already accepted", timeout=10)

    async with Database(db_path) as db:
        assert await table(db, "SELECT status FROM disputes") == [("accepted",)]
        assert await table(
            db, "SELECT COUNT(*) FROM awaited_replies WHERE kind = 'reject_reason'"
        ) == [(0,)]  # nothing asked
    said = [m.text for m in sim.chat(OPERATOR).bot_messages[since:]]
    assert sum(text.startswith("Done: ") for text in said) == 1
    assert sum(text.startswith("Not possible: ") for text in said) == 1
    assert not any("send the reason" in text for text in said), said
