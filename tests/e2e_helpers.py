"""Driving the real bot through the simulator, as a worker on a phone would; and the raw
calls and keyboards the simulator's own tests (tests/simulator/) make as a bot would."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.simulator import ChatEvent, SimMessage, SimulatorServer

USER = 42  # the user who has started the bot in the simulator tests' `sim` fixture


def is_task(event: ChatEvent) -> bool:
    return event.message is not None and bool(event.message.buttons_with_prefix("a:"))


def has_button(prefix: str):  # type: ignore[no-untyped-def]
    def check(event: ChatEvent) -> bool:
        return event.message is not None and bool(event.message.buttons_with_prefix(prefix))

    return check


def text_has(fragment: str):  # type: ignore[no-untyped-def]
    def check(event: ChatEvent) -> bool:
        return event.message is not None and fragment in event.message.text

    return check


async def join(sim: SimulatorServer, user_id: int, language: str = "en") -> SimMessage:
    """A new worker sends /start, agrees to the rules and receives their first task."""
    sim.add_user(user_id, f"Worker{user_id}", language_code=language)
    sim.send_text(user_id, "/start")
    welcome = await sim.wait_for(user_id, has_button("consent"), timeout=10)
    assert welcome.message is not None
    sim.press(user_id, welcome.message.message_id, "consent")
    task = await sim.wait_for(user_id, is_task, timeout=10)
    assert task.message is not None
    return task.message


def answer_data(message: SimMessage, index: int = 0) -> str:
    data = message.buttons_with_prefix("a:")[index].callback_data
    assert data is not None
    return data


async def press_and_wait(
    sim: SimulatorServer, user_id: int, message: SimMessage, data: str, *, check: bool = True
) -> tuple[dict[str, object], SimMessage | None]:
    """Presses a button; returns the toast's parameters and the next screen, if any."""
    query_id = sim.press(user_id, message.message_id, data, check=check)
    answer = await sim.wait_callback_answer(query_id, timeout=10)
    params = answer["params"]
    assert isinstance(params, dict)
    return params, sim.chat(user_id).messages.get(message.message_id)


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
