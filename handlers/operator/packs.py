"""/packs: each pack's progress with its buttons (details, pause, resume, close after a
confirmation, export)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import render
from handlers.deps import services
from handlers.operator.access import (
    Action,
    answer_once,
    issue,
    operator_language,
    operator_or_refuse,
)
from handlers.operator.export import export_choice
from handlers.operator.help import refresh_menu
from handlers.render import Keyboard, esc
from handlers.texts import t
from tasks.earnings import round_to_cents
from tasks.media import MEDIA_FAILURES
from tasks.money import format_amount
from tasks.operator.packs import PackLine

Context = ContextTypes.DEFAULT_TYPE

PACKS_SHOWN = 10  # packs listed, one message each (the most recent ones)


async def list_packs(update: Update, context: Context) -> None:
    """/packs: one message per pack, its figures and its buttons."""
    operator = await operator_or_refuse(update, context, "/packs")
    if operator is None:
        return
    deps = services(context)
    lang = await operator_language(context, operator)
    await refresh_menu(context.bot_data, context.bot, operator, lang)
    lines = await deps.operators.packs.overview()
    if not lines:
        await deps.presenter.say(operator, t(lang, "packs_none"))
        return
    header = t(lang, "packs_header", n=len(lines))
    if len(lines) > PACKS_SHOWN:
        header += "\n" + t(lang, "packs_more", shown=PACKS_SHOWN)
    await deps.presenter.say(operator, header)
    for line in lines[-PACKS_SHOWN:]:
        text = pack_line_text(line, lang)
        keyboard = await pack_keyboard(context, operator, line, lang)
        await deps.presenter.say(operator, (text, keyboard))


async def pack_keyboard(context: Context, operator: int, line: PackLine, lang: str) -> Keyboard:
    """A pack's buttons (each may be pressed again; Close asks first)."""
    status = line.progress.status
    first = [("pack_details_button", "pack_details")]
    if status == "active":
        first.append(("pack_pause_button", "pack_pause"))
    elif status == "paused":
        first.append(("pack_resume_button", "pack_resume"))
    second = [("pack_export_button", "pack_export")]
    if status != "closed":
        second.append(("pack_close_button", "pack_close_ask"))
    data = await issue(context, operator, *[(kind, line.id) for _, kind in first + second])
    labels = [t(lang, key) for key, _ in first + second]
    buttons = list(zip(labels, data, strict=True))
    return (tuple(buttons[: len(first)]), tuple(buttons[len(first) :]))


def _figures(line: PackLine, lang: str) -> dict[str, object]:
    progress = line.progress
    currency = progress.currency
    median = "-" if line.median_seconds is None else f"{line.median_seconds:.1f} s"
    if line.hourly_micros is None:
        hourly = "-"
    else:
        rate = format_amount(round_to_cents(line.hourly_micros), currency, lang)
        hourly = t(lang, "pack_hourly", rate=rate)
        if line.below_floor:
            hourly += " " + t(lang, "pack_below_floor")
    return {
        "title": esc(render.shorten(progress.title, 80)),
        "pack": esc(progress.id),
        "status": t(lang, f"status_{progress.status}"),
        "answers": progress.answers,
        "wanted": progress.answers_wanted,
        "percent": render.percent(progress.percent / 100, lang),
        "done": progress.tasks_complete,
        "tasks": progress.tasks,
        "spent": format_amount(progress.spent_micros, currency, lang),
        "active": line.active_workers,
        "median": median,
        "hourly": hourly,
        "gold": progress.gold_tasks,
        "gold_answers": progress.gold_answers,
        "leases": progress.open_leases,
        "reward": format_amount(progress.reward_micros, currency, lang),
    }


def pack_line_text(line: PackLine, lang: str) -> str:
    figures = _figures(line, lang)
    return t(lang, "op_pack_line", **{k: figures[k] for k in _LINE_FIELDS}) + _media_off(line, lang)


