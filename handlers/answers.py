"""Answers beyond a single button: multi_choice toggles and Done, text answers sent as
messages, and the nudges when an answer has the wrong shape. Which text message is an answer,
and to which task, is the text router's to say (handlers/text_router.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from html import escape
from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import ContextTypes

from handlers import render, worker
from handlers.deps import Services, services
from handlers.render import next_screen
from handlers.texts import t
from tasks.conversation import ReplyKind
from tasks.work import NotText, Reply, Selection
from tasks.work_results import AnswerResult, Outcome, TaskCard

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
RECORDED_SHOWN = 200  # characters of a text answer repeated in the "recorded" line


async def toggle_option(update: Update, context: Context) -> None:
    """A multi_choice option: its check mark flips, only the keyboard is edited."""
    query = update.callback_query
    assert query is not None and context.match is not None
    deps = services(context)
    result = await deps.work.toggle(
        worker_id=query.from_user.id,
        assignment_id=int(context.match[1]),
        index=int(context.match[2]),
    )
    if result.outcome is not Outcome.TOGGLED:
        await worker.show_result(context, query, result)
        return
    await asyncio.gather(deps.presenter.toast(query), _redraw(deps, query, result))


async def _redraw(deps: Services, query: CallbackQuery, result: AnswerResult) -> None:
    """The task's keyboard as the selection now stands (editMessageReplyMarkup)."""
    message = query.message
    if message is None or not isinstance(result.next, TaskCard):
        return
    lang = result.worker.language if result.worker else deps.default_language
    await deps.presenter.redraw_keyboard(message, render.task_keyboard(result.next, lang))


async def finish_selection(update: Update, context: Context) -> None:
    """multi_choice Done: the selection shown is stored (once), as any answer."""
    query = update.callback_query
    assert query is not None and context.match is not None
    deps = services(context)
    result = await deps.work.answer(
        worker_id=query.from_user.id,
        assignment_id=int(context.match[1]),
        choice=Selection(int(context.match[2])),
    )
    if result.outcome is Outcome.NUDGE and isinstance(result.next, TaskCard):
        lang = result.worker.language if result.worker else deps.default_language
        assert result.nudge is not None
        text = t(lang, result.nudge.key, **result.nudge.params)
        await asyncio.gather(deps.presenter.toast(query, text), _redraw(deps, query, result))
        return
    await worker.show_result(context, query, result)


# What a message answered when it answered no task: nothing was shown (the router goes on).
NOT_AN_ANSWER = frozenset({Outcome.NO_TASK, Outcome.UNKNOWN_WORKER, Outcome.AWAITED})


async def text_answer(
    update: Update,
    context: Context,
    assignment_id: int | None = None,
    unless_awaited: Collection[ReplyKind] = (),
) -> AnswerResult | None:
    """A message as the answer to a task (the one replied to, else the open one), shown; a
    sticker or a photo is a nudge while a text task is open. Returns the result: one of
    NOT_AN_ANSWER when it answered no task (nothing shown: the text router goes on), among
    them a reply of `unless_awaited` it took instead (tasks/work.py `answer_message`)."""
    message = update.message
    user = update.effective_user
    if message is None or user is None:
        return None
    given = Reply(message.text) if message.text is not None else NotText()
    deps = services(context)
    result = await deps.work.answer_message(
        worker_id=user.id, given=given, assignment_id=assignment_id, unless_awaited=unless_awaited
    )
    if result.outcome in NOT_AN_ANSWER:
        return result
    await show_message_result(context, user.id, result)
    return result


async def show_message_result(context: Context, chat_id: int, result: AnswerResult) -> None:
    """What a text answer leads to, as new messages (the worker's own message sits below the
    task, so the next task comes below it): one sendMessage per recorded answer."""
    deps = services(context)
    lang = result.worker.language if result.worker else deps.default_language
    outcome = result.outcome
    screens: list[Any] = []
    if outcome is Outcome.RECORDED:
        shown = render.shorten(result.shown, RECORDED_SHOWN)
        notice: str | None = t(lang, "recorded", label=escape(shown, quote=False))
        if result.news:
            screens.append(render.news_screen(result.news, lang, deps.zone))
            notice = None
        if result.next is not None:
            screens.append(next_screen(result.next, lang, notice, deps.zone))
        elif notice:
            screens.append((notice, None))
    elif outcome is Outcome.NUDGE:
        assert result.nudge is not None
        screens.append((t(lang, result.nudge.key, **result.nudge.params), None))
    elif outcome is Outcome.EXPIRED:
        late = t(lang, "text_late")
        if result.next is not None:
            screens.append(next_screen(result.next, lang, late, deps.zone))
        else:
            screens.append((late, None))
    elif outcome is Outcome.ALREADY:
        screens.append((t(lang, "text_already"), None))
    else:
        log.warning("refused %s text answer from user %s", outcome, chat_id)
        screens.append((t(lang, "text_not_yours"), None))
    for screen in screens:  # a media task's screen is sent as one (sendPhoto...)
        await deps.presenter.show_task(chat_id, screen)
