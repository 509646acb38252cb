"""A local Telegram Bot API server, faithful enough to run the real bot against.

It speaks the Bot API over HTTP exactly as PTB (or any client) expects it: the same routes,
the same ``{"ok": ..., "result" | "error_code", "description", "parameters"}`` envelope, the
same HTTP status codes and the same error texts for the mistakes a bot can make. Simulated
users (driven by tests or by :class:`bot.simulator.crowd.Crowd`) write to the bot and press
buttons; everything the bot does in a chat is kept as state and as an event stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import re
import secrets
import struct
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from aiohttp import ClientSession, ClientTimeout, web
from aiohttp.web_request import FileField

from .html import EntityParseError, finalize_text, parse_html, utf16_len

__all__ = [
    "SENDING_METHODS",
    "ApiError",
    "Button",
    "ChatEvent",
    "Fault",
    "SimChat",
    "SimMessage",
    "SimUser",
    "SimulatorServer",
    "StoredFile",
]

JSONDict = dict[str, Any]
EventKind = Literal["message", "edit", "callback_answer", "delete"]

#: Methods counted by the flood limits (and hit by ``storm_429``).
SENDING_METHODS = frozenset({"sendMessage", "sendPhoto", "sendAudio", "sendVoice", "sendDocument"})

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_BUTTONS = 100
MAX_CALLBACK_ANSWER = 200
MAX_DOWNLOAD = 20 * 1024 * 1024

ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
ERR_QUERY_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
ERR_BLOCKED = "Forbidden: bot was blocked by the user"
ERR_CHAT_NOT_FOUND = "Bad Request: chat not found"
ERR_POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
ERR_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_DEFAULT_ALLOWED = frozenset({"message", "edited_message", "callback_query", "my_chat_member"})
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_ACTION_FIELDS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiError(Exception):
    """A Bot API failure: HTTP status == error_code, Telegram's description."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        out: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def _bad(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


def _too_many(retry_after: int) -> ApiError:
    retry_after = max(1, int(retry_after))
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


# --------------------------------------------------------------------------- state objects


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
    """Current state of one message of a private chat."""

    chat_id: int
    message_id: int
    kind: str  # "text" | "photo" | "audio" | "voice" | "document"
    from_bot: bool
    date: int
    text: str  # plain text (or caption) after entity parsing
    html: str  # raw text (or caption) as sent
    parse_mode: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    reply_markup: list[list[Button]] | None = None
    markup_json: JSONDict | None = None  # the inline keyboard as the Bot API returns it
    media: JSONDict | None = None  # the photo/audio/voice/document object (photo: PhotoSize)
    edited_count: int = 0
    edit_date: int | None = None
    deleted: bool = False

    @property
    def version(self) -> tuple[int, int]:
        """(message_id, edited_count): identifies what the user saw."""
        return (self.message_id, self.edited_count)

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
        self._changed = asyncio.Event()

    @property
    def last_message(self) -> SimMessage | None:
        """The most recent message the bot sent here that still exists."""
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

    def _emit(self, event: ChatEvent) -> None:
        event.seq = self.event_count
        self.events.append(event)
        if len(self.events) > self._max_events:
            drop = len(self.events) // 2
            del self.events[:drop]
            self.events_dropped += drop
        if not self.user.blocked:
            for q in self.subscribers:
                q.put_nowait(event)
        self._changed.set()
        self._changed = asyncio.Event()

    def _events_since(self, absolute: int) -> Iterator[tuple[int, ChatEvent]]:
        start = max(absolute - self.events_dropped, 0)
        for idx in range(start, len(self.events)):
            yield self.events_dropped + idx, self.events[idx]


