"""QualityControl: what the worker loop (tasks/work.py) calls inside its units of work.

On the answer path the worker's standing on the pack is read once (`standing`), then handed
to the judging (`judging.after_answer`, judging.py) and to the pick of the next task
(`picker.choose`, task_pick.py), which change it in place and save it: one read per press,
however many rules look at it."""

from __future__ import annotations

import random

from db import Tx
from tasks.packs import PackInfo
from tasks.quality.judging import Judging
from tasks.quality.pack_stats import STATS_TTL, PackStatsCache
from tasks.quality.results import Results
from tasks.quality.standing import Standing, load_standing, save_standing
from tasks.quality.task_pick import PickedTask, TaskPicker


class QualityControl:
    def __init__(self, rng: random.Random | None = None, stats_ttl: float = STATS_TTL) -> None:
        self.packs = PackStatsCache(stats_ttl)
        self.results = Results(self.packs)
        self.picker = TaskPicker(self.packs, rng)
        self.judging = Judging(self.packs, self.results)

    def forget(self, pack_pk: int | None = None) -> None:
        """The pack's gold changed (flagged, corrected, retired): read it again."""
        self.packs.forget(pack_pk)

    def standing(self, tx: Tx, worker_id: int, pack: PackInfo) -> Standing | None:
        """The worker's standing on the pack, read once per unit of work (None: the pack has
        no quality control, or the worker no standing on it yet)."""
        if not self.packs.active(tx, pack):
            return None
        return load_standing(tx, worker_id, pack.pk)

    def unpaid_training(self, pack: PackInfo, standing: Standing | None) -> bool:
        """A training answer on a pack whose training is not paid (train_paid: false)."""
        if self.packs.settings(pack).train_paid:
            return False
        return standing is not None and standing.is_training

    def count_draw(self, tx: Tx, standing: Standing | None) -> None:
        """A skip moves the worker's draws on, as an answer does."""
        if standing is not None:
            standing.count_draw()
            save_standing(tx, standing)

    def after_lease(self, tx: Tx, pack: PackInfo, choice: PickedTask) -> None:
        """Dynamic overlap from the first hand-out: min_overlap workers at a time, not overlap."""
        if not choice.is_gold and self.packs.active(tx, pack):
            self.results.aggregate(tx, pack, choice.task_pk)
