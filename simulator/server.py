"""A local Telegram Bot API server, faithful enough to run the real bot against.

It speaks the Bot API over HTTP exactly as PTB (or any client) expects it: the same routes,
the same envelope and status codes (``protocol.py``), the same error texts for the mistakes a
bot can make (``api.py``, ``content.py``, ``html.py``). Simulated users (driven by tests or by
:class:`simulator.crowd.Crowd`, see ``driver.py``) write to the bot and press buttons;
everything the bot does in a chat is kept as state and as an event stream (``state.py``).

The modules, from the wire inwards::

    server.py    HTTP: routes, dispatch, faults, lifecycle; the public SimulatorServer
    api.py       the Bot API methods the bot calls
    content.py   message text and inline keyboards, checked as Telegram does
    html.py      Telegram's HTML parse mode
    updates.py   the update queue, getUpdates long polling, webhook delivery
    limits.py    flood limits and injected faults
    state.py     users, chats, messages, events, pending presses
    driver.py    the users' side: send, press, block, wait for what the bot shows
    protocol.py  the envelope, error texts, limits, typed parameters
    files.py     documents users send, what the bot uploads, getFile and downloads
    crowd.py     simulated workers answering from what their chat shows
    profiles.py  the workers' kinds and statistics, the oracle of right answers
    __main__.py  ``python -m simulator``: the simulator and a crowd in their own process
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from typing import Self

from aiohttp import web

from .api import BotApi
from .driver import SimulatedUsers
from .limits import Fault, Limits
from .protocol import ApiError, JSONDict, Params, response
from .state import World
from .updates import Updates

__all__ = ["SimulatorServer"]


class SimulatorServer(SimulatedUsers):
    """A Telegram Bot API simulator on ``http://host:port``.

    The bot uses ``base_url=f"{sim.base_url}/bot"`` and
    ``base_file_url=f"{sim.base_url}/file/bot"``.
    """

    def __init__(
        self,
        *,
        token: str = "123456:SIMULATED",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: bool = True,
        bot_username: str = "petites_mains_bot",
        bot_first_name: str = "Petites Mains",
        strict_ampersand: bool = True,
        callback_timeout: float = 15.0,
        max_events_per_chat: int = 10_000,
        max_kept_updates: int = 100_000,
        latency: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        head = token.split(":", 1)[0]
        bot_user: JSONDict = {
            "id": int(head) if head.isdigit() else 123456,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        world = World(
            bot_user,
            max_events_per_chat=max_events_per_chat,
            max_answers_kept=max_kept_updates,
            callback_timeout=callback_timeout,
        )
        super().__init__(world, Updates(max_kept=max_kept_updates))
        self.limits = Limits(enabled=rate_limits, latency=latency)
        self.api = BotApi(world, self.updates, self.limits, strict_ampersand=strict_ampersand)
        self.commands = self.api.commands

        # Every call by method name (failed ones too), the successful ones, and a recent log.
        self.calls: Counter[str] = Counter()
        self.calls_ok: Counter[str] = Counter()
        self.call_log: deque[tuple[float, str, bool]] = deque(maxlen=10_000)

        self._methods = self.api.methods
        self._canonical = {name.lower(): name for name in self._methods}
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self.app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        #: Every file: documents users sent, what the bot uploaded (by file_id, by path).
        self.files = world.files
        self.files.token = token
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def bot_base_url(self) -> str:
        """What to give PTB as ``base_url``."""
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        """What to give PTB as ``base_file_url`` (getFile's paths are downloaded from there)."""
        return f"{self.base_url}/file/bot"

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=1024)
        await site.start()
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])
                break

    async def stop(self) -> None:
        await self.updates.stop_webhook()
        self.updates.stop_polling()
        self.world.cancel_waiters()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        method = self._canonical.get(raw_method.lower(), raw_method)
        self.calls[method] += 1
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._methods.get(method)
            if handler is None:
                raise ApiError(404, "Not Found")
            params = await Params.read(request)
            delay = self.limits.call_delay()
            if delay > 0:  # the network between the bot and Telegram (``latency``)
                await asyncio.sleep(delay)
            fault = self.limits.take_fault(method)
            if fault is not None:
                if fault.delay > 0:
                    await asyncio.sleep(fault.delay)
                if fault.status:
                    raise fault.error()
            self.limits.check_storm(method)
            result = await handler(params)
        except ApiError as err:
            self.call_log.append((time.monotonic(), method, False))
            return response(err.body(), err.status)
        self.call_log.append((time.monotonic(), method, True))
        self.calls_ok[method] += 1
        return response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """A download of a getFile path, as Telegram serves it (404 for anything else)."""
        self.calls["file download"] += 1
        stored = self.files.by_path.get(request.match_info["path"])
        local = self.files.local_dir is not None  # a --local server serves no downloads
        if request.match_info["token"] != self.token or stored is None or local:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # ------------------------------------------------------------------ faults and limits

    @property
    def latency(self) -> tuple[float, float]:
        """The delay each Bot API call waits before it runs, in seconds: (low, high), drawn
        uniformly per call; (d, d) a fixed delay; (0, 0) none."""
        return self.limits.latency

    @latency.setter
    def latency(self, value: tuple[float, float]) -> None:
        low, high = value
        if low < 0 or high < low:
            raise ValueError(f"latency: not a range of seconds: {value!r}")
        self.limits.latency = (low, high)

    @property
    def rate_limits(self) -> bool:
        """Whether Telegram's flood limits apply (429 with retry_after above them)."""
        return self.limits.enabled

    @rate_limits.setter
    def rate_limits(self, enabled: bool) -> None:
        self.limits.enabled = enabled

    def reset_rate_limits(self) -> None:
        self.limits.reset()

    def inject_fault(
        self,
        method: str | None,
        *,
        status: int,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        delay: float = 0,
    ) -> Fault:
        """Fail the next ``count`` calls of ``method`` (None: any method) with ``status``.

        ``status=0`` with ``delay>0`` only delays the call, which then succeeds (a client
        timeout shorter than the delay sees a timeout although the call took effect, as with
        the real API). Failed calls change no state.
        """
        if method is not None:
            method = self._canonical.get(method.lower(), method)
        return self.limits.inject_fault(
            method,
            status=status,
            count=count,
            retry_after=retry_after,
            description=description,
            delay=delay,
        )

    def clear_faults(self) -> None:
        """Calls succeed again: the faults injected and not yet met are forgotten."""
        self.limits.clear_faults()

    def storm_429(self, seconds: float, retry_after: int = 1) -> None:
        """Every message-sending call fails with 429 for the next ``seconds``."""
        self.limits.storm_429(seconds, retry_after)
