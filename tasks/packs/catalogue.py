"""Packs in service: what the serving code sees of a loaded pack, and where every pack stands."""

from __future__ import annotations

from dataclasses import dataclass

from db import media as media_db
from db import packs as db_packs
from db.core import Database, Tx, to_db_time
from db.packs import Option, PackInfo
from tasks.clock import Clock

__all__ = ["Option", "PackInfo", "PackProgress", "StatusChange", "pack_progress", "set_pack_status"]


@dataclass(frozen=True)
class PackProgress:
    id: str
    title: str
    status: str
    type: str
    tasks: int  # regular tasks in service (not gold, not retired)
    tasks_complete: int  # of those, the ones that have had all their answers; never goes down
    answers: int  # answers stored for those regular tasks
    answers_wanted: int  # tasks * overlap (dynamic overlap may need fewer)
    open_leases: int  # tasks handed out and not yet answered (regular and gold)
    reward_micros: int
    currency: str
    spent_micros: int  # 'reward' ledger entries of the pack (check answers included)
    percent: float  # answers (up to the overlap per task; a complete task: all) / wanted
    gold_tasks: int = 0  # check questions in service
    gold_answers: int = 0  # answers to check questions (training included), ever
    # Tasks (regular and check) no longer handed out because of their media, until the pack is
    # reloaded: its file changed since the load (held), or Telegram refused it MEDIA_FAILURES
    # times in a row (out of service). Neither counts in `tasks` nor `gold_tasks`.
    media_held: int = 0
    media_out: int = 0


async def pack_progress(db: Database) -> list[PackProgress]:
    """Where every pack stands (one aggregate query per pack), in one consistent read."""
    return await db.run_read(_progress)


def _progress(tx: Tx) -> list[PackProgress]:
    leases = db_packs.open_leases_by_pack(tx)
    spent = db_packs.rewards_by_pack(tx)
    off = media_db.off_by_pack(tx)
    result = []
    for pack in db_packs.all_packs(tx):
        totals = db_packs.task_totals(tx, pack.pk, pack.overlap)
        wanted = totals.tasks * pack.overlap
        media = off.get(pack.pk, media_db.OffCounts())
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
                gold_tasks=totals.gold,
                gold_answers=totals.gold_answers,
                media_held=media.held,
                media_out=media.out,
            )
        )
    return result


# What each operator action does to a pack's status: from -> to. A closed pack stays closed.
_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "pause": (("active",), "paused"),
    "resume": (("paused",), "active"),
    "close": (("active", "paused"), "closed"),
}


@dataclass(frozen=True)
class StatusChange:
    """The outcome of set_pack_status. `found` False: no such pack; `changed` False: the pack
    was already there (before == after) or cannot go there (a closed pack)."""

    pack_id: str
    found: bool
    before: str = ""
    after: str = ""
    open_leases: int = 0

    @property
    def changed(self) -> bool:
        return self.found and self.before != self.after


async def set_pack_status(db: Database, pack_id: str, action: str, *, clock: Clock) -> StatusChange:
    """pause, resume or close a pack. Nothing new is handed out from a paused or closed pack
    (the bot re-reads the active packs at least once a second); open leases are left to finish,
    and a press on them counts. A closed pack cannot be resumed."""
    if action not in _MOVES:
        raise ValueError(f"unknown pack action {action!r}")

    now = to_db_time(clock.now())

    def change(tx: Tx) -> StatusChange:
        pack = db_packs.pack_by_id(tx, pack_id)
        if pack is None:
            return StatusChange(pack_id, found=False)
        sources, target = _MOVES[action]
        after = target if pack.status in sources else pack.status
        if after != pack.status:
            db_packs.set_status(tx, pack.pk, after, now)
        leases = db_packs.open_leases_by_pack(tx).get(pack.pk, 0)
        return StatusChange(pack_id, True, pack.status, after, leases)

    return await db.run(change)
