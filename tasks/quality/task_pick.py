"""Which task a worker gets next on a pack with quality control (every task, gold or not, is
picked here): training first, then gold at an adaptive rate, retraining when it opens again, a
stop when the pack runs out of gold; a regular task otherwise, fresh ones first for a worker the
gold trusts less (tasks/quality/rules.py `fresh_first`)."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from db import Tx, to_db_time
from db import answers as answers_db
from db import assignments as assignments_db
from db import gold as gold_db
from db import media as media_db
from db import quality as quality_db
from tasks.packs import PackInfo
from tasks.quality import rules
from tasks.quality.news import Decision, News
from tasks.quality.pack_stats import PackQualityStats, PackStatsCache
from tasks.quality.standing import Standing, load_standing, new_standing, save_standing


@dataclass(frozen=True)
class PickedTask:
    task_pk: int
    text: str
    is_gold: bool
    training: tuple[int, int] | None  # (question number, qualification) during training
    media: bool = False  # the task shows a media (its task_media row is read when handed out)


class TaskPicker:
    def __init__(self, packs: PackStatsCache, rng: random.Random | None = None) -> None:
        self.packs = packs
        # Random draws (gold or not, where to start in the gold) come from a secret seed and
        # the worker's own count of tasks: unpredictable to workers, yet each worker's sequence
        # does not depend on what others do (reproducible given the seed).
        self.seed = (rng or random.SystemRandom()).getrandbits(64)

    def draw(self, standing: Standing, purpose: str) -> float:
        """A uniform number in [0, 1) for this worker, pack and task count."""
        key = f"{self.seed}:{standing.worker_id}:{standing.pack_pk}:{standing.draws}:{purpose}"
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def choose(
        self,
        tx: Tx,
        worker_id: int,
        pack: PackInfo,
        now: datetime,
        news: list[News],
        known: Standing | None = None,
    ) -> PickedTask | Literal["held"] | None:
        """The worker's next task on this pack: gold or not; None if the pack has none for
        them, "held" if their standing keeps them off it for now. `known`: a standing this unit
        of work read already (the answer path's), used instead of reading it again."""
        if not self.packs.active(tx, pack):
            return _plain(tx, pack, worker_id)
        stats = self.packs.stats(tx, pack)
        s = self.packs.settings(pack)
        standing = _standing(tx, worker_id, pack, known)
        if stats.gold == 0 and (standing is None or not standing.is_stopped):
            return _plain(tx, pack, worker_id)  # nothing to check against
        if standing is None:
            standing = new_standing(tx, worker_id, pack.pk, s.qualification, now)
            if standing.is_training:
                news.append(Decision("training", pack.title, qualification=s.qualification))
        if standing.waits_for_retraining:
            if not standing.may_retrain(now):
                return "held"
            # A new attempt, judged on new gold answers only.
            standing.retrain(now, answers_db.last_id(tx), s.qualification)
            save_standing(tx, standing)
            news.append(Decision("retraining", pack.title, qualification=s.qualification))
        if standing.is_stopped:
            if self._pick_gold(tx, standing, pack, stats) is None:
                return "held"
            standing.resume(now, s.qualification)  # new gold came: on where they were
            save_standing(tx, standing)
        if standing.is_training:
            gold = self._pick_gold(tx, standing, pack, stats)
            if gold is None:
                self._stop_for_gold(tx, pack, standing, stats, now, news)
                return "held"
            training = (standing.train_total + 1, s.qualification)
            return PickedTask(gold.pk, gold.text, True, training, gold.media)
        plan = self.packs.plan(pack)
        rate = rules.gold_rate(standing.points, s, plan)
        if self.draw(standing, "gold") < rate:
            gold = self._pick_gold(tx, standing, pack, stats)
            if gold is not None:
                return PickedTask(gold.pk, gold.text, True, None, gold.media)
            if not rules.long_and_clean(standing.gold_total, standing.points, s, plan):
                self._stop_for_gold(tx, pack, standing, stats, now, news)
                return "held"
        return _plain(tx, pack, worker_id, rules.fresh_first(standing.accuracy))

    def available(self, tx: Tx, worker_id: int, pack: PackInfo, now: datetime) -> bool:
        """Whether `choose` would hand this worker a task (nothing is written)."""
        if not self.packs.active(tx, pack) or self.packs.stats(tx, pack).gold == 0:
            return assignments_db.pick(tx, pack.pk, worker_id) is not None
        standing = load_standing(tx, worker_id, pack.pk)
        if standing is None:
            return True
        if standing.waits_for_retraining:
            return standing.may_retrain(now)
        if standing.is_stopped or standing.is_training:
            stats = self.packs.stats(tx, pack)
            return self._pick_gold(tx, standing, pack, stats) is not None
        return assignments_db.pick(tx, pack.pk, worker_id) is not None

    def training_position(self, tx: Tx, worker_id: int, pack: PackInfo) -> tuple[int, int] | None:
        """(question number, qualification) while the worker trains on the pack."""
        standing = load_standing(tx, worker_id, pack.pk)
        if standing is None or not standing.is_training:
            return None
        return standing.train_total + 1, self.packs.settings(pack).qualification

    def _pick_gold(
        self, tx: Tx, standing: Standing, pack: PackInfo, stats: PackQualityStats
    ) -> gold_db.ServedGold | None:
        if stats.gold == 0:
            return None
        span = stats.high_pk - stats.low_pk + 1
        start = stats.low_pk + int(self.draw(standing, "start") * span)
        return gold_db.pick(tx, pack.pk, standing.worker_id, start)

    def _stop_for_gold(
        self,
        tx: Tx,
        pack: PackInfo,
        standing: Standing,
        stats: PackQualityStats,
        now: datetime,
        news: list[News],
    ) -> None:
        """No unseen gold left and no long clean record: the worker stops on this pack, and
        operators hear that the pack needs more gold (once per pack and gold count)."""
        standing.stop_for_no_gold(now)
        save_standing(tx, standing)
        news.append(Decision("stopped", pack.title, reason="no_gold"))
        now_s = to_db_time(now)
        quality_db.add_message(
            tx,
            None,
            "op_needs_gold",
            json.dumps({"pack": pack.id, "gold": stats.gold}),
            now_s,
            dedupe_key=f"needs-gold:{pack.pk}:{stats.gold}",
        )


def _standing(tx: Tx, worker_id: int, pack: PackInfo, known: Standing | None) -> Standing | None:
    if known is not None and known.worker_id == worker_id and known.pack_pk == pack.pk:
        return known
    return load_standing(tx, worker_id, pack.pk)


def _plain(tx: Tx, pack: PackInfo, worker_id: int, fresh_first: bool = False) -> PickedTask | None:
    """The next task that is not gold (the pick of db/assignments.py)."""
    row = assignments_db.pick(tx, pack.pk, worker_id, fresh_first)
    if row is None:
        return None
    content = json.loads(row["content"])
    return PickedTask(row["pk"], content["text"], False, None, media_db.has_media(content))