def _media_off(line: PackLine, lang: str) -> str:
    """A line under the pack when some of its tasks are out of service for their media."""
    progress = line.progress
    if not progress.media_held and not progress.media_out:
        return ""
    return "\n" + t(
        lang,
        "pack_media_off",
        held=progress.media_held,
        out=progress.media_out,
        failures=MEDIA_FAILURES,
    )


_LINE_FIELDS = (
    "title", "pack", "status", "answers", "wanted", "percent", "done", "tasks", "spent",
    "active", "median", "hourly",
)  # fmt: skip


async def show_details(update: Update, context: Context, action: Action, token: str) -> None:
    query = update.callback_query
    assert query is not None
    await services(context).presenter.toast(query)
    deps = services(context)
    lang = await operator_language(context, action.operator_id)
    pack_id = str(action.args[0])
    line = await deps.operators.packs.line(pack_id)
    if line is None:
        text = t(lang, "op_no_pack", pack=esc(pack_id))
        await deps.presenter.say(action.operator_id, text)
        return
    text = t(lang, "pack_details", **_figures(line, lang)) + _media_off(line, lang)
    keyboard = await pack_keyboard(context, action.operator_id, line, lang)
    await deps.presenter.say(action.operator_id, (text, keyboard))


async def pause_pack(update: Update, context: Context, action: Action, token: str) -> None:
    await _change(update, context, action, "pause")


async def resume_pack(update: Update, context: Context, action: Action, token: str) -> None:
    await _change(update, context, action, "resume")


async def close_pack(update: Update, context: Context, action: Action, token: str) -> None:
    """The confirmation's Yes: closed for good (the question is answered once: a Cancel
    pressed after it does nothing)."""
    assert update.callback_query is not None
    await services(context).presenter.drop_keyboard(update.callback_query.message)
    await _change(update, context, action, "close")


async def ask_to_close(update: Update, context: Context, action: Action, token: str) -> None:
    query = update.callback_query
    assert query is not None
    await services(context).presenter.toast(query)
    lang = await operator_language(context, action.operator_id)
    pack_id = str(action.args[0])
    yes, cancel = await issue(
        context, action.operator_id, ("pack_close", pack_id), ("dismiss",), one_shot=True
    )
    keyboard = (((t(lang, "pack_close_yes"), yes), (t(lang, "up_cancel_button"), cancel)),)
    text = t(lang, "pack_close_confirm", pack=esc(pack_id))
    await services(context).presenter.say(action.operator_id, (text, keyboard))


async def dismiss(update: Update, context: Context, action: Action, token: str) -> None:
    """A Cancel button: nothing changes; the question's buttons go."""
    lang = await answer_once(update, context, action, token)
    await services(context).presenter.say(action.operator_id, t(lang, "up_cancelled"))


async def _change(update: Update, context: Context, action: Action, verb: str) -> None:
    query = update.callback_query
    assert query is not None
    await services(context).presenter.toast(query)
    deps = services(context)
    lang = await operator_language(context, action.operator_id)
    pack_id = str(action.args[0])
    change = await deps.operators.packs.set_status(pack_id, verb)
    deps.work.forget_packs()
    pack = esc(pack_id)
    leases = t(lang, "pack_leases", n=change.open_leases) if change.open_leases else ""
    if not change.found:
        text = t(lang, "op_no_pack", pack=pack)
    elif change.changed:
        key = {"paused": "pack_paused", "active": "pack_resumed", "closed": "pack_closed"}
        text = t(lang, key[change.after], pack=pack, leases=leases)
    elif change.before == "closed" and verb != "close":
        text = t(lang, "pack_closed_stays", pack=pack)
    else:
        text = t(lang, "pack_already", pack=pack, status=t(lang, f"status_{change.before}"))
    await deps.presenter.say(action.operator_id, text)


async def export_from_list(update: Update, context: Context, action: Action, token: str) -> None:
    """The Export button of /packs: the format and kind buttons of /export."""
    query = update.callback_query
    assert query is not None
    await services(context).presenter.toast(query)
    await export_choice(context, action.operator_id, str(action.args[0]))
