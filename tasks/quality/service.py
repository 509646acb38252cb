"""QualityService: a worker's standing on each pack as /score shows it. (What the quality
features tell people is queued in the one outbox: db/quality.add_message.)"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from db import Database, Tx, read_only
from db import standings as standings_db
from tasks.clock import Clock
from tasks.quality import rules


@dataclass(frozen=True)
class PackScore:
    pack_title: str
    state: str
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
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or Clock()

    @read_only
    def score(self, tx: Tx, worker_id: int) -> list[PackScore]:
        scores = []
        for found in standings_db.of_worker(tx, worker_id):
            s = rules.QualitySettings.from_header(json.loads(found.pack_header).get("quality"))
            standing = found.standing
            scores.append(
                PackScore(
                    pack_title=found.pack_title,
                    state=standing.state,
                    accuracy=standing.accuracy,
                    min_accuracy=s.min_accuracy,
                    window_total=standing.window_total,
                    window_correct=standing.window_correct,
                    window=s.window,
                    train_total=standing.train_total,
                    train_correct=standing.train_correct,
                    qualification=s.qualification,
                    pass_mark=s.pass_mark,
                    retry_at=standing.retry_at,
                )
            )
        return scores
