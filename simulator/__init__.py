"""A local Telegram Bot API simulator and a simulated crowd of workers.

A test and demo tool, not part of the bot: it imports nothing from it (tests/unit/test_layering.py
checks) and is its own distribution (simulator/pyproject.toml: `pip install -e ./simulator`;
`make` does it). The demo (`python -m bot demo`), the end-to-end tests and the benchmarks run
the real bot against it over HTTP; `python -m simulator` runs it with a crowd in a process of
its own. Any python-telegram-bot Application can be pointed at it::

    async with SimulatorServer() as sim:
        app = (
            ApplicationBuilder()
            .token(sim.token)
            .base_url(sim.bot_base_url)
            .base_file_url(sim.file_base_url)
            .build()
        )
        app.add_handler(CommandHandler("start", start))  # the bot's own handlers
        async with app:
            await app.updater.start_polling()
            await app.start()
            sim.add_user(42, "Ada")
            sim.send_text(42, "/start")
            message = await sim.wait_for_text(42, "Welcome")  # what the bot answered
            await app.updater.stop()
            await app.stop()

The modules are listed in server.py; the crowd (simulated workers who answer from what their
chat shows) is crowd.py, their kinds and the oracle of right answers profiles.py.
"""

from .crowd import Crowd
from .html import EntityParseError, parse_html, utf16_len
from .limits import SENDING_METHODS, Fault
from .profiles import (
    CAREFUL,
    CARELESS,
    PROFILES,
    SPAMMER_FIRST,
    SPAMMER_RANDOM,
    AgentProfile,
    AgentStats,
    Oracle,
    truth_oracle,
)
from .protocol import ApiError
from .server import SimulatorServer
from .state import Button, ChatEvent, SimChat, SimMessage, SimUser

__all__ = [
    "CAREFUL",
    "CARELESS",
    "PROFILES",
    "SENDING_METHODS",
    "SPAMMER_FIRST",
    "SPAMMER_RANDOM",
    "AgentProfile",
    "AgentStats",
    "ApiError",
    "Button",
    "ChatEvent",
    "Crowd",
    "EntityParseError",
    "Fault",
    "Oracle",
    "SimChat",
    "SimMessage",
    "SimUser",
    "SimulatorServer",
    "parse_html",
    "truth_oracle",
    "utf16_len",
]
