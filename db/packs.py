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


def all_packs(tx: Tx) -> list[PackInfo]:
    """Every pack, in load order."""
    return [_pack(row) for row in tx.all("SELECT * FROM packs ORDER BY pk")]


def active_packs(tx: Tx) -> list[PackInfo]:
    """Packs open for work, in load order."""
    return [_pack(row) for row in tx.all("SELECT * FROM packs WHERE status = 'active' ORDER BY pk")]


def insert_pack(tx: Tx, pack: PackColumns, now: str) -> int:
    """A new packs row (status 'active'); returns its pk."""
    return tx.insert(
        f"INSERT INTO packs ({', '.join(_PACK_COLUMNS)}, status, created_at, updated_at)"
        f" VALUES ({', '.join('?' for _ in _PACK_COLUMNS)}, 'active', ?, ?)",
        (*pack.params(), now, now),
    )


def update_pack(tx: Tx, pack_pk: int, pack: PackColumns, now: str) -> None:
    """Rewrites the header columns of a pack (status and created_at are kept)."""
    assignments = ", ".join(f"{name} = ?" for name in _PACK_COLUMNS)
    tx.execute(
        f"UPDATE packs SET {assignments}, updated_at = ? WHERE pk = ?",
        (*pack.params(), now, pack_pk),
    )


def insert_scratch_pack(tx: Tx, now: str) -> int:
    """A placeholder pack row for checking a pack whose header is invalid.

    Its tasks still go through TaskWriter so that duplicate ids are found; the caller always rolls
    the transaction back. The id starts with '~', which no pack slug can.
    """
    return tx.insert(
        "INSERT INTO packs (id, title, instructions, type, options, reward_micros, currency,"
        " overlap, lease_seconds, header, status, created_at, updated_at)"
        " VALUES (?, '', '', '', '[]', 1, '', 1, 1, '{}', 'closed', ?, ?)",
        (f"~scratch-{now}", now, now),
    )


# -- a load: the tasks of one pack ------------------------------------------------------------

# While a load runs, `remaining` marks each existing task of the pack: -1 = not (yet) seen in the
# file (see mark_tasks_unseen); a task the file updates gets -1 - n, n being the number of the
# batch that updated it, and a task it inserts gets the overlap. `remaining` is recomputed for the
# whole pack when a replace ends, so the marks never outlive the transaction. The ON CONFLICT ..
# WHERE only touches unseen rows: a second row with the same task_id changes nothing, which is
# how duplicates in the file are detected (see TaskWriter.write).
_UPSERT_TASK = """
INSERT INTO tasks (pack_pk, task_id, content, gold, explanation, remaining)
VALUES ({pack_pk}, ?, ?, ?, ?, {remaining})
ON CONFLICT (pack_pk, task_id) DO UPDATE SET
    content = excluded.content,
    gold = excluded.gold,
    explanation = excluded.explanation,
    retired = 0,
    remaining = {updated}
WHERE tasks.remaining = -1
"""


def answers_by_option(tx: Tx, pack_pk: int) -> dict[str, int]:
    """How many stored assignments of the pack chose each answer."""
    rows = tx.all(
        "SELECT answer, COUNT(*) FROM assignments"
        " WHERE pack_pk = ? AND answer IS NOT NULL GROUP BY answer",
        (pack_pk,),
    )
    return {row[0]: row[1] for row in rows}


def count_tasks(tx: Tx, pack_pk: int) -> int:
    """All task rows of a pack, retired ones included."""
    return int(tx.value("SELECT COUNT(*) FROM tasks WHERE pack_pk = ?", (pack_pk,)))


def mark_tasks_unseen(tx: Tx, pack_pk: int) -> None:
    """Starts a replace: every task of the pack counts as absent from the file until upserted."""
    tx.execute("UPDATE tasks SET remaining = -1 WHERE pack_pk = ?", (pack_pk,))


