"""Each pack's quality settings and gold statistics, read once and reused for a few seconds:
the answer path asks for them on every press."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from db import Tx
from db import answers as answers_db
from db import gold as gold_db
from tasks import answer_types
from tasks.packs import PackInfo
from tasks.quality import rules

STATS_TTL = 10.0  # seconds a pack's gold statistics are reused


@dataclass(frozen=True)
class PackQualityStats:
    at: float  # time.monotonic() when read
    gold: int  # gold tasks in service
    low_pk: int
    high_pk: int
    same_limit: int  # same-button presses in a row that suspend
    median_seconds: float | None
    timed_answers: int


class PackStatsCache:
    """Settings per pack version; gold statistics per pack for `stats_ttl` seconds, or until
    `forget` (the pack's gold changed: flagged, corrected, retired)."""

    def __init__(self, stats_ttl: float = STATS_TTL) -> None:
        self.stats_ttl = stats_ttl
        self._settings: dict[int, tuple[PackInfo, rules.QualitySettings]] = {}
        self._stats: dict[int, PackQualityStats] = {}

    def settings(self, pack: PackInfo) -> rules.QualitySettings:
        cached = self._settings.get(pack.pk)
        if cached is None or cached[0] is not pack:
            cached = (pack, rules.QualitySettings.from_header(pack.header.get("quality")))
            self._settings[pack.pk] = cached
        return cached[1]

    def plan(self, pack: PackInfo) -> rules.Plan:
        """The pack's sequential test in points (p1 from the pack's chance score)."""
        return rules.plan_for(self.settings(pack), answer_types.chance_score(pack))

    def forget(self, pack_pk: int | None = None) -> None:
        if pack_pk is None:
            self._stats.clear()
        else:
            self._stats.pop(pack_pk, None)

    def stats(self, tx: Tx, pack: PackInfo) -> PackQualityStats:
        now = time.monotonic()
        found = self._stats.get(pack.pk)
        if found is None or now - found.at >= self.stats_ttl:
            gold, low, high = gold_db.span(tx, pack.pk)
            options = max(len(pack.options), 2)  # a text pack has none
            share = rules.top_share(gold_db.answer_counts(tx, pack.pk), options)
            seconds = answers_db.recent_seconds(tx, pack.pk)
            found = PackQualityStats(
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

    def active(self, tx: Tx, pack: PackInfo) -> bool:
        """Quality control runs on a pack with gold tasks or with a quality block."""
        return pack.header.get("quality") is not None or self.stats(tx, pack).gold > 0

    def min_seconds(self, tx: Tx, pack: PackInfo) -> float | None:
        explicit = self.settings(pack).min_seconds
        if explicit is not None:
            return explicit or None  # 0: no speed check
        stats = self.stats(tx, pack)
        return rules.derived_min_seconds(stats.median_seconds, stats.timed_answers)
