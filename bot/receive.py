"""Where updates come in: long polling or a webhook, each through the durable inbox (bot/inbox.py).

PTB's Updater confirms an update (the next getUpdates offset) as soon as it has fetched it, and
its webhook server answers Telegram's POST once the update is queued in memory: a kill -9 then
loses what was fetched but not handled. Here the Application is built without an Updater
(bot/app.py) and this module feeds its update queue: a batch is stored first, and only then
confirmed and handed to the handlers.

- Polling: getUpdates -> the batch stored in one transaction -> the updates queued -> the next
  getUpdates carries the offset that confirms them. A pause between calls (POLL_INTERVAL, less
  the time the call itself took) lets one call bring several presses.
- Webhook: the POST is answered 200 only once its update is stored (500 if the database fails:
  Telegram tries again); the secret token is checked in constant time (403 otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from bot.inbox import Inbox, Json
from handlers.telegram_bot import WorkBot

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 10
POLL_INTERVAL = 0.02  # at most one getUpdates per 20 ms: a call brings several presses
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
BACKOFF_MAX = 30.0


class Receiver:
    """Feeds one Application from Telegram through the inbox; started once, stopped once."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        inbox: Inbox,
        allowed_updates: list[str],
        *,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        self.app = app
        assert isinstance(app.bot, WorkBot), "the inbox needs the raw updates (WorkBot)"
        self._bot = app.bot
        self.inbox = inbox
        self.allowed_updates = allowed_updates
        self.poll_interval = poll_interval
        self.failed = asyncio.Event()  # set when receiving cannot go on (a revoked token)
        self._offset: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._secret = b""
        inbox.dispatch = self._dispatch

    def _dispatch(self, data: Json) -> None:
        try:
            update = Update.de_json(_lean(data), self.app.bot)
        except Exception:  # no handler could read it: logged whole, and never tried again
            log.exception("update %s cannot be read, dropped: %r", data.get("update_id"), data)
            self.inbox.finished(int(data["update_id"]))
            return
        self.app.update_queue.put_nowait(update)

    async def _begin(self) -> None:
        """The updates the last run left open go first, then housekeeping starts."""
        await self.inbox.replay()
        self._tasks.append(asyncio.create_task(self.inbox.housekeeping(), name="inbox"))

    # -- long polling

    async def start_polling(self) -> None:
        await self.app.bot.delete_webhook()
        await self._begin()
        self._tasks.append(asyncio.create_task(self._poll(), name="getUpdates"))

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = 0.0
        while True:
            started = loop.time()
            try:
                updates = await self._get_updates(LONG_POLL_SECONDS)
                if updates:
                    await self._take(updates)
                backoff = 0.0
            except asyncio.CancelledError:
                raise
            except InvalidToken:
                log.error("getUpdates: the bot token was refused; receiving stops")
                self.failed.set()
                return
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except Exception as exc:  # network, 5xx, 409, the database: try again shortly
                backoff = min(BACKOFF_MAX, max(0.5, backoff * 2))
                level = logging.WARNING if isinstance(exc, TelegramError) else logging.ERROR
                log.log(level, "getUpdates round failed (%s); again in %.1f s", exc, backoff)
                if isinstance(exc, Conflict):
                    log.warning("another process polls this bot, or a webhook is set")
                await asyncio.sleep(backoff)
                continue
            pause = self.poll_interval - (loop.time() - started)
            if pause > 0:
                await asyncio.sleep(pause)

    async def _get_updates(self, timeout: int) -> list[Json]:
        params: dict[str, Any] = {"timeout": timeout, "allowed_updates": self.allowed_updates}
        if self._offset is not None:
            params["offset"] = self._offset
        return await self._bot.get_updates_json(params, read_timeout=timeout + 10)

    async def _take(self, updates: list[Json]) -> None:
        """Stored first (raises if not: the offset stays, Telegram gives them again), then
        confirmed by the next call's offset, then handed to the handlers."""
        fresh = await self.inbox.store(updates)
        self._offset = int(updates[-1]["update_id"]) + 1
        for data in fresh:
            self._dispatch(data)

    # -- webhook

    async def start_webhook(
        self, *, listen: str, port: int, url_path: str, webhook_url: str, secret: str
    ) -> None:
        server = web.Application(client_max_size=1024 * 1024)
        self._secret = secret.encode()
        server.router.add_post("/" + url_path.lstrip("/"), self._on_post)
        runner = web.AppRunner(server, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        # The updates left open go to the handlers before the first POST can bring a new one
        # (Telegram may still have the webhook of the last run).
        await self._begin()
        await web.TCPSite(runner, listen, port).start()
        self._runner = runner
        await self.app.bot.set_webhook(
            webhook_url,
            secret_token=secret,
            allowed_updates=self.allowed_updates,
            max_connections=40,
        )

    async def _on_post(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret):
            return web.Response(status=403)
        if request.content_type != "application/json":
            return web.Response(status=403)
        try:
            data = await request.json()
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
        except ValueError:
            return web.Response(status=400)
        try:
            fresh = await self.inbox.store([data])
        except Exception:
            log.exception("webhook: update %s not stored; Telegram sends it again", data)
            return web.Response(status=500)
        for update in fresh:  # an update posted again is stored already: handled once
            self._dispatch(update)
        return web.Response(status=200)

    # -- stopping

    async def stop(self) -> None:
        """Stops receiving (what was stored is confirmed); the handlers finish in app.stop."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._offset is not None:
            # Confirms the last stored batch, as PTB's Updater does on its way out.
            with contextlib.suppress(TelegramError, OSError):
                params = {"offset": self._offset, "limit": 1, "timeout": 0}
                await self._bot.get_updates_json(params, read_timeout=5)


#: What a press's message carries that no handler reads (the keyboard pressed, the text's
#: formatting) and that costs the most to build as PTB objects: about 40% of building an update,
#: a few % of the bot's CPU per answer. The inbox keeps the update whole.
_UNREAD_ON_PRESSED_MESSAGE = ("reply_markup", "entities")


def _lean(data: Json) -> Json:
    """The update as handlers get it: a press's message without its keyboard and entities."""
    query = data.get("callback_query")
    if not isinstance(query, dict) or not isinstance(query.get("message"), dict):
        return data
    message = query["message"]
    lean = {k: v for k, v in message.items() if k not in _UNREAD_ON_PRESSED_MESSAGE}
    return {**data, "callback_query": {**query, "message": lean}}


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
