"""SQL of the quality features: gold picks, standings, votes, disputes, the outbox, exports.

The rules live in tasks/quality.py and tasks/quality_service.py; these functions only read and
write rows, inside the caller's unit of work.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

from db import outbox as outbox_db
from db.core import SyncTx

# -- gold ----------------------------------------------------------------------------------

GOLD_PICK_SQL = """
SELECT t.pk, t.task_id, t.content
FROM tasks AS t
WHERE t.pack_pk = ? AND t.gold IS NOT NULL AND t.retired = 0 AND t.review = 0 AND t.pk >= ?
  AND NOT EXISTS (SELECT 1 FROM assignments AS a WHERE a.worker_id = ? AND a.task_pk = t.pk)
ORDER BY t.pk
LIMIT 1
"""


def pick_gold(tx: SyncTx, pack_pk: int, worker_id: int, start_pk: int) -> sqlite3.Row | None:
    """A gold task of the pack the worker has never seen, from `start_pk` on, wrapping around
    (a random start: workers do not all meet the same gold first)."""
    row = tx.one(GOLD_PICK_SQL, (pack_pk, start_pk, worker_id))
    if row is None and start_pk > 0:
        row = tx.one(GOLD_PICK_SQL, (pack_pk, 0, worker_id))
    return row


def gold_span(tx: SyncTx, pack_pk: int) -> tuple[int, int, int]:
    """(gold tasks in service, lowest pk, highest pk) of a pack."""
    row = tx.one(
        "SELECT COUNT(*), COALESCE(MIN(pk), 0), COALESCE(MAX(pk), 0) FROM tasks"
        " WHERE pack_pk = ? AND gold IS NOT NULL AND retired = 0 AND review = 0",
        (pack_pk,),
    )
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def gold_answer_counts(tx: SyncTx, pack_pk: int) -> list[int]:
    """How many gold tasks expect each answer (the shape of the pack's labels)."""
    rows = tx.all(
        "SELECT COUNT(*) FROM tasks WHERE pack_pk = ? AND gold IS NOT NULL AND retired = 0"
        " AND review = 0 GROUP BY gold",
        (pack_pk,),
    )
    return [int(row[0]) for row in rows]


def recent_seconds(tx: SyncTx, pack_pk: int, sample: int = 501) -> list[float]:
    """Answer times of the pack's latest answers (for its median)."""
    rows = tx.all(
        "SELECT seconds FROM assignments WHERE pack_pk = ? AND status = 'answered'"
        " AND seconds IS NOT NULL ORDER BY id DESC LIMIT ?",
        (pack_pk, sample),
    )
    return [float(row[0]) for row in rows]


def gold_results(
    tx: SyncTx, worker_id: int, pack_pk: int, since_id: int, limit: int = -1
) -> list[tuple[int, bool]]:
    """The worker's counting gold answers on the pack after `since_id`, oldest first, as
    (assignment id, correct); `limit` keeps only the latest ones. Items retired or under review
    do not count; correctness is against the gold as it is now (a correction applies at once)."""
    rows = tx.all(
        """
        SELECT a.id, a.answer = t.gold
        FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        WHERE a.worker_id = ? AND a.pack_pk = ? AND a.is_gold = 1 AND a.id > ?
          AND a.status = 'answered' AND t.gold IS NOT NULL AND t.retired = 0 AND t.review = 0
        ORDER BY a.id DESC LIMIT ?
        """,
        (worker_id, pack_pk, since_id, limit),
    )
    return [(int(row[0]), bool(row[1])) for row in reversed(rows)]


def gold_item_counts(tx: SyncTx, task_pk: int) -> tuple[int, int]:
    """(workers who count on this gold item, those of them who missed or disputed it).

    Counted: answers that still count from workers in good standing (qualified, or only waiting
    for more gold), and every worker who disputed it."""
    row = tx.one(
        """
        SELECT COUNT(*), COALESCE(SUM(a.answer != t.gold OR d.id IS NOT NULL), 0)
        FROM assignments AS a
        JOIN tasks AS t ON t.pk = a.task_pk
        LEFT JOIN worker_quality AS q ON q.worker_id = a.worker_id AND q.pack_pk = a.pack_pk
        LEFT JOIN disputes AS d ON d.assignment_id = a.id
        WHERE a.task_pk = ? AND a.status = 'answered'
          AND ((a.excluded = 0 AND q.state IN ('qualified', 'stopped')) OR d.id IS NOT NULL)
        """,
        (task_pk,),
    )
    assert row is not None
    return int(row[0]), int(row[1])


def gold_answerers(tx: SyncTx, task_pk: int) -> list[int]:
    rows = tx.all(
        "SELECT DISTINCT worker_id FROM assignments WHERE task_pk = ? AND status = 'answered'",
        (task_pk,),
    )
    return [int(row[0]) for row in rows]


def get_task(tx: SyncTx, task_pk: int) -> sqlite3.Row | None:
    return tx.one("SELECT * FROM tasks WHERE pk = ?", (task_pk,))


def find_task(tx: SyncTx, pack_id: str, task_id: str) -> sqlite3.Row | None:
    return tx.one(
        "SELECT t.* FROM tasks AS t JOIN packs AS p ON p.pk = t.pack_pk"
        " WHERE p.id = ? AND t.task_id = ?",
        (pack_id, task_id),
    )


def set_review(tx: SyncTx, task_pk: int, review: bool) -> bool:
    return bool(
        tx.execute(
            "UPDATE tasks SET review = ? WHERE pk = ? AND review != ?",
            (int(review), task_pk, int(review)),
        )
    )


def set_gold(tx: SyncTx, task_pk: int, gold: str) -> None:
    tx.execute("UPDATE tasks SET gold = ?, review = 0 WHERE pk = ?", (gold, task_pk))


def retire_task(tx: SyncTx, task_pk: int) -> None:
    tx.execute("UPDATE tasks SET retired = 1, review = 0, remaining = 0 WHERE pk = ?", (task_pk,))


def flagged_gold(tx: SyncTx) -> list[sqlite3.Row]:
    """Gold items flagged for review, with their pack."""
    return tx.all(
        "SELECT t.pk, t.task_id, t.gold, p.id AS pack_id FROM tasks AS t"
        " JOIN packs AS p ON p.pk = t.pack_pk WHERE t.review = 1 ORDER BY t.pk"
    )


def pack_by_id(tx: SyncTx, pack_id: str) -> sqlite3.Row | None:
    return tx.one("SELECT * FROM packs WHERE id = ?", (pack_id,))


def touch_pack(tx: SyncTx, pack_pk: int, now: str) -> None:
    """The pack's gold changed: the bot reads its settings and gold again."""
    tx.execute("UPDATE packs SET updated_at = ? WHERE pk = ?", (now, pack_pk))


def max_assignment_id(tx: SyncTx) -> int:
    return int(tx.value("SELECT COALESCE(MAX(id), 0) FROM assignments"))


# -- standings -----------------------------------------------------------------------------

_STANDING_COLUMNS = (
    "state",
    "reason",
    "attempts",
    "since_id",
    "good_until_id",
    "accuracy",
    "window_total",
    "window_correct",
    "gold_total",
    "train_total",
    "train_correct",
    "fast_streak",
    "same_option",
    "same_streak",
    "draws",
    "retry_at",
    "decided_at",
    "decided_gold",
    "updated_at",
)


def get_standing(tx: SyncTx, worker_id: int, pack_pk: int) -> sqlite3.Row | None:
    return tx.one(
        "SELECT * FROM worker_quality WHERE worker_id = ? AND pack_pk = ?", (worker_id, pack_pk)
    )


def insert_standing(
    tx: SyncTx, worker_id: int, pack_pk: int, state: str, since_id: int, now: str
) -> sqlite3.Row:
    row = tx.one(
        "INSERT INTO worker_quality (worker_id, pack_pk, state, since_id, updated_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING *",
        (worker_id, pack_pk, state, since_id, now),
    )
    assert row is not None
    return row


def save_standing(tx: SyncTx, worker_id: int, pack_pk: int, values: dict[str, Any]) -> None:
    names = [name for name in _STANDING_COLUMNS if name in values]
    tx.execute(
        f"UPDATE worker_quality SET {', '.join(f'{name} = ?' for name in names)}"
        " WHERE worker_id = ? AND pack_pk = ?",
        (*[values[name] for name in names], worker_id, pack_pk),
    )


def count_draw(tx: SyncTx, worker_id: int, pack_pk: int) -> None:
    tx.execute(
        "UPDATE worker_quality SET draws = draws + 1 WHERE worker_id = ? AND pack_pk = ?",
        (worker_id, pack_pk),
    )


def standings_of_worker(tx: SyncTx, worker_id: int) -> list[sqlite3.Row]:
    """The worker's standing on each pack, with the pack's title and header."""
    return tx.all(
        "SELECT q.*, p.title, p.header, p.id AS pack_id FROM worker_quality AS q"
        " JOIN packs AS p ON p.pk = q.pack_pk WHERE q.worker_id = ? ORDER BY p.pk",
        (worker_id,),
    )


def standings_of_pack(tx: SyncTx, pack_pk: int) -> list[sqlite3.Row]:
    return tx.all("SELECT * FROM worker_quality WHERE pack_pk = ?", (pack_pk,))


# -- votes and results ---------------------------------------------------------------------


def task_votes(tx: SyncTx, task_pk: int) -> list[sqlite3.Row]:
    """The task's counting answers and open leases, each with its worker's accuracy."""
    return tx.all(
        """
        SELECT a.status, a.answer, q.accuracy
        FROM assignments AS a
        LEFT JOIN worker_quality AS q ON q.worker_id = a.worker_id AND q.pack_pk = a.pack_pk
        WHERE a.task_pk = ? AND a.status IN ('open', 'answered') AND a.excluded = 0
        """,
        (task_pk,),
    )


def set_task_result(
    tx: SyncTx, task_pk: int, label: str | None, confidence: float, remaining: int, done: bool
) -> None:
    tx.execute(
        "UPDATE tasks SET label = ?, confidence = ?, remaining = ?, done = ?"
        " WHERE pk = ? AND retired = 0 AND gold IS NULL",
        (label, confidence, remaining, int(done), task_pk),
    )


def set_excluded(
    tx: SyncTx, worker_id: int, pack_pk: int, after_id: int, excluded: bool
) -> list[int]:
    """Marks the worker's answers on the pack after `after_id` as (not) counting; returns the
    tasks (not gold) whose votes changed."""
    rows = tx.all(
        "UPDATE assignments SET excluded = ? WHERE worker_id = ? AND pack_pk = ? AND id > ?"
        " AND status = 'answered' AND excluded != ? RETURNING task_pk, is_gold",
        (int(excluded), worker_id, pack_pk, after_id, int(excluded)),
    )
    return sorted({int(row[0]) for row in rows if not row[1]})


# -- disputes ------------------------------------------------------------------------------


def assignment_for_dispute(tx: SyncTx, assignment_id: int) -> sqlite3.Row | None:
    return tx.one(
        """
        SELECT a.id, a.worker_id, a.task_pk, a.pack_pk, a.status, a.answer, a.is_gold,
               t.gold, t.retired, d.id AS dispute_id
        FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        LEFT JOIN disputes AS d ON d.assignment_id = a.id
        WHERE a.id = ?
        """,
        (assignment_id,),
    )


def insert_dispute(tx: SyncTx, row: sqlite3.Row, now: str) -> int:
    return tx.insert(
        "INSERT INTO disputes (assignment_id, worker_id, task_pk, pack_pk, answer, expected,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            row["id"],
            row["worker_id"],
            row["task_pk"],
            row["pack_pk"],
            row["answer"],
            row["gold"],
            now,
        ),
    )


