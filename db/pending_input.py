"""The question a user's next text message answers (a dispute's comment, an operator's reason
for a rejection): one per user, for a few minutes."""

from __future__ import annotations

from db.core import Tx


def ask(tx: Tx, user_id: int, kind: str, ref_id: int, expires_at: str) -> None:
    tx.execute(
        "INSERT INTO pending_input (user_id, kind, ref_id, expires_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET kind = excluded.kind, ref_id = excluded.ref_id,"
        " expires_at = excluded.expires_at",
        (user_id, kind, ref_id, expires_at),
    )


def take(tx: Tx, user_id: int, now: str) -> tuple[str, int] | None:
    """(kind, ref_id) of the question this user's next message answers (removed), if it has
    not expired."""
    row = tx.one("DELETE FROM pending_input WHERE user_id = ? RETURNING *", (user_id,))
    if row is None or row["expires_at"] <= now:
        return None
    return row["kind"], row["ref_id"]
