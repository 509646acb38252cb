"""Quality use cases: gold serving and judging inside the worker loop's transactions
(QualityRules), and disputes, reviews and scores (QualityService); what they tell people is
queued in the one outbox (db/quality.add_message).

The rules themselves are the pure functions of tasks/quality.py.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from db import Database, SyncTx, from_db_time, to_db_time
from db import assignments as assignments_db
from db import quality as quality_db
from tasks import quality as rules
from tasks.clock import Clock
from tasks.packs import PackInfo

log = logging.getLogger(__name__)

STATS_TTL = 10.0  # seconds a pack's gold statistics are reused
INPUT_MINUTES = 15  # how long the next message may answer a question (comment, reason)


# -- what the worker is told ---------------------------------------------------------------


@dataclass(frozen=True)
class Feedback:
    """After a training answer, or a missed gold answer: what was expected and why."""

    assignment_id: int
    pack_title: str
    text: str  # the task's text
    answered: str  # option labels
    expected: str
    explanation: str | None
    correct: bool
    training: tuple[int, int] | None  # (answered so far, qualification) during training


@dataclass(frozen=True)
class Decision:
    """A change in the worker's standing on a pack, with everything needed to explain it."""

    kind: Literal["training", "retraining", "passed", "failed", "suspended", "stopped"]
    pack_title: str
    reason: str | None = None
    score: float = 0.0  # training: raw share right; else the smoothed accuracy
    threshold: float = 0.0
    correct: int = 0
    total: int = 0
    retry_at: datetime | None = None
    qualification: int = 0


News = Feedback | Decision


@dataclass(frozen=True)
class Choice:
    task: sqlite3.Row
    is_gold: bool
    training: tuple[int, int] | None  # (question number, qualification) during training


@dataclass
class PackStats:
    at: float
    gold: int
    low_pk: int
    high_pk: int
    same_limit: int
    median_seconds: float | None
    timed_answers: int


@dataclass
class AnsweredTask:
    """The answer just stored, as the answer path read it."""

    assignment_id: int
    worker_id: int
    task_pk: int
    is_gold: bool
    gold: str | None
    explanation: str | None
    text: str
    option_id: str
    seconds: float


