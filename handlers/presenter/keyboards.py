"""Our keyboards (rows of (label, callback_data), handlers/render.py) as Telegram takes them:
PTB's objects, or the JSON itself on the answer path (no PTB object built per press)."""

from __future__ import annotations

import json

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.render import Keyboard


def markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if keyboard is None:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in keyboard
        ]
    )


def markup_json(keyboard: Keyboard | None) -> str | None:
    """The same keyboard as Telegram's JSON, without building PTB objects (the answer path)."""
    if keyboard is None:
        return None
    rows = [[{"text": label, "callback_data": data} for label, data in row] for row in keyboard]
    return json.dumps({"inline_keyboard": rows}, ensure_ascii=False)
