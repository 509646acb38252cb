"""Awaited replies (tasks/conversation.py): what a person's next text message answers, kept in
the database beside the operator buttons. Taken once, even by two processes; expired ones are
not taken; they survive a restart; migration 018 carries over what pending_input held; a
worker's text answer takes an awaited dispute comment in its own transaction."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest

import db.core
from db import Database
from tasks.clock import FakeClock
from tasks.conversation import OPERATOR_REASONS, AwaitedReplies, ReplyKind
from tasks.packs import load_pack
from tasks.work import Reply, WorkService
from tasks.work_results import Outcome, TaskCard

OPERATOR, WORKER = 900, 42


async def test_a_reply_is_taken_once_and_only_by_its_kind(db: Database, clock: FakeClock) -> None:
    replies = AwaitedReplies(db, clock)
    await replies.ask(OPERATOR, ReplyKind.BAR_REASON, WORKER, 600)
    assert await replies.take(OPERATOR, [ReplyKind.DISPUTE_COMMENT]) is None  # not that kind
    taken = await replies.take(OPERATOR, OPERATOR_REASONS)
    assert taken is not None
    assert (taken.user_id, taken.kind, taken.ref) == (OPERATOR, ReplyKind.BAR_REASON, WORKER)
    assert await replies.take(OPERATOR) is None  # answered once
    assert await replies.take(WORKER) is None  # nothing was asked of anyone else


async def test_a_new_question_replaces_the_one_before(db: Database, clock: FakeClock) -> None:
    replies = AwaitedReplies(db, clock)
    await replies.ask(OPERATOR, ReplyKind.DISPUTE_COMMENT, 7, 900)
    await replies.ask(OPERATOR, ReplyKind.UNBAR_REASON, WORKER, 600)
    taken = await replies.take(OPERATOR)
    assert taken is not None and (taken.kind, taken.ref) == (ReplyKind.UNBAR_REASON, WORKER)
    assert await replies.take(OPERATOR) is None


async def test_an_expired_reply_is_not_taken_and_is_forgotten(
    db: Database, clock: FakeClock
) -> None:
    replies = AwaitedReplies(db, clock)
    await replies.ask(OPERATOR, ReplyKind.BAR_REASON, WORKER, 600)
    clock.advance(seconds=599)
    await replies.ask(WORKER, ReplyKind.DISPUTE_COMMENT, 3, 600)
    clock.advance(seconds=1)  # the operator's reason expires now
    assert await replies.take(OPERATOR) is None
    assert (
        await db.value("SELECT COUNT(*) FROM awaited_replies WHERE user_id = ?", (OPERATOR,)) == 0
    )
    # One that expired and is never looked for goes at the next question asked of anyone.
    clock.advance(seconds=600)
    await replies.ask(OPERATOR, ReplyKind.REJECT_REASON, 3, 900)
    assert await db.value("SELECT user_id FROM awaited_replies") == OPERATOR


async def test_a_reply_survives_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as first:
        await AwaitedReplies(first, clock).ask(OPERATOR, ReplyKind.BAR_REASON, WORKER, 600)
    clock.advance(seconds=300)
    async with Database(path) as second:  # the bot started again
        taken = await AwaitedReplies(second, clock).take(OPERATOR, OPERATOR_REASONS)
    assert taken is not None and (taken.kind, taken.ref) == (ReplyKind.BAR_REASON, WORKER)


async def test_two_processes_cannot_both_take_one_reply(tmp_path: Path, clock: FakeClock) -> None:
    """Two connections on one file (what two bot processes would hold), each taking at once:
    the DELETE ... RETURNING runs under SQLite's write lock, one of them gets the reply."""
    path = tmp_path / "shared.sqlite3"
    async with Database(path) as first, Database(path) as second:
        one, two = AwaitedReplies(first, clock), AwaitedReplies(second, clock)
        for round_ in range(20):
            await one.ask(OPERATOR, ReplyKind.REJECT_REASON, round_, 900)
            results = await asyncio.gather(
                one.take(OPERATOR), two.take(OPERATOR), one.take(OPERATOR), two.take(OPERATOR)
            )
            taken = [r for r in results if r is not None]
            assert len(taken) == 1 and taken[0].ref == round_