class QualityRules:
    """Gold serving, judging and dynamic overlap, run inside the worker loop's transactions."""

    def __init__(self, rng: random.Random | None = None, stats_ttl: float = STATS_TTL) -> None:
        # Random draws (gold or not, where to start in the gold) come from a secret seed and
        # the worker's own count of tasks: unpredictable to workers, yet each worker's sequence
        # does not depend on what others do (reproducible given the seed).
        self.seed = (rng or random.SystemRandom()).getrandbits(64)
        self.stats_ttl = stats_ttl
        self._settings: dict[int, tuple[PackInfo, rules.QualitySettings]] = {}
        self._stats: dict[int, PackStats] = {}

    def settings(self, pack: PackInfo) -> rules.QualitySettings:
        cached = self._settings.get(pack.pk)
        if cached is None or cached[0] is not pack:
            cached = (pack, rules.QualitySettings.from_header(pack.header.get("quality")))
            self._settings[pack.pk] = cached
        return cached[1]

    def draw(self, standing: sqlite3.Row, purpose: str) -> float:
        """A uniform number in [0, 1) for this worker, pack and task count."""
        worker, pack, draws = standing["worker_id"], standing["pack_pk"], standing["draws"]
        key = f"{self.seed}:{worker}:{pack}:{draws}:{purpose}"
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def count_draw(self, tx: SyncTx, pack: PackInfo, worker_id: int) -> None:
        """A skip moves the worker's draws on, as an answer does."""
        if self.active(tx, pack):
            quality_db.count_draw(tx, worker_id, pack.pk)

    def forget(self, pack_pk: int | None = None) -> None:
        """The pack's gold changed (flagged, corrected, retired): read it again."""
        if pack_pk is None:
            self._stats.clear()
        else:
            self._stats.pop(pack_pk, None)

    def stats(self, tx: SyncTx, pack: PackInfo) -> PackStats:
        now = time.monotonic()
        found = self._stats.get(pack.pk)
        if found is None or now - found.at >= self.stats_ttl:
            gold, low, high = quality_db.gold_span(tx, pack.pk)
            share = rules.top_share(quality_db.gold_answer_counts(tx, pack.pk), len(pack.options))
            seconds = quality_db.recent_seconds(tx, pack.pk)
            found = PackStats(
                at=now,
                gold=gold,
                low_pk=low,
                high_pk=high,
                same_limit=rules.same_streak_limit(share),
                median_seconds=statistics.median(seconds) if seconds else None,
                timed_answers=len(seconds),
            )
            self._stats[pack.pk] = found
        return found

    def active(self, tx: SyncTx, pack: PackInfo) -> bool:
        """Quality control runs on a pack with gold tasks or with a quality block."""
        return pack.header.get("quality") is not None or self.stats(tx, pack).gold > 0

    def min_seconds(self, tx: SyncTx, pack: PackInfo) -> float | None:
        explicit = self.settings(pack).min_seconds
        if explicit is not None:
            return explicit or None  # 0: no speed check
        stats = self.stats(tx, pack)
        return rules.derived_min_seconds(stats.median_seconds, stats.timed_answers)

    def unpaid_training(self, tx: SyncTx, pack: PackInfo, worker_id: int) -> bool:
        """A training answer on a pack whose training is not paid (train_paid: false)."""
        if self.settings(pack).train_paid:
            return False
        standing = quality_db.get_standing(tx, worker_id, pack.pk)
        return standing is not None and standing["state"] == "training"

    def training_position(
        self, tx: SyncTx, worker_id: int, pack: PackInfo
    ) -> tuple[int, int] | None:
        standing = quality_db.get_standing(tx, worker_id, pack.pk)
        if standing is None or standing["state"] != "training":
            return None
        return standing["train_total"] + 1, self.settings(pack).qualification

    # -- choosing the next task ------------------------------------------------------------

    def choose(
        self, tx: SyncTx, worker_id: int, pack: PackInfo, now: datetime, news: list[News]
    ) -> Choice | Literal["held"] | None:
        """The worker's next task on this pack: gold or not; None if the pack has none for
        them, "held" if their standing keeps them off it for now."""
        if not self.active(tx, pack):
            row = assignments_db.pick(tx, pack.pk, worker_id)
            return None if row is None else Choice(row, False, None)
        stats = self.stats(tx, pack)
        s = self.settings(pack)
        now_s = to_db_time(now)
        standing = quality_db.get_standing(tx, worker_id, pack.pk)
        if stats.gold == 0 and (standing is None or standing["state"] != "stopped"):
            row = assignments_db.pick(tx, pack.pk, worker_id)  # nothing to check against
            return None if row is None else Choice(row, False, None)
        if standing is None:
            state = "training" if s.qualification > 0 else "qualified"
            standing = quality_db.insert_standing(tx, worker_id, pack.pk, state, 0, now_s)
            if state == "training":
                news.append(Decision("training", pack.title, qualification=s.qualification))
        state = standing["state"]
        if state in ("failed", "suspended"):
            retry_at = standing["retry_at"]
            if retry_at is None or retry_at > now_s:
                return "held"
            standing = self._retrain(tx, worker_id, pack, standing, now_s)
            news.append(Decision("retraining", pack.title, qualification=s.qualification))
            state = standing["state"]
        if state == "stopped":
            gold = self._pick_gold(tx, standing, pack, stats)
            if gold is None:
                return "held"
            standing = self._resume_after_stop(tx, worker_id, pack, standing, now_s)
            state = standing["state"]
        if state == "training":
            gold = self._pick_gold(tx, standing, pack, stats)
            if gold is None:
                self._stop_for_gold(tx, worker_id, pack, stats, now_s, news)
                return "held"
            return Choice(gold, True, (standing["train_total"] + 1, s.qualification))
        rate = rules.gold_rate(standing["gold_total"], standing["accuracy"], s)
        if self.draw(standing, "gold") < rate:
            gold = self._pick_gold(tx, standing, pack, stats)
            if gold is not None:
                return Choice(gold, True, None)
            if not rules.long_and_clean(standing["gold_total"], standing["accuracy"], s):
                self._stop_for_gold(tx, worker_id, pack, stats, now_s, news)
                return "held"
        row = assignments_db.pick(tx, pack.pk, worker_id)
        return None if row is None else Choice(row, False, None)

    def available(self, tx: SyncTx, worker_id: int, pack: PackInfo, now: datetime) -> bool:
        """Whether `choose` would hand this worker a task (nothing is written)."""
        if not self.active(tx, pack) or self.stats(tx, pack).gold == 0:
            return assignments_db.pick(tx, pack.pk, worker_id) is not None
        standing = quality_db.get_standing(tx, worker_id, pack.pk)
        stats = self.stats(tx, pack)
        if standing is None:
            return True
        state = standing["state"]
        if state in ("failed", "suspended"):
            retry_at = standing["retry_at"]
            return retry_at is not None and retry_at <= to_db_time(now)
        if state in ("stopped", "training"):
            return self._pick_gold(tx, standing, pack, stats) is not None
        return assignments_db.pick(tx, pack.pk, worker_id) is not None

    def _pick_gold(
        self, tx: SyncTx, standing: sqlite3.Row, pack: PackInfo, stats: PackStats
    ) -> sqlite3.Row | None:
        if stats.gold == 0:
            return None
        span = stats.high_pk - stats.low_pk + 1
        start = stats.low_pk + int(self.draw(standing, "start") * span)
        return quality_db.pick_gold(tx, pack.pk, standing["worker_id"], start)

    def _retrain(
        self, tx: SyncTx, worker_id: int, pack: PackInfo, standing: sqlite3.Row, now_s: str
    ) -> sqlite3.Row:
        """Retraining opens: a new attempt, judged on new gold answers only."""
        s = self.settings(pack)
        values = {
            "state": "training" if s.qualification > 0 else "qualified",
            "reason": None,
            "attempts": standing["attempts"] + 1,
            "since_id": quality_db.max_assignment_id(tx),
            "accuracy": 0.5,
            "window_total": 0,
            "window_correct": 0,
            "gold_total": 0,
            "train_total": 0,
            "train_correct": 0,
            "fast_streak": 0,
            "same_option": None,
            "same_streak": 0,
            "retry_at": None,
            "updated_at": now_s,
        }
        quality_db.save_standing(tx, worker_id, pack.pk, values)
        found = quality_db.get_standing(tx, worker_id, pack.pk)
        assert found is not None
        return found

    def _resume_after_stop(
        self, tx: SyncTx, worker_id: int, pack: PackInfo, standing: sqlite3.Row, now_s: str
    ) -> sqlite3.Row:
        results = [
            ok for _, ok in quality_db.gold_results(tx, worker_id, pack.pk, standing["since_id"])
        ]
        verdict = rules.judge(results, self.settings(pack))
        state = "training" if verdict.state == "training" else "qualified"
        quality_db.save_standing(
            tx, worker_id, pack.pk, {"state": state, "reason": None, "updated_at": now_s}
        )
        found = quality_db.get_standing(tx, worker_id, pack.pk)
        assert found is not None
        return found

    def _stop_for_gold(
        self,
        tx: SyncTx,
        worker_id: int,
        pack: PackInfo,
        stats: PackStats,
        now_s: str,
        news: list[News],
    ) -> None:
        """No unseen gold left and no long clean record: the worker stops on this pack, and
        operators hear that the pack needs more gold (once per pack and gold count)."""
        quality_db.save_standing(
            tx,
            worker_id,
            pack.pk,
            {"state": "stopped", "reason": "no_gold", "decided_at": now_s, "updated_at": now_s},
        )
        news.append(Decision("stopped", pack.title, reason="no_gold"))
        quality_db.add_message(
            tx,
            None,
            "op_needs_gold",
            json.dumps({"pack": pack.id, "gold": stats.gold}),
            now_s,
            dedupe_key=f"needs-gold:{pack.pk}:{stats.gold}",
        )

    # -- after an answer -------------------------------------------------------------------

    def after_answer(
        self, tx: SyncTx, pack: PackInfo, answer: AnsweredTask, now: datetime
    ) -> list[News]:
        """Judges the answer (gold), watches speed and same-button streaks, updates the task's
        result and overlap (not gold). Returns what the worker must be told now."""
        if not self.active(tx, pack):
            return []
        news: list[News] = []
        now_s = to_db_time(now)
        standing = quality_db.get_standing(tx, answer.worker_id, pack.pk)
        if standing is not None:
            news = self._judge_answer(tx, pack, answer, standing, now, now_s)
        if not answer.is_gold:
            self.aggregate(tx, pack, answer.task_pk)
        return news

    def _judge_answer(
        self,
        tx: SyncTx,
        pack: PackInfo,
        answer: AnsweredTask,
        standing: sqlite3.Row,
        now: datetime,
        now_s: str,
    ) -> list[News]:
        s = self.settings(pack)
        news: list[News] = []
        limit = self.min_seconds(tx, pack)
        too_fast = limit is not None and answer.seconds < limit
        same = standing["same_option"] == answer.option_id
        values: dict[str, Any] = {
            "draws": standing["draws"] + 1,
            "fast_streak": standing["fast_streak"] + 1 if too_fast else 0,
            "same_option": answer.option_id,
            "same_streak": standing["same_streak"] + 1 if same else 1,
            "updated_at": now_s,
        }
        state = standing["state"]
        judged = answer.is_gold and answer.gold is not None and state in ("training", "qualified")
        if judged:
            state = self._judge_gold(tx, pack, answer, standing, values, news, now)
        if state in ("training", "qualified"):
            reason = None
            if values["fast_streak"] >= s.fast_streak:
                reason = "too_fast"
            elif values["same_streak"] >= self.stats(tx, pack).same_limit:
                reason = "same_button"
            if reason is not None:
                self._suspend(tx, pack, answer.worker_id, standing, values, reason, now)
                news.append(self._decision("suspended", pack, values, reason))
        quality_db.save_standing(tx, answer.worker_id, pack.pk, values)
        if judged:
            # After saving: a flag recomputes this worker too, and may undo what was just
            # decided because of that very item; they then see no decision at all.
            lifted = self.check_gold_item(tx, pack, answer.task_pk, now_s, quiet=answer.worker_id)
            if answer.worker_id in lifted:
                news = [item for item in news if isinstance(item, Feedback)]
        return news

    def _judge_gold(
        self,
        tx: SyncTx,
        pack: PackInfo,
        answer: AnsweredTask,
        standing: sqlite3.Row,
        values: dict[str, Any],
        news: list[News],
        now: datetime,
    ) -> str:
        s = self.settings(pack)
        correct = answer.option_id == answer.gold
        training = standing["state"] == "training"
        if training:
            results = quality_db.gold_results(tx, answer.worker_id, pack.pk, standing["since_id"])
        else:
            results = quality_db.gold_results(
                tx, answer.worker_id, pack.pk, standing["since_id"], max(s.window, 1)
            )
        oks = [ok for _, ok in results]
        if training:
            verdict = rules.judge(oks, s)
        else:
            verdict = rules.judge_window(
                oks,
                standing["gold_total"] + 1,
                s,
                standing["train_total"],
                standing["train_correct"],
            )
        values.update(
            accuracy=verdict.accuracy,
            window_total=verdict.window_total,
            window_correct=verdict.window_correct,
            gold_total=verdict.gold_total,
            train_total=verdict.train_total,
            train_correct=verdict.train_correct,
        )
        if training or not correct:
            news.append(
                Feedback(
                    assignment_id=answer.assignment_id,
                    pack_title=pack.title,
                    text=answer.text,
                    answered=pack.option_label(answer.option_id) or answer.option_id,
                    expected=pack.option_label(answer.gold or "") or str(answer.gold),
                    explanation=answer.explanation,
                    correct=correct,
                    training=(verdict.train_total, s.qualification) if training else None,
                )
            )
        state = verdict.state
        if training and state == "qualified":
            values.update(state="qualified", good_until_id=answer.assignment_id)
            values.update(decided_at=to_db_time(now), decided_gold=verdict.gold_total)
            news.append(self._decision("passed", pack, values, None))
        elif state == "failed":
            values.update(
                state="failed",
                reason="qualification",
                retry_at=to_db_time(now + timedelta(hours=s.retry_after_hours)),
                decided_at=to_db_time(now),
                decided_gold=verdict.gold_total,
            )
            news.append(self._decision("failed", pack, values, "qualification"))
        elif state == "suspended":
            self._suspend(tx, pack, answer.worker_id, standing, values, "accuracy", now)
            news.append(self._decision("suspended", pack, values, "accuracy"))
        elif (
            state == "qualified" and verdict.gold_total - verdict.train_total >= s.min_gold_answers
        ):
            values["good_until_id"] = answer.assignment_id  # a good window: answers count
        return str(values.get("state", standing["state"]))

    def _suspend(
        self,
        tx: SyncTx,
        pack: PackInfo,
        worker_id: int,
        standing: sqlite3.Row,
        values: dict[str, Any],
        reason: str,
        now: datetime,
    ) -> None:
        """Suspended: answers since the last good window stop counting (their tasks get the
        slots back), retraining opens after retry_after_hours."""
        s = self.settings(pack)
        values.update(
            state="suspended",
            reason=reason,
            retry_at=to_db_time(now + timedelta(hours=s.retry_after_hours)),
            decided_at=to_db_time(now),
            decided_gold=values.get("gold_total", standing["gold_total"]),
        )
        after = values.get("good_until_id", standing["good_until_id"])
        for task_pk in quality_db.set_excluded(tx, worker_id, pack.pk, after, True):
            self.aggregate(tx, pack, task_pk)

    def _decision(
        self, kind: str, pack: PackInfo, values: dict[str, Any], reason: str | None
    ) -> Decision:
        s = self.settings(pack)
        retry = values.get("retry_at")
        if kind in ("passed", "failed"):
            total, correct = values["train_total"], values["train_correct"]
            score = correct / total if total else 0.0
            threshold = s.pass_mark
        else:
            total = values.get("window_total", 0)
            correct = values.get("window_correct", 0)
            score = values.get("accuracy", 0.5)
            threshold = s.min_accuracy
        return Decision(
            kind,  # type: ignore[arg-type]
            pack.title,
            reason=reason,
            score=score,
            threshold=threshold,
            correct=correct,
            total=total,
            retry_at=from_db_time(retry) if retry else None,
            qualification=s.qualification,
        )

    # -- results and overlap ---------------------------------------------------------------

    def after_lease(self, tx: SyncTx, pack: PackInfo, choice: Choice) -> None:
        """Dynamic overlap from the first hand-out: min_overlap workers at a time, not overlap."""
        if not choice.is_gold and self.active(tx, pack):
            self.aggregate(tx, pack, choice.task["pk"])

    def aggregate(self, tx: SyncTx, pack: PackInfo, task_pk: int) -> None:
        """The task's trust-weighted result, and how many more answers it wants."""
        s = self.settings(pack)
        votes = []
        open_leases = 0
        for row in quality_db.task_votes(tx, task_pk):
            if row["status"] == "open":
                open_leases += 1
                continue
            accuracy = 0.5 if row["accuracy"] is None else row["accuracy"]
            votes.append(rules.Vote(row["answer"], rules.trust_weight(accuracy, len(pack.options))))
        label, confidence = rules.weighted_vote(votes)
        wanted = rules.slots_wanted(len(votes), open_leases, confidence, s, pack.overlap)
        done = rules.is_closed(len(votes), confidence, s, pack.overlap)
        quality_db.set_task_result(tx, task_pk, label, confidence, wanted, done)

    # -- gold items and recomputation -----------------------------------------------------

    def check_gold_item(
        self, tx: SyncTx, pack: PackInfo, task_pk: int, now_s: str, quiet: int | None = None
    ) -> list[int]:
        """Flags a gold item that more than half of at least 5 workers missed or disputed: it
        stops counting against anyone (scores recomputed) until an operator reviews it. Returns
        the workers whose decisions were lifted (`quiet` is not sent a message about it)."""
        answered, missed = quality_db.gold_item_counts(tx, task_pk)
        if not rules.needs_review(answered, missed) or not quality_db.set_review(tx, task_pk, True):
            return []
        task = quality_db.get_task(tx, task_pk)
        assert task is not None
        log.warning("gold item %s/%s flagged for review", pack.id, task["task_id"])
        quality_db.add_message(
            tx,
            None,
            "op_gold_flagged",
            json.dumps(
                {"pack": pack.id, "task": task["task_id"], "missed": missed, "of": answered}
            ),
            now_s,
            dedupe_key=f"flagged:{task_pk}:{now_s}",
        )
        quality_db.touch_pack(tx, pack.pk, now_s)
        self.forget(pack.pk)
        answerers = quality_db.gold_answerers(tx, task_pk)
        return self.recompute(tx, pack, answerers, from_db_time(now_s), quiet=quiet)

    def recompute(
        self,
        tx: SyncTx,
        pack: PackInfo,
        worker_ids: list[int],
        now: datetime,
        quiet: int | None = None,
    ) -> list[int]:
        """Scores recomputed from the gold as it is now; decisions that no longer hold are lifted
        (the worker is told through the outbox). Never suspends anyone. Returns who was lifted."""
        s = self.settings(pack)
        now_s = to_db_time(now)
        lifted = []
        for worker_id in worker_ids:
            standing = quality_db.get_standing(tx, worker_id, pack.pk)
            if standing is None:
                continue
            oks = [
                ok
                for _, ok in quality_db.gold_results(tx, worker_id, pack.pk, standing["since_id"])
            ]
            verdict = rules.judge(oks, s)
            values: dict[str, Any] = {
                "accuracy": verdict.accuracy,
                "window_total": verdict.window_total,
                "window_correct": verdict.window_correct,
                "gold_total": verdict.gold_total,
                "train_total": verdict.train_total,
                "train_correct": verdict.train_correct,
                "updated_at": now_s,
            }
            gold_reason = standing["reason"] in ("qualification", "accuracy")
            if standing["state"] in ("failed", "suspended") and gold_reason:
                if verdict.state == "qualified" or (
                    verdict.state == "training" and rules.can_still_pass(verdict, s)
                ):
                    values.update(state=verdict.state, reason=None, retry_at=None)
                    for task_pk in quality_db.set_excluded(tx, worker_id, pack.pk, 0, False):
                        self.aggregate(tx, pack, task_pk)
                    if worker_id != quiet:
                        quality_db.add_message(
                            tx,
                            worker_id,
                            "quality_lifted",
                            json.dumps({"pack": pack.title}),
                            now_s,
                        )
                    lifted.append(worker_id)
            elif standing["state"] == "training" and verdict.state == "qualified":
                values.update(state="qualified", good_until_id=standing["good_until_id"])
            quality_db.save_standing(tx, worker_id, pack.pk, values)
        return lifted


