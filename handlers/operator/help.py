"""/help for operators, and their command menu: set per operator chat (BotCommandScopeChat) in
the operator's own language, so only operators see the operator commands."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from handlers import worker
from handlers.deps import KEY, Services, meet, services
from handlers.operator.access import is_operator
from handlers.texts import t

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

OPERATOR_MENU = (
    "packs",
    "stats",
    "export",
    "workers",
    "worker",
    "disputes",
    "broadcast",
    "help",
    "language",
)
MENUS_KEY = "operator_menus"  # operator id -> the language their menu was last set in


def megabytes(size: int) -> str:
    """A file size as people read it: 20.0 MB, 51 KB."""
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


async def show_help(update: Update, context: Context) -> None:
    """/help: the worker's help, and for an operator their commands too."""
    user = update.effective_user
    if user is None or not is_operator(context, user.id):
        await worker.show_help(update, context)
        return
    me = await meet(update, context)
    await refresh_menu(context.bot_data, context.bot, user.id, me.language)
    limit = megabytes(services(context).operators.upload_limit)
    text = t(me.language, "op_help", limit=limit) + "\n\n" + t(me.language, "help")
    await services(context).presenter.say(user.id, text)


def menu(language: str) -> list[BotCommand]:
    return [BotCommand(name, t(language, f"cmd_{name}")) for name in OPERATOR_MENU]


async def refresh_menu(bot_data: dict[Any, Any], bot: Any, operator_id: int, language: str) -> None:
    """Sets the operator's menu in `language` unless it is already set so (one call at most)."""
    menus: dict[int, str] = bot_data.setdefault(MENUS_KEY, {})
    if menus.get(operator_id) == language:
        return
    try:
        await bot.set_my_commands(menu(language), scope=BotCommandScopeChat(operator_id))
    except TelegramError as exc:  # e.g. an operator who never opened the bot: chat not found
        log.info("operator %s: command menu not set (%s)", operator_id, exc)
        return
    menus[operator_id] = language


async def set_operator_menus(app: Application) -> None:  # type: ignore[type-arg]
    """At start-up: each operator's menu in their language (the default for one who never
    wrote; set again in their language when they do)."""
    deps: Services = app.bot_data[KEY]
    for operator_id in sorted(deps.operator_ids):
        found = await deps.work.worker(operator_id)
        language = found.language if found is not None else deps.default_language
        await refresh_menu(app.bot_data, app.bot, operator_id, language)
