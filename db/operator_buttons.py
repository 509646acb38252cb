"""Operator buttons (`o:<token>`): the action behind each, for whom, and whether the question it
belongs to was answered (db/migrations/014_operator_buttons.sql)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from db.core import Tx


@dataclass(frozen=True)
class ButtonRow:
    token: str
    operator_id: int
    kind: str
    args: tuple[Any, ...]
    group_token: str | None  # None: a button that may be pressed again
    created_at: str
    spent_at: str | None


def insert(
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


def find(tx: Tx, token: str) -> ButtonRow | None:
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


def forget_older(tx: Tx, before: str) -> int:
    """Buttons made before `before` (expired: they do nothing) are removed."""
    return tx.execute("DELETE FROM operator_buttons WHERE created_at < ?", (before,))