@dataclass(slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    file_path: str
    data: bytes | None
    file_name: str | None = None
    mime_type: str | None = None
    url: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int | None:
        return None if self.data is None else len(self.data)


@dataclass(slots=True)
class Fault:
    """An injected failure (see SimulatorServer.inject_fault)."""

    method: str | None
    status: int
    count: int
    retry_after: int | None
    description: str | None
    delay: float

    def error(self) -> ApiError:
        if self.status == 429:
            retry = self.retry_after if self.retry_after is not None else 1
            err = _too_many(retry)
            if self.description:
                err.description = self.description
            return err
        desc = self.description or _DEFAULT_DESCRIPTIONS.get(self.status, "Error")
        params = {"retry_after": self.retry_after} if self.retry_after is not None else None
        return ApiError(self.status, desc, params)


class _Bucket:
    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.stamp = now

    def wait_needed(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


class _Poller:
    __slots__ = ("event", "terminated")

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.terminated = False


@dataclass(slots=True)
class _PendingCallback:
    user_id: int
    created: float


@dataclass(slots=True)
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


class Params:
    """Request parameters from a query string, a form or a JSON body, typed on access."""

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def get_str(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, FileField):
            raise _bad(f"can't use a file as {name}")
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (bytes, bytearray)):
            return value.decode("utf-8", "replace")
        return str(value)

    def get_int(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise _bad(f"invalid {name} specified") from None

    def get_float(self, name: str) -> float | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        value = self.data.get(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def get_json(self, name: str, error: str | None = None) -> Any:
        value = self.data.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise _bad(error or f"can't parse {name} JSON object") from None
        return value


# --------------------------------------------------------------------------- helpers


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF or JPEG image, or None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            i += 2 + length
    return None


_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "application/json": "json",
}
_FILE_DIRS = {"photo": "photos", "audio": "music", "voice": "voice", "document": "documents"}
_DEFAULT_MIME = {
    "photo": "image/jpeg",
    "audio": "audio/mpeg",
    "voice": "audio/ogg",
    "document": "application/octet-stream",
}


def _markup_from_json(
    raw: Any, *, inline_only: bool
) -> tuple[list[list[Button]] | None, JSONDict | None]:
    """Validate a reply_markup like the Bot API; return (buttons, inline keyboard JSON)."""
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise _bad("object expected as reply markup")
    if "inline_keyboard" not in raw:
        if inline_only:
            raise _bad("inline keyboard expected")
        if any(k in raw for k in ("keyboard", "remove_keyboard", "force_reply")):
            return None, None  # reply keyboards are not part of the returned Message
        raise _bad("can't parse reply keyboard markup JSON object")
    rows = raw["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise _bad(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    count = 0
    parsed: list[list[Button]] = []
    out_rows: list[list[JSONDict]] = []
    for row in rows:
        parsed_row: list[Button] = []
        out_row: list[JSONDict] = []
        for b in row:
            if not isinstance(b, dict):
                raise _bad(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            if "text" not in b:
                raise _bad("can't parse inline keyboard button: Can't find field \"text\"")
            text = b["text"]
            if not isinstance(text, str):
                raise _bad(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            data = b.get("callback_data")
            url = b.get("url")
            if data == "":
                data = None
            if url == "":
                url = None
            actions = [k for k in _ACTION_FIELDS if b.get(k) not in (None, "")]
            if not actions:
                raise _bad(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                    "keyboard"
                )
            if not text.strip():
                raise _bad("inline keyboard button text must be non-empty")
            if data is not None:
                if not isinstance(data, str) or len(data.encode("utf-8")) > MAX_CALLBACK_DATA:
                    raise _bad("BUTTON_DATA_INVALID")
            if url is not None:
                if not isinstance(url, str) or not re.match(r"(?i)(https?|tg)://\S", url):
                    raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
            count += 1
            parsed_row.append(Button(text=text, callback_data=data, url=url))
            out_row.append({k: v for k, v in b.items() if v is not None})
        if parsed_row:
            parsed.append(parsed_row)
            out_rows.append(out_row)
    if count > MAX_BUTTONS:
        raise _bad("REPLY_MARKUP_TOO_LONG")
    if not parsed:
        return None, None
    return parsed, {"inline_keyboard": out_rows}


# --------------------------------------------------------------------------- the server

Handler = Callable[[Params], Awaitable[Any]]


class SimulatorServer:
    """A Telegram Bot API simulator on ``http://host:port``.

    The bot uses ``base_url=f"{sim.base_url}/bot"`` and
    ``base_file_url=f"{sim.base_url}/file/bot"``.
    """

    def __init__(
        self,
        *,
        token: str = "123456:SIMULATED",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: bool = True,
        bot_username: str = "petites_mains_bot",
        bot_first_name: str = "Petites Mains",
        strict_ampersand: bool = True,
        callback_timeout: float = 15.0,
        max_events_per_chat: int = 10_000,
        max_kept_updates: int = 100_000,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.rate_limits = rate_limits
        self.bot_username = bot_username
        self.strict_ampersand = strict_ampersand
        self.callback_timeout = callback_timeout
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123456
        self.bot_user: JSONDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._me: JSONDict = {
            **self.bot_user,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

        # counters
        self.calls: Counter[str] = Counter()
        self.calls_ok: Counter[str] = Counter()
        # Press-to-next-screen latency: from a press to the bot's next edit or message in that chat.
        self.press_latencies: deque[float] = deque(maxlen=200_000)
        self._pressed_at: dict[int, float] = {}
        self.call_log: deque[tuple[float, str, bool]] = deque(maxlen=10_000)

        # users and chats
        self.users: dict[int, SimUser] = {}
        self._chats: dict[int, SimChat] = {}
        self._max_events = max_events_per_chat

        # updates
        self._updates: deque[JSONDict] = deque()
        self.all_updates: deque[JSONDict] = deque(maxlen=max_kept_updates)
        self._next_update_id = 1
        self._poller: _Poller | None = None
        self._allowed: frozenset[str] = _DEFAULT_ALLOWED

        # callbacks
        self._callbacks: dict[str, _PendingCallback] = {}
        self._callback_ids = itertools.count(1)
        self._callback_base = 4_870_000_000_000_000_000
        self.callback_answers: dict[str, JSONDict] = {}
        self._callback_waiters: dict[str, list[asyncio.Future[JSONDict]]] = {}
        self._max_answers_kept = max_kept_updates

        # files
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)

        # commands and misc bot settings
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}

        # rate limits, faults
        self._global_bucket = _Bucket(30.0, 30.0, time.monotonic())
        self._chat_buckets: dict[int, _Bucket] = {}
        self._faults: list[Fault] = []
        self._storm_until = 0.0
        self._storm_retry_after = 1

        # webhook
        self._webhook: _Webhook | None = None
        self._webhook_queue: asyncio.Queue[JSONDict] | None = None
        self._webhook_tasks: list[asyncio.Task[None]] = []
        self._webhook_done: set[int] = set()
        self._webhook_session: ClientSession | None = None
        self.webhook_deliveries = 0

        self._methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendAudio": self._send_audio,
            "sendVoice": self._send_voice,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._set_my_description,
            "getMyDescription": self._get_my_description,
            "setMyShortDescription": self._set_my_short_description,
            "getMyShortDescription": self._get_my_short_description,
            "getFile": self._get_file,
            "getChat": self._get_chat,
        }
        self._canonical = {name.lower(): name for name in self._methods}

        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def bot_base_url(self) -> str:
        """What to give PTB as ``base_url``."""
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        """What to give PTB as ``base_file_url``."""
        return f"{self.base_url}/file/bot"

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=1024)
        await site.start()
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])
                break

    async def stop(self) -> None:
        await self._stop_webhook()
        if self._poller is not None:
            self._poller.event.set()
            self._poller = None
        for waiters in self._callback_waiters.values():
            for fut in waiters:
                fut.cancel()
        self._callback_waiters.clear()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ HTTP layer

    async def _read_params(self, request: web.Request) -> Params:
        data: dict[str, Any] = dict(request.query) if request.query_string else {}
        if request.method == "POST" and request.body_exists:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad("can't parse JSON object") from None
                if not isinstance(body, dict):
                    raise _bad("JSON object expected")
                data.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    data[key] = value
            else:
                await request.read()
        return Params(data)

    @staticmethod
    def _response(body: JSONDict, status: int = 200) -> web.Response:
        return web.Response(
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
            status=status,
            content_type="application/json",
        )

    async def _handle_api(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        method = self._canonical.get(raw_method.lower(), raw_method)
        self.calls[method] += 1
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._methods.get(method)
            if handler is None:
                raise ApiError(404, "Not Found")
            params = await self._read_params(request)
            fault = self._take_fault(method)
            if fault is not None:
                if fault.delay > 0:
                    await asyncio.sleep(fault.delay)
                if fault.status:
                    raise fault.error()
            if method in SENDING_METHODS and time.monotonic() < self._storm_until:
                raise _too_many(self._storm_retry_after)
            result = await handler(params)
        except ApiError as err:
            self.call_log.append((time.monotonic(), method, False))
            return self._response(err.body(), err.status)
        self.call_log.append((time.monotonic(), method, True))
        self.calls_ok[method] += 1
        return self._response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        self.calls["file"] += 1
        if request.match_info["token"] != self.token:
            return self._response(ApiError(401, "Unauthorized").body(), 401)
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None or stored.data is None:
            return self._response(ApiError(404, "Not Found").body(), 404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ------------------------------------------------------------------ faults and limits

    def inject_fault(
        self,
        method: str | None,
        *,
        status: int,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        delay: float = 0,
    ) -> Fault:
        """Fail the next ``count`` calls of ``method`` (None: any method) with ``status``.

        ``status=0`` with ``delay>0`` only delays the call, which then succeeds (a client
        timeout shorter than the delay sees a timeout although the call took effect, as with
        the real API). Failed calls change no state.
        """
        if method is not None:
            method = self._canonical.get(method.lower(), method)
        fault = Fault(method, status, count, retry_after, description, delay)
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self._faults.clear()
        self._storm_until = 0.0

    def storm_429(self, seconds: float, retry_after: int = 1) -> None:
        """Every message-sending call fails with 429 for the next ``seconds``."""
        self._storm_until = time.monotonic() + seconds
        self._storm_retry_after = retry_after

    def reset_rate_limits(self) -> None:
        self._global_bucket = _Bucket(30.0, 30.0, time.monotonic())
        self._chat_buckets.clear()

    def _take_fault(self, method: str) -> Fault | None:
        if not self._faults:
            return None
        for fault in self._faults:
            if fault.method is None or fault.method == method:
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _check_rate(self, chat_id: int) -> None:
        if not self.rate_limits:
            return
        now = time.monotonic()
        chat_bucket = self._chat_buckets.get(chat_id)
        if chat_bucket is None:
            chat_bucket = self._chat_buckets[chat_id] = _Bucket(3.0, 1.0, now)
        wait = max(self._global_bucket.wait_needed(now), chat_bucket.wait_needed(now))
        if wait > 0:
            raise _too_many(math.ceil(wait))
        self._global_bucket.tokens -= 1.0
        chat_bucket.tokens -= 1.0

    # ------------------------------------------------------------------ updates

    def _push_update(self, kind: str, payload: JSONDict) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, kind: payload}
        self.all_updates.append(update)
        if kind not in self._allowed:
            return update_id
        self._updates.append(update)
        if self._webhook_queue is not None:
            self._webhook_queue.put_nowait(update)
        elif self._poller is not None:
            self._poller.event.set()
        return update_id

    def pending_updates(self) -> int:
        return len(self._updates) - len(self._webhook_done)

    def _set_allowed(self, allowed: Any) -> None:
        if isinstance(allowed, list):
            self._allowed = frozenset(str(a) for a in allowed) if allowed else _DEFAULT_ALLOWED

    def _confirm(self, offset: int) -> None:
        updates = self._updates
        if offset < 0:
            while len(updates) > -offset:
                updates.popleft()
            return
        while updates and updates[0]["update_id"] < offset:
            updates.popleft()

    async def _get_updates(self, p: Params) -> list[JSONDict]:
        if self._webhook is not None:
            raise ApiError(409, ERR_WEBHOOK_CONFLICT)
        offset = p.get_int("offset")
        limit = p.get_int("limit") or 100
        limit = min(max(limit, 1), 100)
        timeout = max(p.get_float("timeout") or 0.0, 0.0)
        self._set_allowed(p.get_json("allowed_updates"))
        if self._poller is not None:  # a newer request terminates the waiting one
            self._poller.terminated = True
            self._poller.event.set()
            self._poller = None
        if offset:
            self._confirm(offset)
        if not self._updates and timeout > 0:
            poller = _Poller()
            self._poller = poller
            try:
                async with asyncio.timeout(timeout):
                    await poller.event.wait()
            except TimeoutError:
                pass
            finally:
                if self._poller is poller:
                    self._poller = None
            if poller.terminated:
                raise ApiError(409, ERR_POLL_CONFLICT)
        if len(self._updates) <= limit:
            return list(self._updates)
        return list(itertools.islice(self._updates, limit))

    # ------------------------------------------------------------------ webhook

    async def _set_webhook(self, p: Params) -> bool:
        url = (p.get_str("url") or "").strip()
        if not url:
            await self._remove_webhook(p.get_bool("drop_pending_updates"))
            return True
        if not re.match(r"(?i)https?://[^/\s]+", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get_str("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise _bad("secret token contains unallowed characters")
        max_conn = p.get_int("max_connections") or 40
        max_conn = min(max(max_conn, 1), 100)
        allowed = p.get_json("allowed_updates")
        self._set_allowed(allowed)
        if self._poller is not None:
            self._poller.terminated = True
            self._poller.event.set()
            self._poller = None
        await self._stop_webhook()
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        self._webhook = _Webhook(
            url, secret, max_conn, allowed if isinstance(allowed, list) else None
        )
        queue: asyncio.Queue[JSONDict] = asyncio.Queue()
        for update in self._updates:
            queue.put_nowait(update)
        self._webhook_queue = queue
        self._webhook_session = ClientSession(timeout=ClientTimeout(total=30))
        self._webhook_tasks = [
            asyncio.create_task(self._webhook_worker(self._webhook, queue)) for _ in range(max_conn)
        ]
        return True

    async def _delete_webhook(self, p: Params) -> bool:
        await self._remove_webhook(p.get_bool("drop_pending_updates"))
        return True

    async def _remove_webhook(self, drop_pending: bool) -> None:
        await self._stop_webhook()
        self._webhook = None
        if drop_pending:
            self._updates.clear()

    async def _stop_webhook(self) -> None:
        tasks, self._webhook_tasks = self._webhook_tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._webhook_queue = None
        if self._webhook_done:
            done = self._webhook_done
            self._updates = deque(u for u in self._updates if u["update_id"] not in done)
            self._webhook_done = set()
        if self._webhook_session is not None:
            session, self._webhook_session = self._webhook_session, None
            await session.close()

    async def _webhook_worker(self, hook: _Webhook, queue: asyncio.Queue[JSONDict]) -> None:
        while True:
            update = await queue.get()
            attempt = 0
            while not await self._deliver(hook, update):
                attempt += 1
                await asyncio.sleep(min(5.0, 0.1 * 2**attempt))
            self.webhook_deliveries += 1
            self._webhook_done.add(update["update_id"])
            updates = self._updates
            while updates and updates[0]["update_id"] in self._webhook_done:
                self._webhook_done.discard(updates.popleft()["update_id"])

    async def _deliver(self, hook: _Webhook, update: JSONDict) -> bool:
        session = self._webhook_session
        if session is None:
            return False
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            body = json.dumps(update, ensure_ascii=False).encode()
            async with session.post(hook.url, data=body, headers=headers) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return True
                hook.last_error_message = (
                    f"Wrong response from the webhook: {resp.status} {resp.reason or ''}".strip()
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            hook.last_error_message = f"Connection failed: {exc.__class__.__name__}"
        hook.last_error_date = int(time.time())
        return False

    async def _get_webhook_info(self, p: Params) -> JSONDict:
        hook = self._webhook
        info: JSONDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": self.pending_updates(),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates is not None:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    # ------------------------------------------------------------------ chats and messages

    def _chat_for_write(self, p: Params, name: str = "chat_id") -> SimChat:
        value = p.raw(name)
        if value is None or value == "":
            raise _bad(f"{name} is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise ApiError(400, ERR_CHAT_NOT_FOUND) from None
        chat = self._chats.get(chat_id)
        if chat is None or not chat.user.started:
            raise ApiError(400, ERR_CHAT_NOT_FOUND)
        if chat.user.blocked:
            raise ApiError(403, ERR_BLOCKED)
        return chat

    def message_json(self, msg: SimMessage) -> JSONDict:
        """The Bot API Message object for the current state of ``msg``."""
        chat = self._chats[msg.chat_id]
        out: JSONDict = {
            "message_id": msg.message_id,
            "from": self.bot_user if msg.from_bot else chat.user.to_json(),
            "chat": chat.user.chat_json(),
            "date": msg.date,
        }
        if msg.edit_date is not None:
            out["edit_date"] = msg.edit_date
        if msg.kind == "text":
            out["text"] = msg.text
            if msg.entities:
                out["entities"] = msg.entities
        else:
            assert msg.media is not None
            out[msg.kind] = [msg.media] if msg.kind == "photo" else msg.media
            if msg.text:
                out["caption"] = msg.text
                if msg.entities:
                    out["caption_entities"] = msg.entities
        if msg.markup_json is not None:
            out["reply_markup"] = msg.markup_json
        return out

    def _format(
        self, text: str | None, p: Params, *, entities_name: str
    ) -> tuple[str, list[JSONDict], str | None]:
        """Parse ``text`` per parse_mode; return (plain, entities, parse_mode)."""
        raw = text or ""
        parse_mode = p.get_str("parse_mode") or None
        entities: list[JSONDict] = []
        if parse_mode is not None:
            mode = parse_mode.lower()
            if mode == "html":
                try:
                    plain, entities = parse_html(raw, strict_ampersand=self.strict_ampersand)
                except EntityParseError as err:
                    raise ApiError(400, err.description) from None
            elif mode in ("markdown", "markdownv2"):
                plain = raw  # not parsed by the simulator: kept verbatim
            else:
                raise _bad("unsupported parse_mode")
        else:
            plain = raw
            given = p.get_json(entities_name, "can't parse entities JSON object")
            if isinstance(given, list):
                entities = [e for e in given if isinstance(e, dict)]
        plain, entities = finalize_text(plain, entities)
        return plain, entities, parse_mode

    def _format_text(self, p: Params, *, edit: bool) -> tuple[str, str, list[JSONDict], str | None]:
        raw = p.get_str("text")
        plain, entities, parse_mode = self._format(raw, p, entities_name="entities")
        if not plain:
            raise _bad("message text is empty")
        if utf16_len(plain) > MAX_TEXT:
            raise _bad("MESSAGE_TOO_LONG" if edit else "message is too long")
        return raw or "", plain, entities, parse_mode

    def _format_caption(self, p: Params) -> tuple[str, str, list[JSONDict], str | None]:
        raw = p.get_str("caption")
        if not raw:
            return "", "", [], p.get_str("parse_mode")
        plain, entities, parse_mode = self._format(raw, p, entities_name="caption_entities")
        if utf16_len(plain) > MAX_CAPTION:
            raise _bad("message caption is too long")
        return raw, plain, entities, parse_mode

    def _reply_markup(
        self, p: Params, *, inline_only: bool
    ) -> tuple[list[list[Button]] | None, JSONDict | None]:
        raw = p.get_json("reply_markup", "can't parse reply keyboard markup JSON object")
        return _markup_from_json(raw, inline_only=inline_only)

    def _new_message(
        self,
        chat: SimChat,
        *,
        kind: str,
        from_bot: bool,
        text: str,
        html: str,
        parse_mode: str | None = None,
        entities: list[JSONDict] | None = None,
        markup: tuple[list[list[Button]] | None, JSONDict | None] = (None, None),
        media: JSONDict | None = None,
    ) -> SimMessage:
        msg = SimMessage(
            chat_id=chat.chat_id,
            message_id=chat.next_message_id,
            kind=kind,
            from_bot=from_bot,
            date=int(time.time()),
            text=text,
            html=html,
            parse_mode=parse_mode,
            entities=entities or [],
            reply_markup=markup[0],
            markup_json=markup[1],
            media=media,
        )
        chat.next_message_id += 1
        chat.messages[msg.message_id] = msg
        if from_bot:
            self._screen_changed(chat.chat_id)
            chat._emit(ChatEvent("message", copy.copy(msg), {}, time=time.time()))
        return msg

    async def _send_message(self, p: Params) -> JSONDict:
        chat = self._chat_for_write(p)
        raw, plain, entities, parse_mode = self._format_text(p, edit=False)
        markup = self._reply_markup(p, inline_only=False)
        self._check_rate(chat.chat_id)
        msg = self._new_message(
            chat,
            kind="text",
            from_bot=True,
            text=plain,
            html=raw,
            parse_mode=parse_mode,
            entities=entities,
            markup=markup,
        )
        return self.message_json(msg)

    async def _send_chat_action(self, p: Params) -> bool:
        self._chat_for_write(p)
        if not p.get_str("action"):
            raise _bad("action is empty")
        return True

    # ----- media

    def _input_file(self, p: Params, kind: str) -> StoredFile:
        value = p.raw(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = p.raw(value[len("attach://") :])
        if value is None or value == "":
            raise _bad(f"there is no {kind} in the request")
        if isinstance(value, FileField):
            data = value.file.read()
            if not data:
                raise _bad("file must be non-empty")
            return self._store_file(kind, data, value.filename or None, value.content_type or None)
        if isinstance(value, (bytes, bytearray)):
            return self._store_file(kind, bytes(value), None, None)
        ref = str(value).strip()
        existing = self._files.get(ref)
        if existing is not None:
            if existing.kind != kind and not (kind == "document" and existing.kind != "photo"):
                raise _bad(f"can't use file of type {existing.kind.title()} as {kind.title()}")
            return existing
        if re.match(r"(?i)https?://\S+", ref):
            name = ref.rsplit("/", 1)[-1].split("?", 1)[0] or None
            return self._store_file(kind, None, name, None, url=ref)
        raise _bad("wrong file identifier/HTTP URL specified")

    def _store_file(
        self,
        kind: str,
        data: bytes | None,
        file_name: str | None,
        mime_type: str | None,
        *,
        url: str | None = None,
    ) -> StoredFile:
        seq = next(self._file_seq)
        mime = mime_type if mime_type and mime_type != "application/octet-stream" else None
        mime = mime or _DEFAULT_MIME[kind]
        ext = None
        if file_name and "." in file_name:
            ext = file_name.rsplit(".", 1)[-1][:8]
        ext = ext or _EXTENSIONS.get(mime, "bin")
        stored = StoredFile(
            file_id=f"{kind[:2].upper()}AC{seq:06d}" + secrets.token_urlsafe(24),
            file_unique_id=f"AQAD{seq:06d}" + secrets.token_urlsafe(6),
            kind=kind,
            file_path=f"{_FILE_DIRS[kind]}/file_{seq}.{ext}",
            data=data,
            file_name=file_name,
            mime_type=mime,
            url=url,
        )
        if kind == "photo":
            size = _image_size(data) if data else None
            stored.width, stored.height = size or (320, 320)
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def add_file(
        self,
        data: bytes,
        *,
        kind: str = "document",
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        """Store a file as if a user had sent it; returns it (use ``.file_id``)."""
        return self._store_file(kind, data, file_name, mime_type)

    def file(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def _media_json(self, stored: StoredFile, p: Params) -> JSONDict:
        out: JSONDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.kind == "photo":
            out["width"] = stored.width
            out["height"] = stored.height
        elif stored.kind in ("audio", "voice"):
            out["duration"] = p.get_int("duration") or 0
            if stored.kind == "audio":
                for key in ("performer", "title"):
                    value = p.get_str(key)
                    if value:
                        out[key] = value
                if stored.file_name:
                    out["file_name"] = stored.file_name
            out["mime_type"] = stored.mime_type
        else:
            if stored.file_name:
                out["file_name"] = stored.file_name
            out["mime_type"] = stored.mime_type
        if stored.size is not None:
            out["file_size"] = stored.size
        return out

    async def _send_media(self, p: Params, kind: str) -> JSONDict:
        chat = self._chat_for_write(p)
        raw, plain, entities, parse_mode = self._format_caption(p)
        markup = self._reply_markup(p, inline_only=False)
        stored = self._input_file(p, kind)
        self._check_rate(chat.chat_id)
        msg = self._new_message(
            chat,
            kind=kind,
            from_bot=True,
            text=plain,
            html=raw,
            parse_mode=parse_mode,
            entities=entities,
            markup=markup,
            media=self._media_json(stored, p),
        )
        return self.message_json(msg)

    async def _send_photo(self, p: Params) -> JSONDict:
        return await self._send_media(p, "photo")

    async def _send_audio(self, p: Params) -> JSONDict:
        return await self._send_media(p, "audio")

    async def _send_voice(self, p: Params) -> JSONDict:
        return await self._send_media(p, "voice")

    async def _send_document(self, p: Params) -> JSONDict:
        return await self._send_media(p, "document")

    async def _get_file(self, p: Params) -> JSONDict:
        file_id = (p.get_str("file_id") or "").strip()
        if not file_id:
            raise _bad("file_id is empty")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad("invalid file_id")
        if stored.size is not None and stored.size > MAX_DOWNLOAD:
            raise _bad("file is too big")
        out: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_path": stored.file_path,
        }
        if stored.size is not None:
            out["file_size"] = stored.size
        return out

    # ----- edits

    def _message_to_edit(self, p: Params) -> tuple[SimChat, SimMessage]:
        if p.raw("inline_message_id") not in (None, ""):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._chat_for_write(p)
        message_id = p.get_int("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        msg = chat.messages.get(message_id)
        if msg is None:
            raise _bad("message to edit not found")
        if not msg.from_bot:
            raise _bad("message can't be edited")
        return chat, msg

    def _screen_changed(self, chat_id: int) -> None:
        pressed = self._pressed_at.pop(chat_id, None)
        if pressed is not None:
            self.press_latencies.append(time.monotonic() - pressed)

    def add_started_users(self, first_id: int, count: int, language_code: str = "en") -> None:
        """Many users who already wrote to the bot (so it may message them): for benchmarks."""
        for user_id in range(first_id, first_id + count):
            self.add_user(user_id, f"User{user_id}", language_code).started = True

    def _apply_edit(self, chat: SimChat, msg: SimMessage) -> JSONDict:
        self._screen_changed(chat.chat_id)
        msg.edited_count += 1
        msg.edit_date = int(time.time())
        chat._emit(ChatEvent("edit", copy.copy(msg), {}, time=time.time()))
        return self.message_json(msg)

    async def _edit_message_text(self, p: Params) -> JSONDict:
        chat, msg = self._message_to_edit(p)
        if msg.kind != "text":
            raise _bad("there is no text in the message to edit")
        raw, plain, entities, parse_mode = self._format_text(p, edit=True)
        buttons, markup_json = self._reply_markup(p, inline_only=True)
        if plain == msg.text and entities == msg.entities and markup_json == msg.markup_json:
            raise ApiError(400, ERR_NOT_MODIFIED)
        msg.text, msg.html, msg.entities, msg.parse_mode = plain, raw, entities, parse_mode
        msg.reply_markup, msg.markup_json = buttons, markup_json
        return self._apply_edit(chat, msg)

    async def _edit_message_caption(self, p: Params) -> JSONDict:
        chat, msg = self._message_to_edit(p)
        if msg.kind == "text":
            raise _bad("there is no caption in the message to edit")
        raw, plain, entities, parse_mode = self._format_caption(p)
        buttons, markup_json = self._reply_markup(p, inline_only=True)
        if plain == msg.text and entities == msg.entities and markup_json == msg.markup_json:
            raise ApiError(400, ERR_NOT_MODIFIED)
        msg.text, msg.html, msg.entities, msg.parse_mode = plain, raw, entities, parse_mode
        msg.reply_markup, msg.markup_json = buttons, markup_json
        return self._apply_edit(chat, msg)

    async def _edit_message_reply_markup(self, p: Params) -> JSONDict:
        chat, msg = self._message_to_edit(p)
        buttons, markup_json = self._reply_markup(p, inline_only=True)
        if markup_json == msg.markup_json:
            raise ApiError(400, ERR_NOT_MODIFIED)
        msg.reply_markup, msg.markup_json = buttons, markup_json
        return self._apply_edit(chat, msg)

    async def _delete_message(self, p: Params) -> bool:
        chat = self._chat_for_write(p)
        message_id = p.get_int("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        msg = chat.messages.pop(message_id, None)
        if msg is None:
            raise _bad("message to delete not found")
        msg.deleted = True
        chat._emit(ChatEvent("delete", copy.copy(msg), {}, time=time.time()))
        return True

    # ----- callbacks

    async def _answer_callback_query(self, p: Params) -> bool:
        query_id = (p.get_str("callback_query_id") or "").strip()
        if not query_id:
            raise _bad("callback_query_id is empty")
        text = p.get_str("text") or ""
        if len(text) > MAX_CALLBACK_ANSWER:
            raise _bad("MESSAGE_TOO_LONG")
        pending = self._callbacks.get(query_id)
        if pending is None or time.monotonic() - pending.created > self.callback_timeout:
            self._callbacks.pop(query_id, None)
            raise ApiError(400, ERR_QUERY_TOO_OLD)
        del self._callbacks[query_id]
        params: JSONDict = {"callback_query_id": query_id}
        if text:
            params["text"] = text
        params["show_alert"] = p.get_bool("show_alert")
        url = p.get_str("url")
        if url:
            params["url"] = url
        cache_time = p.get_int("cache_time")
        if cache_time is not None:
            params["cache_time"] = cache_time
        record: JSONDict = {
            "params": params,
            "answered_at": time.time(),
            "user_id": pending.user_id,
        }
        answers = self.callback_answers
        answers[query_id] = record
        if len(answers) > self._max_answers_kept:
            del answers[next(iter(answers))]
        for fut in self._callback_waiters.pop(query_id, []):
            if not fut.done():
                fut.set_result(record)
        chat = self._chats.get(pending.user_id)
        if chat is not None:
            chat._emit(ChatEvent("callback_answer", None, dict(params), time=time.time()))
        return True

    async def wait_callback_answer(
        self,
        callback_query_id: str,
        timeout: float = 5.0,
    ) -> JSONDict:
        """The record of the bot's answer to that press (waits for it)."""
        record = self.callback_answers.get(callback_query_id)
        if record is not None:
            return record
        fut: asyncio.Future[JSONDict] = asyncio.get_running_loop().create_future()
        self._callback_waiters.setdefault(callback_query_id, []).append(fut)
        try:
            async with asyncio.timeout(timeout):
                return await fut
        finally:
            waiters = self._callback_waiters.get(callback_query_id)
            if waiters and fut in waiters:
                waiters.remove(fut)
                if not waiters:
                    del self._callback_waiters[callback_query_id]

    # ----- commands, descriptions, chat

    @staticmethod
    def _scope_key(p: Params) -> tuple[str, str]:
        scope = p.get_json("scope", "can't parse BotCommandScope JSON object")
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
            raise _bad("wrong bot command scope type specified")
        lang = p.get_str("language_code") or ""
        if lang and not re.fullmatch(r"[a-zA-Z]{2}", lang):
            raise _bad("invalid language code specified")
        return json.dumps(scope, sort_keys=True), lang.lower()

    async def _set_my_commands(self, p: Params) -> bool:
        commands = p.get_json("commands", "can't parse commands JSON object")
        if commands is None:
            raise _bad('parameter "commands" is required')
        if not isinstance(commands, list):
            raise _bad('field "commands" must be of type Array')
        if len(commands) > 100:
            raise _bad("too many commands specified")
        clean: list[JSONDict] = []
        for c in commands:
            if not isinstance(c, dict):
                raise _bad("can't parse BotCommand JSON object")
            name = str(c.get("command", "")).lstrip("/")
            desc = str(c.get("description", ""))
            if not _BOT_COMMAND_RE.fullmatch(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(desc.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": desc})
        key = self._scope_key(p)
        if clean:
            self.commands[key] = clean
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, p: Params) -> list[JSONDict]:
        return list(self.commands.get(self._scope_key(p), []))

    async def _delete_my_commands(self, p: Params) -> bool:
        self.commands.pop(self._scope_key(p), None)
        return True

    async def _set_my_description(self, p: Params) -> bool:
        self.descriptions[("description", p.get_str("language_code") or "")] = (
            p.get_str("description") or ""
        )
        return True

    async def _get_my_description(self, p: Params) -> JSONDict:
        key = ("description", p.get_str("language_code") or "")
        return {"description": self.descriptions.get(key, "")}

    async def _set_my_short_description(self, p: Params) -> bool:
        self.descriptions[("short", p.get_str("language_code") or "")] = (
            p.get_str("short_description") or ""
        )
        return True

    async def _get_my_short_description(self, p: Params) -> JSONDict:
        key = ("short", p.get_str("language_code") or "")
        return {"short_description": self.descriptions.get(key, "")}

    async def _get_chat(self, p: Params) -> JSONDict:
        value = p.raw("chat_id")
        if value in (None, ""):
            raise _bad("chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise ApiError(400, ERR_CHAT_NOT_FOUND) from None
        if chat_id == self.bot_id:
            return {**self.bot_user, "type": "private", **self._chat_extras()}
        chat = self._chats.get(chat_id)
        if chat is None or not chat.user.started:
            raise ApiError(400, ERR_CHAT_NOT_FOUND)
        return {**chat.user.chat_json(), **self._chat_extras()}

    @staticmethod
    def _chat_extras() -> JSONDict:
        return {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_me(self, p: Params) -> JSONDict:
        return self._me

    async def _true(self, p: Params) -> bool:
        return True

    # ------------------------------------------------------------------ simulated users

    def add_user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None = "fr",
        username: str | None = None,
    ) -> SimUser:
        """Create a user (who has not yet started the bot: sends fail with chat not found)."""
        if user_id in self.users:
            raise ValueError(f"user {user_id} already exists")
        user = SimUser(user_id, first_name, language_code, username)
        self.users[user_id] = user
        self._chats[user_id] = SimChat(user, self._max_events)
        return user

    def _user(self, user_id: int) -> SimUser:
        user = self.users.get(user_id)
        if user is None:
            raise KeyError(f"unknown simulated user {user_id}")
        return user

    def chat(self, user_id: int) -> SimChat:
        self._user(user_id)
        return self._chats[user_id]

    def send_text(self, user_id: int, text: str) -> int:
        """The user writes ``text`` to the bot; returns the update_id."""
        user = self._user(user_id)
        user.started = True
        chat = self._chats[user_id]
        msg = self._new_message(chat, kind="text", from_bot=False, text=text, html=text)
        payload: JSONDict = {
            "message_id": msg.message_id,
            "from": user.to_json(),
            "chat": user.chat_json(),
            "date": msg.date,
            "text": text,
        }
        match = _COMMAND_RE.match(text)
        if match:
            entity = {"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}
            msg.entities = [entity]
            payload["entities"] = [entity]
        return self._push_update("message", payload)

    def press(
        self, user_id: int, message_id: int, callback_data: str, *, check: bool = True
    ) -> str:
        """The user taps an inline button; returns the callback_query id.

        With ``check=False`` any data can be sent (a forged callback), even on a message
        without that button.
        """
        user = self._user(user_id)
        chat = self._chats[user_id]
        msg = chat.messages.get(message_id)
        if msg is None:
            raise ValueError(f"no message {message_id} in chat {user_id}")
        if check:
            if not msg.from_bot or msg.button(callback_data) is None:
                raise ValueError(
                    f"message {message_id} has no button with callback_data {callback_data!r}"
                )
        seq = next(self._callback_ids)
        query_id = str(self._callback_base + seq)
        now = time.monotonic()
        self._pressed_at.setdefault(user_id, now)
        self._callbacks[query_id] = _PendingCallback(user_id, now)
        if seq % 1024 == 0 and len(self._callbacks) > 4096:
            limit = now - self.callback_timeout
            for key in [k for k, v in self._callbacks.items() if v.created < limit]:
                del self._callbacks[key]
        payload: JSONDict = {
            "id": query_id,
            "from": user.to_json(),
            "message": self.message_json(msg),
            "chat_instance": str(-(abs(hash((self.bot_id, user_id))) % 10**18)),
            "data": callback_data,
        }
        self._push_update("callback_query", payload)
        return query_id

    def _member_update(self, user: SimUser, old: str, new: str) -> None:
        def member(status: str) -> JSONDict:
            out: JSONDict = {"status": status, "user": self.bot_user}
            if status == "kicked":
                out["until_date"] = 0
            return out

        self._push_update(
            "my_chat_member",
            {
                "chat": user.chat_json(),
                "from": user.to_json(),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def block(self, user_id: int, *, notify: bool = True) -> None:
        """The user blocks the bot: sends/edits fail with 403, no more events reach them.

        With ``notify`` the bot receives a ``my_chat_member`` update, as with Telegram.
        """
        user = self._user(user_id)
        if user.blocked:
            return
        user.blocked = True
        if notify and user.started:
            self._member_update(user, "member", "kicked")

    def unblock(self, user_id: int, *, notify: bool = True) -> None:
        user = self._user(user_id)
        if not user.blocked:
            return
        user.blocked = False
        if notify and user.started:
            self._member_update(user, "kicked", "member")

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
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for index, event in chat._events_since(start):
                if predicate is None or predicate(event):
                    chat.wait_cursor = index + 1
                    return event
            start = chat.event_count
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no matching event in chat {user_id} within {timeout}s")
            changed = chat._changed
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

    # ------------------------------------------------------------------ inspection

    def stats(self) -> JSONDict:
        return {
            "calls": dict(self.calls),
            "pending_updates": self.pending_updates(),
            "updates_total": self._next_update_id - 1,
            "callback_answers": len(self.callback_answers),
            "users": len(self.users),
            "messages": sum(len(c.messages) for c in self._chats.values()),
        }
