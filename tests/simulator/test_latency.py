"""The simulator's latency setting: every Bot API call waits a fixed delay or one drawn from a
range, as a bot far from Telegram's data centres sees it."""

from __future__ import annotations

import time

import aiohttp
import pytest

from simulator import SimulatorServer
from simulator.__main__ import build_parser


async def timed_calls(sim: SimulatorServer, count: int) -> list[float]:
    durations = []
    async with aiohttp.ClientSession() as http:
        for _ in range(count):
            started = time.monotonic()
            async with http.post(f"{sim.bot_base_url}{sim.token}/getMe") as resp:
                assert (await resp.json())["ok"]
            durations.append(time.monotonic() - started)
    return durations


async def test_each_call_waits_the_latency_set_fixed_or_drawn_from_a_range() -> None:
    async with SimulatorServer() as sim:
        assert max(await timed_calls(sim, 3)) < 0.05  # off by default
        sim.latency = (0.06, 0.06)
        assert min(await timed_calls(sim, 3)) >= 0.06
        sim.latency = (0.02, 0.08)
        durations = await timed_calls(sim, 20)
        assert min(durations) >= 0.02
        assert max(durations) - min(durations) > 0.01  # drawn per call, not one fixed delay


def test_the_command_line_takes_a_fixed_latency_or_a_range_in_ms() -> None:
    parser = build_parser()
    assert parser.parse_args(["--latency-ms", "20-80"]).latency_ms == (0.02, 0.08)
    assert parser.parse_args(["--latency-ms", "50"]).latency_ms == (0.05, 0.05)
    assert parser.parse_args([]).latency_ms == (0.0, 0.0)
    for bad in ("80-20", "fast", "-5"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--latency-ms", bad])


def test_a_latency_that_is_not_a_range_is_refused() -> None:
    sim = SimulatorServer()
    with pytest.raises(ValueError):
        sim.latency = (0.08, 0.02)
