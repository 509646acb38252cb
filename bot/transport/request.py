"""A Bot API transport on aiohttp.

PTB's default transport (httpx) costs about 6 CPU-seconds per 1,000 answers here; an aiohttp
session costs a fraction of that (see ../shared/notes/ptb.md and `make bench`). PTB accepts any
`BaseRequest`, so this is a drop-in.

Two lanes: calls for people (answers, edits, replies) and, when `bulk_pool_size` is given, bulk
sends (statements, broadcasts: the calls for which `bulk()` is true, handlers/telegram_bot.py
`bulk_lane`) each have their own connection pool, so a broadcast never holds the connections an
answer needs. Connections are kept alive between calls (KEEPALIVE_SECONDS): at 20-80 ms per
round trip, a new TCP connection per call would double the wait.

Every URL here holds the bot token, and aiohttp writes the URL into many of its errors (a bad
status line, a bad Content-Length, a redirect loop, a connect timeout). What this transport raises
is a fresh NetworkError or TimedOut with the token replaced (bot/redact.py), raised outside the
`except` so neither `__cause__` nor `__context__` keeps aiohttp's error: no later code (a log
line, the inbox's error column, a chat message) can leak the token. An error body or a body that
is not the Bot API's JSON (a captive portal's page: PTB quotes it in its error) is redacted too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.redact import redact, redact_bytes, token_in_url

JSON_HEADERS = {"Content-Type": "application/json"}
KEEPALIVE_SECONDS = 60.0


def _never() -> bool:
    return False


def _failure(err: Exception, url: str) -> TelegramError:
    """What the transport raises for `err`: its kind and text on one line, the token replaced."""
    text = " ".join(f"aiohttp.{err.__class__.__name__}: {err}".split())
    text = redact(text, [token_in_url(url)])
    if isinstance(err, TimeoutError):
        return TimedOut(f"Timed out ({text})")
    return NetworkError(text)


class AiohttpRequest(BaseRequest):
    """An aiohttp ClientSession per lane, each with its own pool of kept-alive connections."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 8,
        bulk_pool_size: int | None = None,
        bulk: Callable[[], bool] = _never,
        read_timeout: float | None = 10.0,
        write_timeout: float | None = 10.0,
        connect_timeout: float | None = 10.0,
        media_write_timeout: float | None = 30.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._bulk_pool_size = bulk_pool_size
        self._bulk = bulk
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._bulk_session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    def _new_session(self, pool_size: int) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=pool_size, ttl_dns_cache=300, keepalive_timeout=KEEPALIVE_SECONDS
        )
        return aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = self._new_session(self._pool_size)
        if self._bulk_pool_size and (self._bulk_session is None or self._bulk_session.closed):
            self._bulk_session = self._new_session(self._bulk_pool_size)

    async def shutdown(self) -> None:
        for session in (self._session, self._bulk_session):
            if session is not None and not session.closed:
                await session.close()
        self._session = self._bulk_session = None

    async def stream_to(
        self, url: str, sink: Callable[[bytes], bool], chunk_size: int = 64 * 1024
    ) -> int:
        """Downloads `url` a chunk at a time into `sink` (which returns False to stop: a file
        over a limit is never read whole); returns the HTTP status."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self._connect_timeout, sock_read=self._read_timeout
        )
        try:
            async with self._session.get(url, timeout=timeout) as resp:
                if resp.status != 200:
                    return resp.status
                async for chunk in resp.content.iter_chunked(chunk_size):
                    if not sink(chunk):
                        break
                return resp.status
        except (aiohttp.ClientError, TimeoutError) as err:  # not the sink's errors
            failure = _failure(err, url)  # aiohttp's text holds the URL, token included
        raise failure  # outside the except: aiohttp's error is not kept as its context

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if self._bulk_session is not None and self._bulk():
            session = self._bulk_session
        if session is None or session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._read_timeout
        if isinstance(connect_timeout, DefaultValue):
            connect_timeout = self._connect_timeout
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._media_write_timeout if files else self._write_timeout
        total = None
        if read_timeout is not None:
            total = read_timeout + (write_timeout or 0) + (connect_timeout or 0)
        timeout = aiohttp.ClientTimeout(
            total=total, sock_connect=connect_timeout, sock_read=read_timeout
        )
        body: Any = None
        headers: dict[str, str] | None = None
        if files:
            form = aiohttp.FormData()
            for key, value in (request_data.json_parameters if request_data else {}).items():
                form.add_field(key, value)
            for name, part in files.items():
                if isinstance(part, tuple):
                    filename, content, *rest = part
                    content_type = rest[0] if rest else None
                    # A file handle (an export) is streamed by aiohttp, never read whole here.
                    payload = content
                    form.add_field(name, payload, filename=filename, content_type=content_type)
                else:
                    payload = part.read() if hasattr(part, "read") else part
                    form.add_field(name, payload)
            body = form
        elif request_data is not None:
            # A JSON body (the Bot API takes one) costs less to build than a urlencoded form.
            body = request_data.json_payload
            headers = JSON_HEADERS
        try:
            async with session.request(
                method, url, data=body, timeout=timeout, headers=headers
            ) as resp:
                payload = await resp.read()
                if not 200 <= resp.status <= 299 or payload[:1] != b"{":
                    # Not the Bot API's answer (a proxy's page may quote the URL): PTB puts it
                    # in its error's text.
                    payload = redact_bytes(payload, token_in_url(url))
                return resp.status, payload
        except asyncio.CancelledError:
            raise
        except Exception as err:  # aiohttp's text holds the URL, token included
            failure = _failure(err, url)
        raise failure  # outside the except: aiohttp's error is not kept as its context
