"""The Application: the same one for `run`, the demo and the end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import BotCommand
from telegram.ext import Application, ApplicationBuilder

from bot import jobs
from bot.settings import Settings
from bot.transport.inbox import Inbox
from bot.transport.processor import PerUserUpdateProcessor
from bot.transport.receive import Receiver
from bot.transport.webserver import ConnectionLimits
from bot.wiring import build_bot, build_services
from db import Database
from db.core import current_update
from handlers import routes
from handlers.deps import KEY, Services
from handlers.operator import help as operator_help
from handlers.texts import t
from tasks.clock import Clock

log = logging.getLogger(__name__)

COMMANDS = ("task", "pause", "balance", "score", "language", "help", "start")
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
INBOX_KEY = "inbox"
RECEIVER_KEY = "inbox.receiver"


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rate_limits: bool = True,
    concurrency: int = 64,
) -> Application:  # type: ignore[type-arg]
    """Builds the bot; the database opens in post_init, on the Application's own loop.
    No Updater: updates come through the durable inbox (bot/transport/receive.py, inbox.py)."""
    telegram_bot = build_bot(settings, rate_limits=rate_limits)
    processor = PerUserUpdateProcessor(concurrency)
    app = (
        ApplicationBuilder()
        .bot(telegram_bot)
        .updater(None)
        .concurrent_updates(processor)
        .post_init(_on_startup)
        .post_shutdown(_on_shutdown)
        .build()
    )
    db = Database(settings.database_path)
    app.bot_data[KEY] = build_services(settings, db, telegram_bot, clock)
    processor.inbox = app.bot_data[INBOX_KEY] = Inbox(db)
    routes.register(app)  # the table of contents: which update goes to which handler
    app.add_error_handler(_log_error)
    return app


async def _log_error(update: object, context: Any) -> None:
    log.error("error while handling %r", update, exc_info=context.error)
    handling = current_update.get()
    if handling is not None and isinstance(context.error, Exception):
        handling.error = context.error  # the inbox tries the update again, or sets it aside


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
    await operator_help.set_operator_menus(app)
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


async def _start(app: Application, receive: Callable[[Receiver], Awaitable[None]]) -> Receiver:  # type: ignore[type-arg]
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    receiver = app.bot_data[RECEIVER_KEY] = Receiver(app, app.bot_data[INBOX_KEY], ALLOWED_UPDATES)
    await receive(receiver)
    return receiver


async def start_polling(app: Application) -> Receiver:  # type: ignore[type-arg]
    """Starts the bot on long polling (the updates the last run left open first) and returns;
    `stop_polling` stops it. For `run`, the demo and the end-to-end tests."""
    return await _start(app, Receiver.start_polling)


async def start_webhook(
    app: Application,  # type: ignore[type-arg]
    *,
    listen: str,
    port: int,
    url_path: str,
    webhook_url: str,
    secret: str,
    limits: ConnectionLimits | None = None,
) -> Receiver:
    """Starts the bot on a webhook (Telegram POSTs each update to `webhook_url`) and returns;
    bot.transport.webserver.ListenError if it cannot listen on listen:port."""

    async def receive(receiver: Receiver) -> None:
        await receiver.start_webhook(
            listen=listen,
            port=port,
            url_path=url_path,
            webhook_url=webhook_url,
            secret=secret,
            limits=limits,
        )

    return await _start(app, receive)


async def stop_polling(app: Application) -> None:  # type: ignore[type-arg]
    """Stops receiving, lets the handlers finish, writes the inbox's last marks, closes."""
    receiver: Receiver | None = app.bot_data.pop(RECEIVER_KEY, None)
    if receiver is not None:
        await receiver.stop()
    if app.running:
        await app.stop()
    inbox: Inbox = app.bot_data[INBOX_KEY]
    inbox.cancel_retries()
    with contextlib.suppress(Exception):  # the database may be what failed: replayed next start
        await inbox.flush()
    await app.shutdown()
    await app.bot.shutdown()  # a start-up cut short leaves the HTTP sessions to close
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


def run_until_stopped(start: Callable[[], Awaitable[Receiver]], app: Application) -> None:  # type: ignore[type-arg]
    """`python -m bot run`: starts, runs until SIGTERM or SIGINT (or receiving fails), stops."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        try:
            receiver = await start()
            failed = asyncio.create_task(receiver.failed.wait())
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({failed, stopped}, return_when=asyncio.FIRST_COMPLETED)
            failed.cancel()
            stopped.cancel()
        finally:
            await stop_polling(app)

    asyncio.run(main())