def get_dispute(tx: SyncTx, dispute_id: int) -> sqlite3.Row | None:
    return tx.one(_DISPUTE_SELECT + " WHERE d.id = ?", (dispute_id,))


_DISPUTE_SELECT = """
SELECT d.*, t.task_id, t.content, t.gold AS gold_now, t.explanation, t.review, t.retired,
       p.id AS pack_id, p.title AS pack_title, p.options
FROM disputes AS d JOIN tasks AS t ON t.pk = d.task_pk JOIN packs AS p ON p.pk = d.pack_pk
"""


def open_disputes(tx: SyncTx, limit: int = 100) -> list[sqlite3.Row]:
    return tx.all(_DISPUTE_SELECT + " WHERE d.status = 'open' ORDER BY d.id LIMIT ?", (limit,))


def count_open_disputes(tx: SyncTx) -> int:
    return int(tx.value("SELECT COUNT(*) FROM disputes WHERE status = 'open'"))


def open_disputes_on_task(tx: SyncTx, task_pk: int) -> list[sqlite3.Row]:
    return tx.all(
        "SELECT * FROM disputes WHERE task_pk = ? AND status = 'open' ORDER BY id", (task_pk,)
    )


def set_comment(tx: SyncTx, dispute_id: int, comment: str) -> bool:
    return bool(
        tx.execute(
            "UPDATE disputes SET comment = ? WHERE id = ? AND status = 'open'",
            (comment, dispute_id),
        )
    )


