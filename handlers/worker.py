"""What a worker does in Telegram: /start, consent, answer, skip, /task, /pause, /balance, ..."""

from __future__ import annotations

import asyncio
import logging
from html import escape
from typing import Any

from telegram import CallbackQuery, Message, Update
from telegram.ext import ContextTypes

from handlers import render
from handlers.deps import meet, meet_with_packs, services
from handlers.earnings import expected_rate_text
from handlers.render import next_screen
from handlers.texts import t
from tasks.money import format_amount
from tasks.work_results import AnswerResult, Outcome

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


async def start(update: Update, context: Context) -> None:
    """Shows what the work is, the pay and the rules, and asks for consent (once)."""
    user = update.effective_user
    assert user is not None
    deps = services(context)
    worker, packs = await meet_with_packs(update, context)
    lang = worker.language
    rates = await _expected_rates(context, lang)
    if worker.consented:
        text = t(
            lang,
            "welcome_back",
            name=escape(user.first_name, quote=False),
            packs=render.packs_list(packs, lang, rates),
        )
        await deps.presenter.say(user.id, text)
        await _push(context, user.id)
        return
    lease = min((p.lease_seconds for p in await deps.work.active_packs()), default=300)
    screen = render.welcome_screen(user.first_name, packs, max(1, lease // 60), lang, rates)
    await deps.presenter.say(user.id, screen)


async def _expected_rates(context: Context, language: str) -> dict[str, str]:
    """Each pack's expected hourly rate, as workers read it before they consent."""
    rates = {}
    for rate in await services(context).earnings.pack_rates():
        text = expected_rate_text(rate.hourly_micros, rate.currency, language)
        if text is not None:
            rates[rate.pack_id] = text
    return rates


async def _push(context: Context, worker_id: int) -> None:
    """Sends the worker's current or next task as a new message."""
    deps = services(context)
    resumed = await deps.work.resume(worker_id)
    if resumed is None:
        return
    worker, following = resumed
    screen = next_screen(following, worker.language, None, deps.zone)
    await deps.presenter.show_task(worker_id, screen)


async def next_task(update: Update, context: Context) -> None:
    """/task: tasks come again; the open one if any, else a new one."""
    await meet(update, context)
    assert update.effective_user is not None
    await _push(context, update.effective_user.id)


async def pause(update: Update, context: Context) -> None:
    """/pause: no more tasks until /task."""
    await meet(update, context)
    assert update.effective_user is not None
    deps = services(context)
    worker = await deps.work.pause(update.effective_user.id)
    if worker is not None:
        await deps.presenter.say(worker.id, t(worker.language, "paused"))


async def show_help(update: Update, context: Context) -> None:
    """/help: what the buttons and commands do."""
    worker = await meet(update, context)
    await services(context).presenter.say(worker.id, t(worker.language, "help"))


async def choose_language(update: Update, context: Context) -> None:
    """/language: two buttons, Français and English."""
    worker = await meet(update, context)
    await services(context).presenter.say(worker.id, render.language_screen(worker.language))


async def other_message(update: Update, context: Context) -> None:
    """Anything else: a pointer to /help (and the worker is known to be reachable again)."""
    worker = await meet(update, context)
    await services(context).presenter.say(worker.id, t(worker.language, "unknown_command"))


async def refuse_button(update: Update, context: Context) -> None:
    """A button whose data has none of our shapes (forged, or from another bot): refused."""
    query = update.callback_query
    assert query is not None
    log.warning("refused callback_data %r from user %s", query.data, query.from_user.id)
    deps = services(context)
    await deps.presenter.toast(query, t(deps.default_language, "invalid_toast"))


async def answer_task(update: Update, context: Context) -> None:
    """An option button: stored once, acknowledged, and the message becomes the next task."""
    query = update.callback_query
    assert query is not None and context.match is not None
    result = await services(context).work.answer(
        worker_id=query.from_user.id,
        assignment_id=int(context.match[1]),
        choice=int(context.match[2]),
    )
    await show_result(context, query, result)


async def skip_task(update: Update, context: Context) -> None:
    """The Skip button: the task goes back to the others and the next one comes."""
    query = update.callback_query
    assert query is not None and context.match is not None
    result = await services(context).work.skip(
        worker_id=query.from_user.id, assignment_id=int(context.match[1])
    )
    await show_result(context, query, result)


async def show_result(context: Context, query: CallbackQuery, result: AnswerResult) -> None:
    """The toast, and the task message edited into what comes next: the two calls go out
    together, neither waits for the other."""
    deps = services(context)
    presenter = deps.presenter
    lang = result.worker.language if result.worker else deps.default_language
    toast_text, notice = _acknowledgement(result, lang)
    if result.outcome in (Outcome.NOT_YOURS, Outcome.INVALID):
        log.warning(
            "refused %s callback %r from user %s", result.outcome, query.data, query.from_user.id
        )
    calls: list[Any] = [presenter.toast(query, toast_text)]
    message = query.message
    if isinstance(message, Message) and result.news:
        # What the answer taught (a check question's answer) stays in the chat, in place of
        # the task (a media task keeps its media, the feedback as caption); the next task
        # comes as a new message below it.
        taught = render.news_screen(result.news, lang, deps.zone)
        calls.append(presenter.show_in_place(message.chat.id, taught, message))
        await asyncio.gather(*calls)
        if result.next is not None:
            screen = next_screen(result.next, lang, None, deps.zone)
            await presenter.show_task(message.chat.id, screen)
        return
    if isinstance(message, Message):
        if result.next is not None:
            screen = next_screen(result.next, lang, notice, deps.zone)
            calls.append(presenter.show_task(message.chat.id, screen, message))
        elif result.outcome is Outcome.EXPIRED:
            expired = (t(lang, "expired"), None)
            calls.append(presenter.show_in_place(message.chat.id, expired, message))
    elif message is not None:
        if result.next is not None:
            screen = next_screen(result.next, lang, notice, deps.zone)
            calls.append(presenter.show_task(message.chat.id, screen))
    await asyncio.gather(*calls)


def _acknowledgement(result: AnswerResult, lang: str) -> tuple[str | None, str | None]:
    """The toast and the line above the next task that tell the worker what was recorded."""
    if result.outcome is Outcome.RECORDED:
        label = result.option.label if result.option is not None else result.shown
        reward = format_amount(result.reward_micros, result.currency, lang)
        return (
            t(lang, "recorded_toast", label=render.shorten(label, 100), reward=reward),
            t(lang, "recorded", label=escape(label, quote=False)),
        )
    if result.outcome is Outcome.SKIPPED:
        return t(lang, "skipped_toast"), t(lang, "skipped")
    if result.outcome is Outcome.EXPIRED:
        return t(lang, "expired_toast"), t(lang, "expired")
    if result.outcome is Outcome.ALREADY:
        return t(lang, "already_toast"), None
    if result.outcome is Outcome.NUDGE and result.nudge is not None:
        return t(lang, result.nudge.key, **result.nudge.params), None
    if result.outcome is Outcome.NOT_YOURS:
        return t(lang, "not_yours_toast"), None
    if result.outcome is Outcome.UNKNOWN_WORKER:
        return t(lang, "start_first_toast"), None
    return t(lang, "invalid_toast"), None


async def consent(update: Update, context: Context) -> None:
    """The consent button: recorded once; the first task comes as a new message."""
    query = update.callback_query
    assert query is not None
    deps = services(context)
    presenter = deps.presenter
    consented = await deps.work.consent(query.from_user.id)
    if consented is None:
        await presenter.toast(query, t(deps.default_language, "start_first_toast"))
        return
    worker, following = consented
    lang = worker.language
    if following is None:  # a second press on the same button
        await presenter.toast(query)
        return
    await presenter.toast(query, t(lang, "consent_thanks"))
    await presenter.drop_keyboard(query.message)  # the rules stay readable
    screen = next_screen(following, lang, None, deps.zone)
    await presenter.show_task(worker.id, screen)


async def start_new_work(update: Update, context: Context) -> None:
    """The "new work has arrived" button: the message becomes the task."""
    query = update.callback_query
    assert query is not None
    deps = services(context)
    resumed = await deps.work.resume(query.from_user.id)
    await deps.presenter.toast(query)
    if resumed is None or query.message is None:
        return
    worker, following = resumed
    screen = next_screen(following, worker.language, None, deps.zone)
    old = query.message if isinstance(query.message, Message) else None
    await deps.presenter.show_task(query.message.chat.id, screen, old)


async def set_language(update: Update, context: Context) -> None:
    """A language button: the worker's choice is kept over their phone's setting."""
    query = update.callback_query
    assert query is not None and context.match is not None
    deps = services(context)
    worker = await deps.work.set_language(query.from_user.id, context.match[1])
    await deps.presenter.toast(query)
    if worker is not None and query.message is not None:
        screen = (t(worker.language, "language_set"), None)
        await deps.presenter.show_in_place(query.message.chat.id, screen, query.message)


async def membership_changed(update: Update, context: Context) -> None:
    """The worker blocked the bot (nothing more is pushed) or came back (reachable again)."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    deps = services(context)
    if change.new_chat_member.status == "kicked":
        await deps.work.mark_blocked(change.from_user.id)
    elif change.new_chat_member.status == "member":
        await meet(update, context)
