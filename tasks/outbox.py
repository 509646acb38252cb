"""Delivering what the bot says on its own: the rules of the one outbox.

Everything pushed to a worker or an operator (weekly statements, payout and bonus notices,
quality decisions, operator alerts) is a row of the outbox, queued in the unit of work of the
fact it tells of, by whoever made it (a handler, a job, the CLI in another process). One sender
(handlers/outbox.py) asks this service what to send and tells it what came of each send:

- `claim`: due rows of a lane, oldest first. A row of a blocked worker is held ('blocked',
  held_at); a row falling in the recipient's quiet hours (their time zone, else TIMEZONE) waits
  for their end;
  an operator message (no recipient) is copied to one row per operator, each delivered and
  recorded on its own; the rest is claimed: 'sending' until CLAIM_SECONDS from now.
- `record`: right after each send, in its own transaction: 'sent'; held on 403 (never retried
  while they block the bot); a refusal (400) fails at once; anything else is retried with an
  exponential backoff and fails after MAX_ATTEMPTS, the last error kept.
- `requeue_held`: a worker who blocked the bot comes back (any update from them, in the unit of
  work that sees it): what still matters of what was held is queued again, the rest dropped
  (`decide_held` says which: money notices always, the newest statement, an operator's bar or
  its lifting if still true, anything else younger than STALE_AFTER).
- A row claimed by a sender that died before recording it is claimed again once its claim has
  run out: delivery is at least once, and twice only for the sends in flight at a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from db import Database, Tx, from_db_time, read_only, to_db_time, unit_of_work
from db import outbox as outbox_db
from db import statements as statements_db
from db import workers as workers_db
from db.outbox import Held, Lane, Pending
from tasks.clock import Clock, zone_or
from tasks.earnings import EarningsConfig, next_payout
from tasks.operator.workers import BARRED, UNBARRED
from tasks.payouts import Notice
from tasks.statements import Statement

OPERATOR_COPY = ">operator:"  # in the dedupe key of an operator message's copy for one operator
CLAIM_SECONDS = 120  # a claimed row not recorded within this was lost with its sender: resend
MAX_ATTEMPTS = 5  # then 'failed', with the last error kept
# Held for a worker who blocked the bot, then back: a broadcast, a dispute's outcome, a quality
# decision or an operator alert older than this when they return is dropped.
STALE_AFTER = timedelta(days=7)
MONEY_KINDS = frozenset({"payout", "bonus", "adjustment"})  # always delivered on their return


@dataclass(frozen=True)
class TextMessage:
    """A message of the text catalogue (quality decisions, operator alerts) and its values."""

    key: str
    params: dict[str, Any]


Content = Statement | Notice | TextMessage


@dataclass(frozen=True)
class Delivery:
    """One claimed message, for one recipient."""

    row_id: int
    recipient: int
    language: str | None  # None: not a worker (an operator who never wrote): the default
    lane: Lane
    attempts: int  # this one included
    content: Content

    @property
    def bulk(self) -> bool:
        return self.lane == "bulk"


class SendResult(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403: recorded, never retried
    FAILED = "failed"  # a fault (network, 5xx, 429 past its retries): retried later with backoff
    REFUSED = "refused"  # 400: the same message would be refused again: failed at once


class OutboxService:
    def __init__(
        self,
        db: Database,
        config: EarningsConfig,
        clock: Clock | None = None,
        operator_ids: frozenset[int] = frozenset(),
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock or Clock()
        self.operator_ids = operator_ids

    def zone_of(self, name: str | None) -> tzinfo:
        """A recipient's own time zone when known and valid, else TIMEZONE."""
        return zone_or(name, self.config.zone)

    def on_queued(self, callback: Callable[[], None]) -> Callable[[], None]:
        """`callback()` (from the database thread) when this process queues a message; returns
        the function that stops it."""
        return outbox_db.listen(callback)

    @read_only
    def anything_due(self, tx: Tx) -> bool:
        """The sender's poll: is any row due now (one indexed read)?"""
        first = outbox_db.next_due(tx)
        return first is not None and first <= to_db_time(self.clock.now())

    @unit_of_work
    def claim(self, tx: Tx, lane: Lane, limit: int) -> tuple[list[Delivery], int]:
        """Claims up to `limit` rows of `lane` due now (see the module's note). Returns the
        claimed ones and how many rows were looked at (0: nothing of the lane is due)."""
        now = self.clock.now()
        stamp = to_db_time(now)
        until = to_db_time(now + timedelta(seconds=CLAIM_SECONDS))
        payout = self.next_payout()
        claimed: list[Delivery] = []
        rows = outbox_db.pending(tx, lane, stamp, limit)
        for row in rows:
            if row.recipient is None:
                self._copy_to_operators(tx, row, stamp)
                continue
            if row.blocked:
                outbox_db.hold(tx, row.id, stamp)  # decided when they come back
                continue
            quiet = self.config.quiet_hours
            if quiet is not None:
                allowed = quiet.next_allowed(now, self.zone_of(row.timezone))
                if allowed > now:
                    outbox_db.postpone(tx, row.id, to_db_time(allowed))
                    continue
            content = self._content(tx, row, payout)
            if content is None:
                outbox_db.finish(tx, row.id, "failed", stamp, "nothing to send: row not found")
                continue
            outbox_db.claim(tx, row.id, until)
            # Each in the recipient's language: an operator's own once they wrote to the bot
            # (None, the default language, for one who never did).
            claimed.append(
                Delivery(row.id, row.recipient, row.language, row.lane, row.attempts + 1, content)
            )
        return claimed, len(rows)

    def _copy_to_operators(self, tx: Tx, row: Pending, now: str) -> None:
        """An operator message becomes one row per operator (each sent and recorded on its
        own: one operator's failure neither holds up nor repeats the others')."""
        for operator in sorted(self.operator_ids):
            outbox_db.enqueue(
                tx,
                recipient=operator,
                kind=row.kind,
                params=row.params,
                dedupe_key=f"{row.dedupe_key}{OPERATOR_COPY}{operator}",
                now=now,
                lane=row.lane,
            )
        note = None if self.operator_ids else "no OPERATOR_IDS set: sent to no one"
        outbox_db.finish(tx, row.id, "sent", now, note)

    def _content(self, tx: Tx, row: Pending, payout: date) -> Content | None:
        params, kind = row.params, row.kind
        if kind == "statement":
            found = statements_db.get(tx, int(params["statement_id"]))
            return None if found is None else Statement.of(found, payout)
        if kind == "payout":
            return Notice("payout", params)
        if kind == "bonus":
            return Notice("bonus", params)
        if kind == "adjustment":
            return Notice("adjustment", params)
        return TextMessage(kind, params)

    def next_payout(self) -> date:
        today = self.clock.now().astimezone(self.config.zone).date()
        return next_payout(today, self.config.payout_day)

    @unit_of_work
    def record(self, tx: Tx, delivery: Delivery, result: SendResult, error: str = "") -> None:
        """What came of a send: right after it, one small transaction."""
        now = self.clock.now()
        stamp = to_db_time(now)
        if result is SendResult.FAILED and delivery.attempts < MAX_ATTEMPTS:
            backoff = timedelta(minutes=2**delivery.attempts)
            outbox_db.retry_later(tx, delivery.row_id, to_db_time(now + backoff), error[:500])
            return
        if result is SendResult.BLOCKED:
            recipient = workers_db.get(tx, delivery.recipient)
            if recipient is not None and not recipient.blocked:
                # Back between the 403 and this record (their return found nothing held):
                # sent again now rather than held with nobody to release it.
                outbox_db.retry_later(tx, delivery.row_id, stamp, error[:500])
                return
            if recipient is not None:
                outbox_db.hold(tx, delivery.row_id, stamp)
                return
        status = "failed" if result is SendResult.REFUSED else result.value
        outbox_db.finish(tx, delivery.row_id, status, stamp, error[:500] or None)

    @unit_of_work
    def release(self, tx: Tx, deliveries: list[Delivery]) -> None:
        """Claimed but not sent (the sender is stopping): due again now, not after the claim."""
        stamp = to_db_time(self.clock.now())
        for item in deliveries:
            outbox_db.release(tx, item.row_id, stamp)


