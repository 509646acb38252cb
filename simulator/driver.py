"""The users' side: what tests, the demo and the crowd use to make simulated people write to
the bot, press its buttons, block it, and to wait for what the bot shows them.

:class:`SimulatedUsers` is the part of :class:`simulator.SimulatorServer` that a test
drives; the server adds the HTTP Bot API the bot calls.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable

from .html import utf16_len
from .protocol import JSONDict
from .state import ChatEvent, SimChat, SimMessage, SimUser, World
from .updates import Updates

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


class SimulatedUsers:
    def __init__(self, world: World, updates: Updates) -> None:
        self.world = world
        self.updates = updates
        self.users: dict[int, SimUser] = world.users
        #: The bot's answers to presses, by callback query id (see ``wait_callback_answer``).
        self.callback_answers: dict[str, JSONDict] = world.callback_answers
        #: Seconds from a press to the bot's next message or edit in that chat.
        self.press_latencies: deque[float] = world.press_latencies
        self.toast_latencies: deque[float] = world.toast_latencies
        #: Every update ever made (bounded), confirmed or not, for tests to inspect.
        self.all_updates: deque[JSONDict] = updates.all_updates

    @property
    def callback_timeout(self) -> float:
        """Seconds a press may wait for answerCallbackQuery before "query is too old"."""
        return self.world.callback_timeout

    @callback_timeout.setter
    def callback_timeout(self, seconds: float) -> None:
        self.world.callback_timeout = seconds

    def pending_updates(self) -> int:
        """Updates the bot has not confirmed yet."""
        return self.updates.pending()

    # ------------------------------------------------------------------ people

    def add_user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None = "fr",
        username: str | None = None,
    ) -> SimUser:
        """Create a user (who has not yet started the bot: sends fail with chat not found)."""
        user = SimUser(user_id, first_name, language_code, username)
        self.world.add_user(user)
        return user

    def add_started_users(self, first_id: int, count: int, language_code: str = "en") -> None:
        """Many users who already wrote to the bot (so it may message them): for benchmarks."""
        for user_id in range(first_id, first_id + count):
            self.add_user(user_id, f"User{user_id}", language_code).started = True

    def chat(self, user_id: int) -> SimChat:
        return self.world.chat(user_id)

    # ------------------------------------------------------------------ what they do

    def send_text(self, user_id: int, text: str, *, reply_to: int | None = None) -> int:
        """The user writes ``text`` to the bot (as a reply to message ``reply_to`` if given:
        Telegram then includes that message, as it stands, in ``reply_to_message``); returns
        the update_id."""
        chat = self.world.chat(user_id)
        user = chat.user
        user.started = True
        replied = None
        if reply_to is not None:
            replied = chat.messages.get(reply_to)
            if replied is None:
                raise ValueError(f"no message {reply_to} in chat {user_id}")
        msg = self.world.new_message(chat, from_bot=False, text=text, html=text)
        payload: JSONDict = {
            "message_id": msg.message_id,
            "from": user.to_json(),
            "chat": user.chat_json(),
            "date": msg.date,
            "text": text,
        }
        if replied is not None:
            payload["reply_to_message"] = self.world.message_json(replied)
        match = _COMMAND_RE.match(text)
        if match:
            entity = {"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}
            msg.entities = [entity]
            payload["entities"] = [entity]
        return self.updates.push("message", payload)

    def send_sticker(self, user_id: int, emoji: str = "👍") -> int:
        """The user sends a sticker (no text); returns the update_id."""
        chat = self.world.chat(user_id)
        user = chat.user
        user.started = True
        msg = self.world.new_message(chat, from_bot=False, text="", html="")
        sticker: JSONDict = {
            "file_id": f"CAACAgIAAxk-sticker-{msg.message_id}",
            "file_unique_id": f"AgADsticker{msg.message_id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        payload: JSONDict = {
            "message_id": msg.message_id,
            "from": user.to_json(),
            "chat": user.chat_json(),
            "date": msg.date,
            "sticker": sticker,
        }
        return self.updates.push("message", payload)

    def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> int:
        """The user sends a file (a document, with an optional caption); returns the update_id.
        The bot finds it with getFile and downloads it from the file route."""
        chat = self.world.chat(user_id)
        user = chat.user
        user.started = True
        stored = self.world.files.add(
            data, file_name=file_name, mime_type=mime_type, folder="documents"
        )
        document = stored.document_json()
        msg = self.world.new_message(
            chat,
            from_bot=False,
            text=caption or "",
            html=caption or "",
            media=("document", document, stored.file_id),
        )
        payload: JSONDict = {
            "message_id": msg.message_id,
            "from": user.to_json(),
            "chat": user.chat_json(),
            "date": msg.date,
            "document": document,
        }
        if caption:
            payload["caption"] = caption
        return self.updates.push("message", payload)

    def press(
        self, user_id: int, message_id: int, callback_data: str, *, check: bool = True
    ) -> str:
        """The user taps an inline button; returns the callback_query id.

        With ``check=False`` any data can be sent (a forged callback), even on a message
        without that button.
        """
        chat = self.world.chat(user_id)
        msg = chat.messages.get(message_id)
        if msg is None:
            raise ValueError(f"no message {message_id} in chat {user_id}")
        if check and (not msg.from_bot or msg.button(callback_data) is None):
            raise ValueError(
                f"message {message_id} has no button with callback_data {callback_data!r}"
            )
        query_id = self.world.open_query(user_id)
        payload: JSONDict = {
            "id": query_id,
            "from": chat.user.to_json(),
            "message": self.world.message_json(msg),
            "chat_instance": str(-(abs(hash((self.world.bot_id, user_id))) % 10**18)),
            "data": callback_data,
        }
        self.updates.push("callback_query", payload)
        return query_id

    def block(self, user_id: int, *, notify: bool = True) -> None:
        """The user blocks the bot: sends/edits fail with 403, no more events reach them.

        With ``notify`` the bot receives a ``my_chat_member`` update, as with Telegram.
        """
        user = self.world.chat(user_id).user
        if user.blocked:
            return
        user.blocked = True
        if notify and user.started:
            self._member_update(user, "member", "kicked")

    def unblock(self, user_id: int, *, notify: bool = True) -> None:
        user = self.world.chat(user_id).user
        if not user.blocked:
            return
        user.blocked = False
        if notify and user.started:
            self._member_update(user, "kicked", "member")

    def _member_update(self, user: SimUser, old: str, new: str) -> None:
        def member(status: str) -> JSONDict:
            out: JSONDict = {"status": status, "user": self.world.bot_user}
            if status == "kicked":
                out["until_date"] = 0
            return out

        payload = {
            "chat": user.chat_json(),
            "from": user.to_json(),
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        self.updates.push("my_chat_member", payload)

    # ------------------------------------------------------------------ what they see

    def subscribe(self, user_id: int) -> asyncio.Queue[ChatEvent]:
        """A queue receiving every future event of that chat (while not blocked)."""
        queue: asyncio.Queue[ChatEvent] = asyncio.Queue()
        self.chat(user_id).subscribers.append(queue)
        return queue

    def unsubscribe(self, user_id: int, queue: asyncio.Queue[ChatEvent]) -> None:
        subs = self.chat(user_id).subscribers
        if queue in subs:
            subs.remove(queue)

    async def wait_for(
        self,
        user_id: int,
        predicate: Callable[[ChatEvent], bool] | None = None,
        timeout: float = 5.0,
        *,
        since: int | None = None,
    ) -> ChatEvent:
        """Wait for an event of that chat matching ``predicate`` (any event if None).

        Like ``expect``: events are consumed in order. Without ``since``, the search starts at
        the chat's cursor (the event after the last one a ``wait_for`` returned), so events
        that arrived before the call are found, and none is returned twice. ``since`` (an
        absolute index such as ``chat.event_count``) overrides the cursor.
        """
        chat = self.chat(user_id)
        start = chat.wait_cursor if since is None else since
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for index, event in chat.events_since(start):
                if predicate is None or predicate(event):
                    chat.wait_cursor = index + 1
                    return event
            start = chat.event_count
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no matching event in chat {user_id} within {timeout}s")
            changed = chat.changed
            try:
                async with asyncio.timeout(remaining):
                    await changed.wait()
            except TimeoutError:
                continue

    async def wait_for_text(
        self,
        user_id: int,
        contains: str,
        timeout: float = 5.0,
    ) -> SimMessage:
        """Wait for a message or edit whose plain text contains ``contains``."""
        event = await self.wait_for(
            user_id,
            lambda e: (
                e.kind in ("message", "edit")
                and e.message is not None
                and contains in e.message.text
            ),
            timeout,
        )
        assert event.message is not None
        return event.message

    async def wait_callback_answer(
        self,
        callback_query_id: str,
        timeout: float = 5.0,
    ) -> JSONDict:
        """The record of the bot's answer to that press (waits for it): ``params`` (text,
        show_alert), ``answered_at``, ``user_id``."""
        record = self.callback_answers.get(callback_query_id)
        if record is not None:
            return record
        fut: asyncio.Future[JSONDict] = asyncio.get_running_loop().create_future()
        waiters = self.world.answer_waiters
        waiters.setdefault(callback_query_id, []).append(fut)
        try:
            async with asyncio.timeout(timeout):
                return await fut
        finally:
            pending = waiters.get(callback_query_id)
            if pending and fut in pending:
                pending.remove(fut)
                if not pending:
                    del waiters[callback_query_id]
