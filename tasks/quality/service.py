"""QualityService: a worker's standing on each pack as /score shows it, and the quality outbox
(what the quality features queue for the running bot to send)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db import Database, SyncTx, read_only, to_db_time
from db import quality as quality_db
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


@dataclass(frozen=True)
class OutgoingMessage:
    id: int
    worker_id: int | None  # None: every operator
    language: str | None
    text_key: str
    params: dict[str, Any]


class QualityService:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or Clock()

    @read_only
    def score(self, tx: SyncTx, worker_id: int) -> list[PackScore]:
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

    # -- the outbox ------------------------------------------------------------------------

    async def outgoing(self, limit: int = 30) -> list[OutgoingMessage]:
        rows = await self.db.run_read(quality_db.pending_messages, limit)
        return [
            OutgoingMessage(
                row["id"],
                row["worker_id"],
                row["language"],
                row["text_key"],
                json.loads(row["params"]),
            )
            for row in rows
        ]

    async def sent(self, message_id: int) -> None:
        await self.db.run(quality_db.mark_sent, message_id, to_db_time(self.clock.now()))
