"""What the bot waits for from a person, kept in the database so that it survives a restart and
every bot process sees the same (SQL: db/conversation.py). Two stores of one family: each row
names one person, what their next move does, and until when, and is taken once, atomically.

Operator buttons (`OperatorButtons`, table operator_buttons). An operator button carries only
`o:<token>`: a random 96-bit token naming an action kept with the operator it was made for. A
press does something only when it is that operator's, made less than ACTION_SECONDS ago and not
spent. The buttons of a question (Replace / Cancel, Send / Cancel, Close / Cancel, Suspend) are
one group: the first press spends the whole group in the transaction that finds it (one
`UPDATE ... WHERE spent_at IS NULL`), before its action runs, so a second press, even handled at
the same time or by another process, finds it spent and does nothing. Other buttons (a pack's
Details, Pause, Export...) may be pressed again.

Awaited replies (`AwaitedReplies`, table awaited_replies). What a person's next text message
answers (`ReplyKind`): an operator's reason for barring or letting back a worker, or for
rejecting a dispute; a worker's comment on the dispute they just opened. One per person (a new
question replaces the one before), for a few minutes. Taking it is one `DELETE ... RETURNING` by
primary key: of two messages handled at once, in one process or two, one gets it. The text
router (handlers/text_router.py) says where each is looked for; a worker's text answer takes a
dispute comment in its own transaction (`take_reply`, tasks/work.py `answer_message`), so the
text answer path pays one lookup by primary key and no extra transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from db import Database, Tx, from_db_time, to_db_time, unit_of_work
from db import conversation as conversation_db
from tasks.clock import Clock

# -- operator buttons ------------------------------------------------------------------------

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
        conversation_db.forget_buttons_before(
            tx, to_db_time(now - timedelta(seconds=ACTION_SECONDS))
        )
        conversation_db.insert_buttons(tx, operator_id, made, group, to_db_time(now))
        return [PREFIX + token for token, _, _ in made]

    @unit_of_work
    def press(self, tx: Tx, token: str, presser: int) -> Action | None:
        """The action behind a press, if it is the presser's, alive, and (a question's button)
        not answered yet: answering it spends the whole question, here. None: nothing to do."""
        now = self.clock.now()
        found = conversation_db.find_button(tx, token)
        if found is None or found.operator_id != presser or found.spent_at is not None:
            return None
        created = from_db_time(found.created_at)
        if now - created > timedelta(seconds=ACTION_SECONDS):
            return None
        if found.group_token is not None:
            if not conversation_db.spend_group(tx, found.group_token, to_db_time(now)):
                return None
        return Action(presser, found.kind, found.args, created, found.group_token is not None)


# -- awaited replies -------------------------------------------------------------------------


class ReplyKind(StrEnum):
    """What a person's next text message answers, and what `ref` names."""

    BAR_REASON = "bar_reason"  # an operator's reason to bar a worker (ref: the worker)
    UNBAR_REASON = "unbar_reason"  # ... to let a barred worker back (ref: the worker)
    REJECT_REASON = "reject_reason"  # ... to reject a dispute (ref: the dispute)
    DISPUTE_COMMENT = "dispute_comment"  # a worker's comment on their dispute (ref: the dispute)


# The replies only an operator is asked for (the text router looks for them first).
OPERATOR_REASONS = frozenset(
    {ReplyKind.BAR_REASON, ReplyKind.UNBAR_REASON, ReplyKind.REJECT_REASON}
)


@dataclass(frozen=True)
class AwaitedReply:
    """A reply that was awaited, taken: the message that took it is its answer."""

    user_id: int
    kind: ReplyKind
    ref: int


def await_reply(
    tx: Tx, user_id: int, kind: ReplyKind, ref: int, now: datetime, seconds: int
) -> None:
    """In a unit of work: this user's next text message answers (kind, ref) for `seconds`,
    instead of anything awaited from them before. Replies that expired are forgotten."""
    conversation_db.forget_replies_expired(tx, to_db_time(now))
    expires = to_db_time(now + timedelta(seconds=seconds))
    conversation_db.await_reply(tx, user_id, kind.value, ref, expires)


def take_reply(
    tx: Tx, user_id: int, kinds: Collection[ReplyKind], now: datetime
) -> AwaitedReply | None:
    """In a unit of work: what this user's message answers, if one of `kinds` is awaited and
    has not expired; taken (it answers once). None: nothing of these kinds is awaited."""
    found = conversation_db.take_reply(tx, user_id, [kind.value for kind in kinds])
    if found is None or found.expires_at <= to_db_time(now):
        return None
    return AwaitedReply(found.user_id, ReplyKind(found.kind), found.ref)


class AwaitedReplies:
    """`await_reply` and `take_reply`, each as a unit of work of its own."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    @unit_of_work
    def ask(self, tx: Tx, user_id: int, kind: ReplyKind, ref: int, seconds: int) -> None:
        """The user's next text message answers (kind, ref), for `seconds`."""
        await_reply(tx, user_id, kind, ref, self.clock.now(), seconds)

    @unit_of_work
    def take(
        self, tx: Tx, user_id: int, kinds: Collection[ReplyKind] = tuple(ReplyKind)
    ) -> AwaitedReply | None:
        """What the user's message answers (one of `kinds`, not expired), taken; else None."""
        return take_reply(tx, user_id, kinds, self.clock.now())
