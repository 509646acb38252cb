"""Telegram's limits, kept: pace the sends, honour 429, retry 5xx and time-outs.

PTB's stock AIORateLimiter throttles every call that names a chat, edits included, at 30/s; our
answer loop edits one message per answer, so that would cap the whole bot near 30 answers per
second. Telegram's bulk limit is about sending messages. Here only message sends are paced
(overall, and per chat); every call is retried after a 429 for the time Telegram gives, and
after a 5xx or a time-out with backoff. Forbidden and BadRequest are never retried.

Broadcasts (weekly statements, payout notices) go through a bulk lane:
`rate_limit_args={"bulk": True}`. A bulk send takes at most `bulk_share` of the overall budget
(20 of 25 per second by default), never goes to a chat that had a message in the last second,
and waits while an interactive send is waiting: a worker's /task or notice goes first.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendAudio",
        "sendVoice",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendMediaGroup",
        "sendSticker",
        "copyMessage",
        "forwardMessage",
    }
)
UNPACED = frozenset({"getUpdates", "getMe", "deleteWebhook", "setWebhook", "close", "logOut"})


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; `take` waits for one."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.clock = clock
        self.stamp = clock()
        self.last_take = float("-inf")

    def delay(self) -> float:
        """Takes a token now if one is there and returns 0, else the seconds until one is."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.last_take = now
            return 0.0
        return (1 - self.tokens) / self.rate


class SlidingWindow:
    """At most `rate` events in any window of one second (strict, unlike a bucket's burst)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic):
        self.limit = max(1, math.floor(rate))
        self.period = self.limit / rate
        self.clock = clock
        self.times: deque[float] = deque()

    def delay(self) -> float:
        """Records an event now and returns 0 if the window has room, else the seconds to wait."""
        now = self.clock()
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        if len(self.times) < self.limit:
            self.times.append(now)
            return 0.0
        return self.times[0] + self.period - now


class PacedRateLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(
        self,
        *,
        send_rate: float = 25.0,
        per_chat_burst: float = 3.0,
        per_chat_rate: float = 1.0,
        max_retries: int = 6,
        backoff: float = 0.5,
        bulk_share: float = 0.8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = True
        self.clock = clock
        self._sends = SlidingWindow(send_rate, clock)
        # Bulk: a share of the budget, the rest kept for people.
        self._bulk = SlidingWindow(send_rate * bulk_share, clock)
        self._interactive_waiting = 0
        self._per_chat_rate = per_chat_rate
        self._per_chat_burst = per_chat_burst
        self._chats: dict[object, TokenBucket] = {}
        self._max_retries = max_retries
        self._backoff = backoff
        self._sends_paused_until = 0.0
        self._send_lock = asyncio.Lock()
        self.retries = 0
        self.bulk_sends = 0
        # When the last sends were let go, on `clock`: what the pacing promises is measured
        # here (where a message is received also depends on the network and the machine's load).
        self.sent_at: deque[float] = deque(maxlen=10_000)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def _chat_bucket(self, chat_id: object) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > 10_000:
                self._chats.clear()
            bucket = self._chats[chat_id] = TokenBucket(
                self._per_chat_rate, self._per_chat_burst, self.clock
            )
        return bucket

    async def _pace_send(self, chat_id: object) -> None:
        bucket = self._chat_bucket(chat_id)
        # A chat over its own pace waits alone, outside the line for the overall budget.
        while (chat_wait := bucket.delay()) > 0:
            await asyncio.sleep(chat_wait)
        self._interactive_waiting += 1
        try:
            async with self._send_lock:
                await self._take_overall()
        finally:
            self._interactive_waiting -= 1

    async def _pace_bulk(self, chat_id: object) -> None:
        bucket = self._chat_bucket(chat_id)
        gap = 1.0 / self._per_chat_rate
        while True:
            wait = gap - (self.clock() - bucket.last_take)
            # People first: a bulk send waits while any interactive send is in line.
            if wait <= 0 and not self._interactive_waiting:
                async with self._send_lock:
                    wait = self._sends_paused_until - self.clock()
                    if wait <= 0 and not self._interactive_waiting:
                        # Counted only when it can go now: nothing piles up during a 429 pause.
                        wait = self._bulk.delay()
                        if wait <= 0:
                            wait = bucket.delay()
                            if wait <= 0:
                                await self._take_overall()
                                self.bulk_sends += 1
                                return
                            self._bulk.times.pop()  # not sent: give the bulk slot back
            await asyncio.sleep(max(wait, 0.01))

    async def _take_overall(self) -> None:
        """One token of the overall sending budget (called holding the send lock)."""
        while True:
            paused = self._sends_paused_until - self.clock()
            if paused > 0:
                await asyncio.sleep(paused)
                continue
            wait = self._sends.delay()
            if wait <= 0:
                self.sent_at.append(self._sends.times[-1])  # the instant the window counted
                return
            await asyncio.sleep(wait)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint in UNPACED or not self.enabled:
            return await callback(*args, **kwargs)
        is_send = endpoint in SEND_METHODS
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        attempt = 0
        while True:
            if is_send and bulk:
                await self._pace_bulk(data.get("chat_id"))
            elif is_send:
                await self._pace_send(data.get("chat_id"))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                attempt += 1
                if attempt > self._max_retries:
                    raise
                delay = _seconds(exc.retry_after)
                if is_send:
                    self._sends_paused_until = max(self._sends_paused_until, self.clock() + delay)
                self.retries += 1
                log.warning("429 on %s: retrying after %.1f s", endpoint, delay)
                await asyncio.sleep(delay)
            except BadRequest:
                raise
            except (TimedOut, NetworkError) as exc:
                attempt += 1
                if attempt > self._max_retries:
                    raise
                delay = self._backoff * (2 ** (attempt - 1)) * (0.75 + random.random() / 2)
                self.retries += 1
                log.warning(
                    "%s on %s: retry %d in %.2f s", exc.__class__.__name__, endpoint, attempt, delay
                )
                await asyncio.sleep(delay)


def _seconds(value: object) -> float:
    if hasattr(value, "total_seconds"):
        return float(value.total_seconds())
    return float(value)  # type: ignore[arg-type]