# -- disputes, reviews, scores, outbox ------------------------------------------------------


class DisputeOutcome(StrEnum):
    OPENED = "opened"
    ALREADY = "already"  # this answer was disputed before
    NOT_ALLOWED = "not_allowed"  # not the worker's, not a missed gold answer


@dataclass(frozen=True)
class DisputeView:
    id: int
    pack_id: str
    pack_title: str
    task_id: str
    text: str
    worker_id: int
    answer: str  # option id
    answer_label: str
    expected: str
    expected_label: str
    explanation: str | None
    comment: str | None
    status: str
    flagged: bool
    options: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Resolution:
    ok: bool
    message: str  # for the operator, in English (the CLI and the operator's screen)
    lifted: list[int] = field(default_factory=list)
    told: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PackScore:
    pack_title: str
    state: str
    reason: str | None
    accuracy: float
    min_accuracy: float
    window_total: int
    window_correct: int
    window: int
    train_total: int
    train_correct: int
    qualification: int
    pass_mark: float
    retry_at: datetime | None


class QualityService:
    """Use cases around quality that are not the answer path; each one unit of work."""

    def __init__(self, db: Database, rules_: QualityRules, clock: Clock | None = None) -> None:
        self.db = db
        self.rules = rules_
        self.clock = clock or Clock()

    def _pack(self, tx: SyncTx, pack_pk: int) -> PackInfo:
        from db import packs as packs_db

        row = packs_db.get_pack_by_pk(tx, pack_pk)
        assert row is not None
        return PackInfo.from_row(row)

    # -- workers -------------------------------------------------------------------------

    async def score(self, worker_id: int) -> list[PackScore]:
        return await self.db.run_read(self._score, worker_id)

    def _score(self, tx: SyncTx, worker_id: int) -> list[PackScore]:
        scores = []
        for row in quality_db.standings_of_worker(tx, worker_id):
            s = rules.QualitySettings.from_header(json.loads(row["header"]).get("quality"))
            scores.append(
                PackScore(
                    pack_title=row["title"],
                    state=row["state"],
                    reason=row["reason"],
                    accuracy=row["accuracy"],
                    min_accuracy=s.min_accuracy,
                    window_total=row["window_total"],
                    window_correct=row["window_correct"],
                    window=s.window,
                    train_total=row["train_total"],
                    train_correct=row["train_correct"],
                    qualification=s.qualification,
                    pass_mark=s.pass_mark,
                    retry_at=from_db_time(row["retry_at"]) if row["retry_at"] else None,
                )
            )
        return scores

    async def open_dispute(self, worker_id: int, assignment_id: int) -> DisputeOutcome:
        """One tap: the worker disputes a missed gold answer; their next message may add a
        comment. The gold item is flagged if enough workers missed or disputed it."""
        return await self.db.run(self._open_dispute, worker_id, assignment_id)

    def _open_dispute(self, tx: SyncTx, worker_id: int, assignment_id: int) -> DisputeOutcome:
        now = self.clock.now()
        now_s = to_db_time(now)
        row = quality_db.assignment_for_dispute(tx, assignment_id)
        if row is None or row["worker_id"] != worker_id:
            return DisputeOutcome.NOT_ALLOWED
        if row["dispute_id"] is not None:
            return DisputeOutcome.ALREADY
        if (
            row["status"] != "answered"
            or not row["is_gold"]
            or row["gold"] is None
            or row["answer"] == row["gold"]
        ):
            return DisputeOutcome.NOT_ALLOWED
        dispute_id = quality_db.insert_dispute(tx, row, now_s)
        expires = to_db_time(now + timedelta(minutes=INPUT_MINUTES))
        quality_db.set_pending_input(tx, worker_id, "dispute_comment", dispute_id, expires)
        pack = self._pack(tx, row["pack_pk"])
        self.rules.check_gold_item(tx, pack, row["task_pk"], now_s)
        quality_db.add_message(
            tx,
            None,
            "op_new_dispute",
            json.dumps({"id": dispute_id, "pack": pack.id}),
            now_s,
            dedupe_key=f"new-dispute:{dispute_id}",
        )
        return DisputeOutcome.OPENED

    async def take_input(self, user_id: int) -> tuple[str, int] | None:
        """The question the user's next text answers: ("dispute_comment" | "reject_reason",
        id), once; None if there is none (or it expired)."""
        row = await self.db.run(
            quality_db.take_pending_input, user_id, to_db_time(self.clock.now())
        )
        return None if row is None else (row["kind"], row["ref_id"])

    async def ask_input(self, user_id: int, kind: str, ref_id: int) -> None:
        expires = to_db_time(self.clock.now() + timedelta(minutes=INPUT_MINUTES))
        await self.db.run(quality_db.set_pending_input, user_id, kind, ref_id, expires)

    async def comment(self, dispute_id: int, comment: str) -> bool:
        return await self.db.run(quality_db.set_comment, dispute_id, comment[:1000])

    # -- operators -------------------------------------------------------------------------

    async def disputes(self, limit: int = 100) -> tuple[list[DisputeView], list[sqlite3.Row]]:
        """Open disputes (oldest first) and the gold items flagged for review."""
        return await self.db.run_read(self._disputes, limit)

    def _disputes(self, tx: SyncTx, limit: int) -> tuple[list[DisputeView], list[sqlite3.Row]]:
        views = [_dispute_view(row) for row in quality_db.open_disputes(tx, limit)]
        return views, quality_db.flagged_gold(tx)

    async def dispute(self, dispute_id: int) -> DisputeView | None:
        row = await self.db.run_read(quality_db.get_dispute, dispute_id)
        return None if row is None else _dispute_view(row)

    async def accept(
        self, dispute_id: int, *, correct: str | None = None, retire: bool = False
    ) -> Resolution:
        """The worker was right: the gold item is corrected (to `correct`, by default the
        worker's answer) or retired; scores are recomputed, decisions that no longer hold are
        lifted, and the workers concerned are told."""
        return await self.db.run(self._accept, dispute_id, correct, retire)

    def _accept(self, tx: SyncTx, dispute_id: int, correct: str | None, retire: bool) -> Resolution:
        row = quality_db.get_dispute(tx, dispute_id)
        if row is None:
            return Resolution(False, f"no dispute #{dispute_id}")
        if row["status"] != "open":
            return Resolution(False, f"dispute #{dispute_id} is already {row['status']}")
        action = "retire" if retire else "correct"
        return self._resolve_gold(tx, row["task_pk"], action, correct or row["answer"])

    async def reject(self, dispute_id: int, reason: str) -> Resolution:
        """The gold answer stands: the worker receives the reason; a flagged item is cleared."""
        return await self.db.run(self._reject, dispute_id, reason)

    def _reject(self, tx: SyncTx, dispute_id: int, reason: str) -> Resolution:
        reason = reason.strip()[:1000]
        if not reason:
            return Resolution(False, "a reason is needed: the worker receives it")
        now = self.clock.now()
        now_s = to_db_time(now)
        row = quality_db.get_dispute(tx, dispute_id)
        if row is None:
            return Resolution(False, f"no dispute #{dispute_id}")
        if not quality_db.resolve_dispute(tx, dispute_id, "rejected", reason, now_s):
            return Resolution(False, f"dispute #{dispute_id} is already {row['status']}")
        pack = self._pack(tx, row["pack_pk"])
        quality_db.add_message(
            tx,
            row["worker_id"],
            "dispute_rejected",
            json.dumps({"pack": pack.title, "task": _text(row["content"]), "reason": reason}),
            now_s,
        )
        if row["review"]:  # reviewed: the gold answer stands and counts again
            quality_db.set_review(tx, row["task_pk"], False)
            quality_db.touch_pack(tx, pack.pk, now_s)
            self.rules.forget(pack.pk)
            self.rules.recompute(tx, pack, quality_db.gold_answerers(tx, row["task_pk"]), now)
        return Resolution(True, f"dispute #{dispute_id} rejected; worker {row['worker_id']} told")

    async def review(
        self, pack_id: str, task_id: str, action: str, correct: str | None
    ) -> Resolution:
        """An operator reviews a gold item: keep, correct or retire (with its open disputes)."""
        return await self.db.run(self._review, pack_id, task_id, action, correct)

    def _review(
        self, tx: SyncTx, pack_id: str, task_id: str, action: str, correct: str | None
    ) -> Resolution:
        task = quality_db.find_task(tx, pack_id, task_id)
        if task is None or task["gold"] is None:
            return Resolution(False, f"no gold task {task_id!r} in pack {pack_id!r}")
        return self._resolve_gold(tx, task["pk"], action, correct)

    def _resolve_gold(
        self, tx: SyncTx, task_pk: int, action: str, correct: str | None
    ) -> Resolution:
        now = self.clock.now()
        now_s = to_db_time(now)
        task = quality_db.get_task(tx, task_pk)
        assert task is not None
        pack = self._pack(tx, task["pack_pk"])
        if action == "correct":
            if correct is None or pack.option_label(correct) is None:
                ids = ", ".join(option.id for option in pack.options)
                return Resolution(False, f"{correct!r} is not one of the options ({ids})")
            quality_db.set_gold(tx, task_pk, correct)
            done = f"gold of {task['task_id']} corrected to {correct!r}"
        elif action == "retire":
            quality_db.retire_task(tx, task_pk)
            done = f"gold item {task['task_id']} retired"
        elif action == "keep":
            quality_db.set_review(tx, task_pk, False)
            done = f"gold of {task['task_id']} kept as {task['gold']!r}"
        else:
            raise ValueError(f"unknown review action {action!r}")
        told = []
        for dispute in quality_db.open_disputes_on_task(tx, task_pk):
            upheld = action == "retire" or (action == "correct" and dispute["answer"] == correct)
            if not upheld and action == "correct":
                continue  # the worker's answer is still not the expected one: left open
            status = "accepted" if upheld else "rejected"
            resolution = {"correct": "corrected", "retire": "retired"}.get(action, "kept")
            quality_db.resolve_dispute(tx, dispute["id"], status, resolution, now_s)
            key = "dispute_accepted" if upheld else "dispute_rejected"
            params = {"pack": pack.title, "task": _text(task["content"])}
            if not upheld:
                params["reason"] = "the expected answer was checked and stands"
            quality_db.add_message(tx, dispute["worker_id"], key, json.dumps(params), now_s)
            told.append(dispute["worker_id"])
        quality_db.touch_pack(tx, pack.pk, now_s)
        self.rules.forget(pack.pk)
        lifted = self.rules.recompute(tx, pack, quality_db.gold_answerers(tx, task_pk), now)
        return Resolution(
            True,
            f"{done}; {len(told)} dispute(s) closed, {len(lifted)} suspension(s) lifted",
            lifted,
            told,
        )


def _text(content: str) -> str:
    text: str = json.loads(content)["text"]
    return text


def _dispute_view(row: sqlite3.Row) -> DisputeView:
    options = tuple((item["id"], item["label"]) for item in json.loads(row["options"]))
    labels = dict(options)
    return DisputeView(
        id=row["id"],
        pack_id=row["pack_id"],
        pack_title=row["pack_title"],
        task_id=row["task_id"],
        text=_text(row["content"]),
        worker_id=row["worker_id"],
        answer=row["answer"],
        answer_label=labels.get(row["answer"], row["answer"]),
        expected=row["expected"],
        expected_label=labels.get(row["expected"], row["expected"]),
        explanation=row["explanation"],
        comment=row["comment"],
        status=row["status"],
        flagged=bool(row["review"]),
        options=options,
    )
