"""A server that misbehaves: a raw asyncio TCP server between the bot and the simulator, as a
broken proxy, a captive portal or a misconfigured Bot API server would stand there.

It passes each HTTP request through to the simulator (one request per connection), or, for a
request whose path holds a fragment given to `misbehave`, answers it badly:

- ``bad_status_line``: a status line that is not HTTP (``HTTP/1.1 2OO SURE``);
- ``bad_content_length``: ``Content-Length: banana``;
- ``redirect_loop``: a 302 to the very same URL, again and again;
- ``portal_page``: a captive portal's 511 HTML page that quotes the URL asked for.

aiohttp's error for the first three holds the whole URL, and so the token; the fourth's body does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Self

KINDS = ("bad_status_line", "bad_content_length", "redirect_loop", "portal_page")
HEADERS_LIMIT = 64 * 1024


def bad_answer(kind: str, path: str) -> bytes:
    if kind == "bad_status_line":
        return b"HTTP/1.1 2OO SURE\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    if kind == "bad_content_length":
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: banana\r\n"
            b"Connection: close\r\n\r\n{}"
        )
    if kind == "redirect_loop":
        return (
            f"HTTP/1.1 302 Found\r\nLocation: {path}\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
    if kind == "portal_page":
        body = f"<html><body>Sign in to the hotel Wi-Fi to reach {path}</body></html>".encode()
        head = (
            "HTTP/1.1 511 Network Authentication Required\r\nContent-Type: text/html\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode() + body
    raise ValueError(f"not a kind of misbehaviour: {kind!r}")


class MisbehavingProxy:
    """`async with MisbehavingProxy(upstream_port) as proxy:` then point the bot at
    `proxy.base_url`; `proxy.misbehave("/getUpdates", "bad_status_line")`."""

    def __init__(self, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.upstream_port = upstream_port
        self.host = host
        self.port = 0
        self.rules: list[tuple[str, str]] = []  # (path fragment, kind)
        self.answered_badly: Counter[str] = Counter()  # per kind
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def misbehave(self, fragment: str, kind: str) -> None:
        """Every request whose path holds `fragment` is answered badly, until `behave()`."""
        if kind not in KINDS:
            raise ValueError(f"not a kind of misbehaviour: {kind!r}")
        self.rules.append((fragment, kind))

    def behave(self) -> None:
        self.rules.clear()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(
            self._on_connection, self.host, 0, limit=HEADERS_LIMIT
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._server.wait_closed()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        path = request_line.split(" ")[1]
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        body = await _read_body(reader, headers)
        for fragment, kind in self.rules:
            if fragment in path:
                self.answered_badly[kind] += 1
                writer.write(bad_answer(kind, path))
                await writer.drain()
                return
        writer.write(await self._pass_on(head, body))
        await writer.drain()

    async def _pass_on(self, head: bytes, body: bytes) -> bytes:
        """The request to the simulator (asked to close), its whole answer (said to close)."""
        up_reader, up_writer = await asyncio.open_connection(self.host, self.upstream_port)
        try:
            up_writer.write(_closing(head) + body)
            await up_writer.drain()
            answer = await up_reader.read()
        finally:
            up_writer.close()
        answer_head, _, answer_body = answer.partition(b"\r\n\r\n")
        return _closing(answer_head + b"\r\n\r\n") + answer_body


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    """The body as it came (chunks kept as chunks: passed on whole)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            raw += size_line
            size = int(size_line.split(b";")[0].strip(), 16)
            raw += await reader.readexactly(size + 2)
            if size == 0:
                return raw
    return await reader.readexactly(int(headers.get("content-length", "0")))


def _closing(head: bytes) -> bytes:
    """A header block with `Connection: close` in place of any Connection header."""
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    kept = [line for line in lines if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n"
