"""The Bot API envelope, and what the bot may send and edit: Telegram's checks and error
texts for text, keyboards, chats, edits and the command menu, over real HTTP."""

from __future__ import annotations

import json

import pytest
from aiohttp import ClientSession
from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats
from telegram.error import BadRequest, Forbidden

from simulator import SimulatorServer
from tests.helpers import USER, call, keyboard


async def test_envelope_auth_unknown_method_json_and_get(
    sim: SimulatorServer, http: ClientSession
) -> None:
    async with http.post(f"{sim.base_url}/bot999:WRONG/getMe") as resp:
        assert resp.status == 401
        assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    async with http.post(f"{sim.base_url}/bot{sim.token}/noSuchMethod") as resp:
        assert resp.status == 404
        assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    async with http.post(f"{sim.base_url}/bot{sim.token}/sendVideo") as resp:
        assert resp.status == 404  # a real method the bot does not use: not simulated
    async with http.get(f"{sim.base_url}/bot{sim.token}/getme") as resp:
        body = await resp.json()
        assert body["ok"] is True and body["result"]["username"] == "petites_mains_bot"
    url = f"{sim.base_url}/bot{sim.token}/sendMessage"
    payload = {
        "chat_id": USER,
        "text": "json body",
        "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a:1:0"}]]},
    }
    async with http.post(url, json=payload) as resp:
        body = await resp.json()
    assert body["ok"] is True
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a:1:0"
    assert sim.calls["getMe"] == 2 and sim.calls["noSuchMethod"] == 1  # failed calls count
    assert sim.calls["sendMessage"] == 1


async def test_send_message_full_message_object(sim: SimulatorServer, bot: Bot) -> None:
    markup = keyboard([("chat", "a:1:0"), ("chien", "a:1:1")], [("passer", "s:1")])
    msg = await bot.send_message(
        USER, "<b>Tâche</b> 1 : miaou", parse_mode="HTML", reply_markup=markup
    )
    assert msg.text == "Tâche 1 : miaou"
    assert msg.message_id == 2  # the user's /start was message 1
    assert msg.chat.id == USER and msg.chat.type == "private" and msg.chat.first_name == "Ada"
    assert msg.from_user is not None and msg.from_user.is_bot
    assert msg.entities[0].type == "bold" and msg.entities[0].length == 5
    assert msg.reply_markup == markup
    state = sim.chat(USER).last_message
    assert state is not None and state.message_id == 2
    assert state.html == "<b>Tâche</b> 1 : miaou" and state.text == "Tâche 1 : miaou"
    assert [[b.callback_data for b in row] for row in state.reply_markup or []] == [
        ["a:1:0", "a:1:1"],
        ["s:1"],
    ]
    second = await bot.send_message(USER, "suite")
    assert second.message_id == 3


async def test_text_rules(sim: SimulatorServer, bot: Bot, http: ClientSession) -> None:
    status, body = await call(
        http, sim, "sendMessage", chat_id=USER, text="<b>x</b", parse_mode="HTML"
    )
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse entities: ")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag"):
        await bot.send_message(USER, "hello <foo>", parse_mode="HTML")
    status, body = await call(
        http, sim, "sendMessage", chat_id=USER, text="<b> </b>", parse_mode="HTML"
    )
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    status, body = await call(
        http, sim, "sendMessage", chat_id=USER, text="*x*", parse_mode="MarkdownV2"
    )
    assert status == 400 and "not simulated" in body["description"]  # unchecked: refused
    status, body = await call(http, sim, "sendMessage", chat_id=USER, text="x" * 4097)
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    # UTF-16 code units: an emoji counts twice
    status, _ = await call(http, sim, "sendMessage", chat_id=USER, text="😀" * 2048)
    assert status == 200
    sim.reset_rate_limits()
    status, body = await call(http, sim, "sendMessage", chat_id=USER, text="😀" * 2049)
    assert body["description"] == "Bad Request: message is too long"
    # markup inside HTML does not count
    status, _ = await call(
        http, sim, "sendMessage", chat_id=USER, text="<b>" + "x" * 4096 + "</b>", parse_mode="HTML"
    )
    assert status == 200


