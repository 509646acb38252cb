"""SQL for task media (migration 012): what each task shows, and the file_ids Telegram gave.

task_media: one row per task with an image, audio or voice (written by the pack load).
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


# (task_id, kind, source, ref, media_key, size): what a pack load writes per task with media.
MediaRow = tuple[str, str, str, str, str | None, int | None]


def clear_pack(tx: Tx, pack_pk: int) -> None:
    """Forgets the media of a pack's tasks (a replace writes them again from the file)."""
    tx.execute(
        "DELETE FROM task_media WHERE task_pk IN (SELECT pk FROM tasks WHERE pack_pk = ?)",
        (pack_pk,),
    )


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
        "SELECT m.kind, m.source, m.ref, m.media_key, m.size, f.file_id"
        " FROM task_media AS m"
        " LEFT JOIN media_files AS f ON f.media_key = m.media_key AND f.kind = m.kind"
        " WHERE m.task_pk = ?",
        (task_pk,),
    )
    if row is None:
        return None
    return StoredMedia(
        row["kind"], row["source"], row["ref"], row["media_key"], row["size"], row["file_id"]
    )


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
