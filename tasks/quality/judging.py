"""Judging an answer: the gold verdict (training passed or failed, trust, suspension for
accuracy), too-fast and same-button streaks, and what the worker is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from db import Tx
from db import answers as answers_db
from tasks import answer_types
from tasks.packs import PackInfo
from tasks.quality import rules
from tasks.quality.news import Decision, Feedback, News
from tasks.quality.pack_stats import PackStatsCache
from tasks.quality.results import Results
from tasks.quality.rules import Reason
from tasks.quality.standing import Standing, save_standing


@dataclass(frozen=True)
class AnsweredTask:
    """The answer just stored, as the answer path read it."""

    assignment_id: int
    worker_id: int
    task_pk: int
    is_gold: bool
    gold: str | None
    explanation: str | None
    text: str
    option_id: str  # the answer as stored (an option id, a JSON list of them, or a text)
    seconds: float


class Judging:
    def __init__(self, packs: PackStatsCache, results: Results) -> None:
        self.packs = packs
        self.results = results

    def after_answer(
        self,
        tx: Tx,
        pack: PackInfo,
        answer: AnsweredTask,
        standing: Standing | None,
        now: datetime,
    ) -> list[News]:
        """Judges the answer (gold), watches speed and same-button streaks, updates the task's
        result and overlap (not gold). `standing` (the worker's, on this pack) is changed in
        place and saved. Returns what the worker must be told now."""
        if not self.packs.active(tx, pack):
            return []
        news: list[News] = []
        if standing is not None:
            news = self._judge_answer(tx, pack, answer, standing, now)
        if not answer.is_gold:
            self.results.aggregate(tx, pack, answer.task_pk)
        return news

    def _judge_answer(
        self, tx: Tx, pack: PackInfo, answer: AnsweredTask, standing: Standing, now: datetime
    ) -> list[News]:
        s = self.packs.settings(pack)
        news: list[News] = []
        limit = self.packs.min_seconds(tx, pack)
        too_fast = limit is not None and answer.seconds < limit
        standing.note_answer(now, too_fast, answer_types.streak_key(pack, answer.option_id))
        judged = answer.is_gold and answer.gold is not None and standing.may_work
        if judged:
            self._judge_gold(tx, pack, answer, standing, news, now)
        if standing.may_work:
            reason: Reason | None = None
            if standing.fast_streak >= s.fast_streak:
                reason = "too_fast"
            elif standing.same_streak >= self.packs.stats(tx, pack).same_limit:
                reason = "same_button"
            if reason is not None:
                self._suspend(tx, pack, standing, reason, now)
                news.append(self._decision("suspended", pack, standing))
        save_standing(tx, standing)
        if judged:
            # After saving: a flag recomputes this worker too, and may undo what was just
            # decided because of that very item; they then see no decision at all.
            lifted = self.results.check_gold_item(tx, pack, answer.task_pk, now, quiet=standing)
            if answer.worker_id in lifted:
                news = [item for item in news if isinstance(item, Feedback)]
        return news

    def _judge_gold(
        self,
        tx: Tx,
        pack: PackInfo,
        answer: AnsweredTask,
        standing: Standing,
        news: list[News],
        now: datetime,
    ) -> None:
        """One step of the sequential test, from the standing's running total (no history is
        read: the test's state is its points)."""
        s = self.packs.settings(pack)
        plan = self.packs.plan(pack)
        score = answer_types.gold_score(pack, answer.option_id, answer.gold or "")
        correct = score >= 1
        training = standing.is_training
        verdict = rules.advance(standing.as_verdict(), score, s, plan)
        standing.record_verdict(verdict)
        if training or not correct:
            news.append(
                Feedback(
                    assignment_id=answer.assignment_id,
                    pack_title=pack.title,
                    text=answer.text,
                    answered=answer_types.show(pack, answer.option_id),
                    expected=answer_types.show_gold(pack, answer.gold),
                    explanation=answer.explanation,
                    correct=correct,
                    training=(verdict.train_total, s.qualification) if training else None,
                )
            )
        if verdict.state == "failed":
            standing.fail_training(now, retry_at=now + timedelta(hours=s.retry_after_hours))
            news.append(self._decision("failed", pack, standing))
        elif verdict.state == "suspended":
            self._suspend(tx, pack, standing, "accuracy", now)
            news.append(self._decision("suspended", pack, standing))
        elif verdict.state == "qualified":
            if verdict.points <= 0 and score >= 1:
                standing.note_good_answer(answer.assignment_id)
            if training:
                standing.qualify(now)
                news.append(self._decision("passed", pack, standing))

    def _suspend(
        self, tx: Tx, pack: PackInfo, standing: Standing, reason: Reason, now: datetime
    ) -> None:
        """Suspended: answers since the last good window stop counting (their tasks get the
        slots back), retraining opens after retry_after_hours."""
        s = self.packs.settings(pack)
        standing.suspend(reason, now, retry_at=now + timedelta(hours=s.retry_after_hours))
        after = standing.good_until_id
        for task_pk in answers_db.set_excluded(tx, standing.worker_id, pack.pk, after, True):
            self.results.aggregate(tx, pack, task_pk)

    def _decision(self, kind: str, pack: PackInfo, standing: Standing) -> Decision:
        s = self.packs.settings(pack)
        test = None
        if kind in ("passed", "failed") or standing.reason == "accuracy":
            test = standing.as_points(self.packs.plan(pack))
        return Decision(
            kind,  # type: ignore[arg-type]
            pack.title,
            reason=standing.reason if kind != "passed" else None,
            correct=standing.train_correct,
            total=standing.train_total,
            retry_at=standing.retry_at,
            qualification=s.qualification,
            test=test,
        )
