"""What the simulated Telegram holds: users, their private chats with the bot, the messages in
them (as the user sees them now, and as an event stream), the presses waiting for an answer.

Both sides act on one :class:`World`: the Bot API methods (``api.py``) on the bot's behalf,
the test driver (``driver.py``) on the users' behalf. Messages are text or media messages
(a photo, audio, voice note or document with its caption) with an optional inline keyboard.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from .files import Files
from .protocol import ERR_QUERY_TOO_OLD, ApiError, JSONDict

EventKind = Literal["message", "edit", "delete", "callback_answer"]


@dataclass(frozen=True, slots=True)
class Button:
    """One inline keyboard button as the user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(slots=True)
class SimUser:
    user_id: int
    first_name: str
    language_code: str | None = "fr"
    username: str | None = None
    blocked: bool = False
    started: bool = False

    def to_json(self) -> JSONDict:
        out: JSONDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out

    def chat_json(self) -> JSONDict:
        out: JSONDict = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        if self.username:
            out["username"] = self.username
        return out


@dataclass(slots=True)
class SimMessage:
    """Current state of one text message of a private chat."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    text: str  # plain text after entity parsing
    html: str  # raw text as sent
    parse_mode: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    reply_markup: list[list[Button]] | None = None
    markup_json: JSONDict | None = None  # the inline keyboard as the Bot API returns it
    edited_count: int = 0
    edit_date: int | None = None
    # A media message: "document", "photo", "audio" or "voice", and its JSON (``text`` then
    # holds the caption).
    media_kind: str | None = None
    media: JSONDict | list[JSONDict] | None = None
    file_id: str | None = None

    @property
    def buttons(self) -> list[Button]:
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup for b in row]

    def button(self, callback_data: str) -> Button | None:
        for b in self.buttons:
            if b.callback_data == callback_data:
                return b
        return None

    def buttons_with_prefix(self, prefix: str) -> list[Button]:
        return [
            b
            for b in self.buttons
            if b.callback_data is not None and b.callback_data.startswith(prefix)
        ]


@dataclass(slots=True)
class ChatEvent:
    """Something the bot did in a chat. ``message`` is a snapshot taken at that moment."""

    kind: EventKind
    message: SimMessage | None
    data: JSONDict
    seq: int = 0
    time: float = 0.0


class SimChat:
    """A private chat between the bot and one simulated user."""

    def __init__(self, user: SimUser, max_events: int) -> None:
        self.user = user
        self.chat_id = user.user_id
        self.messages: dict[int, SimMessage] = {}
        self.events: list[ChatEvent] = []
        self.events_dropped = 0  # events trimmed from the front of ``events``
        self.next_message_id = 1
        self.subscribers: list[asyncio.Queue[ChatEvent]] = []
        self.wait_cursor = 0  # absolute event index used by SimulatorServer.wait_for
        self._max_events = max_events
        self.changed = asyncio.Event()  # replaced by a new one at each event

    @property
    def last_message(self) -> SimMessage | None:
        """The most recent message the bot sent here."""
        for msg in reversed(self.messages.values()):
            if msg.from_bot:
                return msg
        return None

    @property
    def bot_messages(self) -> list[SimMessage]:
        return [m for m in self.messages.values() if m.from_bot]

    @property
    def event_count(self) -> int:
        """Absolute number of events so far (a cursor for ``wait_for(since=...)``)."""
        return self.events_dropped + len(self.events)

    def emit(self, event: ChatEvent) -> None:
        event.seq = self.event_count
        self.events.append(event)
        if len(self.events) > self._max_events:
            drop = len(self.events) // 2
            del self.events[:drop]
            self.events_dropped += drop
        if not self.user.blocked:
            for q in self.subscribers:
                q.put_nowait(event)
        self.changed.set()
        self.changed = asyncio.Event()

    def events_since(self, absolute: int) -> Iterator[tuple[int, ChatEvent]]:
        start = max(absolute - self.events_dropped, 0)
        for idx in range(start, len(self.events)):
            yield self.events_dropped + idx, self.events[idx]


@dataclass(slots=True)
class _PendingQuery:
    user_id: int
    created: float


class World:
    """Users, chats, pending callback queries and the press-to-next-screen clock."""

    def __init__(
        self,
        bot_user: JSONDict,
        *,
        max_events_per_chat: int,
        max_answers_kept: int,
        callback_timeout: float,
    ) -> None:
        self.bot_user = bot_user
        self.bot_id = int(bot_user["id"])
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}
        self.files = Files()  # documents users send, files the bot uploads
        self._max_events = max_events_per_chat
        # Callback queries: open until answered or ``callback_timeout`` seconds old.
        self.callback_timeout = callback_timeout
        self._queries: dict[str, _PendingQuery] = {}
        self._query_seq = itertools.count(1)
        self.callback_answers: dict[str, JSONDict] = {}
        self._max_answers_kept = max_answers_kept
        self.answer_waiters: dict[str, list[asyncio.Future[JSONDict]]] = {}
        # Press-to-next-screen latency: from a press to the bot's next edit or message there.
        self.press_latencies: deque[float] = deque(maxlen=200_000)
        # Press-to-toast: from a press to the bot's answer to it (the spinner stops).
        self.toast_latencies: deque[float] = deque(maxlen=200_000)
        self._pressed_at: dict[int, float] = {}

    # ------------------------------------------------------------------ users and messages

    def add_user(self, user: SimUser) -> None:
        if user.user_id in self.users:
            raise ValueError(f"user {user.user_id} already exists")
        self.users[user.user_id] = user
        self.chats[user.user_id] = SimChat(user, self._max_events)

    def chat(self, user_id: int) -> SimChat:
        chat = self.chats.get(user_id)
        if chat is None:
            raise KeyError(f"unknown simulated user {user_id}")
        return chat

    def message_json(self, msg: SimMessage) -> JSONDict:
        """The Bot API Message object for the current state of ``msg``."""
        chat = self.chats[msg.chat_id]
        out: JSONDict = {
            "message_id": msg.message_id,
            "from": self.bot_user if msg.from_bot else chat.user.to_json(),
            "chat": chat.user.chat_json(),
            "date": msg.date,
        }
        if msg.edit_date is not None:
            out["edit_date"] = msg.edit_date
        if msg.media_kind is not None:
            out[msg.media_kind] = msg.media
            if msg.text:
                out["caption"] = msg.text
            if msg.entities:
                out["caption_entities"] = msg.entities
        else:
            out["text"] = msg.text
            if msg.entities:
                out["entities"] = msg.entities
        if msg.markup_json is not None:
            out["reply_markup"] = msg.markup_json
        return out

    def new_message(
        self,
        chat: SimChat,
        *,
        from_bot: bool,
        text: str,
        html: str,
        parse_mode: str | None = None,
        entities: list[JSONDict] | None = None,
        markup: tuple[list[list[Button]] | None, JSONDict | None] = (None, None),
        media: tuple[str, JSONDict | list[JSONDict], str] | None = None,
    ) -> SimMessage:
        msg = SimMessage(
            chat_id=chat.chat_id,
            message_id=chat.next_message_id,
            from_bot=from_bot,
            date=int(time.time()),
            text=text,
            html=html,
            parse_mode=parse_mode,
            entities=entities or [],
            reply_markup=markup[0],
            markup_json=markup[1],
        )
        if media is not None:
            msg.media_kind, msg.media, msg.file_id = media
        chat.next_message_id += 1
        chat.messages[msg.message_id] = msg
        if from_bot:
            self._screen_changed(chat.chat_id)
            chat.emit(ChatEvent("message", copy.copy(msg), {}, time=time.time()))
        return msg

    def edited(self, chat: SimChat, msg: SimMessage) -> None:
        """The bot changed ``msg`` (already updated in place): stamp it and tell the user."""
        self._screen_changed(chat.chat_id)
        msg.edited_count += 1
        msg.edit_date = int(time.time())
        chat.emit(ChatEvent("edit", copy.copy(msg), {}, time=time.time()))

    def deleted(self, chat: SimChat, msg: SimMessage) -> None:
        """The bot deleted ``msg``: gone from the chat (its buttons with it)."""
        chat.messages.pop(msg.message_id, None)
        chat.emit(ChatEvent("delete", copy.copy(msg), {}, time=time.time()))

    def _screen_changed(self, chat_id: int) -> None:
        pressed = self._pressed_at.pop(chat_id, None)
        if pressed is not None:
            self.press_latencies.append(time.monotonic() - pressed)

    # ------------------------------------------------------------------ callback queries

    def open_query(self, user_id: int) -> str:
        """A press: a new callback query id, open for ``callback_timeout`` seconds."""
        seq = next(self._query_seq)
        query_id = str(4_870_000_000_000_000_000 + seq)
        now = time.monotonic()
        self._pressed_at.setdefault(user_id, now)
        self._queries[query_id] = _PendingQuery(user_id, now)
        if seq % 1024 == 0 and len(self._queries) > 4096:
            limit = now - self.callback_timeout
            for key in [k for k, v in self._queries.items() if v.created < limit]:
                del self._queries[key]
        return query_id

    def answer_query(self, query_id: str, params: JSONDict) -> None:
        """The bot answered the press (the spinner stops, a toast shows ``params["text"]``)."""
        pending = self._queries.pop(query_id, None)
        waited = time.monotonic() - pending.created if pending is not None else 0.0
        if pending is None or waited > self.callback_timeout:
            raise ApiError(400, ERR_QUERY_TOO_OLD)
        self.toast_latencies.append(waited)
        record: JSONDict = {
            "params": params,
            "answered_at": time.time(),
            "user_id": pending.user_id,
        }
        answers = self.callback_answers
        answers[query_id] = record
        if len(answers) > self._max_answers_kept:
            del answers[next(iter(answers))]
        for fut in self.answer_waiters.pop(query_id, []):
            if not fut.done():
                fut.set_result(record)
        chat = self.chats.get(pending.user_id)
        if chat is not None:
            chat.emit(ChatEvent("callback_answer", None, dict(params), time=time.time()))

    def cancel_waiters(self) -> None:
        for waiters in self.answer_waiters.values():
            for fut in waiters:
                fut.cancel()
        self.answer_waiters.clear()
