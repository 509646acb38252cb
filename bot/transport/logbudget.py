"""Logging that a flood of events cannot turn into a flood of lines.

A stranger can make a server fail thousands of times a second (connections that never finish,
malformed requests, a process out of file descriptors); one log line, let alone one traceback,
per failure fills the disk. Two tools:

- `LogBudget` / `BudgetFilter`: at most `per_interval` records of one kind (logger, level,
  message template) per `interval`; the others are counted, and the next record of that kind
  let through says how many were not logged. `limit_logger(name)` puts one on a library's
  logger (aiohttp's server logger writes a traceback per malformed request).
- `EventTally`: events that are expected under attack (a connection timed out, refused at the
  cap, accept() out of descriptors) are only counted; one line at most per interval sums them up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

#: Once a minute per kind of event: enough to see that something happens, never a flood.
REPORT_INTERVAL = 60.0
#: Kinds of records a budget follows at once; past that, every other kind shares one budget
#: (a message built with an f-string would otherwise make a new kind per record).
MAX_KINDS = 256
OTHER_KINDS = "(other kinds)"


@dataclass
class _Window:
    ends: float
    used: int = 0
    dropped: int = 0  # not logged since the last one that was


class LogBudget:
    """At most `per_interval` events of each kind per `interval` seconds."""

    def __init__(
        self,
        interval: float = REPORT_INTERVAL,
        per_interval: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.per_interval = per_interval
        self._clock = clock
        self._windows: dict[Hashable, _Window] = {}

    def take(self, kind: Hashable) -> int | None:
        """None: stay quiet (the event is counted). A number: log now, saying that this many
        events of the kind were not logged since the last one that was."""
        now = self._clock()
        window = self._windows.get(kind)
        if window is None:
            if len(self._windows) >= MAX_KINDS and kind != OTHER_KINDS:
                self._forget_closed(now)
                if len(self._windows) >= MAX_KINDS:
                    return self.take(OTHER_KINDS)
            window = self._windows[kind] = _Window(now + self.interval)
        elif now >= window.ends:
            window.ends, window.used = now + self.interval, 0
        if window.used >= self.per_interval:
            window.dropped += 1
            return None
        window.used += 1
        dropped, window.dropped = window.dropped, 0
        return dropped

    def _forget_closed(self, now: float) -> None:
        """Windows over, with nothing left to say, are forgotten."""
        closed = [k for k, w in self._windows.items() if now >= w.ends and not w.dropped]
        for kind in closed:
            del self._windows[kind]


class BudgetFilter(logging.Filter):
    """A logger filter: each kind of record (level and message template) within its budget."""

    def __init__(self, budget: LogBudget) -> None:
        super().__init__()
        self.budget = budget

    def filter(self, record: logging.LogRecord) -> bool:
        dropped = self.budget.take((record.levelno, str(record.msg)))
        if dropped is None:
            return False
        if dropped:
            record.msg = (
                f"{record.msg} [and {dropped} more like this within "
                f"{self.budget.interval:.0f} s, not logged]"
            )
        return True


def limit_logger(
    name: str, interval: float = REPORT_INTERVAL, per_interval: int = 1
) -> BudgetFilter:
    """Puts a budget on a logger (once: a second call returns the filter already there)."""
    logger = logging.getLogger(name)
    for existing in logger.filters:
        if isinstance(existing, BudgetFilter):
            return existing
    budget_filter = BudgetFilter(LogBudget(interval, per_interval))
    logger.addFilter(budget_filter)
    return budget_filter


class EventTally:
    """Counts events by kind; one line sums them up, at most once per `interval`.

    The first event after a quiet interval is reported at once (with whatever else the same
    moment brought), later ones at the end of the interval; `close` reports what is left."""

    def __init__(
        self,
        logger: logging.Logger,
        title: str,
        interval: float = REPORT_INTERVAL,
        level: int = logging.WARNING,
    ) -> None:
        self.logger = logger
        self.title = title
        self.interval = interval
        self.level = level
        self.totals: dict[str, int] = {}  # since the start, for figures and tests
        self._counts: dict[str, int] = {}
        self._since = 0.0
        self._last_line = float("-inf")
        self._timer: asyncio.TimerHandle | None = None

    def count(self, kind: str, n: int = 1) -> None:
        loop = asyncio.get_running_loop()
        if not self._counts:
            self._since = loop.time()
        self._counts[kind] = self._counts.get(kind, 0) + n
        self.totals[kind] = self.totals.get(kind, 0) + n
        if self._timer is None:
            delay = max(0.0, self._last_line + self.interval - loop.time())
            self._timer = loop.call_later(delay, self._report)

    def _report(self) -> None:
        self._timer = None
        if not self._counts:
            return
        loop = asyncio.get_running_loop()
        parts = "; ".join(f"{kind}: {n}" for kind, n in self._counts.items())
        elapsed = loop.time() - self._since
        over = f" (over {elapsed:.0f} s)" if elapsed >= 1 else ""
        self.logger.log(self.level, "%s: %s%s", self.title, parts, over)
        self._counts.clear()
        self._last_line = loop.time()

    def close(self) -> None:
        """Reports what was counted and not yet said; no timer is left behind."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._counts:
            self._report()
