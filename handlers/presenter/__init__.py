"""The presenter: what the bot shows in a chat, and where. Every Bot API call that puts
something in a chat or changes it (a message, an edit, a deletion, a toast, a photo, a document)
is made here, and nowhere else (tests/unit/test_layering.py checks it). Screens are built by
handlers/render.py; handlers say which screen goes where; the presenter knows how.

Built once by bot/wiring.py with the Bot and what it tells the domain (`ChatReports`: a worker
blocked the bot, a task's media could not be shown, or could again); handlers reach it as
`services(context).presenter`.

Telegram's faults are handled here: a 403 marks the worker blocked and is not an error,
"message is not modified" is not an error, a message gone is replaced by a new one.

Moving the worker's one live task message from screen to screen costs (besides the press's
answerCallbackQuery), as the Bot API allows it:

- text -> text: editMessageText (the lean edit, handlers/telegram_bot.py `edit_text_lean`).
- text -> image/audio, image/audio -> image/audio: editMessageMedia (media, caption and
  keyboard in one call; the Bot API documents it as adding media to a text message too).
- to or from a voice note: a voice note is not an InputMedia, so it cannot be edited in nor
  out: the next screen is sent (sendVoice / sendMessage...) and the old message deleted.
- image/audio -> text: Telegram cannot take the media off a message: send, then delete.

An old message that cannot be deleted (over 48 hours) loses its buttons instead: only one
message ever holds a live task. How media is sent, uploaded once and cached: media.py.

A media that cannot be shown is never a dead end: a local file that changed since the load is
not sent at all (the task held), a refusal by Telegram is counted (MEDIA_FAILURES in a row take
the task out of service), and either way the worker's lease on it ends and their next task is
shown instead, up to MEDIA_TRIES tasks in a row; after that they are told to send /task to go on
(no lease is left on a task they could not see: nothing to answer blind).

What the presenter remembers of each chat is kept in memory, in this process (chat_state.py):
which message shows each worker's task (a late or double tap on an older one must not bring the
task twice), and when each worker last saw a pack's whole instructions. A later issue moves what
several bot processes would share to the database. The media cache (file_ids) is already there,
read and written through the domain (tasks/media.py MediaCache).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, Protocol

from telegram import CallbackQuery, InputFile, MaybeInaccessibleMessage, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from handlers.presenter.chat_state import InstructionsOnce, ShownTasks
from handlers.presenter.keyboards import markup, markup_json
from handlers.presenter.media import (
    MEDIA_TRIES,
    REASON_KEPT,
    MediaSender,
    NotSent,
    about_the_chat,
    message_media,
    retire,
)
from handlers.render import AnyScreen, Keyboard, MediaScreen, Screen, visible_length
from handlers.telegram_bot import WorkBot, bulk_lane
from tasks.clock import Clock
from tasks.media import MediaCache
from tasks.telegram_limits import CAPTION_UNITS
from tasks.work_results import MediaProblem, Next

__all__ = ["MEDIA_TRIES", "ChatReports", "Presenter"]

log = logging.getLogger(__name__)


class ChatReports(Protocol):
    """What the presenter tells the domain of what happened in a chat (tasks/work.py
    WorkService does each, as one unit of work)."""

    def mark_blocked(self, worker_id: int) -> Awaitable[None]: ...

    def media_failed(
        self,
        *,
        worker_id: int,
        assignment_id: int,
        problem: MediaProblem,
        hand_out: bool = True,
    ) -> Awaitable[Next | None]: ...

    def media_shown(self, assignment_id: int) -> Awaitable[None]: ...


class Presenter:
    """Everything the bot shows, each method named for what the person sees."""

    def __init__(
        self, bot: ExtBot[Any], reports: ChatReports, media_files: MediaCache, clock: Clock
    ) -> None:
        self.bot = bot
        self._reports = reports
        self._lean = bot if isinstance(bot, WorkBot) else None  # the answer path's edit
        self._shown = ShownTasks()
        self._instructions = InstructionsOnce(clock)
        self._media = MediaSender(bot, media_files)

    # -- the worker's task message ---------------------------------------------------------------

    async def show_task(
        self, chat_id: int, screen: AnyScreen, replacing: Message | None = None
    ) -> None:
        """Shows `screen` (a task, or why there is none) as the worker's task message: in
        place of `replacing` (the message pressed, whose buttons must not stay live) or, with
        none, as a new message."""
        buttons = _buttons(screen)
        shown = self._shown.get(chat_id)
        if replacing is not None and buttons and shown is not None:
            if shown[1] == buttons and shown[0] != replacing.message_id:
                return  # a late or double tap on an older message: the task is already shown
        if isinstance(screen, MediaScreen):
            await self._show_media(chat_id, screen, replacing)
            return
        if replacing is None:
            sent = await self.say(chat_id, screen)
            self._note(chat_id, sent.message_id if sent else None, buttons)
        elif message_media(replacing) is None:
            await self._edit(chat_id, replacing.message_id, screen)
            self._note(chat_id, replacing.message_id, buttons)
        else:  # Telegram cannot take the media off a message: a new one, the old one goes
            sent = await self.say(chat_id, screen)
            self._note(chat_id, sent.message_id if sent else None, buttons)
            await retire(self.bot, chat_id, replacing.message_id)

    async def show_in_place(
        self, chat_id: int, screen: Screen, message: MaybeInaccessibleMessage
    ) -> None:
        """A text screen that is not a task (feedback, "expired", "language set") in place of
        `message`: a media message keeps its media and takes the text as its caption when it
        fits; otherwise a new message comes and the old one goes."""
        self._shown.forget(chat_id, message.message_id)
        if not isinstance(message, Message) or message_media(message) is None:
            await self._edit(chat_id, message.message_id, screen)
            return
        text, keyboard = screen
        if visible_length(text) <= CAPTION_UNITS:
            try:
                await self.bot.edit_message_caption(
                    chat_id,
                    message.message_id,
                    caption=text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup(keyboard),
                )
                return
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return
                log.info("caption of %s/%s not edited: %s", chat_id, message.message_id, exc)
            except Forbidden:
                await self._blocked(chat_id)
                return
        await self.say(chat_id, screen)
        await retire(self.bot, chat_id, message.message_id)

    async def redraw_keyboard(self, message: MaybeInaccessibleMessage, keyboard: Keyboard) -> None:
        """Only the buttons change (a multi_choice option's check mark): editMessageReplyMarkup."""
        try:
            await self.bot.edit_message_reply_markup(
                message.chat.id, message.message_id, reply_markup=markup(keyboard)
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                chat_id, message_id = message.chat.id, message.message_id
                log.info("keyboard of %s/%s not redrawn: %s", chat_id, message_id, exc)
        except Forbidden:
            await self._blocked(message.chat.id)

    async def drop_keyboard(self, message: MaybeInaccessibleMessage | None) -> None:
        """A question answered (the rules accepted, a dispute sent, an operator's choice made):
        its buttons go, its text stays readable."""
        if message is None:
            return
        try:
            await self.bot.edit_message_reply_markup(
                message.chat.id, message.message_id, reply_markup=None
            )
        except TelegramError as exc:  # the text stays readable either way
            log.info("keyboard not removed: %s", exc)

    async def toast(self, query: CallbackQuery, text: str | None = None) -> None:
        """Answers the press (the spinner stops; `text`, if any, shows briefly on top); a query
        already too old is not an error."""
        try:
            await self.bot.answer_callback_query(query.id, text=text)
        except BadRequest as exc:
            log.info("callback %s not answered: %s", query.id, exc)

    # -- messages --------------------------------------------------------------------------------

    async def say(self, chat_id: int, screen: Screen | str) -> Message | None:
        """A new message (a text, or a screen with its buttons); None if the person blocked
        the bot (then marked blocked)."""
        text, keyboard = (screen, None) if isinstance(screen, str) else screen
        try:
            return await self.bot.send_message(chat_id, text, reply_markup=markup(keyboard))
        except Forbidden:
            await self._blocked(chat_id)
            return None

    async def post(self, chat_id: int, screen: Screen, *, bulk: bool = False) -> None:
        """A message the bot says on its own, from the outbox (handlers/outbox.py): `bulk` ones
        (statements, broadcasts) in the rate limiter's bulk lane and over their own connections.
        Telegram's refusal raises, for the outbox to record; a 403 marks the person blocked
        first."""
        text, keyboard = screen
        extra: dict[str, Any] = {}
        if bulk and self.bot.rate_limiter is not None:
            extra["rate_limit_args"] = {"bulk": True}
        try:
            with bulk_lane(bulk):  # its own connections: never those answers need
                await self.bot.send_message(
                    chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard), **extra
                )
        except Forbidden:
            await self._reports.mark_blocked(chat_id)
            raise

    async def show_photo(self, chat_id: int, photo: bytes, caption: str) -> None:
        """A picture with its caption (an operator's /stats chart); Telegram's refusal raises."""
        await self.bot.send_photo(chat_id, photo, caption=caption)

    async def show_file(self, chat_id: int, document: InputFile, caption: str) -> None:
        """A file with its caption (an operator's /export); Telegram's refusal raises."""
        await self.bot.send_document(chat_id, document, caption=caption)

    # -- inside ----------------------------------------------------------------------------------

    async def _edit(self, chat_id: int, message_id: int, screen: Screen) -> None:
        """The message now shows `screen`; one that is gone is replaced by a new one."""
        text, keyboard = screen
        try:
            if self._lean is not None:
                await self._lean.edit_text_lean(chat_id, message_id, text, markup_json(keyboard))
            else:
                await self.bot.edit_message_text(
                    text, chat_id, message_id, reply_markup=markup(keyboard)
                )
        except BadRequest as exc:
            description = str(exc).lower()
            if "not modified" in description:
                return
            if "not found" in description:
                await self.say(chat_id, screen)
                return
            raise
        except Forbidden:
            await self._blocked(chat_id)

    async def _blocked(self, chat_id: int) -> None:
        log.info("worker %s blocked the bot: marked inactive", chat_id)
        await self._reports.mark_blocked(chat_id)

    def _note(self, chat_id: int, message_id: int | None, buttons: tuple[str, ...]) -> None:
        """Which message shows the worker's task now (only a task's screen has answer or Skip
        buttons; a text task has only Skip)."""
        if message_id is not None and any(data.startswith(("a:", "s:")) for data in buttons):
            self._shown.set(chat_id, message_id, buttons)

    async def _show_media(self, chat_id: int, screen: MediaScreen, old: Message | None) -> None:
        buttons = _buttons(screen)

        def shown(sent: Message | None) -> None:
            self._note(chat_id, sent.message_id if sent else None, buttons)

        for attempt in range(1, MEDIA_TRIES + 1):
            if screen.instructions is not None and self._instructions.due(chat_id, screen.pack_pk):
                # The whole instructions in their own message, above the task: the task then
                # comes as a new message below them.
                if await self.say(chat_id, screen.instructions) is None:
                    return
                if old is not None:
                    await retire(self.bot, chat_id, old.message_id)
                old = None
            try:
                await self._media.send(chat_id, screen, old, shown)
            except Forbidden:
                await self._blocked(chat_id)
                return
            except NotSent as not_sent:
                problem = not_sent.problem
            except BadRequest as exc:
                if about_the_chat(exc):
                    raise
                problem = MediaProblem(held=False, reason=str(exc)[:REASON_KEPT])
            else:
                if screen.media.failures:
                    await self._reports.media_shown(screen.assignment_id)
                return
            log.info(
                "media of assignment %s not shown to %s: %s",
                screen.assignment_id,
                chat_id,
                problem.reason,
            )
            following = await self._reports.media_failed(
                worker_id=chat_id,
                assignment_id=screen.assignment_id,
                problem=problem,
                hand_out=attempt < MEDIA_TRIES,
            )
            if following is None or screen.following is None:
                await self.show_task(chat_id, screen.fallback(), old)
                return
            instead = screen.following(following)
            if not isinstance(instead, MediaScreen):
                await self.show_task(chat_id, instead, old)
                return
            screen = instead
            buttons = _buttons(screen)


def _buttons(screen: AnyScreen) -> tuple[str, ...]:
    keyboard = screen.keyboard if isinstance(screen, MediaScreen) else screen[1]
    return tuple(data for row in keyboard or () for _, data in row)
