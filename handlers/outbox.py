"""The one sender: everything the bot says on its own, from the one outbox, to Telegram.

Whoever queued a message (a handler, a job, the CLI in another process), this sender delivers
it: it looks for due rows every POLL_SECONDS (one indexed read) and at once when this process
queues one, claims them (tasks/outbox.py: quiet hours, blocked workers, operator copies),
renders each by its kind, has the presenter send it in its rate-limiter lane (interactive first;
statements and payouts in the bulk lane, which yields to people: handlers/presenter/ `post`) and
records what came of it right after.
At most CONCURRENCY sends are in flight: what a crash may send twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from telegram.error import BadRequest, Forbidden, TelegramError

from handlers import render
from handlers.earnings import notice_screen, statement_screen
from handlers.presenter import Presenter
from handlers.render import Screen
from handlers.texts import t
from tasks.outbox import Delivery, OutboxService, SendResult, TextMessage
from tasks.payouts import Notice
from tasks.statements import Statement

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # a message queued by another process waits at most about this long
BATCH = 100  # bulk rows claimed at a time (a claim lasts CLAIM_SECONDS: minutes of sending)
CONCURRENCY = 8  # sends in flight: the limiter orders them; at most this many may repeat


# Messages whose text an operator wrote for workers to read whole (line breaks kept): their
# length is bounded where they are written (tasks/operator/workers.py).
WHOLE_TEXT = frozenset({"op_broadcast", "op_suspended", "op_reinstated"})


def render_text(item: TextMessage, language: str) -> Screen:
    """A message of the text catalogue; its string values are escaped (and shortened)."""
    whole = item.key in WHOLE_TEXT
    params = {
        key: escape(value if whole else render.shorten(value, 300), quote=False)
        if isinstance(value, str)
        else value
        for key, value in item.params.items()
    }
    return t(language, item.key, **params), None


def render_delivery(item: Delivery, default_language: str) -> Screen:
    """The screen of one message, by its kind."""
    language = item.language or default_language
    content = item.content
    if isinstance(content, Statement):
        return statement_screen(content, language)
    if isinstance(content, Notice):
        return notice_screen(content, language)
    return render_text(content, language)


@dataclass
class SendReport:
    sent: int = 0
    blocked: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.blocked} blocked, {self.failed} failed"


class OutboxSender:
    def __init__(
        self,
        presenter: Presenter,
        outbox: OutboxService,
        default_language: str,
        *,
        concurrency: int = CONCURRENCY,
        batch: int = BATCH,
    ) -> None:
        self.presenter = presenter
        self.outbox = outbox
        self.default_language = default_language
        self.concurrency = concurrency
        self.batch = batch
        self.report = SendReport()
        self._interactive: deque[Delivery] = deque()
        self._bulk: deque[Delivery] = deque()
        self._woken = asyncio.Event()
        self._looked_at = float("-inf")
        self._busy = False  # the last look found rows: there may be more, look again at once

    def wake(self) -> None:
        """Look for due messages now rather than at the next poll."""
        self._woken.set()

    async def run(self, keep_going: Callable[[], bool]) -> None:
        """Sends what is due, as it becomes due, while `keep_going()`; on the way out, finishes
        the sends in flight and gives back the rows claimed but not sent."""
        loop = asyncio.get_running_loop()

        def queued() -> None:  # called on the database thread
            loop.call_soon_threadsafe(self.wake)

        stop_listening = self.outbox.on_queued(queued)
        slots = asyncio.Semaphore(self.concurrency)
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while keep_going():
                await slots.acquire()
                item = await self._next()
                if item is None:
                    slots.release()
                    await self._sleep()
                    continue
                task = asyncio.create_task(self._deliver(item, slots))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
        finally:
            stop_listening()
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            unsent = [*self._interactive, *self._bulk]
            self._interactive.clear()
            self._bulk.clear()
            if unsent:
                await self.outbox.release(unsent)

    def _time_to_look(self) -> bool:
        return self._woken.is_set() or time.monotonic() - self._looked_at >= POLL_SECONDS

    async def _sleep(self) -> None:
        """Until woken or the next poll (in short steps: a stopping bot is not kept waiting)."""
        left = POLL_SECONDS - (time.monotonic() - self._looked_at)
        try:
            async with asyncio.timeout(min(max(left, 0.0), 0.25)):
                await self._woken.wait()
        except TimeoutError:
            pass

    async def _next(self) -> Delivery | None:
        """The next message to send: interactive ones first; None when nothing is due."""
        while True:
            if self._interactive:
                return self._interactive.popleft()
            if not self._time_to_look() and (self._bulk or not self._busy):
                return self._bulk.popleft() if self._bulk else None
            self._woken.clear()
            self._looked_at = time.monotonic()
            if not await self.outbox.anything_due():
                self._busy = False
                return self._bulk.popleft() if self._bulk else None
            claimed, looked = await self.outbox.claim("interactive", self.concurrency)
            self._interactive.extend(claimed)
            if not self._bulk:
                claimed, looked_bulk = await self.outbox.claim("bulk", self.batch)
                self._bulk.extend(claimed)
                looked += looked_bulk
            if not (self._interactive or self._bulk):
                if not looked:
                    self._busy = False
                    return None
                # Rows looked at and settled (postponed, blocked, copied to operators): again.
                self._looked_at = float("-inf")
                continue
            self._busy = True
            if self._interactive:
                return self._interactive.popleft()
            return self._bulk.popleft()

    async def _deliver(self, item: Delivery, slots: asyncio.Semaphore) -> None:
        try:
            result, error = await self.send(item)
            await self.outbox.record(item, result, error)
        except Exception:
            log.exception("outbox row %s: outcome not recorded (sent again later)", item.row_id)
        finally:
            slots.release()

    async def send(self, item: Delivery) -> tuple[SendResult, str]:
        """One send; what came of it (and the error to keep), never an exception."""
        try:
            screen = render_delivery(item, self.default_language)
            await self.presenter.post(item.recipient, screen, bulk=item.bulk)
        except Forbidden:  # the presenter has marked them blocked
            log.info("user %s blocked the bot: outbox row %s not sent", item.recipient, item.row_id)
            self.report.blocked += 1
            return SendResult.BLOCKED, "blocked by the user"
        except BadRequest as exc:  # e.g. an operator who never opened the bot: chat not found
            log.warning("outbox row %s to %s refused: %s", item.row_id, item.recipient, exc)
            self.report.failed += 1
            return SendResult.REFUSED, f"{type(exc).__name__}: {exc}"
        except TelegramError as exc:
            log.warning("outbox row %s to %s failed: %s", item.row_id, item.recipient, exc)
            self.report.failed += 1
            return SendResult.FAILED, f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug in rendering: kept as the row's error, retried, logged
            log.exception("outbox row %s to %s failed", item.row_id, item.recipient)
            self.report.failed += 1
            return SendResult.FAILED, f"{type(exc).__name__}: {exc}"
        self.report.sent += 1
        return SendResult.SENT, ""
