"""Telegram's limits, in one place, with the one counter of Telegram's text units.

Telegram measures a text in UTF-16 code units once its HTML is parsed (an emoji, like any
character beyond U+FFFF, is two): `utf16_units` counts them. Where the HTML is stripped first is
the screens' business (handlers/render.py `visible_length`); the pack format checks the texts an
operator writes against the same units (tasks/packs/format.py); the presenter
(handlers/presenter/) and the callback shapes (handlers/callbacks.py) keep to the rest.

Here in tasks/ so that the domain (the pack format) and handlers/ read the same figures; nothing
here imports `telegram`. The Bot API simulator keeps its own copy (it imports nothing from the
bot).
"""

from __future__ import annotations

# Bot API, sendMessage: "Text of the message to be sent, 1-4096 characters after entities
# parsing" (characters being UTF-16 units).
MESSAGE_UNITS = 4096
# Bot API, sendPhoto / sendAudio / sendVoice: "Photo caption ..., 0-1024 characters after
# entities parsing".
CAPTION_UNITS = 1024
# Bot API, InlineKeyboardButton: "callback_data ... 1-64 bytes".
CALLBACK_DATA_BYTES = 64
# An inline keyboard holds at most 8 buttons in a row and 100 in all. The Bot API reference does
# not state these: they are the server's (tginfo/Telegram-Limits, "keyboard limits (bots)").
BUTTONS_PER_ROW = 8
BUTTONS_PER_KEYBOARD = 100
# Bot API, sendDocument: a bot sends files of up to 50 MB.
DOCUMENT_UPLOAD_BYTES = 50 * 1024 * 1024
# Bot API, getFile: a bot downloads files of up to 20 MB.
FILE_DOWNLOAD_BYTES = 20 * 1024 * 1024


def utf16_units(text: str) -> int:
    """The length of `text` as Telegram counts it: UTF-16 code units (a lone surrogate, which
    only a malformed input holds, counts one rather than failing)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