@dataclass(frozen=True)
class Returned:
    """What became of the messages held for a worker who came back."""

    requeued: list[int]  # outbox row ids, due again now
    dropped: list[tuple[int, str]]  # (row id, why)


def decide_held(
    held: list[Held], *, newest_week: str | None, barred: bool, now: datetime
) -> Returned:
    """Which held messages still matter when their worker comes back (the rest is stale):

    - money notices (payout, bonus, adjustment): always, each once;
    - statements: only the newest week's (the worker's newest statement); older weeks are
      summed up by /balance;
    - an operator's bar and its lifting: only the one that is still true, the latest of them:
      the bar's reason if they are barred now; the lifting if they are not, unless the bar it
      lifts was held too (they never heard of either: both dropped);
    - anything else (broadcasts, dispute outcomes, quality decisions, operator alerts): if it
      was queued less than STALE_AFTER ago.
    """
    requeued: list[int] = []
    dropped: list[tuple[int, str]] = []
    standing = [item for item in held if item.kind in (BARRED, UNBARRED)]
    latest = standing[-1] if standing else None
    keep_standing = latest is not None and (
        (latest.kind == BARRED and barred)
        or (
            latest.kind == UNBARRED
            and not barred
            and not any(item.kind == BARRED for item in standing)
        )
    )
    for item in held:
        if item.kind in MONEY_KINDS:
            requeued.append(item.id)
        elif item.kind == "statement":
            if item.week is not None and item.week == newest_week:
                requeued.append(item.id)
            else:
                dropped.append((item.id, f"the statement of {item.week}, not the newest"))
        elif item.kind in (BARRED, UNBARRED):
            if item is latest and keep_standing:
                requeued.append(item.id)
            else:
                dropped.append((item.id, "no longer their standing"))
        elif now - from_db_time(item.created_at) < STALE_AFTER:
            requeued.append(item.id)
        else:
            dropped.append((item.id, f"older than {STALE_AFTER.days} days"))
    return Returned(requeued, dropped)


def requeue_held(tx: Tx, worker_id: int, *, barred: bool, now: datetime) -> Returned:
    """A worker who blocked the bot is back: what still matters of what was held for them is
    due again now (their lanes, their quiet hours), the rest dropped (`decide_held`). Runs in
    the caller's unit of work, the one that lifts the block."""
    held = outbox_db.held(tx, worker_id)
    if not held:
        return Returned([], [])
    newest = statements_db.latest_week(tx, worker_id)
    decided = decide_held(held, newest_week=newest, barred=barred, now=now)
    outbox_db.requeue(tx, decided.requeued, to_db_time(now))
    outbox_db.drop_held(tx, decided.dropped)
    return decided
