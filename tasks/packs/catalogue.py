"""Packs in service: what the serving code sees of a loaded pack, and where every pack stands."""

from __future__ import annotations

from dataclasses import dataclass

from db import packs as db_packs
from db.core import Database, Tx
from db.packs import Option, PackInfo

__all__ = ["Option", "PackInfo", "PackProgress", "pack_progress"]


@dataclass(frozen=True)
class PackProgress:
    id: str
    title: str
    status: str
    type: str
    tasks: int  # in service (not retired)
    tasks_complete: int  # answers >= overlap
    answers: int
    answers_wanted: int  # tasks * overlap
    open_leases: int
    reward_micros: int
    currency: str
    spent_micros: int  # 'reward' ledger entries of the pack
    percent: float  # answers (up to the overlap per task) / answers wanted


async def pack_progress(db: Database) -> list[PackProgress]:
    """Where every pack stands (one aggregate query per pack), in one consistent read."""
    return await db.run_read(_progress)


def _progress(tx: Tx) -> list[PackProgress]:
    leases = db_packs.open_leases_by_pack(tx)
    spent = db_packs.rewards_by_pack(tx)
    result = []
    for pack in db_packs.all_packs(tx):
        totals = db_packs.task_totals(tx, pack.pk, pack.overlap)
        wanted = totals.tasks * pack.overlap
        result.append(
            PackProgress(
                id=pack.id,
                title=pack.title,
                status=pack.status,
                type=pack.type,
                tasks=totals.tasks,
                tasks_complete=totals.complete,
                answers=totals.answers,
                answers_wanted=wanted,
                open_leases=leases.get(pack.pk, 0),
                reward_micros=pack.reward_micros,
                currency=pack.currency,
                spent_micros=spent.get(pack.pk, 0),
                percent=100.0 * totals.capped / wanted if wanted else 0.0,
            )
        )
    return result
