"""Sending and editing with Telegram's faults handled: a 403 marks the worker blocked,
"message is not modified" is not an error, a vanished message is replaced by a new one."""

from __future__ import annotations

import json
import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden

from handlers.render import Keyboard, Screen
from handlers.telegram_bot import WorkBot
from tasks.work import WorkService

log = logging.getLogger(__name__)


def markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if keyboard is None:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in keyboard
        ]
    )


def markup_json(keyboard: Keyboard | None) -> str | None:
    """The same keyboard as Telegram's JSON, without building PTB objects (the answer path)."""
    if keyboard is None:
        return None
    rows = [[{"text": label, "callback_data": data} for label, data in row] for row in keyboard]
    return json.dumps({"inline_keyboard": rows}, ensure_ascii=False)


async def send(bot: Bot, work: WorkService, chat_id: int, screen: Screen) -> Message | None:
    text, keyboard = screen
    try:
        return await bot.send_message(chat_id, text, reply_markup=markup(keyboard))
    except Forbidden:
        log.info("worker %s blocked the bot: marked inactive", chat_id)
        await work.mark_blocked(chat_id)
        return None


async def edit(bot: Bot, work: WorkService, chat_id: int, message_id: int, screen: Screen) -> None:
    text, keyboard = screen
    try:
        if isinstance(bot, WorkBot):
            await bot.edit_text_lean(chat_id, message_id, text, markup_json(keyboard))
        else:
            await bot.edit_message_text(text, chat_id, message_id, reply_markup=markup(keyboard))
    except BadRequest as exc:
        description = str(exc).lower()
        if "not modified" in description:
            return
        if "not found" in description:
            await send(bot, work, chat_id, screen)
            return
        raise
    except Forbidden:
        log.info("worker %s blocked the bot: marked inactive", chat_id)
        await work.mark_blocked(chat_id)


async def toast(bot: Bot, callback_query_id: str, text: str | None) -> None:
    """Answers the press (the spinner stops); a query already too old is not an error."""
    try:
        await bot.answer_callback_query(callback_query_id, text=text)
    except BadRequest as exc:
        log.info("callback %s not answered: %s", callback_query_id, exc)
