"""Fixtures of the simulator's own tests: here `sim` has user USER (Ada), who sent /start, so
the bot may write to her; `bot` is a bare PTB Bot on it (no Application); `http` a raw client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession
from telegram import Bot
from telegram.request import HTTPXRequest

from simulator import SimulatorServer
from tests.helpers import USER


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
