"""The bot object: PTB's ExtBot with a lean edit for the answer path (called by the presenter,
handlers/presenter/, the one module that shows anything in a chat), streamed file downloads and
the raw getUpdates of the durable inbox."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, runtime_checkable

from telegram import File
from telegram.constants import ParseMode
from telegram.error import NetworkError
from telegram.ext import ExtBot

LOCAL_CHUNK = 64 * 1024

#: True while a bulk send (a statement, a broadcast) is made: the transport sends it over its own
#: connections, never those that answers to people need (bot/transport/request.py).
BULK_LANE: ContextVar[bool] = ContextVar("bulk_lane", default=False)


@contextmanager
def bulk_lane(bulk: bool = True) -> Iterator[None]:
    """The Bot API calls made inside go by the bulk lane (when `bulk`)."""
    token = BULK_LANE.set(bulk)
    try:
        yield
    finally:
        BULK_LANE.reset(token)


@runtime_checkable
class StreamingRequest(Protocol):
    async def stream_to(self, url: str, sink: Callable[[bytes], bool]) -> int: ...


class LocalFileUnreadable(NetworkError):
    """A self-hosted Bot API server in --local mode named a file on its own disk that this
    machine cannot read (the server runs elsewhere, or in a container without a shared volume).
    The text never holds the path: it holds the token."""

    def __init__(self) -> None:
        super().__init__(
            "the Bot API server (--local mode) named a file that cannot be read on this machine"
        )


async def _read_local(path: str, sink: Callable[[bytes], bool]) -> None:
    """A file on this machine's disk, a chunk at a time into `sink` (False: stop), the reads
    off the event loop. Anything but a regular file (a pipe would block) is refused."""

    def opened() -> Any:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise OSError("not a regular file")
        return open(path, "rb")  # closed below

    unreadable = False
    try:
        handle = await asyncio.to_thread(opened)
    except (OSError, ValueError):  # the error's text holds the path, and so the token
        unreadable = True
    if unreadable:
        raise LocalFileUnreadable  # outside the except: the OSError is not its context
    try:
        while True:
            try:
                chunk = await asyncio.to_thread(handle.read, LOCAL_CHUNK)
            except OSError:
                unreadable = True
                break
            if not chunk or not sink(chunk):
                break
    finally:
        handle.close()
    if unreadable:
        raise LocalFileUnreadable


class WorkBot(ExtBot[Any]):
    def __repr__(self) -> str:
        # PTB's Bot shows its token in its repr: a log line with a bot in it would show it too.
        return f"WorkBot[id={self.token.partition(':')[0]}]"

    async def download_file(self, file_id: str, sink: Callable[[bytes], bool]) -> None:
        """getFile, then the download a chunk at a time into `sink` (False: stop); raises
        TelegramError as getFile does (e.g. "file is too big" above Telegram's 20 MB).

        A self-hosted Bot API server in --local mode answers getFile with an absolute path on
        its disk (which holds the token): the file is read from there, or LocalFileUnreadable
        when this machine cannot. The path is never put in a text: an error, a log line."""
        result = await self._post("getFile", {"file_id": file_id})
        path = result.get("file_path") if isinstance(result, dict) else None
        if not isinstance(path, str) or not path:
            raise NetworkError("getFile gave no file_path")
        if path.startswith("/"):
            await _read_local(path, sink)
            return
        url = f"{self.base_file_url}/{path}"
        request = self._request[1]
        if isinstance(request, StreamingRequest):
            status = await request.stream_to(url, sink)
            if status != 200:
                raise NetworkError(f"file download answered HTTP {status}")
            return
        found = File.de_json({**result, "file_path": url}, self)  # another transport: in memory
        sink(bytes(await found.download_as_bytearray()))

    async def shutdown(self) -> None:
        """Closes the HTTP sessions even when start-up was interrupted before the bot counted
        as initialized (Ctrl-C during getMe): ExtBot.shutdown alone would skip them."""
        await super().shutdown()
        for request in self._request:
            await request.shutdown()

    async def edit_text_lean(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        reply_markup: str | None,
    ) -> None:
        """editMessageText that does not build a Message from Telegram's reply (nothing reads
        it): about 6% of the bot's CPU per answer. `reply_markup` is already JSON. Errors raise as
        with edit_message_text. Only the presenter calls it (tests/unit/test_layering.py)."""
        data: dict[str, Any] = {
            "chat_id": chat_id,
            "message_id": message_id,
            "text": text,
            "parse_mode": ParseMode.HTML,
        }
        if reply_markup is not None:
            data["reply_markup"] = reply_markup
        await self._post("editMessageText", data)

    async def get_updates_json(
        self, params: dict[str, Any], *, read_timeout: float
    ) -> list[dict[str, Any]]:
        """getUpdates, the updates as Telegram sent them (JSON): the inbox stores them as they
        are (bot/transport/receive.py) before anything else is built from them."""
        result = await self._post("getUpdates", params, read_timeout=read_timeout)
        return list(result) if isinstance(result, list) else []
