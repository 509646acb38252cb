"""SQL for task media (migration 012): what each task shows, and the file_ids Telegram gave.

task_media: one row per task with an image, audio or voice (written by the pack load), with
its state (migration 013): 'ok', 'held' (its file changed since the load) or 'out' (Telegram
refused it too often); a task whose media is not 'ok' has tasks.media_off = 1 and is not handed
out, until a reload of its pack writes its row anew.
media_files: (media_key, kind) -> file_id, so that a local file or a URL is sent to Telegram
once and then by file_id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from db.core import Tx

# The task fields that carry media; a task's content JSON names its media by one of them
# (tasks/packs/format.py media_task_content), so the content says whether to read task_media.
MEDIA_KINDS = ("image", "audio", "voice")


def has_media(content: dict[str, object]) -> bool:
    """Whether a task's content (tasks.content, parsed) shows a media: only then does it have a
    task_media row, so a task without one costs no read on the way to the worker."""
    return len(content) > 1 and any(kind in content for kind in MEDIA_KINDS)


@dataclass(frozen=True)
class StoredMedia:
    """A task_media row, with the file_id cached for its key (if any)."""

    kind: str
    source: str
    ref: str
    media_key: str | None
    size: int | None
    file_id: str | None
    status: str = "ok"  # 'ok', 'held' or 'out' (migration 013)
    failures: int = 0  # Telegram's refusals in a row


@dataclass(frozen=True)
class MediaOff:
    """A task whose media was just taken out of service, named as its operator wrote it."""

    pack_id: str
    task_id: str
    written: str  # the media field as the pack file gives it (a path relative to the pack...)
    pack_pk: int = 0
    pack_version: str = ""  # packs.updated_at: changes when the pack is reloaded


# (task_id, kind, source, ref, media_key, size): what a pack load writes per task with media.
MediaRow = tuple[str, str, str, str, str | None, int | None]


def write(tx: Tx, pack_pk: int, rows: Sequence[MediaRow]) -> None:
    """Sets the media of these tasks of the pack (already written to tasks)."""
    tx.conn.executemany(
        "INSERT OR REPLACE INTO task_media (task_pk, kind, source, ref, media_key, size)"
        " SELECT pk, ?, ?, ?, ?, ? FROM tasks WHERE pack_pk = ? AND task_id = ?",
        [
            (kind, source, ref, key, size, pack_pk, task_id)
            for task_id, kind, source, ref, key, size in rows
        ],
    )


def for_task(tx: Tx, task_pk: int) -> StoredMedia | None:
    """A task's media with the file_id Telegram gave for it, if any (one indexed read)."""
    row = tx.one(
        "SELECT m.kind, m.source, m.ref, m.media_key, m.size, f.file_id, m.status, m.failures"
        " FROM task_media AS m"
        " LEFT JOIN media_files AS f ON f.media_key = m.media_key AND f.kind = m.kind"
        " WHERE m.task_pk = ?",
        (task_pk,),
    )
    if row is None:
        return None
    return StoredMedia(
        row["kind"],
        row["source"],
        row["ref"],
        row["media_key"],
        row["size"],
        row["file_id"],
        row["status"],
        row["failures"],
    )


@dataclass(frozen=True)
class Handed:
    """An assignment as the media's sender needs it: whose, which task, whether still open."""

    worker_id: int
    task_pk: int
    pack_pk: int
    open: bool


def handed(tx: Tx, assignment_id: int) -> Handed | None:
    row = tx.one(
        "SELECT worker_id, task_pk, pack_pk, status FROM assignments WHERE id = ?",
        (assignment_id,),
    )
    if row is None:
        return None
    return Handed(row[0], row[1], row[2], row[3] == "open")


