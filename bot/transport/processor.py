"""Updates of different users run concurrently; one user's updates run in order, and no one
user can take more than their share.

PTB's BaseUpdateProcessor takes a slot of its semaphore *before* `do_process_update`; with a
per-user lock inside, one user's queued updates each held a slot while they waited for their
turn, so a user sending 200 messages filled all the slots while their replies drained at
Telegram's one message a second per chat, and everyone else waited. Here the base semaphore is
only a generous bound on updates in flight (`IN_FLIGHT`); a user's updates wait for their turn
holding nothing, and take one of the `max_concurrent_updates` running slots only to run: a user
holds at most one running slot at a time.

A user's queue is also bounded. Button presses always run (each must be answered, and the
assignment's state makes a repeated press harmless); commands and messages beyond
`MAX_WAITING_MESSAGES` waiting behind the one running are dropped, and a command or text
identical to one running or waiting is coalesced into it (a burst of /balance gets one answer).

With the inbox (inbox.py) attached, each update runs with its id in `db.core.current_update`
(its units of work mark it processed in their own transactions), and is then reported done, or
failed (the error handler notes the error there), to the inbox. A dropped update is done too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.transport.inbox import Inbox
from db.core import HandlingUpdate, current_update

log = logging.getLogger(__name__)

MAX_WAITING_MESSAGES = 3
IN_FLIGHT = 4096  # updates received and not yet finished, all users together


@dataclass
class _UserQueue:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    updates: int = 0  # queued or running, presses included
    waiting_texts: list[str] = field(default_factory=list)  # messages not yet started
    running_text: str | None = None  # the message being handled now, if any
    dropped: int = 0


class PerUserUpdateProcessor(BaseUpdateProcessor):
    def __init__(
        self, max_concurrent_updates: int = 64, max_waiting_messages: int = MAX_WAITING_MESSAGES
    ) -> None:
        super().__init__(max(IN_FLIGHT, max_concurrent_updates))
        self.max_waiting_messages = max_waiting_messages
        self._running = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._queues: dict[int, _UserQueue] = {}
        self.dropped = 0  # messages dropped or coalesced since start (all users)
        self.inbox: Inbox | None = None  # set by the wiring (bot/app.py)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Waits for the user's turn holding no slot, then runs in one of the shared slots."""
        user_id, text = _sender(update)
        queue = self._queues.get(user_id)
        if queue is None:
            queue = self._queues[user_id] = _UserQueue()
        if text is not None and self._excess(queue, text):
            queue.dropped += 1
            self.dropped += 1
            if queue.dropped in (1, 10, 100) or queue.dropped % 1000 == 0:
                log.info("user %s floods: %d messages dropped or coalesced", user_id, queue.dropped)
            _discard(coroutine)
            if self.inbox is not None and isinstance(update, Update):
                self.inbox.finished(update.update_id)
            return
        queue.updates += 1
        if text is not None:
            queue.waiting_texts.append(text)
        try:
            async with queue.lock:
                if text is not None:
                    queue.waiting_texts.remove(text)
                queue.running_text = text
                try:
                    async with self._running:
                        await self._run(update, coroutine)
                finally:
                    queue.running_text = None
        finally:
            queue.updates -= 1
            if queue.updates == 0:
                del self._queues[user_id]

    async def _run(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self.inbox is None or not isinstance(update, Update):
            await coroutine
            return
        handling = HandlingUpdate(update.update_id)
        token = current_update.set(handling)
        try:
            await coroutine
        finally:
            current_update.reset(token)
        if handling.error is None:
            self.inbox.finished(update.update_id)
            return
        try:
            await self.inbox.failed(update.to_dict(), handling.error)
        except Exception:  # left open: handled again at the next start
            log.exception("update %s: its failure could not be recorded", update.update_id)

    def _excess(self, queue: _UserQueue, text: str) -> bool:
        """A message that would only lengthen a flooding user's queue."""
        return (
            text == queue.running_text
            or text in queue.waiting_texts
            or len(queue.waiting_texts) >= self.max_waiting_messages
        )

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _sender(update: object) -> tuple[int, str | None]:
    """Who sent the update (0: no user), and the text of a message (None for anything else:
    presses, membership changes, which are never dropped)."""
    if not isinstance(update, Update):
        return 0, None
    user = update.effective_user
    user_id = 0 if user is None else user.id
    message = update.message
    if message is None:
        return user_id, None
    return user_id, message.text or message.caption or f"<{message.effective_attachment!r}>"


def _discard(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()  # never awaited: closing it avoids "coroutine was never awaited"