async def test_migration_018_carries_pending_input_over(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    every = db.core.available_migrations
    with monkeypatch.context() as patch:
        patch.setattr(db.core, "available_migrations", lambda: [m for m in every() if m[0] < 18])
        async with Database(path) as old:
            await old.run(
                lambda tx: tx.execute(
                    "INSERT INTO pending_input (user_id, kind, ref_id, expires_at) VALUES"
                    " (?, 'reject_reason', 5, ?), (?, 'dispute_comment', 6, ?)",
                    (OPERATOR, "2026-11-23T08:10:00.000000Z", WORKER, "2026-11-23T07:00:00Z"),
                )
            )
    async with Database(path) as new:  # the bot updated: 018 applied at start-up
        assert (
            await new.value("SELECT COUNT(*) FROM sqlite_master WHERE name = ?", ("pending_input",))
            == 0
        )
        replies = AwaitedReplies(new, clock)
        taken = await replies.take(OPERATOR, OPERATOR_REASONS)
        assert taken is not None and (taken.kind, taken.ref) == (ReplyKind.REJECT_REASON, 5)
        assert await replies.take(WORKER) is None  # it had expired before the update


async def _text_task(db: Database, clock: FakeClock, tmp_path: Path) -> WorkService:
    pack = {
        "id": "typed",
        "title": "Typed",
        "instructions": "Answer.",
        "reward": "0.05",
        "type": "text",
        "options": [],
        "tasks": [{"id": f"x{i}", "text": f"transcribe {i}"} for i in range(3)],
    }
    path = tmp_path / "typed.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    assert (await load_pack(db, path, clock=clock)).ok
    work = WorkService(db, clock, rng=random.Random(1))
    await work.meet(
        WORKER, first_name="W", username=None, language_code="en", default_language="en"
    )
    consented = await work.consent(WORKER)
    assert consented is not None and isinstance(consented[1], TaskCard)
    return work


async def test_a_text_answer_takes_an_awaited_comment_in_its_own_transaction(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    work = await _text_task(db, clock, tmp_path)
    replies = AwaitedReplies(db, clock)
    await replies.ask(WORKER, ReplyKind.DISPUTE_COMMENT, 11, 900)
    transactions = 0
    run = db.run

    async def counted(*args: object, **kwargs: object) -> object:
        nonlocal transactions
        transactions += 1
        return await run(*args, **kwargs)  # type: ignore[arg-type]

    db.run = counted  # type: ignore[method-assign]
    comment = await work.answer_message(
        worker_id=WORKER, given=Reply("a comment"), unless_awaited=[ReplyKind.DISPUTE_COMMENT]
    )
    assert comment.outcome is Outcome.AWAITED and comment.awaited is not None
    assert (comment.awaited.kind, comment.awaited.ref) == (ReplyKind.DISPUTE_COMMENT, 11)
    assert await db.value("SELECT COUNT(*) FROM assignments WHERE answer IS NOT NULL") == 0
    answer = await work.answer_message(
        worker_id=WORKER, given=Reply("the answer"), unless_awaited=[ReplyKind.DISPUTE_COMMENT]
    )
    assert answer.outcome is Outcome.RECORDED and answer.shown == "the answer"
    assert transactions == 2  # one each: the lookup is in the answer's own transaction
    # An operator's reason awaited is not a comment: the open task is answered, it stays.
    await replies.ask(WORKER, ReplyKind.BAR_REASON, 1, 600)
    other = await work.answer_message(
        worker_id=WORKER, given=Reply("next answer"), unless_awaited=[ReplyKind.DISPUTE_COMMENT]
    )
    assert other.outcome is Outcome.RECORDED
    assert await db.value("SELECT kind FROM awaited_replies") == "bar_reason"
