"""How the presenter sends a task's media: sendPhoto / sendAudio / sendVoice with the buttons
under the caption, or editMessageMedia in place of the task message it follows.

A local file is uploaded once: its file_id is cached (tasks/media.py MediaCache, in the
database) and the first send of a file holds a per-file lock, so workers who get it at the same
moment wait for that upload instead of making their own. A file that changed since the load is
not sent at all (its bytes are hashed again before the upload): `NotSent`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telegram import Bot, InputFile, InputMediaAudio, InputMediaPhoto, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from handlers.presenter.keyboards import markup
from handlers.render import MediaScreen
from tasks.media import MediaCache, TaskMedia, read_verified
from tasks.work_results import MediaProblem

log = logging.getLogger(__name__)

# Media tasks tried in a row for one worker when their media cannot be shown (each failed one
# is released and the next one handed out); after the last, the worker is told to try /task.
MEDIA_TRIES = 3
REASON_KEPT = 200  # characters of Telegram's refusal kept as the reason (task_media.reason)
_FILE_NAMES = {"image": "image", "audio": "audio", "voice": "voice"}


def message_media(message: Message | None) -> str | None:
    """What media a message of ours holds: "image", "audio", "voice", "document" or None."""
    if message is None:
        return None
    if message.photo:
        return "image"
    if message.voice is not None:
        return "voice"
    if message.audio is not None:
        return "audio"
    if message.document is not None:
        return "document"
    return None


async def retire(bot: Bot, chat_id: int, message_id: int) -> None:
    """An old task message goes (or, when Telegram keeps it, loses its buttons)."""
    try:
        await bot.delete_message(chat_id, message_id)
        return
    except BadRequest as exc:
        if "not found" in str(exc).lower():
            return  # already gone
        log.info("message %s/%s not deleted (%s): its buttons go", chat_id, message_id, exc)
    except Forbidden:
        return
    try:
        await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as exc:
        log.info("message %s/%s keeps its buttons: %s", chat_id, message_id, exc)
    except Forbidden:
        return


class NotSent(Exception):
    """The media was not sent: nothing was (a changed file), or Telegram refused it."""

    def __init__(self, problem: MediaProblem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


def about_the_chat(exc: BadRequest) -> bool:
    """A refusal about the worker's chat, not about the task's media."""
    text = str(exc).lower()
    return "chat not found" in text or "user not found" in text


def _wrong_file(exc: BadRequest) -> bool:
    text = str(exc).lower()
    return "wrong file identifier" in text or "wrong remote file" in text or "file_id" in text


class MediaSender:
    """Sends a media screen: by file_id when Telegram has the file, else uploaded (or sent by
    URL) once, its file_id remembered. Raises Forbidden (blocked), NotSent, or BadRequest
    (Telegram refused the media, or the chat)."""

    def __init__(self, bot: Bot, files: MediaCache) -> None:
        self.bot = bot
        self.files = files

    async def send(
        self,
        chat_id: int,
        screen: MediaScreen,
        old: Message | None,
        shown: Callable[[Message | None], None],
    ) -> None:
        """`screen` out, in place of `old` when Telegram can; `shown` is told of the message
        that holds it as soon as it is out (before its file_id is stored)."""
        media = screen.media
        known = media.ref if media.source == "file_id" else media.file_id
        refused = None
        if known is not None:
            try:
                shown(await self._deliver(chat_id, screen, known, old))
                return
            except BadRequest as exc:
                if media.source == "file_id" or not _wrong_file(exc):
                    raise
                log.warning("Telegram refused the cached file_id of %s: sent again", media.ref)
                await self.files.forget(media, known)
                refused = known
        async with self.files.lock(media):
            cached = await self.files.cached(media)
            if cached is not None and cached != refused:
                try:
                    shown(await self._deliver(chat_id, screen, cached, old))
                    return
                except BadRequest as exc:
                    if not _wrong_file(exc):
                        raise
                    await self.files.forget(media, cached)
            payload: str | InputFile = media.ref
            if media.source == "file":
                # The very bytes hashed here are the ones uploaded, and their file_id is stored
                # under that hash: a file changed since the load is not sent at all.
                data = await asyncio.to_thread(read_verified, media)
                if isinstance(data, str):
                    raise NotSent(MediaProblem(held=True, reason=data))
                payload = InputFile(data, filename=_file_name(media))
            sent = await self._deliver(chat_id, screen, payload, old)
            file_id = _file_id_of(sent, media.kind) if sent is not None else None
            shown(sent)
            if file_id is not None:
                await self.files.remember(media, file_id)

    async def _deliver(
        self,
        chat_id: int,
        screen: MediaScreen,
        payload: str | InputFile,
        old: Message | None,
    ) -> Message | None:
        """One media screen out: editMessageMedia in place of `old` when Telegram can, else a
        new message (and `old` retired). Returns Telegram's message (None: nothing changed)."""
        bot = self.bot
        kind = screen.media.kind
        keyboard = markup(screen.keyboard)
        if old is not None and kind != "voice" and message_media(old) != "voice":
            if isinstance(payload, InputFile):  # an InputMedia names its upload attach://...
                payload = InputFile(payload.input_file_content, payload.filename, attach=True)
            input_media = (
                InputMediaPhoto(payload, caption=screen.caption, parse_mode=ParseMode.HTML)
                if kind == "image"
                else InputMediaAudio(payload, caption=screen.caption, parse_mode=ParseMode.HTML)
            )
            try:
                edited = await bot.edit_message_media(
                    input_media, chat_id, old.message_id, reply_markup=keyboard
                )
                return edited if isinstance(edited, Message) else None
            except BadRequest as exc:
                description = str(exc).lower()
                if "not modified" in description:
                    return None
                if "message" not in description or _wrong_file(exc):
                    raise  # about the media or the caption: a new message would fail the same
                log.info("message %s/%s not edited into media: %s", chat_id, old.message_id, exc)
                if "not found" in description:
                    old = None  # gone: a new message, nothing to retire
        options: dict[str, Any] = {
            "caption": screen.caption,
            "parse_mode": ParseMode.HTML,
            "reply_markup": keyboard,
        }
        if isinstance(payload, InputFile) and payload.attach_name:
            payload = InputFile(payload.input_file_content, payload.filename)
        if kind == "image":
            sent = await bot.send_photo(chat_id, payload, **options)
        elif kind == "audio":
            sent = await bot.send_audio(chat_id, payload, **options)
        else:
            sent = await bot.send_voice(chat_id, payload, **options)
        if old is not None:
            await retire(bot, chat_id, old.message_id)
        return sent


def _file_name(media: TaskMedia) -> str:
    suffix = Path(media.ref).suffix[:8]
    return f"{_FILE_NAMES[media.kind]}{suffix}"


def _file_id_of(message: Message, kind: str) -> str | None:
    if kind == "image" and message.photo:
        return message.photo[-1].file_id
    if kind == "audio" and message.audio is not None:
        return message.audio.file_id
    if kind == "voice" and message.voice is not None:
        return message.voice.file_id
    return None
