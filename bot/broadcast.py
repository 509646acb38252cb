"""The sender of statements and notices: claim a batch, send each in the bulk lane, record it.

Each row is claimed ('sending') in one transaction, sent, and marked right after its send in
another: a crash between the two leaves it 'sending' until its claim runs out, then it is sent
again (at-least-once; see docs/earnings.md). Sends go through the rate limiter's bulk lane:
at most 20 of the 25 messages per second, one per chat per second, after any interactive send.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import ExtBot

from handlers.earnings import notice_screen, statement_screen
from tasks.statements import Delivery, Outcome, Statement, StatementService
from tasks.work import WorkService

log = logging.getLogger(__name__)

BATCH = 100
CONCURRENCY = 8  # sends in flight: the limiter orders them; at most this many may repeat


@dataclass
class BroadcastReport:
    sent: int = 0
    blocked: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.blocked} blocked, {self.failed} failed (retried later)"


class Broadcaster:
    def __init__(
        self,
        bot: ExtBot,  # type: ignore[type-arg]
        work: WorkService,
        statements: StatementService,
        *,
        bulk: bool = True,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.bot = bot
        self.work = work
        self.statements = statements
        self.bulk = bulk and bot.rate_limiter is not None
        self.concurrency = concurrency
        self.report = BroadcastReport()

    async def drain(self, keep_going: Callable[[], bool] = lambda: True) -> BroadcastReport:
        """Sends everything due now, batch after batch, while `keep_going()`."""
        slots = asyncio.Semaphore(self.concurrency)
        pending: set[asyncio.Task[None]] = set()

        async def deliver(item: Delivery) -> None:
            try:
                await self.deliver(item)
            finally:
                slots.release()

        try:
            while keep_going():
                batch, looked = await self.statements.claim(BATCH)
                if not looked:
                    break
                for index, item in enumerate(batch):
                    await slots.acquire()
                    if not keep_going():
                        slots.release()
                        await self.statements.release(batch[index:])
                        break
                    task = asyncio.create_task(deliver(item))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
        finally:
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        return self.report

    async def deliver(self, item: Delivery) -> None:
        if isinstance(item.content, Statement):
            text, _ = statement_screen(item.content, item.language)
        else:
            text, _ = notice_screen(item.content, item.language)
        try:
            if self.bulk:
                await self.bot.send_message(
                    item.worker_id, text, parse_mode=ParseMode.HTML, rate_limit_args={"bulk": True}
                )
            else:
                await self.bot.send_message(item.worker_id, text, parse_mode=ParseMode.HTML)
        except Forbidden:
            log.info(
                "worker %s blocked the bot: %s %s not sent", item.worker_id, item.table, item.row_id
            )
            await self.statements.record(item, Outcome.BLOCKED, "blocked by the user")
            await self.work.mark_blocked(item.worker_id)
            self.report.blocked += 1
        except TelegramError as exc:
            log.warning(
                "%s %s to worker %s failed: %s", item.table, item.row_id, item.worker_id, exc
            )
            await self.statements.record(item, Outcome.FAILED, f"{type(exc).__name__}: {exc}")
            self.report.failed += 1
        else:
            await self.statements.record(item, Outcome.SENT)
            self.report.sent += 1
