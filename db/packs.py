"""SQL for task packs: the packs table as PackInfo records, loading a pack's tasks, progress.

The domain (tasks/packs/) validates and decides; these functions only read and write rows, and
give rows back as the dataclasses below (sqlite3.Row never leaves db/). Every function takes the
Tx of a unit of work the caller runs (`Database.run` / `Database.run_read`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from db.core import Tx

# (task_id, content, gold, explanation): the columns a pack file sets on a task row.
TaskRow = tuple[str, str, str | None, str | None]


@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class PackInfo:
    """A loaded pack as the serving code sees it (a packs row, its JSON columns decoded)."""

    pk: int
    id: str
    title: str
    instructions: str
    type: str
    options: tuple[Option, ...]
    reward_micros: int
    currency: str
    overlap: int
    lease_seconds: int
    status: str
    description: str | None
    # The whole validated header as the operator wrote it (the quality block, top_up...).
    # Compared, so that equal PackInfos mean the same settings; not hashed (a dict).
    header: dict[str, Any] = field(hash=False)

    def option_label(self, option_id: str) -> str | None:
        for option in self.options:
            if option.id == option_id:
                return option.label
        return None


@dataclass(frozen=True)
class PackColumns:
    """What a pack file sets on its packs row (status, created_at... are the database's)."""

    id: str
    title: str
    instructions: str
    type: str
    options: tuple[Option, ...]
    reward_micros: int
    currency: str
    overlap: int
    lease_seconds: int
    header: str  # the validated header as JSON

    def params(self) -> tuple[Any, ...]:
        """The values in the order of _PACK_COLUMNS."""
        options = [{"id": option.id, "label": option.label} for option in self.options]
        return (
            self.id,
            self.title,
            self.instructions,
            self.type,
            json.dumps(options, ensure_ascii=False),
            self.reward_micros,
            self.currency,
            self.overlap,
            self.lease_seconds,
            self.header,
        )


@dataclass(frozen=True)
class TaskTotals:
    """The tasks of one pack, summed (see task_totals)."""

    tasks: int  # regular (not gold) tasks in service (media held or out of service: not)
    complete: int  # of those, the ones that have had all their answers (never taken back)
    answers: int  # answers stored for those
    capped: int  # the same, counted up to the overlap per task (a complete task: the overlap)
    gold: int  # gold tasks (check questions) in service: not retired, not under review,
    # their media neither held nor out of service
    gold_answers: int  # answers ever stored for the pack's gold tasks (retired ones included)


_PACK_COLUMNS = (
    "id",
    "title",
    "instructions",
    "type",
    "options",
    "reward_micros",
    "currency",
    "overlap",
    "lease_seconds",
    "header",
)


def _pack(row: sqlite3.Row) -> PackInfo:
    header = json.loads(row["header"])
    return PackInfo(
        pk=row["pk"],
        id=row["id"],
        title=row["title"],
        instructions=row["instructions"],
        type=row["type"],
        options=tuple(Option(item["id"], item["label"]) for item in json.loads(row["options"])),
        reward_micros=row["reward_micros"],
        currency=row["currency"],
        overlap=row["overlap"],
        lease_seconds=row["lease_seconds"],
        status=row["status"],
        description=header.get("description"),
        header=header,
    )


# -- the packs table -------------------------------------------------------------------------


def pack_by_id(tx: Tx, pack_id: str) -> PackInfo | None:
    """The pack with this id (the operator's slug), or None."""
    row = tx.one("SELECT * FROM packs WHERE id = ?", (pack_id,))
    return None if row is None else _pack(row)


def pack_by_pk(tx: Tx, pack_pk: int) -> PackInfo | None:
    """The pack with this primary key, or None."""
    row = tx.one("SELECT * FROM packs WHERE pk = ?", (pack_pk,))
    return None if row is None else _pack(row)


# A packs row a load is writing (pack_loads names it) is nobody's pack yet: never listed, never
# served. A pack a replace is applying to hands out nothing new until the replace is done.
_SHOWN = "pk NOT IN (SELECT pack_pk FROM pack_loads)"
_NOT_BEING_REPLACED = (
    "pk NOT IN (SELECT replaces FROM pack_loads"
    " WHERE replaces IS NOT NULL AND phase IN ('retiring', 'applying'))"
)


def all_packs(tx: Tx) -> list[PackInfo]:
    """Every pack, in load order."""
    return [_pack(row) for row in tx.all(f"SELECT * FROM packs WHERE {_SHOWN} ORDER BY pk")]


def active_packs(tx: Tx) -> list[PackInfo]:
    """Packs open for work, in load order (not one a replace is being applied to)."""
    rows = tx.all(
        f"SELECT * FROM packs WHERE status = 'active' AND {_SHOWN} AND {_NOT_BEING_REPLACED}"
        " ORDER BY pk"
    )
    return [_pack(row) for row in rows]


def update_pack(tx: Tx, pack_pk: int, pack: PackColumns, now: str) -> None:
    """Rewrites the header columns of a pack (status and created_at are kept)."""
    assignments = ", ".join(f"{name} = ?" for name in _PACK_COLUMNS)
    tx.execute(
        f"UPDATE packs SET {assignments}, updated_at = ? WHERE pk = ?",
        (*pack.params(), now, pack_pk),
    )


def answers_by_option(tx: Tx, pack_pk: int, answers: Sequence[str] | None = None) -> dict[str, int]:
    """How many stored assignments of the pack chose each answer (only these `answers`, if
    given)."""
    if answers is not None and not answers:
        return {}
    only = "" if answers is None else f" AND answer IN ({', '.join('?' for _ in answers)})"
    rows = tx.all(
        "SELECT answer, COUNT(*) FROM assignments"
        f" WHERE pack_pk = ? AND answer IS NOT NULL{only} GROUP BY answer",
        (pack_pk, *(answers or ())),
    )
    return {row[0]: row[1] for row in rows}


def has_answers(tx: Tx, pack_pk: int) -> bool:
    """Whether any assignment of the pack has an answer stored."""
    return (
        tx.one(
            "SELECT 1 FROM assignments WHERE pack_pk = ? AND answer IS NOT NULL LIMIT 1",
            (pack_pk,),
        )
        is not None
    )


def set_cache_size(tx: Tx, kibibytes: int) -> int:
    """Sets the page cache of the connection (in KiB); returns the previous PRAGMA value."""
    previous = int(tx.value("PRAGMA cache_size"))
    tx.execute(f"PRAGMA cache_size = -{int(kibibytes)}")
    return previous


def restore_cache_size(tx: Tx, pragma_value: int) -> None:
    """Puts back a value returned by set_cache_size."""
    tx.execute(f"PRAGMA cache_size = {int(pragma_value)}")


# -- a load in steps (migration 016, docs/packs.md) --------------------------------------------
#
# Every step below is one short transaction of the caller's. The file's tasks go into a packs
# row of their own (the "staged" pack); a new pack is that row made visible; a replace compares
# the staged tasks with the pack's and applies the differences a range of primary keys at a time
# (LOAD_STEP rows: each transaction does a bounded amount of work, whatever the pack's size).
# `+pack_pk` keeps SQLite on the primary key's range (not on the (pack_pk, task_id) index, which
# would read the whole pack for every step).

LOAD_STEP = 5000


@dataclass(frozen=True)
class PackLoad:
    """A pack_loads row: a load under way (or one a crash left)."""

    staged_pk: int
    pack_id: str
    replaces: int | None
    phase: str  # reading, retiring, applying, discarding (migration 016)
    touched_at: str


def start_load(tx: Tx, pack_id: str, columns: PackColumns | None, now: str, token: str) -> int:
    """The hidden packs row a load writes its tasks to (its header columns, or placeholders
    when the header is invalid), named in pack_loads; returns its pk."""
    if columns is None:
        values: tuple[Any, ...] = ("", "", "", "[]", 1, "", 1, 1, "{}")
    else:
        values = columns.params()[1:]
    pack_pk = tx.insert(
        f"INSERT INTO packs ({', '.join(_PACK_COLUMNS)}, status, created_at, updated_at)"
        f" VALUES ({', '.join('?' for _ in _PACK_COLUMNS)}, 'closed', ?, ?)",
        (f"~load-{token}", *values, now, now),
    )
    tx.execute(
        "INSERT INTO pack_loads (pack_pk, pack_id, started_at, touched_at) VALUES (?, ?, ?, ?)",
        (pack_pk, pack_id, now, now),
    )
    return pack_pk


def load_of(tx: Tx, staged_pk: int) -> PackLoad | None:
    row = tx.one("SELECT * FROM pack_loads WHERE pack_pk = ?", (staged_pk,))
    return None if row is None else _load(row)


def _load(row: sqlite3.Row) -> PackLoad:
    return PackLoad(
        row["pack_pk"],
        row["pack_id"],
        row["replaces"],
        row["phase"],
        row["touched_at"],
    )


def touch_load(tx: Tx, staged_pk: int, now: str) -> bool:
    """Says the load is alive; False when its row is gone (thrown away as abandoned)."""
    return bool(
        tx.execute("UPDATE pack_loads SET touched_at = ? WHERE pack_pk = ?", (now, staged_pk))
    )


def claim_abandoned_loads(tx: Tx, before: str, now: str) -> list[PackLoad]:
    """Loads not touched since `before` (a crash left them), touched now so that no one else
    takes them up meanwhile."""
    rows = tx.all("SELECT * FROM pack_loads WHERE touched_at < ? ORDER BY pack_pk", (before,))
    tx.execute("UPDATE pack_loads SET touched_at = ? WHERE touched_at < ?", (now, before))
    return [_load(row) for row in rows]


def set_load_phase(
    tx: Tx, staged_pk: int, phase: str, now: str, *, replaces: int | None = None
) -> None:
    tx.execute(
        "UPDATE pack_loads SET phase = ?, replaces = COALESCE(?, replaces), touched_at = ?"
        " WHERE pack_pk = ?",
        (phase, replaces, now, staged_pk),
    )


def replace_under_way(tx: Tx, pack_pk: int) -> bool:
    """Whether a replace is being applied to the pack (it hands out nothing new meanwhile)."""
    return (
        tx.one(
            "SELECT 1 FROM pack_loads WHERE replaces = ? AND phase IN ('retiring', 'applying')",
            (pack_pk,),
        )
        is not None
    )


def make_pack(tx: Tx, staged_pk: int, pack_id: str, now: str) -> None:
    """A new pack's last step: the staged row becomes the pack (status 'active'), visible."""
    tx.execute("DELETE FROM pack_loads WHERE pack_pk = ?", (staged_pk,))
    tx.execute(
        "UPDATE packs SET id = ?, status = 'active', created_at = ?, updated_at = ? WHERE pk = ?",
        (pack_id, now, now, staged_pk),
    )


_INSERT_TASK = """
INSERT INTO tasks (pack_pk, task_id, content, gold, explanation, remaining)
VALUES ({pack_pk}, ?, ?, ?, ?, {remaining})
ON CONFLICT (pack_pk, task_id) DO NOTHING
"""


def write_tasks(tx: Tx, pack_pk: int, remaining: int, rows: Sequence[TaskRow]) -> list[int]:
    """Inserts tasks into a staged pack; returns the indexes of the rows refused as duplicates
    (a task_id already written in this load, in this batch or an earlier one), in order.

    New tasks get remaining = `remaining` (the overlap; 0 for gold, by trigger). The fast path
    is one executemany; only when it wrote fewer rows than given are this batch's rows looked up
    to name the duplicates.
    """
    if not rows:
        return []
    if remaining < 1:
        raise ValueError("new tasks need remaining >= 1")
    last_pk = int(tx.value("SELECT COALESCE(MAX(pk), 0) FROM tasks"))
    sql = _INSERT_TASK.format(pack_pk=int(pack_pk), remaining=int(remaining))
    written = tx.conn.executemany(sql, rows).rowcount
    if written == len(rows):
        return []
    ids = list({row[0] for row in rows})
    written_here: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found = tx.all(
            "SELECT task_id FROM tasks"
            f" WHERE pack_pk = ? AND task_id IN ({', '.join('?' for _ in chunk)}) AND pk > ?",
            (pack_pk, *chunk, last_pk),
        )
        written_here.update(row["task_id"] for row in found)
    duplicates = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        if row[0] in seen or row[0] not in written_here:
            duplicates.append(index)
        seen.add(row[0])
    return duplicates


def discard_step(tx: Tx, staged_pk: int) -> bool:
    """Deletes up to LOAD_STEP tasks of a staged pack (and their media); once it has none,
    the staged row itself. True when nothing is left."""
    chunk = f"SELECT pk FROM tasks WHERE pack_pk = ? LIMIT {LOAD_STEP}"
    tx.execute(f"DELETE FROM task_media WHERE task_pk IN ({chunk})", (staged_pk,))
    if tx.execute(f"DELETE FROM tasks WHERE pk IN ({chunk})", (staged_pk,)):
        return False
    tx.execute("DELETE FROM pack_loads WHERE pack_pk = ?", (staged_pk,))
    tx.execute("DELETE FROM packs WHERE pk = ?", (staged_pk,))
    return True


# -- a replace, compared and applied a range of primary keys at a time -------------------------

# A staged task and the pack's task of the same id differ (the replace rewrites the pack's).
_DIFFERS = (
    "(p.content IS NOT s.content OR p.gold IS NOT s.gold OR p.explanation IS NOT s.explanation"
    " OR p.retired = 1)"
)


def compare_step(tx: Tx, staged_pk: int, pack_pk: int, low: int, high: int) -> tuple[int, int]:
    """Of the staged tasks with pk in [low, high]: (those the pack has, those it has not)."""
    row = tx.one(
        "SELECT COUNT(p.pk), COUNT(*) - COUNT(p.pk) FROM tasks AS s"
        " LEFT JOIN tasks AS p ON p.pack_pk = ? AND p.task_id = s.task_id"
        " WHERE s.pk BETWEEN ? AND ? AND +s.pack_pk = ?",
        (pack_pk, low, high, staged_pk),
    )
    assert row is not None
    return int(row[0]), int(row[1])


def missing_step(tx: Tx, staged_pk: int, pack_pk: int, low: int, high: int) -> int:
    """Of the pack's tasks in service with pk in [low, high]: those the file lacks."""
    return int(
        tx.value(
            "SELECT COUNT(*) FROM tasks AS p WHERE p.pk BETWEEN ? AND ? AND +p.pack_pk = ?"
            " AND p.retired = 0 AND NOT EXISTS"
            " (SELECT 1 FROM tasks AS s WHERE s.pack_pk = ? AND s.task_id = p.task_id)",
            (low, high, pack_pk, staged_pk),
        )
    )


def apply_step(tx: Tx, staged_pk: int, pack_pk: int, low: int, high: int) -> tuple[int, int]:
    """Applies the staged tasks with pk in [low, high] to the pack: a task the pack has gets
    the file's content, gold and explanation (and is back in service) when they differ, and
    the file's media (a task held or out of service for its media is back in service); a
    task it has not moves into the pack. Returns (had, moved in)."""
    staged = "s.pk BETWEEN :low AND :high AND +s.pack_pk = :staged"
    params = {"low": low, "high": high, "staged": staged_pk, "pack": pack_pk}
    total = int(tx.value(f"SELECT COUNT(*) FROM tasks AS s WHERE {staged}", params))
    tx.execute(
        "UPDATE tasks AS p SET content = s.content, gold = s.gold, explanation = s.explanation,"
        f" retired = 0 FROM tasks AS s WHERE {staged} AND p.pack_pk = :pack"
        f" AND p.task_id = s.task_id AND {_DIFFERS}",
        params,
    )
    matched = (
        "SELECT p.pk FROM tasks AS s"
        f" JOIN tasks AS p ON p.pack_pk = :pack AND p.task_id = s.task_id WHERE {staged}"
    )
    tx.execute(f"DELETE FROM task_media WHERE task_pk IN ({matched})", params)
    # The file's media is checked and hashed anew: a task held or out of service for its media
    # (migration 013) is back in service; recompute_step then gives its slots back.
    tx.execute(f"UPDATE tasks SET media_off = 0 WHERE media_off = 1 AND pk IN ({matched})", params)
    tx.execute(
        "INSERT INTO task_media (task_pk, kind, source, ref, media_key, size)"
        " SELECT p.pk, m.kind, m.source, m.ref, m.media_key, m.size FROM tasks AS s"
        " JOIN task_media AS m ON m.task_pk = s.pk"
        f" JOIN tasks AS p ON p.pack_pk = :pack AND p.task_id = s.task_id WHERE {staged}",
        params,
    )
    moved = tx.execute(
        "UPDATE tasks AS s SET pack_pk = :pack"
        f" WHERE {staged} AND NOT EXISTS"
        " (SELECT 1 FROM tasks AS p WHERE p.pack_pk = :pack AND p.task_id = s.task_id)",
        params,
    )
    return total - moved, moved


def retire_step(tx: Tx, staged_pk: int, pack_pk: int, low: int, high: int) -> int:
    """The pack's tasks with pk in [low, high] that the file lacks: retired (answers kept,
    never served), their media forgotten. Returns how many were newly retired. Run before any
    staged task moves into the pack (phase 'retiring'): a task moved in is not in the staged
    pack any more."""
    missing = (
        "p.pk BETWEEN :low AND :high AND +p.pack_pk = :pack AND NOT EXISTS"
        " (SELECT 1 FROM tasks AS s WHERE s.pack_pk = :staged AND s.task_id = p.task_id)"
    )
    params = {"low": low, "high": high, "staged": staged_pk, "pack": pack_pk}
    tx.execute(
        f"DELETE FROM task_media WHERE task_pk IN (SELECT pk FROM tasks AS p WHERE {missing})",
        params,
    )
    return tx.execute(
        f"UPDATE tasks AS p SET retired = 1, remaining = 0 WHERE {missing} AND p.retired = 0",
        params,
    )


def recompute_step(tx: Tx, pack_pk: int, overlap: int, low: int, high: int) -> None:
    """The pack's tasks with pk in [low, high]: remaining = max(0, overlap - answers - open
    leases) for a regular task in service (0 for gold, done or retired), and `completed` for
    the overlap; only rows whose value changes are written."""
    slots = (
        "CASE WHEN retired = 1 OR gold IS NOT NULL OR done = 1 THEN 0 ELSE MAX(0, :overlap"
        " - answers - (SELECT COUNT(*) FROM assignments AS a WHERE a.task_pk = tasks.pk"
        " AND a.status = 'open')) END"
    )
    complete = "(gold IS NULL AND (done = 1 OR answers >= :overlap))"
    rows = "pk BETWEEN :low AND :high AND +pack_pk = :pack"
    params = {"low": low, "high": high, "pack": pack_pk, "overlap": overlap}
    tx.execute(
        f"UPDATE tasks SET remaining = {slots} WHERE {rows} AND remaining IS NOT {slots}", params
    )
    tx.execute(
        f"UPDATE tasks SET completed = {complete} WHERE {rows} AND completed IS NOT {complete}",
        params,
    )


def gold_after_replace(tx: Tx, staged_pk: int, pack_pk: int) -> int:
    """The gold tasks the pack will have in service once the staged tasks are applied: the
    file's gold tasks, less those flagged for review or retired by an operator's decision."""
    return int(
        tx.value(
            "SELECT COUNT(*) FROM tasks AS s"
            " LEFT JOIN tasks AS p ON p.pack_pk = ? AND p.task_id = s.task_id"
            " LEFT JOIN gold_decisions AS d ON d.task_pk = p.pk"
            " WHERE s.pack_pk = ? AND s.gold IS NOT NULL AND s.retired = 0 AND s.review = 0"
            " AND COALESCE(p.review, 0) = 0 AND d.action IS NOT 'retire'",
            (pack_pk, staged_pk),
        )
    )


def pack_span(tx: Tx, pack_pk: int) -> tuple[int, int]:
    """(lowest, highest) pk of a pack's tasks; (0, -1): it has none."""
    row = tx.one("SELECT MIN(pk), MAX(pk) FROM tasks WHERE pack_pk = ?", (pack_pk,))
    if row is None or row[0] is None:
        return 0, -1
    return int(row[0]), int(row[1])


# -- progress --------------------------------------------------------------------------------


def task_totals(tx: Tx, pack_pk: int, overlap: int) -> TaskTotals:
    """A pack's regular tasks in service (total, complete, answers, answers capped at the
    overlap per task) and its gold: tasks in service, answers ever. `completed` is set once by a
    trigger (migration 007) and never cleared but by a replace, so for a fixed pack `complete`
    and `capped` never go down."""
    # A task whose media is held or out of service (media_off, migration 013) is counted like
    # a retired one, unless it is complete (complete never goes down): it is handed out no
    # more, so it must not stand as work left to do in `tasks`, `wanted` and `% done`.
    row = tx.one(
        """
        SELECT COALESCE(SUM(retired = 0 AND gold IS NULL
                            AND (media_off = 0 OR completed = 1)), 0) AS tasks,
               COALESCE(SUM(retired = 0 AND gold IS NULL AND completed = 1), 0) AS complete,
               COALESCE(SUM(CASE WHEN retired = 0 AND gold IS NULL
                                      AND (media_off = 0 OR completed = 1) THEN answers END), 0)
                   AS answers,
               COALESCE(SUM(CASE WHEN retired = 1 OR gold IS NOT NULL THEN 0
                                 WHEN completed = 1 THEN :overlap
                                 WHEN media_off = 1 THEN 0
                                 ELSE MIN(answers, :overlap) END), 0) AS capped,
               COALESCE(SUM(retired = 0 AND review = 0 AND gold IS NOT NULL
                            AND media_off = 0), 0) AS gold,
               COALESCE(SUM(CASE WHEN gold IS NOT NULL THEN answers END), 0) AS gold_answers
        FROM tasks
        WHERE pack_pk = :pk
        """,
        {"pk": pack_pk, "overlap": overlap},
    )
    assert row is not None
    return TaskTotals(
        row["tasks"],
        row["complete"],
        row["answers"],
        row["capped"],
        row["gold"],
        row["gold_answers"],
    )


def open_leases_by_pack(tx: Tx) -> dict[int, int]:
    """Open assignments (tasks handed out, not yet answered or expired) per pack pk."""
    rows = tx.all(
        "SELECT pack_pk, COUNT(*) FROM assignments WHERE status = 'open' GROUP BY pack_pk"
    )
    return {row[0]: row[1] for row in rows}


def rewards_by_pack(tx: Tx) -> dict[int, int]:
    """Sum of the 'reward' ledger entries (micros) per pack pk."""
    rows = tx.all(
        "SELECT pack_pk, SUM(amount_micros) FROM ledger"
        " WHERE kind = 'reward' AND pack_pk IS NOT NULL GROUP BY pack_pk"
    )
    return {row[0]: row[1] for row in rows}


def set_status(tx: Tx, pack_pk: int, status: str, now: str) -> None:
    """Sets a pack's status ('active', 'paused' or 'closed'); open assignments are untouched."""
    tx.execute("UPDATE packs SET status = ?, updated_at = ? WHERE pk = ?", (status, now, pack_pk))
