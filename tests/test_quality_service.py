"""Quality in the worker loop, told as stories: on a real temporary SQLite and a still clock."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from db import Database
from tasks.clock import FakeClock
from tasks.packs import load_pack
from tasks.quality_service import Decision, DisputeOutcome, Feedback, QualityService
from tasks.work import AnswerResult, NoTask, Outcome, TaskCard, WorkService
from tests.conftest import OPTIONS

OPTION_IDS = [option["id"] for option in OPTIONS]
Pack = Callable[..., Any]


@pytest.fixture
def work(db: Database, clock: FakeClock) -> WorkService:
    return WorkService(db, clock, rng=random.Random(7))


@pytest.fixture
def quality(db: Database, work: WorkService, clock: FakeClock) -> QualityService:
    return QualityService(db, work.quality, clock)


@pytest.fixture
def gold_pack(db: Database, clock: FakeClock, tmp_path: Path) -> Pack:
    """A pack of `tasks` plain tasks and `gold` gold tasks; task text says what is right."""

    async def load(
        tasks: int = 30, gold: int = 12, wrong_key: int | None = None, **header: Any
    ) -> dict[str, str]:
        truth: dict[str, str] = {}
        rows = []
        for i in range(gold):
            right = OPTION_IDS[i % 3]
            text = f"gold {i}"
            truth[text] = right
            key = OPTION_IDS[(i + 1) % 3] if i == wrong_key else right
            rows.append({"id": f"g{i:02d}", "text": text, "gold": key, "explanation": "Because."})
        for i in range(tasks):
            text = f"task {i}"
            truth[text] = OPTION_IDS[i % 3]
            rows.append({"id": f"t{i:03d}", "text": text})
        pack = {
            "id": header.pop("id", "checked"),
            "title": "Checked <pack>",
            "instructions": "Pick the sentiment.",
            "type": "single_choice",
            "options": OPTIONS,
            "reward": "0.02",
            "overlap": 3,
            "quality": {"min_seconds": 0, **header.pop("quality", {})},
            "tasks": rows,
            **header,
        }
        path = tmp_path / f"{pack['id']}.json"
        path.write_text(json.dumps(pack), encoding="utf-8")
        report = await load_pack(db, path, clock=clock)
        assert report.ok, report.errors
        return truth

    return load


async def queued(db: Database) -> list[SimpleNamespace]:
    """The messages queued in the outbox and not sent yet (worker_id None: the operators)."""
    rows = await db.query("SELECT recipient, kind, params FROM outbox WHERE status = 'due'")
    return [
        SimpleNamespace(worker_id=row[0], text_key=row[1], params=json.loads(row[2]))
        for row in rows
    ]


async def join(work: WorkService, worker_id: int) -> TaskCard | NoTask:
    await work.meet(
        worker_id, first_name="W", username=None, language_code="en", default_language="en"
    )
    consented = await work.consent(worker_id)
    assert consented is not None and consented[1] is not None
    return consented[1]


def honest(truth: dict[str, str]) -> Callable[[TaskCard], int]:
    return lambda card: OPTION_IDS.index(truth[card.text])


def wrong(truth: dict[str, str]) -> Callable[[TaskCard], int]:
    return lambda card: (OPTION_IDS.index(truth[card.text]) + 1) % 3


async def work_on(
    work: WorkService,
    clock: FakeClock,
    worker_id: int,
    card: TaskCard | NoTask,
    choose: Callable[[TaskCard], int],
    answers: int,
) -> list[AnswerResult]:
    results = []
    for _ in range(answers):
        if not isinstance(card, TaskCard):
            break
        clock.advance(seconds=5)
        result = await work.submit(
            worker_id=worker_id, assignment_id=card.assignment_id, choice=choose(card)
        )
        assert result.outcome is Outcome.RECORDED
        results.append(result)
        assert result.next is not None
        card = result.next
    return results


async def value(db: Database, sql: str, *params: Any) -> Any:
    async with db.read() as tx:
        return await tx.value(sql, params)


async def test_a_new_worker_trains_on_gold_with_feedback_then_real_tasks_unlock(
    work: WorkService, clock: FakeClock, gold_pack: Pack
) -> None:
    truth = await gold_pack()
    card = await join(work, 1)
    assert isinstance(card, TaskCard)
    assert card.training == (1, 5)
    assert any(isinstance(n, Decision) and n.kind == "training" for n in card.news)
    results = await work_on(work, clock, 1, card, honest(truth), 5)
    for index, result in enumerate(results):
        feedback = [n for n in result.news if isinstance(n, Feedback)]
        assert feedback and feedback[0].correct and feedback[0].training == (index + 1, 5)
        assert feedback[0].explanation == "Because."
    passed = [n for n in results[-1].news if isinstance(n, Decision)]
    assert passed[0].kind == "passed" and (passed[0].correct, passed[0].total) == (5, 5)
    following = results[-1].next
    assert isinstance(following, TaskCard) and following.training is None
    assert results[0].reward_micros == 20_000  # training is paid by default


async def test_a_failed_qualification_says_the_score_and_when_to_retry(
    work: WorkService, clock: FakeClock, gold_pack: Pack, quality: QualityService
) -> None:
    truth = await gold_pack()
    card = await join(work, 1)
    results = await work_on(work, clock, 1, card, wrong(truth), 5)
    decision = next(n for n in results[-1].news if isinstance(n, Decision))
    assert decision.kind == "failed" and decision.correct == 0 and decision.total == 5
    assert decision.retry_at == clock.now() + timedelta(hours=24)
    assert results[-1].next == NoTask("held")
    score = (await quality.score(1))[0]
    assert score.state == "failed" and score.retry_at == decision.retry_at

    clock.advance(hours=24, seconds=1)
    resumed = await work.resume(1)
    assert resumed is not None
    again = resumed[1]
    assert isinstance(again, TaskCard) and again.training == (1, 5)
    assert any(isinstance(n, Decision) and n.kind == "retraining" for n in again.news)
    assert again.text not in {r.news[0].text for r in results if isinstance(r.news[0], Feedback)}


async def test_a_right_gold_answer_reveals_nothing_and_a_wrong_one_is_explained(
    work: WorkService, clock: FakeClock, gold_pack: Pack
) -> None:
    truth = await gold_pack(tasks=60, gold=40)
    card = await join(work, 1)
    results = await work_on(work, clock, 1, card, honest(truth), 5)
    card = results[-1].next
    assert isinstance(card, TaskCard)
    seen_gold = 0
    for _ in range(40):
        assert isinstance(card, TaskCard)
        assert card.training is None and card.news == ()
        gold = card.text.startswith("gold")
        choose = wrong(truth) if gold and seen_gold == 0 else honest(truth)
        [result] = await work_on(work, clock, 1, card, choose, 1)
        if gold and seen_gold == 0:
            [feedback] = result.news
            assert isinstance(feedback, Feedback) and not feedback.correct
            assert feedback.expected == OPTIONS[OPTION_IDS.index(truth[card.text])]["label"]
        else:
            assert result.news == ()  # nothing tells a right gold answer apart
        seen_gold += gold
        card = result.next
    assert 3 <= seen_gold <= 20


async def test_a_spammer_is_suspended_and_their_answers_stop_counting(
    work: WorkService, clock: FakeClock, gold_pack: Pack, db: Database
) -> None:
    truth = await gold_pack(
        tasks=60, gold=40, quality={"min_seconds": 0, "qualification": 2, "pass_mark": 0.5}
    )
    card = await join(work, 1)
    # Lucky in training (both right), then always wrong.
    results = await work_on(work, clock, 1, card, honest(truth), 2)
    results += await work_on(work, clock, 1, results[-1].next, wrong(truth), 60)  # type: ignore[arg-type]
    decisions = [n for r in results for n in r.news if isinstance(n, Decision)]
    suspended = [d for d in decisions if d.kind == "suspended"]
    assert len(suspended) == 1 and suspended[0].reason == "accuracy"
    assert suspended[0].score < 0.7 and suspended[0].threshold == 0.7
    assert results[-1].next == NoTask("held")
    counted = await value(
        db, "SELECT COUNT(*) FROM assignments WHERE worker_id = 1 AND is_gold = 0 AND excluded = 0"
    )
    excluded = await value(
        db, "SELECT COUNT(*) FROM assignments WHERE worker_id = 1 AND excluded = 1 AND is_gold = 0"
    )
    assert counted == 0 and excluded > 0
    # Their tasks got their slots back.
    reopened = await value(
        db,
        "SELECT COUNT(*) FROM tasks WHERE remaining > 0 AND pk IN"
        " (SELECT task_pk FROM assignments WHERE worker_id = 1 AND excluded = 1 AND is_gold = 0)",
    )
    assert reopened == excluded


async def test_two_agreeing_careful_workers_close_a_task_before_its_overlap(
    work: WorkService, clock: FakeClock, gold_pack: Pack, db: Database
) -> None:
    truth = await gold_pack(tasks=6, gold=40)
    for worker in (1, 2):
        card = await join(work, worker)
        results = await work_on(work, clock, worker, card, honest(truth), 5)
        await work_on(work, clock, worker, results[-1].next, honest(truth), 40)  # type: ignore[arg-type]
    rows = await db_rows(
        db, "SELECT answers, done, remaining, label, confidence FROM tasks WHERE gold IS NULL"
    )
    assert rows and all(row == (2, 1, 0, row[3], 1.0) for row in rows)
    assert all(row[3] is not None for row in rows)


async def db_rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    async with db.read() as tx:
        return [tuple(row) for row in await tx.all(sql)]


async def test_always_pressing_the_first_button_is_flagged_even_with_gold_luck(
    work: WorkService, clock: FakeClock, gold_pack: Pack
) -> None:
    truth = await gold_pack(tasks=60, gold=40, quality={"min_seconds": 0, "gold_ratio": 0})
    card = await join(work, 1)
    results = await work_on(work, clock, 1, card, honest(truth), 5)
    results += await work_on(work, clock, 1, results[-1].next, lambda card: 0, 40)  # type: ignore[arg-type]
    reasons = [n.reason for r in results for n in r.news if isinstance(n, Decision) and n.reason]
    assert reasons == ["same_button"]
    # 3 balanced options: flagged after about 18 presses in a row (chance < 1e-8).
    assert 5 + 15 <= len(results) <= 5 + 20


async def test_too_fast_answers_in_a_row_lead_to_a_suspension(
    work: WorkService, clock: FakeClock, gold_pack: Pack
) -> None:
    truth = await gold_pack(tasks=40, gold=30, quality={"min_seconds": 3, "qualification": 1})
    card = await join(work, 1)
    assert isinstance(card, TaskCard)
    results = await work_on(work, clock, 1, card, honest(truth), 1)
    card = results[-1].next
    reasons = []
    for _ in range(6):
        assert isinstance(card, TaskCard)
        clock.advance(seconds=1)  # 1 s per answer: faster than min_seconds (3)
        result = await work.submit(
            worker_id=1, assignment_id=card.assignment_id, choice=honest(truth)(card)
        )
        reasons += [n.reason for n in result.news if isinstance(n, Decision)]
        card = result.next  # type: ignore[assignment]
        if reasons:
            break
    assert reasons == ["too_fast"]


async def test_a_worker_out_of_gold_without_a_long_record_stops_and_operators_hear(
    work: WorkService, clock: FakeClock, gold_pack: Pack, db: Database, quality: QualityService
) -> None:
    truth = await gold_pack(tasks=100, gold=6)
    card = await join(work, 1)
    results = await work_on(work, clock, 1, card, honest(truth), 80)
    stopped = [n for r in results for n in getattr(r.next, "news", ()) if isinstance(n, Decision)]
    assert [d.kind for d in stopped if d.kind == "stopped"] == ["stopped"]
    assert results[-1].next == NoTask("held", tuple(stopped[-1:]))
    alerts = [m for m in await queued(db) if m.text_key == "op_needs_gold"]
    assert len(alerts) == 1 and alerts[0].worker_id is None


async def test_an_accepted_dispute_corrects_the_gold_and_lifts_the_suspension(
    work: WorkService, clock: FakeClock, gold_pack: Pack, quality: QualityService, db: Database
) -> None:
    # g00's key is wrong: the careful worker answers the truth and is marked wrong.
    truth = await gold_pack(
        tasks=10, gold=3, wrong_key=0, quality={"min_seconds": 0, "qualification": 3}
    )
    card = await join(work, 1)
    results = await work_on(work, clock, 1, card, honest(truth), 3)
    missed = [n for r in results for n in r.news if isinstance(n, Feedback) and not n.correct]
    assert len(missed) == 1
    decision = next(n for n in results[-1].news if isinstance(n, Decision))
    assert decision.kind == "failed"  # 2 of 3 < 0.8

    assert await quality.open_dispute(2, missed[0].assignment_id) is DisputeOutcome.NOT_ALLOWED
    assert await quality.open_dispute(1, missed[0].assignment_id) is DisputeOutcome.OPENED
    assert await quality.open_dispute(1, missed[0].assignment_id) is DisputeOutcome.ALREADY
    assert await quality.take_input(1) is not None  # the next message is the comment
    views, _ = await quality.disputes()
    assert [(v.task_id, v.answer, v.expected) for v in views] == [("g00", "pos", "neg")]

    resolution = await quality.accept(views[0].id)
    assert resolution.ok and resolution.lifted == [1] and resolution.told == [1]
    assert await value(db, "SELECT gold FROM tasks WHERE task_id = 'g00'") == "pos"
    score = (await quality.score(1))[0]
    assert score.state == "qualified" and score.train_correct == 3
    keys = sorted(m.text_key for m in await queued(db) if m.worker_id == 1)
    assert keys == ["dispute_accepted", "quality_lifted"]
    resumed = await work.resume(1)
    assert resumed is not None and isinstance(resumed[1], TaskCard)


async def test_a_rejected_dispute_sends_the_reason(
    work: WorkService, clock: FakeClock, gold_pack: Pack, quality: QualityService, db: Database
) -> None:
    truth = await gold_pack(tasks=10, gold=6)
    card = await join(work, 1)
    results = await work_on(work, clock, 1, card, wrong(truth), 1)
    feedback = results[0].news[0]
    assert isinstance(feedback, Feedback)
    assert await quality.open_dispute(1, feedback.assignment_id) is DisputeOutcome.OPENED
    views, _ = await quality.disputes()
    assert not (await quality.reject(views[0].id, "  ")).ok  # a reason is required
    assert (await quality.reject(views[0].id, "Irony <counts> as meant")).ok
    [message] = [m for m in await queued(db) if m.worker_id == 1]
    assert message.text_key == "dispute_rejected"
    assert message.params["reason"] == "Irony <counts> as meant"  # escaped when rendered


async def test_a_gold_item_missed_by_most_of_five_workers_is_flagged_and_stops_counting(
    work: WorkService, clock: FakeClock, gold_pack: Pack, quality: QualityService, db: Database
) -> None:
    truth = await gold_pack(
        tasks=40,
        gold=6,
        wrong_key=0,
        quality={"min_seconds": 0, "qualification": 6, "pass_mark": 0.5},
    )
    for worker in range(1, 7):
        card = await join(work, worker)
        await work_on(work, clock, worker, card, honest(truth), 6)
    assert await value(db, "SELECT review FROM tasks WHERE task_id = 'g00'") == 1
    _, flagged = await quality.disputes()
    assert [row["task_id"] for row in flagged] == ["g00"]
    for worker in range(1, 7):
        score = (await quality.score(worker))[0]
        assert score.train_total == 5 and score.train_correct == 5  # g00 no longer counts
