"""A local Telegram Bot API simulator and a simulated crowd of workers.

Used by the demo, the end-to-end tests and the benchmarks::

    async with SimulatorServer() as sim:
        app = ApplicationBuilder().token(sim.token).base_url(sim.bot_base_url)
              .base_file_url(sim.file_base_url).build()
        sim.add_user(42, "Ada")
        sim.send_text(42, "/start")
        msg = await sim.wait_for_text(42, "Bienvenue")
"""

from .crowd import (
    CAREFUL,
    CARELESS,
    PROFILES,
    SPAMMER_FIRST,
    SPAMMER_RANDOM,
    AgentProfile,
    AgentStats,
    Crowd,
    Oracle,
    truth_oracle,
)
from .html import EntityParseError, parse_html, utf16_len
from .limits import SENDING_METHODS, Fault
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
