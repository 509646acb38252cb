"""The webhook's HTTP server: aiohttp answers the requests, behind a listener strangers cannot hold.

aiohttp's own site (TCPSite, on loop.create_server) waits for a request head as long as its
keep-alive timeout (an hour by default) and accepts every connection; and on Python 3.11, once
the process is out of file descriptors, asyncio's accept loop writes a traceback per attempt,
thousands a second (CPython gh-151615): 300 connections that send half a request head and stall
were enough to starve Telegram's calls and write 70 MB of log in 30 s. Here the listener
accepts the connections itself:

- At most `max_connections` at once. At the cap, a new connection takes the place of the
  oldest one that is *waiting* (still sending its request head, or idle between requests);
  a connection in the middle of a request (the handler runs) is never pushed out. If every
  connection is in a request, accepting pauses until one closes: the new ones wait in the
  kernel's queue instead of being refused.
- A connection must bring a whole request head within `header_timeout`: counted from the
  connection's start, or, on a kept-alive connection, from the first byte of its next request.
  A kept-alive connection may stay idle `idle_timeout`. Past either, it is closed.
- The request body is the handler's to bound in size and time: receive.py reads it only
  once the secret token matched, within `body_timeout`.
- Out of file descriptors (EMFILE and kin), the oldest waiting connections are closed to free
  some and accepting tries again at once (after `accept_retry` if none was waiting).
- Nothing here logs once per event: connections closed and accept failures are counted, and
  one line per `report_interval` sums them up (logbudget.py); aiohttp's server logger gets
  a budget too (it writes a traceback per malformed request).
- The cap is lowered to fit the process's open-file limit (`ulimit -n`), with a line saying so.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import sys
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from bot.transport.logbudget import REPORT_INTERVAL, EventTally, limit_logger

log = logging.getLogger(__name__)

#: accept() errors that mean "out of a resource" (descriptors, buffers, memory): pause and retry.
RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
#: Descriptors kept for everything else the bot opens (the database and its journal files,
#: connections to the Bot API, logs) when the open-file limit lowers the connection cap.
FD_RESERVE = 128
#: Connections accepted per wake-up of the listening socket, before other work gets a turn.
ACCEPT_BATCH = 64
#: Out of descriptors, this many waiting connections are closed to free some, and accepting
#: tries again after FREED_RETRY (after ConnectionLimits.accept_retry if none was waiting).
FREED_ON_RESOURCE_ERROR = 4
FREED_RETRY = 0.01
#: After the handler answered without reading the whole body (a 403 to a stranger), aiohttp
#: reads and drops the rest for at most this long before it closes the connection.
LINGERING_TIME = 2.0


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may hold, and how many connections there may be."""

    max_connections: int = 100
    header_timeout: float = 10.0
    body_timeout: float = 10.0  # the handler's to apply (receive.py), once it reads a body
    idle_timeout: float = 75.0
    backlog: int = 128
    accept_retry: float = 0.5
    report_interval: float = REPORT_INTERVAL
    fd_reserve: int = FD_RESERVE


class ListenError(Exception):
    """The server cannot listen where it was told (address in use, unknown host): one line."""


@dataclass
class Stats:
    """Since the start: for the log's figures, the benchmark and the tests."""

    accepted: int = 0
    peak: int = 0  # the most connections open at once
    pushed_out: int = 0  # closed at the cap to make room for a new one
    timed_out: int = 0  # closed for no whole request head in time, or idle too long
    accept_errors: int = 0
    cap_pauses: int = 0  # times accepting paused because every connection was in a request


class _Connection(asyncio.Protocol):
    """One accepted connection: aiohttp's protocol inside, the deadline and state outside."""

    __slots__ = ("_server", "busy", "closing", "deadline", "head_started", "inner", "transport")

    def __init__(self, server: GuardedServer) -> None:
        self._server = server
        self.inner: asyncio.Protocol | None = None
        self.transport: asyncio.Transport | None = None
        self.busy = False  # a request is being handled
        self.head_started = True  # the first request's clock starts at connecting
        self.closing = False
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self.closing:  # pushed out or stopped before the transport existed
            transport.abort()
            return
        self.inner = self._server.protocol_factory()
        self.inner.connection_made(transport)
        self._server._made(self)

    def data_received(self, data: bytes) -> None:
        if not self.busy and not self.head_started:  # a kept-alive connection's next request
            self.head_started = True
            self._server._head_started(self)
        if self.inner is not None:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._server._release(self)
        if self.inner is not None:
            self.inner.connection_lost(exc)

    def close(self) -> None:
        """Closed at once (abort: a stalled peer reads nothing anyway)."""
        self.closing = True
        if self.transport is not None:
            self.transport.abort()


