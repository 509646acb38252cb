"""What a worker is told about money fits one Telegram message and shows an operator's text as
text, even a reason or a currency recorded before they were bounded and checked (5,000
characters, HTML, emoji): through the real renderer, checked by the simulator's own parser, and
end to end, where the simulator refuses a message that is too long as Telegram does."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from db import Database, Tx, to_db_time
from db import outbox as outbox_db
from handlers.earnings import balance_screen, notice_screen, statement_screen
from handlers.operator.workers import _amounts
from handlers.outbox import render_delivery
from simulator import SimulatorServer
from simulator.html import finalize_text, parse_html, utf16_len
from simulator.protocol import MAX_TEXT
from tasks.clock import Clock
from tasks.earnings import Balance
from tasks.outbox import Delivery
from tasks.payouts import Notice
from tasks.statements import Statement, StatementLine
from tests.helpers import RunBot, text_has

LONG_REASONS = {
    "emoji": "🎉" * 5000,  # two UTF-16 units each
    "html": "<b>&" * 1250,  # each character escaped to an entity
    "lines": "line\n" * 1000,
}
BAD_CURRENCY = "<i>" + "E" * 5000


def telegram_length(html_text: str) -> int:
    """What Telegram would count: the text once the simulator parsed the HTML (it raises on
    HTML Telegram refuses)."""
    plain, entities = parse_html(html_text)
    return utf16_len(finalize_text(plain, entities)[0])


@pytest.mark.parametrize("reason", sorted(LONG_REASONS))
@pytest.mark.parametrize("kind", ["bonus", "adjustment", "payout"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_money_notice_fits_one_message_whatever_was_recorded(
    reason: str, kind: Any, language: str
) -> None:
    notice = Notice(
        kind,
        {"amount_micros": -1_000_000, "currency": BAD_CURRENCY, "reason": LONG_REASONS[reason]},
    )
    delivery = Delivery(1, 1, language, "interactive", 1, notice)
    text, _ = render_delivery(delivery, "en")
    assert telegram_length(text) <= MAX_TEXT
    plain, _ = parse_html(text)
    assert "<i>EEEEEEE" in plain  # the currency shown as text, shortened
    assert "E" * 20 not in plain
    if kind != "payout":
        assert plain.rstrip().endswith("/balance")
        assert "…" in plain  # the reason shortened, and said to be
        if reason == "html":
            assert "<b>&<b>&" in plain  # shown, not obeyed


def test_a_short_reason_is_shown_whole_with_its_line_breaks() -> None:
    notice = Notice("bonus", {"amount_micros": 2_500_000, "currency": "EUR", "reason": "a\nb <c>"})
    assert notice_screen(notice, "en")[0] == (
        "🎁 <b>Bonus: 2.50 EUR</b>\nReason: a\nb &lt;c&gt;\n/balance"
    )


def test_a_currency_that_is_not_a_code_is_escaped_on_every_screen_that_shows_money() -> None:
    by_currency = {"EUR": 1_000_000, "<b>x</b>": 2_000_000}
    balance = Balance(
        tasks_this_week=1,
        tasks_last_week=0,
        tasks_total=1,
        earned_this_week=by_currency,
        earned_last_week={},
        earned_total=by_currency,
        unpaid=by_currency,
        paid={"<b>x</b>": 1},
        checks=0,
        correct=0,
        active_ms={"<b>x</b>": 60_000},
    )
    line = StatementLine(earned=2_000_000, top_up=1, unpaid=2_000_000, active_ms=60_000)
    statement = Statement(1, "2026-W47", 1, 0, 0, {"<b>x</b>": line}, date(2026, 12, 1))
    screens = [
        balance_screen(balance, "en", date(2026, 12, 1))[0],
        statement_screen(statement, "fr")[0],
        _amounts(by_currency, "en"),  # an operator's /worker card
    ]
    for screen in screens:
        plain, _ = parse_html(screen)  # valid HTML: Telegram would take it
        assert "<b>x</b>" in plain and "&lt;b&gt;x&lt;/b&gt;" in screen


async def test_a_bonus_with_a_5000_character_reason_recorded_before_the_bound_is_delivered(
    sim: SimulatorServer, run_bot: RunBot, db_path: Path
) -> None:
    """The row as the CLI queued it before reasons were bounded: the bot sends it shortened (the
    simulator answers "message is too long" above 4,096 UTF-16 units, which marks it failed)."""
    await run_bot(Clock(), quiet_hours="off")
    now = to_db_time(Clock().now())
    reason = "Merci 🎉 " * 700  # 5,600 characters

    def queued_before_the_fix(tx: Tx) -> None:
        tx.execute(
            "INSERT INTO workers (id, first_name, language, created_at, last_seen_at)"
            " VALUES (1, 'Ada', 'en', ?, ?)",
            (now, now),
        )
        outbox_db.enqueue(
            tx,
            recipient=1,
            kind="bonus",
            params={"amount_micros": 2_500_000, "currency": "EUR", "reason": reason},
            dedupe_key="bonus:1:old",
            now=now,
        )

    sim.add_user(1, "Ada", language_code="en").started = True
    async with Database(db_path) as db:
        await db.run(queued_before_the_fix)
    event = await sim.wait_for(1, text_has("Bonus: 2.50 EUR"), timeout=10)
    assert event.message is not None
    assert utf16_len(event.message.text) <= MAX_TEXT
    assert event.message.text.endswith("…\n/balance")
    async with Database(db_path) as db, asyncio.timeout(10):
        while (status := await db.value("SELECT status FROM outbox")) != "sent":
            assert status in ("due", "sending"), status
            await asyncio.sleep(0.05)
