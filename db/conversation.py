"""What the bot waits for from a person, by table (the domain: tasks/conversation.py):

- operator_buttons (db/migrations/014_operator_buttons_and_held_messages.sql): the action behind
  each operator button (`o:<token>`), for whom, and whether the question it belongs to was
  answered;
- awaited_replies (db/migrations/018_awaited_replies.sql): what a person's next text message
  answers (a reason, a comment), one per person, until it expires.

Each is taken once: a question's buttons spent by one `UPDATE ... WHERE spent_at IS NULL`, a reply
by one `DELETE ... RETURNING`, both under the write lock, so two presses or two messages handled
at once, even by two processes, find it once."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from db.core import Tx

# -- operator buttons ------------------------------------------------------------------------


@dataclass(frozen=True)
class ButtonRow:
    token: str
    operator_id: int
    kind: str
    args: tuple[Any, ...]
    group_token: str | None  # None: a button that may be pressed again
    created_at: str
    spent_at: str | None


def insert_buttons(
    tx: Tx,
    operator_id: int,
    buttons: list[tuple[str, str, tuple[Any, ...]]],
    group_token: str | None,
    now: str,
) -> None:
    """Stores buttons, each (token, kind, args), for one operator; `group_token` makes them one
    question (answered once, by whichever is pressed first)."""
    for token, kind, args in buttons:
        stored = json.dumps(list(args), ensure_ascii=False)
        tx.execute(
            "INSERT INTO operator_buttons (token, operator_id, kind, args, group_token,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (token, operator_id, kind, stored, group_token, now),
        )


def find_button(tx: Tx, token: str) -> ButtonRow | None:
    row = tx.one("SELECT * FROM operator_buttons WHERE token = ?", (token,))
    if row is None:
        return None
    return ButtonRow(
        token=row["token"],
        operator_id=row["operator_id"],
        kind=row["kind"],
        args=tuple(json.loads(row["args"])),
        group_token=row["group_token"],
        created_at=row["created_at"],
        spent_at=row["spent_at"],
    )


def spend_group(tx: Tx, group_token: str, now: str) -> bool:
    """Every button of a question spent at once; False if it already was (another press, maybe
    in another process, answered it first)."""
    changed = tx.execute(
        "UPDATE operator_buttons SET spent_at = ? WHERE group_token = ? AND spent_at IS NULL",
        (now, group_token),
    )
    return changed > 0


def forget_buttons_before(tx: Tx, before: str) -> int:
    """Buttons made before `before` (expired: they do nothing) are removed."""
    return tx.execute("DELETE FROM operator_buttons WHERE created_at < ?", (before,))


# -- awaited replies -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyRow:
    user_id: int
    kind: str
    ref: int
    expires_at: str


def await_reply(tx: Tx, user_id: int, kind: str, ref: int, expires_at: str) -> None:
    """This user's next text message answers (kind, ref) until `expires_at`; it replaces what
    was awaited from them before."""
    tx.execute(
        "INSERT INTO awaited_replies (user_id, kind, ref, expires_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET kind = excluded.kind, ref = excluded.ref,"
        " expires_at = excluded.expires_at",
        (user_id, kind, ref, expires_at),
    )


def take_reply(tx: Tx, user_id: int, kinds: Collection[str]) -> ReplyRow | None:
    """What this user's next message answers, if it is one of `kinds`, removed (expired or not:
    the caller decides; one found expired is gone either way). One lookup by primary key."""
    marks = ", ".join("?" * len(kinds))
    row = tx.one(
        f"DELETE FROM awaited_replies WHERE user_id = ? AND kind IN ({marks})"
        " RETURNING user_id, kind, ref, expires_at",
        (user_id, *kinds),
    )
    if row is None:
        return None
    return ReplyRow(row["user_id"], row["kind"], row["ref"], row["expires_at"])


def forget_replies_expired(tx: Tx, now: str) -> int:
    """Replies no longer awaited (expired at `now`) are removed."""
    return tx.execute("DELETE FROM awaited_replies WHERE expires_at <= ?", (now,))
