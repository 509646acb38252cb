"""How updates reach the bot: getUpdates offsets and long polling, conflicts, webhook
delivery, and a real PTB Application polling."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import ClientSession, web
from telegram import Bot, Update

from simulator import SimulatorServer
from tests.helpers import USER, call, keyboard


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
