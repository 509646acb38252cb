"""Where updates come in: long polling or a webhook, each through the durable inbox (inbox.py).

PTB's Updater confirms an update (the next getUpdates offset) as soon as it has fetched it, and
its webhook server answers Telegram's POST once the update is queued in memory: a kill -9 then
loses what was fetched but not handled. Here the Application is built without an Updater
(bot/app.py) and this module feeds its update queue: a batch is stored first, and only then
confirmed and handed to the handlers.

- Polling: getUpdates -> the batch stored in one transaction -> the updates queued -> the next
  getUpdates carries the offset that confirms them. A pause between calls (POLL_INTERVAL, less
  the time the call itself took) lets one call bring several presses.
- Webhook: the POST is answered 200 only once its update is stored (500 if the database fails:
  Telegram tries again); the secret token is checked in constant time (403 otherwise), before
  the body is read (1 MiB and ConnectionLimits.body_timeout at most); a body that is not an
  update (not JSON, a 5,000-digit number, nested too deep, an update_id that is not a positive
  63-bit integer) is a 400. The server around it (webserver.py) times out slow request heads
  and caps the connections, so that strangers cannot hold it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from bot.transport.inbox import Inbox, Json
from bot.transport.logbudget import LogBudget
from bot.transport.webserver import ConnectionLimits, GuardedServer
from handlers.telegram_bot import WorkBot

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 10
POLL_INTERVAL = 0.02  # at most one getUpdates per 20 ms: a call brings several presses
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
BACKOFF_MAX = 30.0
#: Connections Telegram may open at once to the webhook (setWebhook's max_connections).
TELEGRAM_CONNECTIONS = 40
#: A webhook call's body: at most this big (Telegram's updates are a few KB); it must come
#: whole within ConnectionLimits.body_timeout, and is read only once the secret token matched.
MAX_BODY_BYTES = 1024 * 1024
#: An update nested deeper than this is malformed (Telegram's are about 10 levels deep).
MAX_UPDATE_DEPTH = 64
#: update_id: a positive 63-bit integer (Telegram's are; the inbox stores it as SQLite INTEGER).
MAX_UPDATE_ID = 2**63 - 1


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
        self._server: GuardedServer | None = None
        self._limits = ConnectionLimits()
        self._secret = b""
        self._store_failures = LogBudget()
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
        self,
        *,
        listen: str,
        port: int,
        url_path: str,
        webhook_url: str,
        secret: str,
        limits: ConnectionLimits | None = None,
    ) -> None:
        """Serves the webhook on listen:port (webserver.py: timeouts, a connection cap)
        and tells Telegram to call `webhook_url`; ListenError if it cannot listen there."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        self._secret = secret.encode()
        app.router.add_post("/" + url_path.lstrip("/"), self._on_post)
        server = GuardedServer(app, limits)
        self._limits = server.limits
        # The updates left open go to the handlers before the first POST can bring a new one
        # (Telegram may still have the webhook of the last run).
        await self._begin()
        await server.start(listen, port)
        self._server = server
        log.info(
            "webhook: listening on %s:%d, at most %d connections",
            listen,
            server.port,
            server.limits.max_connections,
        )
        await self.app.bot.set_webhook(
            webhook_url,
            secret_token=secret,
            allowed_updates=self.allowed_updates,
            max_connections=min(TELEGRAM_CONNECTIONS, server.limits.max_connections),
        )

    async def _on_post(self, request: web.Request) -> web.Response:
        # Headers are decoded with surrogateescape: bytes that are not UTF-8 compare as bytes.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403)
        if request.content_type != "application/json":
            return web.Response(status=403)
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return web.Response(status=413)
        body_timeout = self._limits.body_timeout
        try:
            async with asyncio.timeout(body_timeout):
                body = await request.read()
        except TimeoutError:
            if self._server is not None:
                self._server.tally.count(
                    f"request bodies not whole in {body_timeout:g} s (answered 408)"
                )
            response = web.Response(status=408)
            response.force_close()
            return response
        data = parse_update(body)
        if data is None:
            return web.Response(status=400)
        try:
            fresh = await self.inbox.store([data])
        except Exception:
            dropped = self._store_failures.take("store")
            if dropped is not None:
                more = f" ({dropped} more since the last such line)" if dropped else ""
                log.exception(
                    "webhook: update %s not stored; Telegram sends it again%s",
                    data["update_id"],
                    more,
                )
            return web.Response(status=500)
        for update in fresh:  # an update posted again is stored already: handled once
            self._dispatch(update)
        return web.Response(status=200)

    # -- stopping

    async def stop(self) -> None:
        """Stops receiving (what was stored is confirmed); the handlers finish in app.stop."""
        if self._server is not None:
            server, self._server = self._server, None
            await server.stop()
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


def parse_update(body: bytes) -> Json | None:
    """A webhook body as an update, or None if it is not one: not JSON (or a number of more
    than 4,300 digits, Python's limit), nested too deep, not an object, or an `update_id` that
    is not an integer from 1 to 2**63 - 1 (true, 1.0, "5" and 0 are not)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested past Python's own limit
        return None
    if not isinstance(data, dict) or _deeper_than(data, MAX_UPDATE_DEPTH):
        return None
    update_id = data.get("update_id")
    if type(update_id) is not int or not 1 <= update_id <= MAX_UPDATE_ID:
        return None
    return data


def _deeper_than(value: object, limit: int) -> bool:
    """True if JSON containers nest more than `limit` deep (without recursing)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
