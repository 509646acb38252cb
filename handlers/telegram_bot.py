"""The bot object: PTB's ExtBot with a lean edit for the answer path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, runtime_checkable

from telegram.constants import ParseMode
from telegram.error import NetworkError
from telegram.ext import ExtBot

#: True while a bulk send (a statement, a broadcast) is made: the transport sends it over its own
#: connections, never those that answers to people need (bot/request.py).
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


class WorkBot(ExtBot[Any]):
    async def download_file(self, file_id: str, sink: Callable[[bytes], bool]) -> None:
        """getFile, then the download a chunk at a time into `sink` (False: stop); raises
        TelegramError as getFile does (e.g. "file is too big" above Telegram's 20 MB)."""
        found = await self.get_file(file_id)
        if not found.file_path:
            raise NetworkError("getFile gave no file_path")
        request = self._request[1]
        if isinstance(request, StreamingRequest):
            status = await request.stream_to(found.file_path, sink)
            if status != 200:
                raise NetworkError(f"file download answered HTTP {status}")
            return
        sink(bytes(await found.download_as_bytearray()))  # another transport: in memory

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
        with edit_message_text."""
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
        are (bot/receive.py) before anything else is built from them."""
        result = await self._post("getUpdates", params, read_timeout=read_timeout)
        return list(result) if isinstance(result, list) else []
