"""Disputes: a worker disputes a missed gold answer (one tap, an optional comment); an operator
accepts (the gold is corrected or retired), rejects (with a reason the worker receives), or
reviews a gold item flagged for review. Each use case is one unit of work."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

from db import Database, Tx, read_only, to_db_time, unit_of_work
from db import disputes as disputes_db
from db import gold as gold_db
from db import packs as packs_db
from db import quality as quality_db
from db.disputes import Dispute
from db.gold import FlaggedGold
from tasks import answer_types
from tasks.answer_types import multi_choice
from tasks.answer_types import text as text_type
from tasks.clock import Clock
from tasks.conversation import ReplyKind, await_reply
from tasks.packs import PackInfo
from tasks.quality.control import QualityControl

INPUT_SECONDS = 15 * 60  # how long the next message may answer a question (comment, reason)


class DisputeOutcome(StrEnum):
    OPENED = "opened"
    ALREADY = "already"  # this answer was disputed before
    NOT_ALLOWED = "not_allowed"  # not the worker's, not a missed gold answer


@dataclass(frozen=True)
class DisputeView:
    id: int
    pack_id: str
    task_id: str
    text: str
    worker_id: int
    answer: str  # option id
    answer_label: str
    expected: str
    expected_label: str
    explanation: str | None
    comment: str | None
    flagged: bool  # the gold item is under review

    @classmethod
    def of(cls, dispute: Dispute) -> DisputeView:
        labels = dict(dispute.options)
        return cls(
            id=dispute.id,
            pack_id=dispute.pack_id,
            task_id=dispute.task_id,
            text=dispute.text,
            worker_id=dispute.worker_id,
            answer=dispute.answer,
            answer_label=labels.get(dispute.answer, dispute.answer),
            expected=dispute.expected,
            expected_label=labels.get(dispute.expected, dispute.expected),
            explanation=dispute.explanation,
            comment=dispute.comment,
            flagged=dispute.review,
        )


@dataclass(frozen=True)
class Resolution:
    ok: bool
    message: str  # for the operator, in English (the CLI and the operator's screen)
    lifted: list[int] = field(default_factory=list)
    told: list[int] = field(default_factory=list)


class DisputeService:
    def __init__(self, db: Database, quality: QualityControl, clock: Clock | None = None) -> None:
        self.db = db
        self.quality = quality
        self.clock = clock or Clock()

    # -- workers -------------------------------------------------------------------------

    @unit_of_work
    def open_dispute(self, tx: Tx, worker_id: int, assignment_id: int) -> DisputeOutcome:
        """One tap: the worker disputes a missed gold answer; their next message may add a
        comment. The gold item is flagged if enough workers missed or disputed it."""
        now = self.clock.now()
        now_s = to_db_time(now)
        answer = disputes_db.disputable(tx, assignment_id)
        if answer is None or answer.worker_id != worker_id:
            return DisputeOutcome.NOT_ALLOWED
        if answer.dispute_id is not None:
            return DisputeOutcome.ALREADY
        if answer.status != "answered" or not answer.is_gold or answer.gold is None:
            return DisputeOutcome.NOT_ALLOWED
        pack = _pack(tx, answer.pack_pk)
        if answer.answer is None or answer_types.gold_score(pack, answer.answer, answer.gold) >= 1:
            return DisputeOutcome.NOT_ALLOWED  # right (within the type's rule): nothing to dispute
        dispute_id = disputes_db.insert(tx, answer, now_s)
        await_reply(tx, worker_id, ReplyKind.DISPUTE_COMMENT, dispute_id, now, INPUT_SECONDS)
        self.quality.results.check_gold_item(tx, pack, answer.task_pk, now)
        quality_db.add_message(
            tx,
            None,
            "op_new_dispute",
            json.dumps({"id": dispute_id, "pack": pack.id}),
            now_s,
            dedupe_key=f"new-dispute:{dispute_id}",
        )
        return DisputeOutcome.OPENED

    @unit_of_work
    def ask_reason(self, tx: Tx, operator_id: int, dispute_id: int) -> Resolution:
        """An operator's Reject: their next message is the reason, if the dispute is still open
        (not ok: decided already, by an earlier press or command; nothing is asked)."""
        found = disputes_db.get(tx, dispute_id)
        if found is None:
            return Resolution(False, f"no dispute #{dispute_id}")
        if found.status != "open":
            return Resolution(False, f"dispute #{dispute_id} is already {found.status}")
        now = self.clock.now()
        await_reply(tx, operator_id, ReplyKind.REJECT_REASON, dispute_id, now, INPUT_SECONDS)
        return Resolution(True, "")

    @unit_of_work
    def comment(self, tx: Tx, dispute_id: int, comment: str) -> bool:
        return disputes_db.set_comment(tx, dispute_id, comment[:1000])

    # -- operators -------------------------------------------------------------------------

    @read_only
    def open_disputes(
        self, tx: Tx, limit: int = 100
    ) -> tuple[list[DisputeView], list[FlaggedGold]]:
        """Open disputes (oldest first) and the gold items flagged for review."""
        views = [DisputeView.of(dispute) for dispute in disputes_db.open_ones(tx, limit)]
        return views, gold_db.flagged(tx)

    @unit_of_work
    def accept(
        self, tx: Tx, dispute_id: int, *, correct: str | None = None, retire: bool = False
    ) -> Resolution:
        """The worker was right: the gold item is corrected (to `correct`, by default the
        worker's answer) or retired; scores are recomputed, decisions that no longer hold are
        lifted, and the workers concerned are told."""
        found = disputes_db.get(tx, dispute_id)
        if found is None:
            return Resolution(False, f"no dispute #{dispute_id}")
        if found.status != "open":
            return Resolution(False, f"dispute #{dispute_id} is already {found.status}")
        action = "retire" if retire else "correct"
        return self._resolve_gold(tx, found.task_pk, action, correct or found.answer)

    @unit_of_work
    def reject(self, tx: Tx, dispute_id: int, reason: str) -> Resolution:
        """The gold answer stands: the worker receives the reason; a flagged item is cleared."""
        reason = reason.strip()[:1000]
        if not reason:
            return Resolution(False, "a reason is needed: the worker receives it")
        now = self.clock.now()
        now_s = to_db_time(now)
        found = disputes_db.get(tx, dispute_id)
        if found is None:
            return Resolution(False, f"no dispute #{dispute_id}")
        if not disputes_db.resolve(tx, dispute_id, "rejected", reason, now_s):
            return Resolution(False, f"dispute #{dispute_id} is already {found.status}")
        pack = _pack(tx, found.pack_pk)
        quality_db.add_message(
            tx,
            found.worker_id,
            "dispute_rejected",
            json.dumps({"pack": pack.title, "task": found.text, "reason": reason}),
            now_s,
        )
        if found.review:  # reviewed: the gold answer stands and counts again
            gold_db.set_review(tx, found.task_pk, False)
            gold_db.touch_pack(tx, pack.pk, now_s)
            self.quality.forget(pack.pk)
            answerers = gold_db.answerers(tx, found.task_pk)
            self.quality.results.recompute(tx, pack, answerers, now)
        return Resolution(True, f"dispute #{dispute_id} rejected; worker {found.worker_id} told")

    @unit_of_work
    def review(
        self, tx: Tx, pack_id: str, task_id: str, action: str, correct: str | None
    ) -> Resolution:
        """An operator reviews a gold item: keep, correct or retire (with its open disputes)."""
        task = gold_db.find(tx, pack_id, task_id)
        if task is None or task.gold is None:
            return Resolution(False, f"no gold task {task_id!r} in pack {pack_id!r}")
        return self._resolve_gold(tx, task.pk, action, correct)

    def _resolve_gold(self, tx: Tx, task_pk: int, action: str, correct: str | None) -> Resolution:
        now = self.clock.now()
        now_s = to_db_time(now)
        task = gold_db.get(tx, task_pk)
        assert task is not None
        pack = _pack(tx, task.pack_pk)
        if action == "correct":
            fixed = _corrected_gold(pack, task.gold, correct)
            if isinstance(fixed, Resolution):
                return fixed
            correct = fixed
            gold_db.correct(tx, task_pk, correct, now_s)
            verdicts = [
                (answer_types.gold_score(pack, answer, fixed) >= 1, assignment_id)
                for assignment_id, answer in gold_db.answers_to(tx, task_pk)
            ]
            gold_db.set_correct(tx, verdicts)
            done = f"gold of {task.task_id} corrected to {correct!r}"
        elif action == "retire":
            gold_db.retire(tx, task_pk, now_s)
            done = f"gold item {task.task_id} retired"
        elif action == "keep":
            gold_db.set_review(tx, task_pk, False)
            done = f"gold of {task.task_id} kept as {task.gold!r}"
        else:
            raise ValueError(f"unknown review action {action!r}")
        told = []
        for dispute in disputes_db.open_on_task(tx, task_pk):
            upheld = action == "retire" or (
                action == "correct"
                and correct is not None
                and answer_types.gold_score(pack, dispute.answer, correct) >= 1
            )
            if not upheld and action == "correct":
                continue  # the worker's answer is still not the expected one: left open
            status = "accepted" if upheld else "rejected"
            resolution = {"correct": "corrected", "retire": "retired"}.get(action, "kept")
            disputes_db.resolve(tx, dispute.id, status, resolution, now_s)
            key = "dispute_accepted" if upheld else "dispute_rejected"
            params = {"pack": pack.title, "task": task.text}
            if not upheld:
                params["reason"] = "the expected answer was checked and stands"
            quality_db.add_message(tx, dispute.worker_id, key, json.dumps(params), now_s)
            told.append(dispute.worker_id)
        gold_db.touch_pack(tx, pack.pk, now_s)
        self.quality.forget(pack.pk)
        lifted = self.quality.results.recompute(tx, pack, gold_db.answerers(tx, task_pk), now)
        return Resolution(
            True,
            f"{done}; {len(told)} dispute(s) closed, {len(lifted)} suspension(s) lifted",
            lifted,
            told,
        )


def _pack(tx: Tx, pack_pk: int) -> PackInfo:
    pack = packs_db.pack_by_pk(tx, pack_pk)
    assert pack is not None
    return pack


def _corrected_gold(pack: PackInfo, gold: str | None, correct: str | None) -> str | Resolution:
    """The gold after a correction to `correct` (a stored answer): an option id, a multi_choice
    set, or for a text task one more accepted answer."""
    if correct is None:
        return Resolution(False, "no corrected answer given")
    if pack.type == "text":
        accepted = text_type.accepted_answers(gold) if gold else []
        return json.dumps([*accepted, correct], ensure_ascii=False)
    try:
        value: str | list[str] = (
            multi_choice.decode(correct) if pack.type == "multi_choice" else correct
        )
        none = multi_choice.none_option(pack)
        ids = [option.id for option in pack.options]
        return answer_types.canonical_gold(pack.type, ids, value, none)
    except ValueError as exc:
        return Resolution(False, f"{correct!r}: {exc}")
