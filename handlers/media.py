"""Showing a task with media: sendPhoto / sendAudio / sendVoice with the buttons under the
caption, and moving the worker's one live task message from screen to screen.

What each move costs (besides the press's answerCallbackQuery), as the Bot API allows it:

- text -> text: editMessageText (handlers/delivery.py).
- text -> image/audio, image/audio -> image/audio: editMessageMedia (media, caption and
  keyboard in one call; the Bot API documents it as adding media to a text message too).
- to or from a voice note: a voice note is not an InputMedia, so it cannot be edited in nor
  out: the next screen is sent (sendVoice / sendMessage...) and the old message deleted.
- image/audio -> text: Telegram cannot take the media off a message: send, then delete.

An old message that cannot be deleted (over 48 hours) loses its buttons instead: only one
message ever holds a live task. A local file is uploaded once: its file_id is cached
(tasks/media.py MediaCache) and the first send of a file holds a per-file lock, so workers who
get it at the same moment wait for that upload instead of making their own.

A media that cannot be shown is never a dead end: a local file that changed since the load is
not sent at all (it is hashed again before the upload, and the task held), a refusal by
Telegram is counted (MEDIA_FAILURES in a row take the task out of service), and either way the
worker's lease on it ends and their next task is shown instead, up to MEDIA_TRIES tasks in a
row; after that they are told to send /task to go on (no lease is left on a task they could
not see: nothing to answer blind).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Bot, InputFile, InputMediaAudio, InputMediaPhoto, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from handlers import render
from handlers.delivery import edit, markup, send
from handlers.render import Keyboard, Screen, esc
from handlers.texts import t
from tasks.media import TaskMedia, read_verified
from tasks.telegram_limits import CAPTION_UNITS
from tasks.work import WorkService
from tasks.work_results import MediaProblem, NoTask, TaskCard

log = logging.getLogger(__name__)

# Media tasks tried in a row for one worker when their media cannot be shown (each failed one
# is released and the next one handed out); after the last, the worker is told to try /task.
MEDIA_TRIES = 3
REASON_KEPT = 200  # characters of Telegram's refusal kept as the reason (task_media.reason)
_FILE_NAMES = {"image": "image", "audio": "audio", "voice": "voice"}


@dataclass(frozen=True)
class MediaScreen:
    """A task shown as a media message: the media, the caption (HTML) and the buttons."""

    media: TaskMedia
    caption: str
    keyboard: Keyboard | None
    pack_pk: int
    instructions: str | None  # the whole instructions, when the caption cannot hold them
    fallback: Callable[[], Screen]  # shown if the media cannot be sent: text and Skip only
    assignment_id: int = 0
    # The screen of what the worker gets instead when this media cannot be shown (same
    # language, notice and zone).
    following: Callable[[TaskCard | NoTask], AnyScreen] | None = None


AnyScreen = Screen | MediaScreen


def screen_for(
    following: TaskCard | NoTask, language: str, notice: str | None, zone: Any = None
) -> AnyScreen:
    """What a worker is shown next: a task (with its media, if any) or why there is none."""
    if isinstance(following, TaskCard):
        if following.media is not None:
            return media_task_screen(following, language, notice, zone)
        return render.task_screen(following, language, notice, zone)
    return render.no_task_screen(following, language, notice, zone)


def media_task_screen(
    card: TaskCard, language: str, notice: str | None, zone: Any = None
) -> MediaScreen:
    assert card.media is not None
    caption, keyboard = render.task_screen(card, language, notice, zone, limit=CAPTION_UNITS)
    pack = card.pack
    instructions = None
    if len(pack.instructions) > render.INSTRUCTIONS_SHOWN:
        instructions = t(
            language,
            "media_instructions",
            title=esc(pack.title),
            instructions=esc(pack.instructions),
        )

    def fallback() -> Screen:  # built only when needed: the answer path renders once
        text, _ = render.task_screen(card, language, notice, zone)
        skip_only = keyboard[-1:] if keyboard else None
        return f"{text}\n\n{t(language, 'media_unavailable')}", skip_only

    def following(instead: TaskCard | NoTask) -> AnyScreen:
        return screen_for(instead, language, notice, zone)

    return MediaScreen(
        card.media,
        caption,
        keyboard,
        pack.pk,
        instructions,
        fallback,
        card.assignment_id,
        following,
    )


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


async def show(
    bot: Bot, work: WorkService, chat_id: int, screen: AnyScreen, old: Message | None
) -> None:
    """Shows `screen` as the worker's task message: in place of `old` (the message pressed,
    whose buttons must not stay live) or, with no `old`, as a new message."""
    buttons = _buttons(screen)
    shown = work.shown.get(chat_id)
    if old is not None and buttons and shown is not None:
        if shown[1] == buttons and shown[0] != old.message_id:
            return  # a late or double tap on an older message: the task is already shown
    if isinstance(screen, MediaScreen):
        await _show_media(bot, work, chat_id, screen, old)
        return
    if old is None:
        sent = await send(bot, work, chat_id, screen)
        _note(work, chat_id, sent.message_id if sent else None, buttons)
    elif message_media(old) is None:
        await edit(bot, work, chat_id, old.message_id, screen)
        _note(work, chat_id, old.message_id, buttons)
    else:  # Telegram cannot take the media off a message: a new one, the old one goes
        sent = await send(bot, work, chat_id, screen)
        _note(work, chat_id, sent.message_id if sent else None, buttons)
        await retire(bot, chat_id, old.message_id)


def _buttons(screen: AnyScreen) -> tuple[str, ...]:
    keyboard = screen.keyboard if isinstance(screen, MediaScreen) else screen[1]
    return tuple(data for row in keyboard or () for _, data in row)


def _note(
    work: WorkService, chat_id: int, message_id: int | None, buttons: tuple[str, ...]
) -> None:
    """Which message shows the worker's task now (only a task's screen has answer or Skip
    buttons; a text task has only Skip)."""
    if message_id is not None and any(data.startswith(("a:", "s:")) for data in buttons):
        work.shown.set(chat_id, message_id, buttons)


async def show_in_place(
    bot: Bot, work: WorkService, chat_id: int, screen: Screen, old: Message
) -> None:
    """A text screen that is not a task (feedback, "expired") in place of `old`: a media
    message keeps its media and takes the text as its caption when it fits."""
    work.shown.forget(chat_id, old.message_id)
    if message_media(old) is None:
        await edit(bot, work, chat_id, old.message_id, screen)
        return
    text, keyboard = screen
    if render.visible_length(text) <= CAPTION_UNITS:
        try:
            await bot.edit_message_caption(
                chat_id,
                old.message_id,
                caption=text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(keyboard),
            )
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.info("caption of %s/%s not edited: %s", chat_id, old.message_id, exc)
        except Forbidden:
            await work.mark_blocked(chat_id)
            return
    await send(bot, work, chat_id, screen)
    await retire(bot, chat_id, old.message_id)


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


class _NotSent(Exception):
    """The media was not sent: nothing was (a changed file), or Telegram refused it."""

    def __init__(self, problem: MediaProblem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


async def _show_media(
    bot: Bot, work: WorkService, chat_id: int, screen: MediaScreen, old: Message | None
) -> None:
    for attempt in range(1, MEDIA_TRIES + 1):
        if screen.instructions is not None and work.instructions.due(chat_id, screen.pack_pk):
            # The whole instructions in their own message, above the task: the task then
            # comes as a new message below them.
            if await send(bot, work, chat_id, (screen.instructions, None)) is None:
                return
            if old is not None:
                await retire(bot, chat_id, old.message_id)
            old = None
        try:
            await _deliver_cached(bot, work, chat_id, screen, old)
        except Forbidden:
            log.info("worker %s blocked the bot: marked inactive", chat_id)
            await work.mark_blocked(chat_id)
            return
        except _NotSent as not_sent:
            problem = not_sent.problem
        except BadRequest as exc:
            if _about_the_chat(exc):
                raise
            problem = MediaProblem(held=False, reason=str(exc)[:REASON_KEPT])
        else:
            if screen.media.failures:
                await work.media_shown(screen.assignment_id)
            return
        log.info(
            "media of assignment %s not shown to %s: %s",
            screen.assignment_id,
            chat_id,
            problem.reason,
        )
        following = await work.media_failed(
            worker_id=chat_id,
            assignment_id=screen.assignment_id,
            problem=problem,
            hand_out=attempt < MEDIA_TRIES,
        )
        if following is None or screen.following is None:
            await show(bot, work, chat_id, screen.fallback(), old)
            return
        instead = screen.following(following)
        if not isinstance(instead, MediaScreen):
            await show(bot, work, chat_id, instead, old)
            return
        screen = instead


def _about_the_chat(exc: BadRequest) -> bool:
    """A refusal about the worker's chat, not about the task's media."""
    text = str(exc).lower()
    return "chat not found" in text or "user not found" in text


def _wrong_file(exc: BadRequest) -> bool:
    text = str(exc).lower()
    return "wrong file identifier" in text or "wrong remote file" in text or "file_id" in text


async def _deliver_cached(
    bot: Bot, work: WorkService, chat_id: int, screen: MediaScreen, old: Message | None
) -> None:
    """By file_id when Telegram has the file; else uploaded (or sent by URL) once."""
    media = screen.media
    known = media.ref if media.source == "file_id" else media.file_id
    refused = None
    if known is not None:
        try:
            sent = await _deliver(bot, work, chat_id, screen, known, old)
            _note(work, chat_id, sent.message_id if sent else None, _buttons(screen))
            return
        except BadRequest as exc:
            if media.source == "file_id" or not _wrong_file(exc):
                raise
            log.warning("Telegram refused the cached file_id of %s: sent again", media.ref)
            await work.media.forget(media, known)
            refused = known
    async with work.media.lock(media):
        cached = await work.media.cached(media)
        if cached is not None and cached != refused:
            try:
                sent = await _deliver(bot, work, chat_id, screen, cached, old)
                _note(work, chat_id, sent.message_id if sent else None, _buttons(screen))
                return
            except BadRequest as exc:
                if not _wrong_file(exc):
                    raise
                await work.media.forget(media, cached)
        payload: str | InputFile = media.ref
        if media.source == "file":
            # The very bytes hashed here are the ones uploaded, and their file_id is stored
            # under that hash: a file changed since the load is not sent at all.
            data = await asyncio.to_thread(read_verified, media)
            if isinstance(data, str):
                raise _NotSent(MediaProblem(held=True, reason=data))
            payload = InputFile(data, filename=_file_name(media))
        sent = await _deliver(bot, work, chat_id, screen, payload, old)
        file_id = _file_id_of(sent, media.kind) if sent is not None else None
        _note(work, chat_id, sent.message_id if sent else None, _buttons(screen))
        if file_id is not None:
            await work.media.remember(media, file_id)


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


async def _deliver(
    bot: Bot,
    work: WorkService,
    chat_id: int,
    screen: MediaScreen,
    payload: str | InputFile,
    old: Message | None,
) -> Message | None:
    """One media screen out: editMessageMedia in place of `old` when Telegram can, else a new
    message (and `old` retired). Returns Telegram's message (None: nothing changed)."""
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