class GuardedServer:
    """Serves one aiohttp Application on host:port with `ConnectionLimits`; started once,
    stopped once."""

    def __init__(self, app: web.Application, limits: ConnectionLimits | None = None) -> None:
        self.limits = limits or ConnectionLimits()
        self.stats = Stats()
        self.tally = EventTally(log, "webhook server", self.limits.report_interval)
        app.middlewares.append(self._track_requests)
        self._runner = web.AppRunner(
            app,
            access_log=None,
            shutdown_timeout=5.0,
            keepalive_timeout=self.limits.idle_timeout,
            lingering_time=LINGERING_TIME,
        )
        self._sockets: list[socket.socket] = []
        self._open: set[_Connection] = set()
        self._by_transport: dict[asyncio.BaseTransport, _Connection] = {}
        self._waiting: OrderedDict[_Connection, None] = OrderedDict()  # oldest first
        self._starting: set[asyncio.Task[None]] = set()
        self._accepting = False
        self._paused_at_cap = False
        self._retry: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: web.Server | None = None
        #: accept() on a listening socket; a test puts a failing one here.
        self.accept: Callable[[socket.socket], tuple[socket.socket, Any]] = socket.socket.accept

    @property
    def port(self) -> int:
        """The port listened on (the one chosen by the system when asked for port 0)."""
        return int(self._sockets[0].getsockname()[1])

    @property
    def open_connections(self) -> int:
        return len(self._open)

    @property
    def waiting_connections(self) -> int:
        """Open connections not in a request (sending a head, or idle): the ones pushed out."""
        return len(self._waiting)

    def protocol_factory(self) -> asyncio.Protocol:
        assert self._server is not None
        return self._server()

    async def start(self, host: str, port: int) -> None:
        """Listens on host:port (ListenError if it cannot) and starts accepting."""
        self._loop = asyncio.get_running_loop()
        limit_logger("aiohttp.server", self.limits.report_interval)
        self.limits = _fit_open_file_limit(self.limits)
        await self._runner.setup()
        self._server = self._runner.server
        try:
            self._sockets = await _listen(host, port, self.limits.backlog)
        except ListenError:
            await self._runner.cleanup()
            raise
        self._accepting = True
        self._resume()

    async def stop(self) -> None:
        """Stops accepting, lets requests in progress finish (5 s at most), closes the rest."""
        self._accepting = False
        self._pause()
        if self._retry is not None:
            self._retry.cancel()
        for sock in self._sockets:
            sock.close()
        for task in list(self._starting):
            task.cancel()
        for conn in list(self._waiting):
            conn.close()
        await self._runner.cleanup()
        for conn in list(self._open):
            conn.close()
        self.tally.close()

    # -- accepting

    def _resume(self) -> None:
        assert self._loop is not None
        self._paused_at_cap = False
        for sock in self._sockets:
            self._loop.add_reader(sock.fileno(), self._on_readable, sock)

    def _pause(self) -> None:
        if self._loop is None:
            return
        for sock in self._sockets:
            if sock.fileno() >= 0:
                self._loop.remove_reader(sock.fileno())

    def _on_readable(self, sock: socket.socket) -> None:
        for _ in range(ACCEPT_BATCH):
            full = len(self._open) >= self.limits.max_connections
            if full and not self._waiting:
                self.stats.cap_pauses += 1
                self._pause()  # every connection is in a request: the new ones wait
                self._paused_at_cap = True
                return
            try:
                conn_sock, _peer = self.accept(sock)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                self._accept_failed(exc)
                return
            if full:
                self._push_out_oldest()
            self._admit(conn_sock)

    def _accept_failed(self, exc: OSError) -> None:
        assert self._loop is not None
        self.stats.accept_errors += 1
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        freed = 0
        if exc.errno in RESOURCE_ERRNOS:  # stalled connections give their descriptors back
            while freed < FREED_ON_RESOURCE_ERROR and self._push_out_oldest():
                freed += 1
        self.tally.count(f"accept() failures ({reason})")
        self._pause()
        if self._retry is None:
            # Freed descriptors are closed before the next turn of the loop: try again then.
            delay = FREED_RETRY if freed else self.limits.accept_retry
            self._retry = self._loop.call_later(delay, self._retry_accepting)

    def _retry_accepting(self) -> None:
        self._retry = None
        if self._accepting and not self._paused_at_cap:
            self._resume()

    def _admit(self, conn_sock: socket.socket) -> None:
        assert self._loop is not None
        conn_sock.setblocking(False)
        conn = _Connection(self)
        self._open.add(conn)
        self.stats.accepted += 1
        self.stats.peak = max(self.stats.peak, len(self._open))
        conn.deadline = self._loop.call_later(self.limits.header_timeout, self._expire, conn)
        task = self._loop.create_task(self._connect(conn, conn_sock))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _connect(self, conn: _Connection, conn_sock: socket.socket) -> None:
        assert self._loop is not None
        try:
            await self._loop.connect_accepted_socket(lambda: conn, conn_sock)
        except BaseException as exc:
            conn_sock.close()
            self._release(conn)
            if not isinstance(exc, OSError):
                raise
            self.tally.count(f"connections lost as they began ({exc.strerror or exc})")

    # -- each connection's state

    def _made(self, conn: _Connection) -> None:
        assert conn.transport is not None
        self._by_transport[conn.transport] = conn
        self._waiting[conn] = None
        if self._paused_at_cap and self._accepting:  # one that can make room, now
            self._resume()

    def _head_started(self, conn: _Connection) -> None:
        self._set_deadline(conn, self.limits.header_timeout)

    def _set_deadline(self, conn: _Connection, seconds: float) -> None:
        assert self._loop is not None
        if conn.deadline is not None:
            conn.deadline.cancel()
        conn.deadline = self._loop.call_later(seconds, self._expire, conn)

    def _expire(self, conn: _Connection) -> None:
        conn.deadline = None
        if conn.busy or conn.closing or conn not in self._open:
            return
        self.stats.timed_out += 1
        limits = self.limits
        if conn.head_started:
            what = f"connections closed for no whole request head in {limits.header_timeout:g} s"
        else:
            what = f"connections closed after {limits.idle_timeout:g} s idle"
        self.tally.count(what)
        self._drop(conn)

    def _push_out_oldest(self) -> bool:
        """Closes the oldest waiting connection to make room; False if none is waiting."""
        for conn in self._waiting:
            self.stats.pushed_out += 1
            self.tally.count(
                f"connections closed to make room at the cap of {self.limits.max_connections}"
                " (the oldest waiting for a request first)"
            )
            self._drop(conn)
            return True
        return False

    def _drop(self, conn: _Connection) -> None:
        self._release(conn)
        conn.close()

    def _release(self, conn: _Connection) -> None:
        if conn not in self._open:
            return
        self._open.discard(conn)
        self._waiting.pop(conn, None)
        if conn.transport is not None:
            self._by_transport.pop(conn.transport, None)
        if conn.deadline is not None:
            conn.deadline.cancel()
            conn.deadline = None
        if self._paused_at_cap and self._accepting:
            self._resume()

    @web.middleware
    async def _track_requests(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """A connection in a request is neither timed out nor pushed out; after it, it waits
        (idle) for the next request, the oldest of the waiting ones."""
        conn = self._by_transport.get(request.transport)  # type: ignore[arg-type]
        if conn is None:
            return await handler(request)
        conn.busy = True
        self._waiting.pop(conn, None)
        if conn.deadline is not None:
            conn.deadline.cancel()
            conn.deadline = None
        try:
            return await handler(request)
        finally:
            conn.busy = False
            if conn in self._open:
                conn.head_started = False
                self._waiting[conn] = None
                self._set_deadline(conn, self.limits.idle_timeout)
                if self._paused_at_cap and self._accepting:
                    self._resume()


async def _listen(host: str, port: int, backlog: int) -> list[socket.socket]:
    """Listening sockets for every address `host` names (as asyncio's create_server makes)."""
    where = f"{host}:{port}"
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise ListenError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _name, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            if os.name == "posix" and sys.platform != "cygwin":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
            sock.setblocking(False)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise ListenError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    if not sockets:
        raise ListenError(f"cannot listen on {where}: no address")
    return sockets


def _fit_open_file_limit(limits: ConnectionLimits) -> ConnectionLimits:
    """The cap, lowered if the process may not open that many files besides its own."""
    try:
        import resource
    except ImportError:  # not on this platform: the cap stays as set
        return limits
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    reserve = limits.fd_reserve
    if soft == resource.RLIM_INFINITY or limits.max_connections + reserve <= soft:
        return limits
    fitted = max(1, soft - reserve)
    log.warning(
        "webhook: the open-file limit (ulimit -n) is %d: at most %d connections at once"
        " instead of %d (raise the limit to %d for all of them)",
        soft,
        fitted,
        limits.max_connections,
        limits.max_connections + reserve,
    )
    return replace(limits, max_connections=fitted)