def resolve_dispute(tx: SyncTx, dispute_id: int, status: str, resolution: str, now: str) -> bool:
    return bool(
        tx.execute(
            "UPDATE disputes SET status = ?, resolution = ?, resolved_at = ?"
            " WHERE id = ? AND status = 'open'",
            (status, resolution, now, dispute_id),
        )
    )


# -- the outbox and pending input ----------------------------------------------------------


def add_message(
    tx: SyncTx,
    worker_id: int | None,
    text_key: str,
    params: str,
    now: str,
    dedupe_key: str | None = None,
) -> bool:
    """Queues a message of the text catalogue in the one outbox (db/outbox.py), interactive
    lane (worker_id None: every operator); False if its dedupe key was used.

    Without a dedupe key the message is one of its own (a fresh key): it is queued in the
    transaction of the fact it tells of, which happens once, so it exists exactly once; a key
    is only needed where the same fact may be met again (an alert per pack and gold count)."""
    return outbox_db.enqueue(
        tx,
        recipient=worker_id,
        kind=text_key,
        params=json.loads(params),
        dedupe_key=f"quality:{dedupe_key}" if dedupe_key else f"quality:{text_key}:{uuid4().hex}",
        now=now,
    )


def set_pending_input(tx: SyncTx, user_id: int, kind: str, ref_id: int, expires_at: str) -> None:
    tx.execute(
        "INSERT INTO pending_input (user_id, kind, ref_id, expires_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET kind = excluded.kind, ref_id = excluded.ref_id,"
        " expires_at = excluded.expires_at",
        (user_id, kind, ref_id, expires_at),
    )


