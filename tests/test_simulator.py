"""Tests of the Telegram Bot API simulator and of the simulated crowd, over real HTTP."""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")

import asyncio
import contextlib
import datetime as dtm
import json
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.simulator import (
    AgentProfile,
    Crowd,
    EntityParseError,
    SimulatorServer,
    parse_html,
    truth_oracle,
)

USER = 42
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer() as server:
        server.add_user(USER, "Ada", "fr", "ada")
        server.send_text(USER, "/start")
        yield server


@pytest.fixture
async def bot(sim: SimulatorServer) -> AsyncIterator[Bot]:
    async with Bot(
        sim.token,
        base_url=f"{sim.base_url}/bot",
        base_file_url=f"{sim.base_url}/file/bot",
        request=HTTPXRequest(connection_pool_size=4),
    ) as b:
        yield b


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


async def call(
    http: ClientSession, sim: SimulatorServer, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    """A raw form-urlencoded call, complex values JSON-encoded like PTB does."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    url = f"{sim.base_url}/bot{sim.token}/{method}"
    async with http.post(url, data=form) as resp:
        return resp.status, await resp.json()


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


# --------------------------------------------------------------------------- HTML parser


def test_parse_html_entities_and_offsets() -> None:
    text, entities = parse_html('é<b>😀x</b> &lt;<a href="https://e.org/?a=1&amp;b=2">l</a>')
    assert text == "é😀x <l"
    assert entities == [
        {"type": "bold", "offset": 1, "length": 3},
        {"type": "text_link", "offset": 6, "length": 1, "url": "https://e.org/?a=1&b=2"},
    ]
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]
    text, entities = parse_html("<blockquote expandable>q</blockquote><tg-spoiler>s</tg-spoiler>")
    assert [e["type"] for e in entities] == ["expandable_blockquote", "spoiler"]


@pytest.mark.parametrize(
    ("markup", "detail"),
    [
        ("hello <foo>x</foo>", 'Unsupported start tag "foo" at byte offset 6'),
        ("<b>never closed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("é</b>", "Unexpected end tag at byte offset 2"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("Tom & Jerry", "Character entity expected at byte offset 4"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_parse_html_errors(markup: str, detail: str) -> None:
    with pytest.raises(EntityParseError) as err:
        parse_html(markup)
    assert err.value.detail == detail
    assert err.value.description == "Bad Request: can't parse entities: " + detail


# --------------------------------------------------------------------------- protocol


async def test_envelope_auth_unknown_method_json_and_get(
    sim: SimulatorServer, http: ClientSession
) -> None:
    async with http.post(f"{sim.base_url}/bot999:WRONG/getMe") as resp:
        assert resp.status == 401
        assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    async with http.post(f"{sim.base_url}/bot{sim.token}/noSuchMethod") as resp:
        assert resp.status == 404
        assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    async with http.post(f"{sim.base_url}/bot{sim.token}/sendPhoto") as resp:
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


# --------------------------------------------------------------------------- rate limits, faults


async def test_rate_limits_map_to_retry_after(sim: SimulatorServer, bot: Bot) -> None:
    for i in range(3):
        await bot.send_message(USER, f"burst {i}")
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(USER, "one too many")
    assert err.value.retry_after == dtm.timedelta(seconds=1)
    assert len(sim.chat(USER).bot_messages) == 3
    # edits are not counted
    last = sim.chat(USER).last_message
    assert last is not None
    await bot.edit_message_text("edited", chat_id=USER, message_id=last.message_id)
    # a toggle at runtime
    sim.rate_limits = False
    for i in range(40):
        await bot.send_message(USER, f"free {i}")
    sim.rate_limits = True
    sim.reset_rate_limits()


async def test_global_rate_limit(sim: SimulatorServer, http: ClientSession) -> None:
    for uid in range(100, 140):
        sim.add_user(uid, f"u{uid}")
        sim.send_text(uid, "/start")
    statuses = [
        (await call(http, sim, "sendMessage", chat_id=uid, text="hi"))[0] for uid in range(100, 140)
    ]
    assert 30 <= statuses.count(200) <= 35  # burst 30, plus what refilled meanwhile
    assert 429 in statuses


async def test_faults_change_no_state(sim: SimulatorServer, bot: Bot, http: ClientSession) -> None:
    sim.inject_fault("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(USER, "x")
    assert err.value.retry_after == dtm.timedelta(seconds=7)
    sim.inject_fault("sendMessage", status=500, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "x")
    sim.inject_fault(None, status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.get_me()
    assert sim.chat(USER).bot_messages == []
    assert sim.calls["sendMessage"] == 3
    await bot.send_message(USER, "works again")
    # a hanging call: the client times out, yet the message is delivered, like Telegram
    sim.inject_fault("sendMessage", status=0, delay=0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "slow", read_timeout=0.1)
    await asyncio.sleep(0.6)
    last = sim.chat(USER).last_message
    assert last is not None and last.text == "slow"
    # storms
    sim.storm_429(0.3, retry_after=2)
    status, body = await call(http, sim, "sendMessage", chat_id=USER, text="x")
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 2",
        "parameters": {"retry_after": 2},
    }
    status, _ = await call(http, sim, "getMe")
    assert status == 200
    await asyncio.sleep(0.35)
    sim.reset_rate_limits()
    status, _ = await call(http, sim, "sendMessage", chat_id=USER, text="x")
    assert status == 200


# --------------------------------------------------------------------------- updates


async def test_get_updates_offset_and_long_polling(sim: SimulatorServer, bot: Bot) -> None:
    first = await bot.get_updates()
    assert [u.update_id for u in first] == [1]
    assert first[0].message is not None and first[0].message.text == "/start"
    assert first[0].message.entities[0].type == "bot_command"
    # long polling really waits, and returns as soon as an update arrives
    poll = asyncio.create_task(bot.get_updates(offset=2, timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    assert sim.pending_updates() == 0  # offset=2 confirmed update 1
    uid2 = sim.send_text(USER, "hello")
    got = await asyncio.wait_for(poll, 2)
    assert [u.update_id for u in got] == [uid2] == [2]
    # an empty long poll lasts its timeout
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    assert await bot.get_updates(offset=3, timeout=1) == ()
    assert loop.time() - t0 >= 0.9
    ids = [sim.send_text(USER, text) for text in ("a", "b", "c")]
    assert ids == [3, 4, 5]
    got = await bot.get_updates(offset=4, limit=1)
    assert [u.update_id for u in got] == [4]
    got = await bot.get_updates()  # update 3 was confirmed by offset=4: gone forever
    assert [u.update_id for u in got] == [4, 5]
    got = await bot.get_updates(offset=-1)
    assert [u.update_id for u in got] == [5]
    assert sim.pending_updates() == 1


async def test_get_updates_conflict(sim: SimulatorServer, http: ClientSession) -> None:
    first = asyncio.create_task(call(http, sim, "getUpdates", offset=2, timeout=5))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(call(http, sim, "getUpdates", offset=2, timeout=5))
    status, body = await asyncio.wait_for(first, 2)
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; make sure that only one bot "
        "instance is running"
    )
    sim.send_text(USER, "x")
    status, body = await asyncio.wait_for(second, 2)
    assert status == 200 and len(body["result"]) == 1


async def test_webhook(sim: SimulatorServer, http: ClientSession) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        status, _ = await call(
            http, sim, "setWebhook", url=f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t"
        )
        assert status == 200
        status, body = await call(http, sim, "getUpdates")
        assert status == 409 and "webhook is active" in body["description"]
        sim.send_text(USER, "via webhook")
        for _ in range(100):
            if len(received) == 2:
                break
            await asyncio.sleep(0.02)
        assert [u["update_id"] for u, _ in received] == [1, 2]
        assert all(secret == "s3cr3t" for _, secret in received)
        assert sim.pending_updates() == 0  # each delivery answered 200: confirmed
        status, _ = await call(http, sim, "deleteWebhook")
        _, body = await call(http, sim, "getUpdates")
        assert body["result"] == []
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- users' side


async def test_press_callback_and_answers(sim: SimulatorServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "task", reply_markup=keyboard([("A", "a:1:0")]))
    with pytest.raises(ValueError):
        sim.press(USER, msg.message_id, "a:9:9")
    qid = sim.press(USER, msg.message_id, "a:1:0")
    forged = sim.press(USER, msg.message_id, "a:9:9", check=False)
    updates = await bot.get_updates(offset=2)
    query = updates[0].callback_query
    assert query is not None and query.id == qid and query.data == "a:1:0"
    assert query.from_user.id == USER and query.message is not None
    assert query.message.message_id == msg.message_id
    assert updates[1].callback_query is not None and updates[1].callback_query.data == "a:9:9"
    waiter = asyncio.create_task(sim.wait_callback_answer(qid))
    assert await query.answer("Merci !")
    record = await asyncio.wait_for(waiter, 1)
    assert record["params"]["text"] == "Merci !" and record["user_id"] == USER
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(qid)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("nonsense")
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await bot.answer_callback_query(forged, text="x" * 201)
    sim.callback_timeout = 0.0
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(forged)
    event = await sim.wait_for(USER, lambda e: e.kind == "callback_answer")
    assert event.data["text"] == "Merci !"


async def test_wait_for_sees_earlier_events_once(sim: SimulatorServer, bot: Bot) -> None:
    sim.rate_limits = False
    await bot.send_message(USER, "Bienvenue !")
    await bot.send_message(USER, "Deuxième")
    first = await sim.wait_for_text(USER, "Bienvenue")
    assert first.message_id == 2
    with pytest.raises(TimeoutError):
        await sim.wait_for_text(USER, "Bienvenue", timeout=0.1)
    later = asyncio.create_task(sim.wait_for_text(USER, "Troisième"))
    await asyncio.sleep(0.05)
    await bot.send_message(USER, "Troisième")
    assert (await asyncio.wait_for(later, 1)).message_id == 4
    queue = sim.subscribe(USER)
    await bot.send_message(USER, "Quatrième")
    event = queue.get_nowait()
    assert event.kind == "message" and event.message is not None
    assert event.message.text == "Quatrième"


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


# --------------------------------------------------------------------------- crowd


async def run_fake_bot(bot: Bot, tasks: int, stop: asyncio.Event) -> list[tuple[int, str]]:
    """A tiny bot: consent, then ``tasks`` tasks edited in place, then a 'go' notice."""
    presses: list[tuple[int, str]] = []
    progress: dict[int, int] = {}
    offset = 0
    animals = ["miaou", "ouaf"]

    def task_markup(n: int) -> InlineKeyboardMarkup:
        return keyboard([("chat", f"a:{n}:0"), ("chien", f"a:{n}:1")], [("passer", f"s:{n}")])

    def task_text(n: int) -> str:
        return f"<b>Tâche {n}</b>\n\n{animals[n % 2]}"

    while not stop.is_set():
        updates = await bot.get_updates(offset=offset, timeout=1)
        for update in updates:
            offset = update.update_id + 1
            if update.message is not None and update.message.text == "/start":
                await bot.send_message(
                    update.message.chat.id,
                    "Acceptez-vous ?",
                    reply_markup=keyboard([("J'accepte", "consent:yes")]),
                )
            query = update.callback_query
            if query is None or query.data is None or query.message is None:
                continue
            uid = query.from_user.id
            presses.append((uid, query.data))
            await query.answer()
            chat_id, message_id = query.message.chat.id, query.message.message_id
            if query.data.startswith("consent"):
                await bot.edit_message_text("Merci.", chat_id=chat_id, message_id=message_id)
                progress[uid] = 0
                await bot.send_message(
                    chat_id, task_text(0), parse_mode="HTML", reply_markup=task_markup(0)
                )
            elif query.data.startswith(("a:", "s:")):
                n = progress[uid] = progress[uid] + 1
                if n < tasks:
                    await bot.edit_message_text(
                        task_text(n),
                        chat_id=chat_id,
                        message_id=message_id,
                        parse_mode="HTML",
                        reply_markup=task_markup(n),
                    )
                elif n == tasks:
                    await bot.edit_message_text("Fini !", chat_id=chat_id, message_id=message_id)
                    await bot.send_message(
                        chat_id, "Du travail !", reply_markup=keyboard([("Go", "go:more")])
                    )
            elif query.data.startswith("go"):
                await bot.send_message(chat_id, "Plus rien pour l'instant.")
    return presses


async def test_crowd_answers_a_fake_bot(sim: SimulatorServer, bot: Bot) -> None:
    sim.rate_limits = False
    oracle = truth_oracle({"miaou": "chat", "ouaf": "chien"})
    crowd = Crowd(sim, oracle, seed=3)
    perfect = AgentProfile("careful", 1.0, skip_rate=0.0, think=(0.0, 0.01))
    careful_ids = crowd.add(perfect, 3, "careful")
    first_ids = crowd.add(AgentProfile("spammer_first", 0.0, skip_rate=0.0), 2, "first")
    skipper = crowd.add(AgentProfile("careless", 0.7, skip_rate=1.0), 1, "skip")
    stop = asyncio.Event()
    fake = asyncio.create_task(run_fake_bot(bot, tasks=4, stop=stop))
    await crowd.start()
    try:
        # per worker: consent + 4 tasks + go = 6 presses
        await crowd.wait_presses(6 * 6, timeout=10)
        await asyncio.sleep(0.2)  # nothing more should be pressed
    finally:
        await crowd.stop()
        stop.set()
        presses = await fake
    assert crowd.total_presses == 36 == len(presses)
    for uid in careful_ids:
        st = crowd.stats[uid]
        assert (st.answers, st.correct, st.wrong, st.consent_presses, st.go_presses) == (
            4,
            4,
            0,
            1,
            1,
        )
        assert st.answers_by_label == {"chat": 2, "chien": 2}
    for uid in first_ids:
        assert crowd.stats[uid].answers_by_label == {"chat": 4}
    assert crowd.stats[skipper[0]].skips == 4 and crowd.stats[skipper[0]].answers == 0
    # every press of a worker is on a distinct task version
    per_user: dict[int, list[str]] = {}
    for uid, data in presses:
        per_user.setdefault(uid, []).append(data)
    assert per_user[careful_ids[0]] == [
        "consent:yes",
        "a:0:0",
        "a:1:1",
        "a:2:0",
        "a:3:1",
        "go:more",
    ]
    summary = crowd.summary()
    assert summary["by_kind"]["careful"]["correct"] == 12


async def test_crowd_survives_block_and_stops(sim: SimulatorServer, bot: Bot) -> None:
    crowd = Crowd(sim, None, first_user_id=5000, max_answers=2)
    [uid] = crowd.add(AgentProfile("spammer_random", 0.0, skip_rate=0.0), 1)
    await crowd.start()
    updates = await bot.get_updates(offset=2)
    assert updates[-1].message is not None and updates[-1].message.text == "/start"
    sim.block(uid)
    with pytest.raises(Forbidden):
        await bot.send_message(uid, "t", reply_markup=keyboard([("x", "a:1:0")]))
    sim.unblock(uid)
    for n in (1, 2):
        await bot.send_message(uid, f"task {n}", reply_markup=keyboard([("x", f"a:{n}:0")]))
        await crowd.wait_presses(n, timeout=2)
    await crowd.wait_done(timeout=2)  # max_answers reached: the agent ended by itself
    assert crowd.stats[uid].answers == 2
    await crowd.stop()


# --------------------------------------------------------------------------- standalone


async def test_standalone_process(tmp_path: Path) -> None:
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"miaou": "chat"}), encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.simulator",
        "--port",
        "0",
        "--workers",
        "4",
        "--rate-limits",
        "off",
        "--truth",
        str(truth),
        "--seed",
        "1",
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO_ROOT,
    )
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
        assert line.startswith("ready http://127.0.0.1:")
        base = line.split()[1]
        token = "123456:SIMULATED"
        async with ClientSession() as http:
            async with http.post(f"{base}/sim/start") as resp:
                assert (await resp.json())["workers"] == 4
            async with http.post(f"{base}/bot{token}/getUpdates") as resp:
                body = await resp.json()
            assert len(body["result"]) == 4
            chat_id = body["result"][0]["message"]["chat"]["id"]
            markup = {"inline_keyboard": [[{"text": "chat", "callback_data": "a:1:0"}]]}
            params = {"chat_id": chat_id, "text": "miaou", "reply_markup": markup}
            async with http.post(f"{base}/bot{token}/sendMessage", json=params) as resp:
                assert resp.status == 200
            for _ in range(100):
                async with http.get(f"{base}/sim/stats") as resp:
                    stats = await resp.json()
                if stats["presses_total"] == 1:
                    break
                await asyncio.sleep(0.02)
            assert stats["presses_total"] == 1
            assert stats["calls"]["sendMessage"] == 1
            async with http.post(f"{base}/sim/stop") as resp:
                assert resp.status == 200
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0
    final = json.loads(out.decode().strip().splitlines()[-1])
    assert final["presses_total"] == 1


async def test_ptb_application_polling(sim: SimulatorServer) -> None:
    """A real PTB Application polls the simulator, answers /start and a button press."""
    from telegram.ext import (
        Application,
        CallbackQueryHandler,
        CommandHandler,
        ContextTypes,
    )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            "Bienvenue ! Êtes-vous d'accord ?",
            reply_markup=keyboard([("Oui", "consent:yes")]),
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Noté")
        await query.edit_message_text("Merci, c'est noté.")

    app = (
        Application.builder()
        .token(sim.token)
        .base_url(sim.bot_base_url)
        .base_file_url(sim.file_base_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        try:
            welcome = await sim.wait_for_text(USER, "Bienvenue")
            qid = sim.press(USER, welcome.message_id, "consent:yes")
            answer = await sim.wait_callback_answer(qid)
            assert answer["params"]["text"] == "Noté"
            edited = await sim.wait_for(USER, lambda e: e.kind == "edit")
            assert edited.message is not None and edited.message.text == "Merci, c'est noté."
        finally:
            await app.updater.stop()
            await app.stop()
    assert sim.calls["deleteWebhook"] == 1
    assert sim.pending_updates() == 0  # the final getUpdates confirmed everything
