"""QualityControl: what the worker loop (tasks/work.py) calls inside its units of work.

On the answer path the worker's standing on the pack is read once (`standing`), then handed
to the judging (`after_answer`) and to the choice of the next task (`choose`), which change it
in place and save it: one read per press, however many rules look at it."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Literal

from db import Tx
from db import standings as standings_db
from db.standings import Standing
from tasks.packs import PackInfo
from tasks.quality.gold_choice import Choice, GoldChoice
from tasks.quality.judging import AnsweredTask, Judging
from tasks.quality.news import News
from tasks.quality.pack_stats import STATS_TTL, PackStatsCache
from tasks.quality.results import Results


class QualityControl:
    def __init__(self, rng: random.Random | None = None, stats_ttl: float = STATS_TTL) -> None:
        self.packs = PackStatsCache(stats_ttl)
        self.results = Results(self.packs)
        self.gold = GoldChoice(self.packs, rng)
        self.judging = Judging(self.packs, self.results)

    def forget(self, pack_pk: int | None = None) -> None:
        """The pack's gold changed (flagged, corrected, retired): read it again."""
        self.packs.forget(pack_pk)

    def standing(self, tx: Tx, worker_id: int, pack: PackInfo) -> Standing | None:
        """The worker's standing on the pack, read once per unit of work (None: the pack has
        no quality control, or the worker no standing on it yet)."""
        if not self.packs.active(tx, pack):
            return None
        return standings_db.get(tx, worker_id, pack.pk)

    def unpaid_training(self, pack: PackInfo, standing: Standing | None) -> bool:
        """A training answer on a pack whose training is not paid (train_paid: false)."""
        if self.packs.settings(pack).train_paid:
            return False
        return standing is not None and standing.state == "training"

    def count_draw(self, tx: Tx, standing: Standing | None) -> None:
        """A skip moves the worker's draws on, as an answer does."""
        if standing is not None:
            standings_db.count_draw(tx, standing)

    def after_answer(
        self,
        tx: Tx,
        pack: PackInfo,
        answer: AnsweredTask,
        standing: Standing | None,
        now: datetime,
    ) -> list[News]:
        return self.judging.after_answer(tx, pack, answer, standing, now)

    def choose(
        self,
        tx: Tx,
        worker_id: int,
        pack: PackInfo,
        now: datetime,
        news: list[News],
        known: Standing | None = None,
    ) -> Choice | Literal["held"] | None:
        return self.gold.choose(tx, worker_id, pack, now, news, known)

    def available(self, tx: Tx, worker_id: int, pack: PackInfo, now: datetime) -> bool:
        return self.gold.available(tx, worker_id, pack, now)

    def training_position(self, tx: Tx, worker_id: int, pack: PackInfo) -> tuple[int, int] | None:
        return self.gold.training_position(tx, worker_id, pack)

    def after_lease(self, tx: Tx, pack: PackInfo, choice: Choice) -> None:
        """Dynamic overlap from the first hand-out: min_overlap workers at a time, not overlap."""
        if not choice.is_gold and self.packs.active(tx, pack):
            self.results.aggregate(tx, pack, choice.task_pk)