def take_out(tx: Tx, task_pk: int, status: str, reason: str) -> MediaOff | None:
    """Takes the task's media out of service ('held' or 'out'): the task is no longer handed
    out (a trigger keeps its `remaining` at 0). Returns the task, named, when this call took it
    out; None when it already was (the first cause found is kept)."""
    changed = tx.execute(
        "UPDATE task_media SET status = ?, reason = ? WHERE task_pk = ? AND status = 'ok'",
        (status, reason, task_pk),
    )
    if not changed:
        return None
    tx.execute("UPDATE tasks SET media_off = 1 WHERE pk = ?", (task_pk,))
    row = tx.one(
        "SELECT p.id, t.task_id, t.content, p.pk, p.updated_at FROM tasks AS t"
        " JOIN packs AS p ON p.pk = t.pack_pk WHERE t.pk = ?",
        (task_pk,),
    )
    assert row is not None
    fields = json.loads(row["content"])
    written = next((str(fields[k]) for k in MEDIA_KINDS if isinstance(fields.get(k), str)), "")
    return MediaOff(row["id"], row["task_id"], written, row["pk"], row["updated_at"])


def count_failure(tx: Tx, task_pk: int, reason: str) -> int:
    """One more refusal by Telegram in a row; returns how many there have been."""
    rows = tx.all(
        "UPDATE task_media SET failures = failures + 1, reason = ? WHERE task_pk = ?"
        " RETURNING failures",
        (reason, task_pk),
    )
    return int(rows[0][0]) if rows else 0


def clear_failures(tx: Tx, task_pk: int) -> None:
    """The media was shown: refusals before it no longer count as being in a row."""
    tx.execute("UPDATE task_media SET failures = 0 WHERE task_pk = ? AND failures > 0", (task_pk,))


@dataclass(frozen=True)
class OffCounts:
    held: int = 0  # tasks whose file changed since the load
    out: int = 0  # tasks Telegram refused too often


def off_by_pack(tx: Tx) -> dict[int, OffCounts]:
    """Tasks in the file (not retired), regular and gold, whose media is held or out of
    service, per pack pk (a partial index: packs without any cost nothing)."""
    rows = tx.all(
        "SELECT t.pack_pk, SUM(m.status = 'held'), SUM(m.status = 'out')"
        " FROM tasks AS t JOIN task_media AS m ON m.task_pk = t.pk"
        " WHERE t.media_off = 1 AND t.retired = 0 GROUP BY t.pack_pk"
    )
    return {int(row[0]): OffCounts(int(row[1] or 0), int(row[2] or 0)) for row in rows}


def cached_file_id(tx: Tx, media_key: str, kind: str) -> str | None:
    value = tx.value(
        "SELECT file_id FROM media_files WHERE media_key = ? AND kind = ?", (media_key, kind)
    )
    return None if value is None else str(value)


def remember(tx: Tx, media_key: str, kind: str, file_id: str, now: str) -> None:
    tx.execute(
        "INSERT OR REPLACE INTO media_files (media_key, kind, file_id, uploaded_at)"
        " VALUES (?, ?, ?, ?)",
        (media_key, kind, file_id, now),
    )


def forget(tx: Tx, media_key: str, kind: str, file_id: str) -> None:
    """Drops a file_id Telegram refused (only that one: a newer upload may have replaced it)."""
    tx.execute(
        "DELETE FROM media_files WHERE media_key = ? AND kind = ? AND file_id = ?",
        (media_key, kind, file_id),
    )


def count_uploads(tx: Tx) -> int:
    return int(tx.value("SELECT COUNT(*) FROM media_files") or 0)


def described(content: str) -> str:
    """A task's text as an operator reads it (disputes): with its media as the pack names it,
    e.g. "[image: media/circle-red-1.png] Which shape?" (a media task's text may be empty)."""
    fields = json.loads(content)
    text = str(fields.get("text") or "")
    for kind in ("image", "audio", "voice"):
        if isinstance(fields.get(kind), str):
            return f"[{kind}: {fields[kind]}] {text}".rstrip()
    return text
