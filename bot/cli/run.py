"""`python -m bot run`: the bot, on long polling or a webhook, after a preflight (the database
opens, the Bot API answers) that says what is wrong in one line."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import sys
from urllib.parse import urlparse

from bot import redact
from bot.settings import EXIT_BAD_SETTINGS, Settings

EXIT_UNREACHABLE = 3
log = logging.getLogger("bot")


def run_bot(settings: Settings, webhook: str | None, port: int, listen: str) -> int:
    from bot.app import build_application, run_until_stopped, start_polling, start_webhook
    from bot.transport.webserver import ConnectionLimits, ListenError

    if not settings.bot_token:
        print(
            "error: setting BOT_TOKEN: missing (ask @BotFather for a token, then"
            " export BOT_TOKEN=... or put it in .env)",
            file=sys.stderr,
        )
        return EXIT_BAD_SETTINGS
    # A bad DATABASE_PATH or an unreachable Bot API: one line each, before PTB starts.
    code = asyncio.run(_preflight(settings))
    if code:
        return code
    app = build_application(settings)
    if webhook is None:
        run_until_stopped(lambda: start_polling(app), app)
        return 0
    parsed = urlparse(webhook)
    # Telegram calls only https webhooks; a self-hosted Bot API server (--local) may call http.
    local_api = not settings.telegram_api_url.startswith("https://api.telegram.org")
    allowed = ("https", "http") if local_api else ("https",)
    if parsed.scheme not in allowed or not parsed.netloc:
        print(f"error: --webhook: not an https URL: {webhook!r}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        print("error: setting WEBHOOK_SECRET: use 1-256 of A-Z a-z 0-9 _ -", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    limits = ConnectionLimits(max_connections=settings.webhook_max_connections)
    try:
        run_until_stopped(
            lambda: start_webhook(
                app,
                listen=listen,
                port=port,
                url_path=parsed.path.lstrip("/"),
                webhook_url=webhook,
                secret=secret,
                limits=limits,
            ),
            app,
        )
    except ListenError as exc:
        print(f"error: --listen/--port: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    return 0


CONNECT_ATTEMPTS = 5


async def _preflight(
    settings: Settings, attempts: int = CONNECT_ATTEMPTS, first_delay: float = 1.0
) -> int:
    """Opens the database and asks the Bot API who the bot is, retrying a few times with one
    line each; says which bot runs on which database. The token never appears in the output."""
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.wiring import build_bot
    from db import Database

    async with Database(settings.database_path):
        pass
    bot = build_bot(settings)
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            async with bot:
                me = bot.bot
            log.info("bot @%s on database %s", me.username, settings.database_path)
            return 0
        except InvalidToken:
            print(
                "error: setting BOT_TOKEN: the Bot API refused this token (revoked or mistyped;"
                " ask @BotFather)",
                file=sys.stderr,
            )
            return EXIT_BAD_SETTINGS
        except (NetworkError, TelegramError, OSError) as exc:
            reason = redact.redact(str(exc) or type(exc).__name__, [settings.bot_token])
            if attempt == attempts:
                print(
                    f"error: cannot reach the Bot API at {settings.telegram_api_url} after"
                    f" {attempts} attempts: {reason}",
                    file=sys.stderr,
                )
                return EXIT_UNREACHABLE
            print(
                f"cannot reach the Bot API at {settings.telegram_api_url} ({reason});"
                f" retrying in {delay:.0f} s",
                file=sys.stderr,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
    return EXIT_UNREACHABLE
