"""The Application: the same one for `run`, the demo and the end-to-end tests."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import jobs
from bot.processor import PerUserUpdateProcessor
from bot.settings import Settings
from bot.wiring import build_bot, build_services
from db import Database
from handlers import callbacks, earnings, quality, worker
from handlers.deps import KEY, Services
from handlers.texts import t
from tasks.clock import Clock

log = logging.getLogger(__name__)

COMMANDS = ("task", "pause", "balance", "score", "language", "help", "start")
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# A pause between two getUpdates calls: when workers press fast, one call brings several presses
# instead of one (fewer Bot API calls per answer); 20 ms is far below what a person can notice.
POLL_INTERVAL = 0.02


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rate_limits: bool = True,
    concurrency: int = 64,
) -> Application:  # type: ignore[type-arg]
    """Builds the bot; the database opens in post_init, on the Application's own loop."""
    telegram_bot = build_bot(settings, rate_limits=rate_limits)
    app = (
        ApplicationBuilder()
        .bot(telegram_bot)
        .concurrent_updates(PerUserUpdateProcessor(concurrency))
        .post_init(_on_startup)
        .post_shutdown(_on_shutdown)
        .build()
    )
    app.bot_data[KEY] = build_services(settings, Database(settings.database_path), clock)
    register(app)
    return app


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The table of contents: which update goes to which handler."""
    app.add_handler(TypeHandler(Update, _claim_messages), group=-1)
    # Feature modules first: their commands and button patterns before the catch-alls below.
    quality.register(app)
    earnings.register(app)
    app.add_handler(CommandHandler("start", worker.start))
    app.add_handler(CommandHandler("task", worker.next_task))
    app.add_handler(CommandHandler("pause", worker.pause))
    app.add_handler(CommandHandler("help", worker.show_help))
    app.add_handler(CommandHandler("language", worker.choose_language))
    app.add_handler(CallbackQueryHandler(worker.answer_task, pattern=callbacks.ANSWER))
    app.add_handler(CallbackQueryHandler(worker.skip_task, pattern=callbacks.SKIP))
    app.add_handler(CallbackQueryHandler(worker.consent, pattern=callbacks.CONSENT))
    app.add_handler(CallbackQueryHandler(worker.start_new_work, pattern=callbacks.NEW_WORK))
    app.add_handler(CallbackQueryHandler(worker.set_language, pattern=callbacks.LANGUAGE))
    app.add_handler(CallbackQueryHandler(worker.refuse_button))  # anything else
    app.add_handler(ChatMemberHandler(worker.membership_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE, worker.other_message))
    app.add_error_handler(_log_error)


async def _claim_messages(update: Update, context: Any) -> None:
    # Commands and messages claim their update id here, so a redelivered command is dropped.
    # Button presses claim nothing: the assignment's state makes a press safe to repeat (a
    # press on an assignment already closed stores and pays nothing).
    if update.message is not None:
        await worker.drop_replayed_update(update, context)


async def _log_error(update: object, context: Any) -> None:
    log.error("error while handling %r", update, exc_info=context.error)


async def _on_startup(app: Application) -> None:  # type: ignore[type-arg]
    services: Services = app.bot_data[KEY]
    await services.work.db.open()
    expired = await services.work.expire_leases()
    if expired:
        log.info("start-up: %d leases had expired while the bot was down", expired)
    reinstated = await services.quality.rejudge_marked()  # migration 009: once
    if reinstated:
        log.info("start-up: %d workers reinstated by the sequential test", reinstated)
    await register_commands(app, services.default_language)
    jobs.schedule(app)


async def _on_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    services: Services = app.bot_data[KEY]
    await services.work.db.close()


async def register_commands(app: Application, default_language: str) -> None:  # type: ignore[type-arg]
    """The command menu, in French and English (and the default for other languages)."""
    for language in ("fr", "en", None):
        lang = language or default_language
        commands = [BotCommand(c, t(lang, f"cmd_{c}")) for c in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=language)


async def start_polling(app: Application) -> None:  # type: ignore[type-arg]
    """What `run_polling` does before it blocks: for the demo and the end-to-end tests."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=POLL_INTERVAL, allowed_updates=ALLOWED_UPDATES)
    await app.start()


async def stop_polling(app: Application) -> None:  # type: ignore[type-arg]
    """What `run_polling` does on the way out."""
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    await app.bot.shutdown()  # a start-up cut short leaves the HTTP sessions to close
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