def retire_unseen_tasks(tx: Tx, pack_pk: int) -> int:
    """Ends a replace: tasks the file no longer has are retired (answers kept, never served).

    Returns how many tasks were newly retired (ones retired by an earlier replace not counted).
    """
    retired = tx.execute(
        "UPDATE tasks SET retired = 1, remaining = 0"
        " WHERE pack_pk = ? AND remaining = -1 AND retired = 0",
        (pack_pk,),
    )
    tx.execute("UPDATE tasks SET remaining = 0 WHERE pack_pk = ? AND remaining = -1", (pack_pk,))
    return retired


def recompute_remaining(tx: Tx, pack_pk: int, overlap: int) -> None:
    """remaining = max(0, overlap - answers - open leases) for every task of the pack in service."""
    tx.execute(
        "UPDATE tasks SET remaining = MAX(0, ? - answers - ("
        "  SELECT COUNT(*) FROM assignments a WHERE a.task_pk = tasks.pk AND a.status = 'open'"
        ")) WHERE pack_pk = ? AND retired = 0",
        (overlap, pack_pk),
    )


def set_cache_size(tx: Tx, kibibytes: int) -> int:
    """Sets the page cache of the connection (in KiB); returns the previous PRAGMA value."""
    previous = int(tx.value("PRAGMA cache_size"))
    tx.execute(f"PRAGMA cache_size = -{int(kibibytes)}")
    return previous


def restore_cache_size(tx: Tx, pragma_value: int) -> None:
    """Puts back a value returned by set_cache_size."""
    tx.execute(f"PRAGMA cache_size = {int(pragma_value)}")


class TaskWriter:
    """Upserts the tasks of one pack, a batch (an executemany) at a time.

    New tasks get remaining = `remaining` (the overlap), answers 0, retired 0; existing tasks not
    yet seen in this load (remaining = -1, see mark_tasks_unseen) get their content, gold and
    explanation updated, are un-retired, and keep a negative `remaining` until
    recompute_remaining.
    """

    def __init__(self, tx: Tx, pack_pk: int, remaining: int) -> None:
        if remaining < 1:
            raise ValueError("new tasks need remaining >= 1")
        self._tx = tx
        self._pack_pk = int(pack_pk)
        self._remaining = int(remaining)
        self._batches = 0

    def write(self, rows: Sequence[TaskRow]) -> list[int]:
        """Writes the rows; returns the indexes of those refused as duplicates, in order.

        A duplicate is a task_id already written earlier in this load (in this batch or an
        earlier one): it changes nothing. The fast path is one executemany; only when it
        changed fewer rows than given are the rows of this batch looked up to name them.
        """
        if not rows:
            return []
        tx = self._tx
        self._batches += 1
        marker = -1 - self._batches
        last_pk = int(tx.value("SELECT COALESCE(MAX(pk), 0) FROM tasks"))
        sql = _UPSERT_TASK.format(pack_pk=self._pack_pk, remaining=self._remaining, updated=marker)
        written = tx.conn.executemany(sql, rows).rowcount
        if written == len(rows):
            return []
        # Which task ids did this batch write (insert: a new pk; update: this batch's marker)?
        ids = list({row[0] for row in rows})
        written_here: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found = tx.all(
                "SELECT task_id, pk, remaining FROM tasks"
                f" WHERE pack_pk = ? AND task_id IN ({', '.join('?' for _ in chunk)})",
                (self._pack_pk, *chunk),
            )
            written_here.update(
                row["task_id"] for row in found if row["pk"] > last_pk or row["remaining"] == marker
            )
        duplicates = []
        seen: set[str] = set()
        for index, row in enumerate(rows):
            if row[0] in seen or row[0] not in written_here:
                duplicates.append(index)
            seen.add(row[0])
        return duplicates


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


def recompute_completed(tx: Tx, pack_pk: int, overlap: int) -> None:
    """After a replace (the overlap or a task's gold may have changed): which regular tasks have
    had all their answers."""
    tx.execute(
        "UPDATE tasks SET completed = (gold IS NULL AND (done = 1 OR answers >= ?))"
        " WHERE pack_pk = ?",
        (overlap, pack_pk),
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
