"""The Bot API methods the bot calls, acting on the simulated world as Telegram would, with
Telegram's error texts for the mistakes a bot can make.

Only what the bot uses is here: getMe; getUpdates, setWebhook, deleteWebhook; sendMessage,
editMessageText, editMessageReplyMarkup, deleteMessage; answerCallbackQuery; setMyCommands
(with scopes); sendDocument, sendPhoto, sendAudio, sendVoice, editMessageMedia,
editMessageCaption and getFile (files.py: uploads, file_ids, URLs, downloads, limits). Any
other method answers 404 like an unknown one, so a bot starting to use a new method fails here
until it is simulated.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from . import content, files
from .limits import Limits
from .protocol import (
    ERR_BLOCKED,
    ERR_CHAT_NOT_FOUND,
    ERR_NOT_MODIFIED,
    MAX_CALLBACK_ANSWER,
    ApiError,
    JSONDict,
    Params,
    bad_request,
)
from .state import SimChat, SimMessage, World
from .updates import Updates

Method = Callable[[Params], Awaitable[Any]]

_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_RE = re.compile(r"[a-zA-Z]{2}")
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


class BotApi:
    """``methods`` maps each Bot API method name to its implementation."""

    def __init__(
        self, world: World, updates: Updates, limits: Limits, *, strict_ampersand: bool
    ) -> None:
        self.world = world
        self.updates = updates
        self.limits = limits
        self.strict_ampersand = strict_ampersand
        self.files = world.files
        #: The command menus set by the bot: (scope as JSON, language code) -> commands.
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._me: JSONDict = {
            **world.bot_user,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.methods: dict[str, Method] = {
            "getMe": self._get_me,
            "getUpdates": updates.get_updates,
            "setWebhook": updates.set_webhook,
            "deleteWebhook": updates.delete_webhook,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendAudio": self._send_audio,
            "sendVoice": self._send_voice,
            "editMessageMedia": self._edit_message_media,
            "editMessageCaption": self._edit_message_caption,
            "deleteMessage": self._delete_message,
            "getFile": self._get_file,
        }

    async def _get_me(self, p: Params) -> JSONDict:
        return self._me

    # ------------------------------------------------------------------ messages

    def _chat_for_write(self, p: Params) -> SimChat:
        value = p.raw("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise ApiError(400, ERR_CHAT_NOT_FOUND) from None
        chat = self.world.chats.get(chat_id)
        if chat is None or not chat.user.started:
            raise ApiError(400, ERR_CHAT_NOT_FOUND)
        if chat.user.blocked:
            raise ApiError(403, ERR_BLOCKED)
        return chat

    async def _send_message(self, p: Params) -> JSONDict:
        chat = self._chat_for_write(p)
        raw, plain, entities, parse_mode = content.message_text(
            p, edit=False, strict_ampersand=self.strict_ampersand
        )
        markup = content.reply_markup(p, inline_only=False)
        self.limits.check_send(chat.chat_id)
        msg = self.world.new_message(
            chat,
            from_bot=True,
            text=plain,
            html=raw,
            parse_mode=parse_mode,
            entities=entities,
            markup=markup,
        )
        return self.world.message_json(msg)

    async def _send_document(self, p: Params) -> JSONDict:
        return self._send_media(p, "document")

    async def _send_photo(self, p: Params) -> JSONDict:
        return self._send_media(p, "photo")

    async def _send_audio(self, p: Params) -> JSONDict:
        return self._send_media(p, "audio")

    async def _send_voice(self, p: Params) -> JSONDict:
        return self._send_media(p, "voice")

    def _send_media(self, p: Params, kind: str) -> JSONDict:
        chat = self._chat_for_write(p)
        plain, entities = files.caption(p, strict_ampersand=self.strict_ampersand)
        markup = content.reply_markup(p, inline_only=False)
        self.limits.check_send(chat.chat_id)
        stored = self.files.upload(p, kind, kind=kind)
        kind = stored.kind  # a voice note in another format arrives as a document
        msg = self.world.new_message(
            chat,
            from_bot=True,
            text=plain,
            html=p.get_str("caption") or "",
            parse_mode=p.get_str("parse_mode") or None,
            entities=entities,
            markup=markup,
            media=(kind, files.media_json(kind, stored), stored.file_id),
        )
        return self.world.message_json(msg)

    async def _get_file(self, p: Params) -> JSONDict:
        return self.files.get_file(p)

    def _named_message(self, p: Params) -> tuple[SimChat, SimMessage | None]:
        """The chat and the message `chat_id` / `message_id` name (None: no such message)."""
        chat = self._chat_for_write(p)
        message_id = p.get_int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        return chat, chat.messages.get(message_id)

    def _message_to_edit(self, p: Params) -> tuple[SimChat, SimMessage]:
        if p.raw("inline_message_id") not in (None, ""):
            raise bad_request("MESSAGE_ID_INVALID")
        chat, msg = self._named_message(p)
        if msg is None:
            raise bad_request("message to edit not found")
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        return chat, msg

    async def _edit_message_text(self, p: Params) -> JSONDict:
        chat, msg = self._message_to_edit(p)
        raw, plain, entities, parse_mode = content.message_text(
            p, edit=True, strict_ampersand=self.strict_ampersand
        )
        buttons, markup_json = content.reply_markup(p, inline_only=True)
        if msg.media_kind is not None:
            raise bad_request("there is no text in the message to edit")
        if plain == msg.text and entities == msg.entities and markup_json == msg.markup_json:
            raise ApiError(400, ERR_NOT_MODIFIED)
        msg.text, msg.html, msg.entities, msg.parse_mode = plain, raw, entities, parse_mode
        msg.reply_markup, msg.markup_json = buttons, markup_json
        self.world.edited(chat, msg)
        return self.world.message_json(msg)

    async def _edit_message_reply_markup(self, p: Params) -> JSONDict:
        chat, msg = self._message_to_edit(p)
        buttons, markup_json = content.reply_markup(p, inline_only=True)
        if markup_json == msg.markup_json:
            raise ApiError(400, ERR_NOT_MODIFIED)
        msg.reply_markup, msg.markup_json = buttons, markup_json
        self.world.edited(chat, msg)
        return self.world.message_json(msg)

    async def _edit_message_caption(self, p: Params) -> JSONDict:
        chat, msg = self._message_to_edit(p)
        plain, entities = files.caption(p, strict_ampersand=self.strict_ampersand)
        buttons, markup_json = content.reply_markup(p, inline_only=True)
        if msg.media_kind is None:
            raise bad_request("there is no caption in the message to edit")
        if plain == msg.text and entities == msg.entities and markup_json == msg.markup_json:
            raise ApiError(400, ERR_NOT_MODIFIED)
        msg.text, msg.html, msg.entities = plain, p.get_str("caption") or "", entities
        msg.parse_mode = p.get_str("parse_mode") or None
        msg.reply_markup, msg.markup_json = buttons, markup_json
        self.world.edited(chat, msg)
        return self.world.message_json(msg)

    async def _edit_message_media(self, p: Params) -> JSONDict:
        """An animation, audio, document, photo or video in place of a message's media, or
        added to a text message (as the Bot API documents); a voice note can be neither edited in
        nor out."""
        chat, msg = self._message_to_edit(p)
        media = p.get_json("media", "can't parse InputMedia JSON object")
        if not isinstance(media, dict):
            raise bad_request('parameter "media" is required')
        kind = media.get("type")
        if kind not in ("photo", "audio", "document"):  # what our bot may send; no voice
            raise bad_request("can't parse InputMedia: media type is not supported")
        if msg.media_kind == "voice":
            raise bad_request("message can't be edited")
        caption_params = Params(
            {
                "caption": media.get("caption") or "",
                "parse_mode": media.get("parse_mode") or "",
            }
        )
        plain, entities = files.caption(caption_params, strict_ampersand=self.strict_ampersand)
        buttons, markup_json = content.reply_markup(p, inline_only=True)
        reference = str(media.get("media") or "")
        if reference.startswith("attach://"):
            stored = self.files.upload(p, reference[len("attach://") :], kind=kind)
        elif reference:
            if (
                reference == msg.file_id
                and plain == msg.text
                and entities == msg.entities
                and markup_json == msg.markup_json
            ):
                raise ApiError(400, ERR_NOT_MODIFIED)
            stored = self.files.known(reference, kind)
        else:
            raise bad_request("can't parse InputMedia: media not found")
        msg.media_kind = stored.kind
        msg.media = files.media_json(stored.kind, stored)
        msg.file_id = stored.file_id
        msg.text, msg.html, msg.entities = plain, str(media.get("caption") or ""), entities
        msg.parse_mode = media.get("parse_mode") or None
        msg.reply_markup, msg.markup_json = buttons, markup_json
        self.world.edited(chat, msg)
        return self.world.message_json(msg)

    async def _delete_message(self, p: Params) -> bool:
        chat, msg = self._named_message(p)
        if msg is None:
            raise bad_request("message to delete not found")
        if msg.from_bot and time.time() - msg.date > 48 * 3600:
            raise bad_request("message can't be deleted for everyone")
        self.world.deleted(chat, msg)
        return True

    # ------------------------------------------------------------------ presses

    async def _answer_callback_query(self, p: Params) -> bool:
        query_id = (p.get_str("callback_query_id") or "").strip()
        if not query_id:
            raise bad_request("callback_query_id is empty")
        text = p.get_str("text") or ""
        if len(text) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        params: JSONDict = {"callback_query_id": query_id}
        if text:
            params["text"] = text
        params["show_alert"] = p.get_bool("show_alert")
        self.world.answer_query(query_id, params)
        return True

    # ------------------------------------------------------------------ command menu

    async def _set_my_commands(self, p: Params) -> bool:
        commands = p.get_json("commands", "can't parse commands JSON object")
        if commands is None:
            raise bad_request('parameter "commands" is required')
        if not isinstance(commands, list):
            raise bad_request('field "commands" must be of type Array')
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        clean: list[JSONDict] = []
        for c in commands:
            if not isinstance(c, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = str(c.get("command", "")).lstrip("/")
            desc = str(c.get("description", ""))
            if not _BOT_COMMAND_RE.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(desc.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": desc})
        key = self._scope_key(p)
        if clean:
            self.commands[key] = clean
        else:
            self.commands.pop(key, None)
        return True

    def _scope_key(self, p: Params) -> tuple[str, str]:
        scope = p.get_json("scope", "can't parse BotCommandScope JSON object")
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
            raise bad_request("wrong bot command scope type specified")
        if scope["type"] in ("chat", "chat_administrators", "chat_member"):
            chat = self.world.chats.get(_int_or_none(scope.get("chat_id")) or 0)
            if chat is None or not chat.user.started:
                raise ApiError(400, ERR_CHAT_NOT_FOUND)
        lang = p.get_str("language_code") or ""
        if lang and not _LANGUAGE_RE.fullmatch(lang):
            raise bad_request("invalid language code specified")
        return json.dumps(scope, sort_keys=True), lang.lower()


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
