"""QualityService: a worker's standing on each pack as /score shows it. (What the quality
features tell people is queued in the one outbox: db/quality.add_message.)"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from db import Database, Tx, read_only, unit_of_work
from db import packs as packs_db
from db import standings as standings_db
from tasks.clock import Clock
from tasks.quality.news import Points
from tasks.quality.pack_stats import PackStatsCache
from tasks.quality.results import Results
from tasks.quality.standing import Standing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackScore:
    pack_title: str
    state: str
    reason: str | None
    test: Points  # the sequential test: where the worker stands, and its rule in points
    train_total: int
    train_correct: int
    qualification: int
    retry_at: datetime | None


class QualityService:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or Clock()
        self.packs = PackStatsCache()
        self.results = Results(self.packs)

    @read_only
    def score(self, tx: Tx, worker_id: int) -> list[PackScore]:
        scores = []
        for found in standings_db.of_worker(tx, worker_id):
            standing = Standing.of(found.standing)
            pack = packs_db.pack_by_pk(tx, standing.pack_pk)
            assert pack is not None
            scores.append(
                PackScore(
                    pack_title=found.pack_title,
                    state=standing.state,
                    reason=standing.reason,
                    test=standing.as_points(self.packs.plan(pack)),
                    train_total=standing.train_total,
                    train_correct=standing.train_correct,
                    qualification=self.packs.settings(pack).qualification,
                    retry_at=standing.retry_at,
                )
            )
        return scores

    async def rejudge_marked(self) -> int:
        """Migration 009 marked every standing: each pack's are re-judged by the sequential test
        (one unit of work per pack). Suspensions and training failures the test would not have
        decided are lifted, and the worker is told. Returns how many were lifted."""
        lifted = 0
        for pack_pk, workers in (await self._marked()).items():
            lifted += await self._rejudge(pack_pk, workers)
        return lifted

    @read_only
    def _marked(self, tx: Tx) -> dict[int, list[int]]:
        return standings_db.marked_for_rejudging(tx)

    @unit_of_work
    def _rejudge(self, tx: Tx, pack_pk: int, workers: list[int]) -> int:
        pack = packs_db.pack_by_pk(tx, pack_pk)
        lifted: list[int] = []
        if pack is not None:
            lifted = self.results.recompute(
                tx, pack, workers, self.clock.now(), message="quality_reinstated"
            )
        standings_db.rejudged(tx, pack_pk)
        if pack is not None and lifted:
            log.info("pack %s: %d workers reinstated by the sequential test", pack.id, len(lifted))
        return len(lifted)
