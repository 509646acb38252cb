"""What a message may hold, checked as Telegram checks it: its text (parsed per parse_mode,
within the length limit) and its inline keyboard (button rules, callback_data size, count).

A media message's caption (at most 1,024 UTF-16 code units) is checked in files.py
(`caption`), with the same parser.
"""

from __future__ import annotations

import re
from typing import Any

from .html import EntityParseError, finalize_text, parse_html, utf16_len
from .protocol import (
    MAX_BUTTONS,
    MAX_CALLBACK_DATA,
    MAX_TEXT,
    ApiError,
    JSONDict,
    Params,
    bad_request,
)
from .state import Button

Markup = tuple[list[list[Button]] | None, JSONDict | None]

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
_URL_RE = re.compile(r"(?i)(https?|tg)://\S")


def message_text(
    p: Params, *, edit: bool, strict_ampersand: bool
) -> tuple[str, str, list[JSONDict], str | None]:
    """The ``text`` parameter per ``parse_mode``: (raw, plain, entities, parse_mode)."""
    raw = p.get_str("text") or ""
    parse_mode = p.get_str("parse_mode") or None
    entities: list[JSONDict] = []
    if parse_mode is None:
        plain = raw
    elif parse_mode.lower() == "html":
        try:
            plain, entities = parse_html(raw, strict_ampersand=strict_ampersand)
        except EntityParseError as err:
            raise ApiError(400, err.description) from None
    elif parse_mode.lower() in ("markdown", "markdownv2"):
        # Telegram takes it, but a text the simulator cannot check must not pass here.
        raise bad_request("parse_mode Markdown is not simulated (the bot sends HTML)")
    else:
        raise bad_request("unsupported parse_mode")
    plain, entities = finalize_text(plain, entities)
    if not plain:
        raise bad_request("message text is empty")
    if utf16_len(plain) > MAX_TEXT:
        raise bad_request("MESSAGE_TOO_LONG" if edit else "message is too long")
    return raw, plain, entities, parse_mode


def reply_markup(p: Params, *, inline_only: bool) -> Markup:
    """The ``reply_markup`` parameter: (buttons, inline keyboard JSON), both None without one."""
    raw = p.get_json("reply_markup", "can't parse reply keyboard markup JSON object")
    return parse_markup(raw, inline_only=inline_only)


def parse_markup(raw: Any, *, inline_only: bool) -> Markup:
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise bad_request("object expected as reply markup")
    if "inline_keyboard" not in raw:
        if inline_only:
            raise bad_request("inline keyboard expected")
        if any(k in raw for k in ("keyboard", "remove_keyboard", "force_reply")):
            return None, None  # reply keyboards are not part of the returned Message
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = raw["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    count = 0
    parsed: list[list[Button]] = []
    out_rows: list[list[JSONDict]] = []
    for row in rows:
        parsed_row: list[Button] = []
        out_row: list[JSONDict] = []
        for b in row:
            parsed_row.append(_button(b))
            out_row.append({k: v for k, v in b.items() if v is not None})
            count += 1
        if parsed_row:
            parsed.append(parsed_row)
            out_rows.append(out_row)
    if count > MAX_BUTTONS:
        raise bad_request("REPLY_MARKUP_TOO_LONG")
    if not parsed:
        return None, None
    return parsed, {"inline_keyboard": out_rows}


def _button(b: Any) -> Button:
    if not isinstance(b, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    if "text" not in b:
        raise bad_request("can't parse inline keyboard button: Can't find field \"text\"")
    text = b["text"]
    if not isinstance(text, str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    data = b.get("callback_data")
    url = b.get("url")
    if data == "":
        data = None
    if url == "":
        url = None
    if not any(b.get(k) not in (None, "") for k in _ACTION_FIELDS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if not text.strip():
        raise bad_request("inline keyboard button text must be non-empty")
    if data is not None:
        if not isinstance(data, str) or len(data.encode("utf-8")) > MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
    if url is not None:
        if not isinstance(url, str) or not _URL_RE.match(url):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    return Button(text=text, callback_data=data, url=url)
