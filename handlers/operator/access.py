"""Who is an operator, checked inside every operator handler, and operator buttons that nobody
else can replay.

- `operator_or_refuse`: the sender is in OPERATOR_IDS, else they get the worker's help (never an
  operator screen) and the attempt is logged.
- Operator buttons carry only `o:<token>`: a random token naming an action kept in the database
  with the operator it was made for (tasks/conversation.py). A press is acted on only when
  the presser is an operator and the token is theirs and still alive: replayed by anyone else,
  or after ACTION_SECONDS, it does nothing. The buttons of a question (`issue(...,
  one_shot=True)`) are answered once: the first press spends every button of it before its
  action runs; a second press gets the "expired button" toast and nothing else.
- What each kind of operator button does is listed in the route table (handlers/routes.py).
- Reasons typed after a button (Suspend, Reinstate: workers.py) are awaited replies kept in the
  database with the buttons (tasks/conversation.py): an operator who was just asked has their
  next text message taken as the reason (handlers/text_router.py, its first step).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from handlers.deps import meet, services
from handlers.texts import t
from tasks.conversation import ACTION_SECONDS, Action

__all__ = ["ACTION_SECONDS", "Action", "issue"]

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

OPERATOR_BUTTON = re.compile(r"o:([A-Za-z0-9_-]{16})\Z")


async def issue(
    context: Context, operator_id: int, *actions: Sequence[Any], one_shot: bool = False
) -> list[str]:
    """The callback_data of buttons doing each `(kind, *args)` for this operator only (stored
    in one transaction). `one_shot`: they are one question, answered by the first press."""
    return await services(context).operators.buttons.issue(operator_id, actions, one_shot=one_shot)


def is_operator(context: Context, user_id: int | None) -> bool:
    return user_id is not None and user_id in services(context).operator_ids


async def operator_or_refuse(update: Update, context: Context, what: str) -> int | None:
    """The operator's id, or None after giving an outsider the worker's help (logged). An
    operator is met like anyone who writes (their language, from their Telegram client until
    they choose one with /language, is then what they are spoken to in)."""
    user = update.effective_user
    if user is not None and is_operator(context, user.id):
        if update.effective_message is not None:
            await meet(update, context)
        return user.id
    log.warning("non-operator %s tried %s: refused", user.id if user else None, what)
    if user is None:
        return None
    worker = await meet(update, context)
    await services(context).presenter.say(user.id, t(worker.language, "help"))
    return None


async def operator_language(context: Context, operator_id: int) -> str:
    """The operator's own language (the default until they chose or wrote)."""
    deps = services(context)
    found = await deps.work.worker(operator_id)
    return found.language if found is not None else deps.default_language


ButtonHandler = Callable[[Update, Context, Action, str], Awaitable[None]]
BUTTONS_KEY = "operator_buttons"  # bot_data: each button kind's handler (handlers/routes.py)


async def press_operator_button(update: Update, context: Context) -> None:
    """Every `o:<token>` press: an operator's own live action is run; anything else is not."""
    query = update.callback_query
    assert query is not None
    presser = query.from_user.id
    if not is_operator(context, presser):
        await services(context).presenter.toast(query)
        await operator_or_refuse(update, context, f"button {query.data!r}")
        return
    match = OPERATOR_BUTTON.match(query.data or "")
    # Finding the action spends its question, if it is one, in the same transaction: of two
    # presses on one question (Replace then Cancel), only the first gets an action here.
    action = await services(context).operators.buttons.press(match[1], presser) if match else None
    lang = await operator_language(context, presser)
    handler = context.bot_data.get(BUTTONS_KEY, {}).get(action.kind) if action else None
    if action is None or handler is None or match is None:
        log.info("operator %s pressed an expired or foreign button %r", presser, query.data)
        await services(context).presenter.toast(query, t(lang, "op_expired_button"))
        return
    await handler(update, context, action, match[1])


async def answer_once(update: Update, context: Context, action: Action, token: str) -> str:
    """A question's button pressed (the question was spent when the press was found): the press
    acknowledged, its buttons gone. Returns the operator's language for what follows."""
    query = update.callback_query
    assert query is not None
    presenter = services(context).presenter
    await presenter.toast(query)
    await presenter.drop_keyboard(query.message)
    return await operator_language(context, action.operator_id)
