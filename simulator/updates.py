"""How updates reach the bot: one queue, read by getUpdates (long polling) or pushed to a
webhook, never both at once, as with Telegram.

An update stays in the queue until the bot confirms it: with getUpdates by asking for a later
``offset``; with a webhook by answering its POST with a 2xx status (failed deliveries are
retried with a backoff, up to ``max_connections`` at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, ClientTimeout

from .protocol import (
    ERR_POLL_CONFLICT,
    ERR_WEBHOOK_CONFLICT,
    ApiError,
    JSONDict,
    Params,
    bad_request,
)

DEFAULT_ALLOWED = frozenset({"message", "edited_message", "callback_query", "my_chat_member"})
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_WEBHOOK_URL_RE = re.compile(r"(?i)https?://[^/\s]+")


class _Poller:
    __slots__ = ("event", "terminated")

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.terminated = False


@dataclass(slots=True)
class _Webhook:
    url: str
    secret_token: str | None
    queue: asyncio.Queue[JSONDict]
    session: ClientSession
    tasks: list[asyncio.Task[None]]


class Updates:
    """The bot's update queue, getUpdates, setWebhook and deleteWebhook."""

    def __init__(self, *, max_kept: int) -> None:
        self.queue: deque[JSONDict] = deque()
        self.all_updates: deque[JSONDict] = deque(maxlen=max_kept)  # for tests to inspect
        self._next_id = 1
        self._allowed: frozenset[str] = DEFAULT_ALLOWED
        self._poller: _Poller | None = None
        self._webhook: _Webhook | None = None
        self._delivered: set[int] = set()  # by the webhook, out of order

    def push(self, kind: str, payload: JSONDict) -> int:
        """A new update of ``kind`` (message, callback_query...); returns its update_id."""
        update_id = self._next_id
        self._next_id += 1
        update = {"update_id": update_id, kind: payload}
        self.all_updates.append(update)
        if kind not in self._allowed:
            return update_id
        self.queue.append(update)
        if self._webhook is not None:
            self._webhook.queue.put_nowait(update)
        elif self._poller is not None:
            self._poller.event.set()
        return update_id

    def pending(self) -> int:
        """Updates not yet confirmed by the bot."""
        return len(self.queue) - len(self._delivered)

    def _set_allowed(self, allowed: Any) -> None:
        if isinstance(allowed, list):
            self._allowed = frozenset(str(a) for a in allowed) if allowed else DEFAULT_ALLOWED

    def _terminate_poller(self) -> None:
        if self._poller is not None:
            self._poller.terminated = True
            self._poller.event.set()
            self._poller = None

    # ------------------------------------------------------------------ long polling

    async def get_updates(self, p: Params) -> list[JSONDict]:
        if self._webhook is not None:
            raise ApiError(409, ERR_WEBHOOK_CONFLICT)
        offset = p.get_int("offset")
        limit = min(max(p.get_int("limit") or 100, 1), 100)
        timeout = max(p.get_float("timeout") or 0.0, 0.0)
        self._set_allowed(p.get_json("allowed_updates"))
        self._terminate_poller()  # a newer request ends the waiting one
        if offset:
            self._confirm(offset)
        if not self.queue and timeout > 0:
            poller = self._poller = _Poller()
            try:
                async with asyncio.timeout(timeout):
                    await poller.event.wait()
            except TimeoutError:
                pass
            finally:
                if self._poller is poller:
                    self._poller = None
            if poller.terminated:
                raise ApiError(409, ERR_POLL_CONFLICT)
        if len(self.queue) <= limit:
            return list(self.queue)
        return list(itertools.islice(self.queue, limit))

    def _confirm(self, offset: int) -> None:
        updates = self.queue
        if offset < 0:  # the last -offset updates are kept, older ones forgotten
            while len(updates) > -offset:
                updates.popleft()
            return
        while updates and updates[0]["update_id"] < offset:
            updates.popleft()

    # ------------------------------------------------------------------ webhook

    async def set_webhook(self, p: Params) -> bool:
        url = (p.get_str("url") or "").strip()
        if not url:
            return await self.delete_webhook(p)
        if not _WEBHOOK_URL_RE.match(url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get_str("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        connections = min(max(p.get_int("max_connections") or 40, 1), 100)
        self._set_allowed(p.get_json("allowed_updates"))
        self._terminate_poller()
        await self.stop_webhook()
        if p.get_bool("drop_pending_updates"):
            self.queue.clear()
        queue: asyncio.Queue[JSONDict] = asyncio.Queue()
        for update in self.queue:
            queue.put_nowait(update)
        hook = _Webhook(url, secret, queue, ClientSession(timeout=ClientTimeout(total=30)), [])
        hook.tasks = [asyncio.create_task(self._deliver_loop(hook)) for _ in range(connections)]
        self._webhook = hook
        return True

    async def delete_webhook(self, p: Params) -> bool:
        await self.stop_webhook()
        if p.get_bool("drop_pending_updates"):
            self.queue.clear()
        return True

    async def stop_webhook(self) -> None:
        hook, self._webhook = self._webhook, None
        if hook is None:
            return
        for task in hook.tasks:
            task.cancel()
        for task in hook.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._delivered:
            done = self._delivered
            self.queue = deque(u for u in self.queue if u["update_id"] not in done)
            self._delivered = set()
        await hook.session.close()

    def stop_polling(self) -> None:
        if self._poller is not None:
            self._poller.event.set()
            self._poller = None

    async def _deliver_loop(self, hook: _Webhook) -> None:
        while True:
            update = await hook.queue.get()
            attempt = 0
            while not await self._deliver(hook, update):
                attempt += 1
                await asyncio.sleep(min(5.0, 0.1 * 2**attempt))
            self._delivered.add(update["update_id"])
            updates = self.queue
            while updates and updates[0]["update_id"] in self._delivered:
                self._delivered.discard(updates.popleft()["update_id"])

    @staticmethod
    async def _deliver(hook: _Webhook, update: JSONDict) -> bool:
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            body = json.dumps(update, ensure_ascii=False).encode()
            async with hook.session.post(hook.url, data=body, headers=headers) as resp:
                await resp.read()
                return 200 <= resp.status < 300
        except asyncio.CancelledError:
            raise
        except Exception:  # refused, reset, timed out: Telegram tries again later
            return False