async def test_chat_not_found_and_blocked(sim: SimulatorServer, bot: Bot) -> None:
    sim.add_user(7, "Never started")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(7, "hi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(123456789, "hi")
    msg = await bot.send_message(USER, "task", reply_markup=keyboard([("A", "a:1:0")]))
    sim.block(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    with pytest.raises(Forbidden):
        await bot.edit_message_text("other", chat_id=USER, message_id=msg.message_id)
    # the bot is told, as with Telegram
    updates = await bot.get_updates()
    member = updates[-1].my_chat_member
    assert member is not None and member.new_chat_member.status == "kicked"
    sim.unblock(USER)
    await bot.send_message(USER, "welcome back")


async def test_keyboard_rules(sim: SimulatorServer, bot: Bot, http: ClientSession) -> None:
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(USER, "x", reply_markup=keyboard([("A", "d" * 65)]))
    await bot.send_message(USER, "x", reply_markup=keyboard([("A", "é" * 32)]))  # 64 bytes
    markup = {"inline_keyboard": [[{"text": "", "callback_data": "x"}]]}
    status, body = await call(http, sim, "sendMessage", chat_id=USER, text="x", reply_markup=markup)
    assert (status, body["description"]) == (
        400,
        "Bad Request: inline keyboard button text must be non-empty",
    )
    markup = {"inline_keyboard": [[{"text": "A"}]]}
    status, body = await call(http, sim, "sendMessage", chat_id=USER, text="x", reply_markup=markup)
    assert "Text buttons are unallowed" in body["description"]
    rows = [[{"text": str(i), "callback_data": str(i)}] for i in range(101)]
    status, body = await call(
        http, sim, "sendMessage", chat_id=USER, text="x", reply_markup={"inline_keyboard": rows}
    )
    assert body["description"] == "Bad Request: REPLY_MARKUP_TOO_LONG"
    status, body = await call(
        http, sim, "sendMessage", chat_id=USER, text="x", reply_markup="{oops"
    )
    assert status == 400 and "reply keyboard markup" in body["description"]


async def test_edits(sim: SimulatorServer, bot: Bot, http: ClientSession) -> None:
    markup = keyboard([("A", "a:1:0"), ("B", "a:1:1")])
    msg = await bot.send_message(USER, "<i>one</i>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified: specified new message"):
        await bot.edit_message_text(
            "<i>one</i>",
            chat_id=USER,
            message_id=msg.message_id,
            parse_mode="HTML",
            reply_markup=markup,
        )
    status, body = await call(
        http,
        sim,
        "editMessageText",
        chat_id=USER,
        message_id=msg.message_id,
        text="<i>one</i>",
        parse_mode="HTML",
        reply_markup=markup.to_dict(),
    )
    assert (status, body["description"]) == (
        400,
        (
            "Bad Request: message is not modified: specified new message content and reply markup "
            "are exactly the same as a current content and reply markup of the message"
        ),
    )
    # same text, other entities: modified
    edited = await bot.edit_message_text(
        "one", chat_id=USER, message_id=msg.message_id, reply_markup=markup
    )
    assert isinstance(edited, type(msg)) and edited.edit_date is not None
    # editing without reply_markup removes the keyboard
    await bot.edit_message_text("two", chat_id=USER, message_id=msg.message_id)
    state = sim.chat(USER).messages[msg.message_id]
    assert state.text == "two" and state.reply_markup is None and state.edited_count == 2
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(chat_id=USER, message_id=msg.message_id)
    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=msg.message_id, reply_markup=markup
    )
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", chat_id=USER, message_id=1)  # the user's /start
    status, body = await call(
        http, sim, "editMessageText", chat_id=USER, message_id=msg.message_id, text="y" * 4097
    )
    assert body["description"] == "Bad Request: MESSAGE_TOO_LONG"
    kinds = [e.kind for e in sim.chat(USER).events]
    assert kinds == ["message", "edit", "edit", "edit"]


async def test_set_my_commands(sim: SimulatorServer, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Commencer"), BotCommand("aide", "Aide")])
    await bot.set_my_commands(
        [BotCommand("help", "Help")], scope=BotCommandScopeAllPrivateChats(), language_code="en"
    )
    default = (json.dumps({"type": "default"}), "")
    private_en = (json.dumps({"type": "all_private_chats"}), "en")
    assert [c["command"] for c in sim.commands[default]] == ["start", "aide"]
    assert [c["command"] for c in sim.commands[private_en]] == ["help"]
    assert (default[0], "en") not in sim.commands
    await bot.set_my_commands([])  # an empty list deletes that menu
    assert default not in sim.commands
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad-Command", "x")])