def take_pending_input(tx: SyncTx, user_id: int, now: str) -> sqlite3.Row | None:
    """The question this user's next message answers (removed), if it has not expired."""
    row = tx.one("DELETE FROM pending_input WHERE user_id = ? RETURNING *", (user_id,))
    if row is None or row["expires_at"] <= now:
        return None
    return row


# -- exports (streamed: the caller iterates inside a read transaction) ---------------------


def iter_task_votes(tx: SyncTx, pack_pk: int) -> Iterator[sqlite3.Row]:
    """Every task in service of the pack, in pk order, once per counting answer (once with
    answer NULL when it has none), with the answering worker's id and accuracy."""
    return tx.conn.execute(
        """
        SELECT t.pk, t.task_id, t.gold, a.worker_id, a.answer, q.accuracy
        FROM tasks AS t
        LEFT JOIN assignments AS a
               ON a.task_pk = t.pk AND a.status = 'answered' AND a.excluded = 0
        LEFT JOIN worker_quality AS q ON q.worker_id = a.worker_id AND q.pack_pk = a.pack_pk
        WHERE t.pack_pk = ? AND t.retired = 0
        ORDER BY t.pk
        """,
        (pack_pk,),
    )


def iter_raw_answers(tx: SyncTx, pack_pk: int) -> Iterator[sqlite3.Row]:
    """Every stored answer of the pack, in the order they were given."""
    return tx.conn.execute(
        """
        SELECT t.task_id, a.worker_id, a.answer, a.seconds, t.gold, a.is_gold, a.excluded,
               a.closed_at
        FROM assignments AS a JOIN tasks AS t ON t.pk = a.task_pk
        WHERE a.pack_pk = ? AND a.status = 'answered'
        ORDER BY a.id
        """,
        (pack_pk,),
    )
