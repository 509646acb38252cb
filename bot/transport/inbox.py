"""The durable inbox: no update Telegram gave the bot is lost when the process dies.

At least once, with effects exactly once:

- every update fetched (getUpdates) or posted (webhook) is stored, id and JSON, in one
  transaction per batch *before* it is confirmed to Telegram (the next offset, the POST's 200);
  only then does it go to the handlers;
- the handler's units of work mark it processed in the same transaction as their effects
  (db/core.py `unit_of_work`, from the update id the processor puts in `current_update`);
- once the handler has finished (replied), the update is done; done marks are written in
  batches, with the next stored batch or within a second;
- at start-up the updates not done are handled first, oldest first (each user's in their
  order), before any new one. A replayed update whose effects were committed finds them there
  (the assignment closed, the consent given, ...), changes nothing, and shows the worker where
  they are: a crash between a commit and its reply still gets the reply;
- a handler that fails is tried again a little later, up to MAX_ATTEMPTS times in all (a start
  counts, so an update that kills the process is also given up); then it is set aside
  with a log line and the user's later updates go on;
- done updates are forgotten after KEEP_DONE (set-aside ones after KEEP_SET_ASIDE).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.redact import redact
from db import Database, Tx, to_db_time
from db import updates as inbox_db

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_DELAYS = (1.0, 5.0)  # seconds before the 2nd and 3rd attempts
FLUSH_SECONDS = 1.0  # done marks wait at most this long when no batch comes to carry them
PRUNE_SECONDS = 60.0
KEEP_DONE = timedelta(minutes=10)  # a webhook redelivery within this is still recognised
KEEP_SET_ASIDE = timedelta(days=7)
PRUNE_CHUNK = 5000

Json = dict[str, Any]


def _now() -> str:
    return to_db_time(datetime.now(UTC))


def _store(tx: Tx, batch: list[tuple[int, str]], done: list[int], now: str) -> list[int]:
    if done:
        inbox_db.mark_done(tx, done, now)
    return inbox_db.store(tx, batch, now) if batch else []


def _replay(tx: Tx, max_attempts: int, now: str) -> tuple[list[inbox_db.OpenUpdate], list[int]]:
    """The updates left open, counted as started again; those started too often set aside."""
    again, aside = [], []
    for row in inbox_db.open_updates(tx):
        if row.attempts >= max_attempts:
            inbox_db.set_aside(tx, row.update_id, now)
            aside.append(row.update_id)
        else:
            again.append(row)
    inbox_db.start_again(tx, [row.update_id for row in again])
    return again, aside


def _failed(tx: Tx, update_id: int, error: str, max_attempts: int, now: str) -> int:
    """The attempts made when the update is to be tried again; 0 when it was set aside."""
    attempts = inbox_db.record_failure(tx, update_id, error)
    if attempts >= max_attempts:
        inbox_db.set_aside(tx, update_id, now)
        return 0
    inbox_db.start_again(tx, [update_id])
    return attempts


def _prune(tx: Tx, done_before: str, set_aside_before: str, limit: int) -> int:
    return inbox_db.prune(tx, done_before, set_aside_before, limit)


class Inbox:
    """The inbox over the bot's database; `dispatch` hands an update (as JSON) to the
    Application (set by whoever feeds it: bot/transport/receive.py)."""

    def __init__(self, db: Database, *, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.db = db
        self.max_attempts = max_attempts
        self.retry_delays = RETRY_DELAYS
        self.dispatch: Callable[[Json], None] | None = None
        self._done: list[int] = []
        self._retries: dict[int, asyncio.TimerHandle] = {}
        self.replayed = 0
        self.set_aside = 0

    async def store(self, updates: Sequence[Json]) -> list[Json]:
        """Stores a batch in one transaction (with the done marks waiting); returns the updates
        that were new, in order. Raises if the database fails: then nothing is confirmed."""
        batch = [(int(u["update_id"]), json.dumps(u, ensure_ascii=False)) for u in updates]
        done, self._done = self._done, []
        try:
            fresh = set(await self.db.run_first(_store, batch, done, _now()))
        except BaseException:
            self._done.extend(done)
            raise
        return [u for u in updates if int(u["update_id"]) in fresh]

    def finished(self, update_id: int) -> None:
        """The handler is done with this update (written with the next batch)."""
        self._done.append(update_id)

    async def flush(self) -> None:
        """Writes the done marks now."""
        if self._done:
            await self.store([])

    async def replay(self) -> int:
        """At start-up: hands the updates left open to `dispatch`, oldest first."""
        assert self.dispatch is not None
        again, aside = await self.db.run(_replay, self.max_attempts, _now())
        for update_id in aside:
            log.error(
                "update %s set aside: its handling started %d times and never finished",
                update_id,
                self.max_attempts,
            )
        self.set_aside += len(aside)
        for row in again:
            self.dispatch(json.loads(row.body))
        if again:
            log.info("start-up: %d updates left open by the last run handled again", len(again))
        self.replayed += len(again)
        return len(again)

    async def failed(self, update: Json, error: BaseException) -> None:
        """Its handler raised: tried again a little later, or set aside after MAX_ATTEMPTS."""
        update_id = int(update["update_id"])
        # Kept seven days: whatever a handler's error quotes, no token is kept with it (the
        # transport's errors have none already: bot/transport/request.py).
        text = redact(f"{type(error).__name__}: {error}")
        attempts = await self.db.run(_failed, update_id, text, self.max_attempts, _now())
        if not attempts:
            self.set_aside += 1
            log.error(
                "update %s set aside after %d failed attempts (last: %s); the user's later"
                " updates go on",
                update_id,
                self.max_attempts,
                text,
            )
            return
        delay = self.retry_delays[min(attempts - 1, len(self.retry_delays) - 1)]
        log.warning("update %s failed (%s): tried again in %.0f s", update_id, text, delay)
        loop = asyncio.get_running_loop()
        self._retries[update_id] = loop.call_later(delay, self._retry, update)

    def _retry(self, update: Json) -> None:
        self._retries.pop(int(update["update_id"]), None)
        if self.dispatch is not None:
            self.dispatch(update)

    def cancel_retries(self) -> None:
        """On the way out: an update waiting for its retry stays open, for the next start."""
        for handle in self._retries.values():
            handle.cancel()
        self._retries.clear()

    async def prune(self) -> int:
        """Forgets what is done and old, a few thousand rows per transaction."""
        now = datetime.now(UTC)
        done_before, aside_before = to_db_time(now - KEEP_DONE), to_db_time(now - KEEP_SET_ASIDE)
        total = 0
        while True:
            count = await self.db.run(_prune, done_before, aside_before, PRUNE_CHUNK)
            total += count
            if count < PRUNE_CHUNK:
                return total

    async def housekeeping(self) -> None:
        """Runs while the bot runs: done marks written within FLUSH_SECONDS, old rows pruned."""
        loop = asyncio.get_running_loop()
        pruned_at = loop.time()
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
                if loop.time() - pruned_at >= PRUNE_SECONDS:
                    pruned_at = loop.time()
                    await self.prune()
            except Exception:
                log.exception("inbox housekeeping failed; tried again in a second")
