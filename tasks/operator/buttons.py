"""Operator buttons that nobody else can replay, and questions answered once.

An operator button carries only `o:<token>`: a random 96-bit token naming an action kept in the
database (db/operator_buttons.py) with the operator it was made for. A press does something only
when it is that operator's, made less than ACTION_SECONDS ago and not spent.

The buttons of a question (Replace / Cancel, Send / Cancel, Close / Cancel, Suspend) are one
group: the first press spends the whole group in the transaction that finds it (one
`UPDATE ... WHERE spent_at IS NULL`), before its action runs, so a second press, even handled at
the same time or by another process, finds it spent and does nothing. Other buttons (a pack's
Details, Pause, Export...) may be pressed again.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from db import Database, Tx, from_db_time, to_db_time, unit_of_work
from db import operator_buttons as buttons_db
from tasks.clock import Clock

ACTION_SECONDS = 24 * 3600  # an operator button does nothing this long after it was made
PREFIX = "o:"


@dataclass(frozen=True)
class Action:
    """What a pressed button does, for whom."""

    operator_id: int
    kind: str  # "pack_pause", "export_file", "replace", ...
    args: tuple[Any, ...]  # JSON values (str, int, bool, None)
    created: datetime
    one_shot: bool  # part of a question: this press has spent it (every button of it)


class OperatorButtons:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    @unit_of_work
    def issue(
        self, tx: Tx, operator_id: int, actions: Sequence[Sequence[Any]], one_shot: bool = False
    ) -> list[str]:
        """The callback_data of one button per action, each `(kind, *args)`, for this operator
        only. `one_shot`: the buttons are one question, answered by the first press."""
        now = self.clock.now()
        made = [(secrets.token_urlsafe(12), str(kind), tuple(args)) for kind, *args in actions]
        group = made[0][0] if one_shot and made else None
        buttons_db.forget_older(tx, to_db_time(now - timedelta(seconds=ACTION_SECONDS)))
        buttons_db.insert(tx, operator_id, made, group, to_db_time(now))
        return [PREFIX + token for token, _, _ in made]

    @unit_of_work
    def press(self, tx: Tx, token: str, presser: int) -> Action | None:
        """The action behind a press, if it is the presser's, alive, and (a question's button)
        not answered yet: answering it spends the whole question, here. None: nothing to do."""
        now = self.clock.now()
        found = buttons_db.find(tx, token)
        if found is None or found.operator_id != presser or found.spent_at is not None:
            return None
        created = from_db_time(found.created_at)
        if now - created > timedelta(seconds=ACTION_SECONDS):
            return None
        if found.group_token is not None:
            if not buttons_db.spend_group(tx, found.group_token, to_db_time(now)):
                return None
        return Action(presser, found.kind, found.args, created, found.group_token is not None)
