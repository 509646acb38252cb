"""The floor for the answer path: the least a python-telegram-bot bot does per answer.

PTB's own Updater and `concurrent_updates(True)`, no storage, no rules: /start sends a task;
each press on an option is answered (the spinner stops) and the message is edited into the next
task, the two calls made together. `bench_e2e` measures it against the same simulator and crowd
as the real bot, in the same run, for the ratio.

Its transport is the bot's (bot/transport/request.py, aiohttp, as many connections): with PTB's
stock httpx transport a bare bot is itself CPU-bound here (about 87 answers/s and 11 CPU-s per
1,000 without delay on this 2-core machine), which would make a floor the bot beats by far and a
ratio that says nothing.
"""

from __future__ import annotations

import asyncio
import itertools

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.transport.request import AiohttpRequest
from bot.wiring import API_CONNECTIONS

LABELS = ("Alpha", "Beta", "Gamma")
_numbers = itertools.count(1)


def _task() -> tuple[str, InlineKeyboardMarkup]:
    number = next(_numbers)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"a:{number}:{i}")
                for i, label in enumerate(LABELS)
            ]
        ]
    )
    return f"Task {number}: the answer is {LABELS[number % 3]}", keyboard


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    text, keyboard = _task()
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=keyboard)


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    text, keyboard = _task()
    await asyncio.gather(
        query.answer("Recorded"), query.edit_message_text(text, reply_markup=keyboard)
    )


def build_bare_bot(token: str, api_url: str) -> Application:  # type: ignore[type-arg]
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .request(AiohttpRequest(connection_pool_size=API_CONNECTIONS))
        .get_updates_request(AiohttpRequest(connection_pool_size=1, read_timeout=40))
        .concurrent_updates(True)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(answer))
    app.add_error_handler(_ignore)
    return app


async def _ignore(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press answered too late (the query expired) is the floor's loss, not an error."""


async def start_bare_bot(app: Application) -> None:  # type: ignore[type-arg]
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling()
    await app.start()


async def stop_bare_bot(app: Application) -> None:  # type: ignore[type-arg]
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
