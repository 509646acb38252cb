"""Results: each task's trust-weighted label and the answers it still wants (dynamic overlap),
and gold items that most workers miss, set aside for review with the scores they touched."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import datetime

from db import Tx, to_db_time
from db import answers as answers_db
from db import gold as gold_db
from db import quality as quality_db
from tasks import answer_types
from tasks.packs import PackInfo
from tasks.quality import rules
from tasks.quality.pack_stats import PackStatsCache
from tasks.quality.standing import Standing, load_standing, save_standing

log = logging.getLogger(__name__)

# Whether dynamic overlap (each press) weighs votes by the skills learned from every answer
# (the background fit, tasks/quality/skills.py) instead of the gold accuracy. Measured both ways
# (docs/quality.md, "Labels from every answer": `bench_quality --press-learned`): no measurable
# saving of answers at equal accuracy, so presses keep the gold accuracy; the exported labels
# use the learned skills.
PRESS_USES_LEARNED_SKILLS = False


def vote_accuracy(accuracy: float | None, skill: float | None) -> float:
    """The accuracy a vote is weighed by: the learned skill, else the gold accuracy, else 0.5
    (no evidence)."""
    if skill is not None and PRESS_USES_LEARNED_SKILLS:
        return skill
    return 0.5 if accuracy is None else accuracy


class Results:
    def __init__(self, packs: PackStatsCache) -> None:
        self.packs = packs

    def aggregate(self, tx: Tx, pack: PackInfo, task_pk: int) -> None:
        """The task's trust-weighted result, and how many more answers it wants."""
        s = self.packs.settings(pack)
        found = answers_db.task_votes(tx, task_pk, learned=PRESS_USES_LEARNED_SKILLS)
        outcomes = answer_types.vote_options(pack)
        votes = [
            answer_types.Vote(answer, rules.trust_weight(vote_accuracy(accuracy, skill), outcomes))
            for answer, accuracy, skill in found.answers
        ]
        result = answer_types.aggregate(pack, votes)  # per type: tasks/answer_types/
        label, confidence = result.label, result.confidence
        wanted = rules.slots_wanted(len(votes), found.open_leases, confidence, s, pack.overlap)
        done = rules.is_closed(len(votes), confidence, s, pack.overlap)
        answers_db.set_task_result(tx, task_pk, label, confidence, wanted, done)

    def check_gold_item(
        self,
        tx: Tx,
        pack: PackInfo,
        task_pk: int,
        now: datetime,
        quiet: Standing | None = None,
    ) -> list[int]:
        """Flags a gold item that more than half of at least 5 workers missed or disputed: it
        stops counting against anyone (scores recomputed) until an operator reviews it. Returns
        the workers whose decisions were lifted (`quiet`, the worker answering now, is not sent
        a message about it: their answer's screen says it)."""
        answered, missed = gold_db.item_counts(tx, task_pk)
        if not rules.needs_review(answered, missed) or not gold_db.set_review(tx, task_pk, True):
            return []
        task = gold_db.get(tx, task_pk)
        assert task is not None
        log.warning("gold item %s/%s flagged for review", pack.id, task.task_id)
        now_s = to_db_time(now)
        quality_db.add_message(
            tx,
            None,
            "op_gold_flagged",
            json.dumps({"pack": pack.id, "task": task.task_id, "missed": missed, "of": answered}),
            now_s,
            dedupe_key=f"flagged:{task_pk}:{now_s}",
        )
        gold_db.touch_pack(tx, pack.pk, now_s)
        self.packs.forget(pack.pk)
        answerers = gold_db.answerers(tx, task_pk)
        return self.recompute(tx, pack, answerers, now, quiet=quiet)

    def recompute(
        self,
        tx: Tx,
        pack: PackInfo,
        worker_ids: list[int],
        now: datetime,
        quiet: Standing | None = None,
        message: str = "quality_lifted",
    ) -> list[int]:
        """Scores recomputed from the gold as it is now: each worker's gold record is replayed
        through the test. Decisions that no longer hold are lifted (the worker is told through
        the outbox, `message` of the catalogue). Never suspends anyone: a worker in good
        standing whose replayed points reach the limit keeps one point below it (the next miss
        decides). Returns who was lifted. `quiet` is a standing this unit of work holds
        already: changed in place, not re-read."""
        s = self.packs.settings(pack)
        plan = self.packs.plan(pack)
        now_s = to_db_time(now)
        lifted = []
        for worker_id in worker_ids:
            if quiet is not None and quiet.worker_id == worker_id and quiet.pack_pk == pack.pk:
                standing: Standing | None = quiet
            else:
                standing = load_standing(tx, worker_id, pack.pk)
            if standing is None:
                continue
            found = gold_db.worker_answers(tx, worker_id, pack.pk, standing.since_id)
            scores = [answer_types.gold_score(pack, answer, gold) for answer, gold in found]
            verdict = rules.judge(scores, s, plan)
            if standing.rejudge(verdict, s, plan, now):  # reinstated: their answers count again
                for task_pk in answers_db.set_excluded(tx, worker_id, pack.pk, 0, False):
                    self.aggregate(tx, pack, task_pk)
                if standing is not quiet:
                    params = {"pack": pack.title, **asdict(standing.as_points(plan))}
                    quality_db.add_message(tx, worker_id, message, json.dumps(params), now_s)
                lifted.append(worker_id)
            save_standing(tx, standing)
        return lifted
