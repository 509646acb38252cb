"""What stands between a call and its effect: Telegram's flood limits, and the faults a test
injects (an error for the next calls, a delayed call, a storm of 429s).

The latency setting (``Limits.latency``: a fixed delay or a range, in seconds) is what a bot
far from Telegram's data centres sees: every Bot API call, getUpdates included, waits a delay
drawn uniformly from the range before it runs (the server's dispatch applies it). Off (0) by
default; ``python -m simulator --latency-ms 20-80`` or ``SimulatorServer(latency=(0.02,
0.08))``.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from .protocol import DEFAULT_DESCRIPTIONS, ApiError, too_many_requests

#: Methods counted by the flood limits and hit by a 429 storm (those of them the bot uses).
SENDING_METHODS = frozenset({"sendMessage", "sendPhoto", "sendAudio", "sendVoice", "sendDocument"})


@dataclass(slots=True)
class Fault:
    """An injected failure (see Limits.inject_fault)."""

    method: str | None
    status: int
    count: int
    retry_after: int | None
    description: str | None
    delay: float

    def error(self) -> ApiError:
        if self.status == 429:
            err = too_many_requests(self.retry_after if self.retry_after is not None else 1)
            if self.description:
                err.description = self.description
            return err
        desc = self.description or DEFAULT_DESCRIPTIONS.get(self.status, "Error")
        params = {"retry_after": self.retry_after} if self.retry_after is not None else None
        return ApiError(self.status, desc, params)


class _Bucket:
    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.stamp = now

    def wait_needed(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


class Limits:
    """Flood limits (30 messages/s overall with a burst of 30; about 1/s per chat with a burst
    of 3, as Telegram answers bots that send faster) and injected faults."""

    def __init__(self, *, enabled: bool, latency: tuple[float, float] = (0.0, 0.0)) -> None:
        self.enabled = enabled
        self.latency = latency
        self._random = random.Random(12)
        self._global = _Bucket(30.0, 30.0, time.monotonic())
        self._per_chat: dict[int, _Bucket] = {}
        self._faults: list[Fault] = []
        self._storm_until = 0.0
        self._storm_retry_after = 1

    def call_delay(self) -> float:
        """The network delay of one call: 0, fixed, or drawn uniformly from the range."""
        low, high = self.latency
        if high <= 0:
            return 0.0
        return low if high <= low else self._random.uniform(low, high)

    def reset(self) -> None:
        """Full buckets, as after a quiet while."""
        self._global = _Bucket(30.0, 30.0, time.monotonic())
        self._per_chat.clear()

    def check_send(self, chat_id: int) -> None:
        """Count one new message to ``chat_id``, or refuse it with 429 and retry_after."""
        if not self.enabled:
            return
        now = time.monotonic()
        chat_bucket = self._per_chat.get(chat_id)
        if chat_bucket is None:
            chat_bucket = self._per_chat[chat_id] = _Bucket(3.0, 1.0, now)
        wait = max(self._global.wait_needed(now), chat_bucket.wait_needed(now))
        if wait > 0:
            raise too_many_requests(math.ceil(wait))
        self._global.tokens -= 1.0
        chat_bucket.tokens -= 1.0

    def inject_fault(
        self,
        method: str | None,
        *,
        status: int,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        delay: float = 0,
    ) -> Fault:
        fault = Fault(method, status, count, retry_after, description, delay)
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """No injected fault any more (a 429 storm included)."""
        self._faults.clear()
        self._storm_until = 0.0

    def take_fault(self, method: str) -> Fault | None:
        """The fault that this call of ``method`` meets, if any (counted down)."""
        if not self._faults:
            return None
        for fault in self._faults:
            if fault.method is None or fault.method == method:
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def storm_429(self, seconds: float, retry_after: int = 1) -> None:
        self._storm_until = time.monotonic() + seconds
        self._storm_retry_after = retry_after

    def check_storm(self, method: str) -> None:
        if method in SENDING_METHODS and time.monotonic() < self._storm_until:
            raise too_many_requests(self._storm_retry_after)
