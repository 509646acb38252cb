"""/broadcast TEXT: after a confirmation that says how many workers will receive it, the text
goes to every consented, active worker through the outbox's bulk lane (paced behind what
people are waiting for, held by each worker's quiet hours)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from handlers.deps import services
from handlers.operator.access import (
    Action,
    answer_once,
    issue,
    operator_language,
    operator_or_refuse,
)
from handlers.render import esc
from handlers.texts import t
from tasks.operator.workers import MAX_BROADCAST

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


def _text_of(update: Update) -> str:
    """What follows /broadcast, line breaks kept."""
    message = update.effective_message
    if message is None or message.text is None:
        return ""
    parts = message.text.split(maxsplit=1)  # the command, then the text as written
    return parts[1].strip() if len(parts) > 1 else ""


async def ask_to_broadcast(update: Update, context: Context) -> None:
    """/broadcast TEXT: the text as workers will read it, the count, and Send / Cancel."""
    operator = await operator_or_refuse(update, context, "/broadcast")
    if operator is None:
        return
    deps = services(context)
    lang = await operator_language(context, operator)
    text = _text_of(update)
    if not text:
        await deps.presenter.say(operator, t(lang, "op_usage", usage="/broadcast TEXT"))
        return
    if len(text) > MAX_BROADCAST:
        reply = t(lang, "broadcast_too_long", n=len(text), max=MAX_BROADCAST)
        await deps.presenter.say(operator, reply)
        return
    audience = await deps.operators.broadcasts.audience()
    if audience == 0:
        await deps.presenter.say(operator, t(lang, "broadcast_nobody"))
        return
    send_data, cancel_data = await issue(
        context, operator, ("broadcast_send", text), ("dismiss",), one_shot=True
    )
    keyboard = (
        (
            (t(lang, "broadcast_send_button", n=audience), send_data),
            (t(lang, "up_cancel_button"), cancel_data),
        ),
    )
    preview = t(lang, "broadcast_confirm", n=audience, text=esc(text))
    await deps.presenter.say(operator, (preview, keyboard))


async def send_broadcast(update: Update, context: Context, action: Action, token: str) -> None:
    """Send: queued once (the question is answered once: a Cancel or a second Send pressed
    after it does nothing), for the workers reachable now."""
    lang = await answer_once(update, context, action, token)
    deps = services(context)
    queued = await deps.operators.broadcasts.send(action.operator_id, str(action.args[0]))
    log.info("operator %s broadcast to %d workers", action.operator_id, queued)
    await deps.presenter.say(action.operator_id, t(lang, "broadcast_queued", n=queued))
