"""End to end through the simulator: the answer path's throughput, press-to-toast latency and the
bot's CPU per 1,000 answers, each beside the floor measured in the same run.

The bot (the Application `run` builds, with its SQLite database and its durable inbox) runs in
this process; the simulator and a crowd of workers who answer without thinking run in another
process (`python -m simulator`), so this process's CPU time is the bot's alone. Rate limits
are off on both sides. The floor is a bare python-telegram-bot bot (bench/bare_bot.py: answer and
edit, no storage) against the same simulator and crowd.

`--quality`: the first setting alone, on a pack with quality control (every 10th task gold, five
training questions, dynamic overlap, the background skill refresh): the answer path with the
trust-weighted result on every press.

Three settings: 50 workers with no network delay (targets: >= 300 answers/s, <= 2 CPU-s per
1,000); 50 and 200 workers with 20-80 ms added to every Bot API call, what a server far from
Telegram's data centres sees (targets: >= 0.8x the floor's throughput; press-to-toast p95
< 250 ms at 50 workers, < 400 ms at 200).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.bare_bot import build_bare_bot, start_bare_bot, stop_bare_bot
from bot.app import build_application, start_polling, stop_polling
from bot.settings import load_settings
from db import Database
from tasks.clock import Clock
from tasks.packs import load_pack

TOKEN = "123456:SIMULATED"
TASKS = 20_000
WARM_UP = 3.0
MEASURE = 10.0
LATENCY = "20-80"
SETTINGS = [(50, None), (50, LATENCY), (200, LATENCY)]  # (workers, --latency-ms)


def write_pack(folder: Path, quality: bool = False) -> tuple[Path, Path]:
    options = [
        {"id": "a", "label": "Alpha"},
        {"id": "b", "label": "Beta"},
        {"id": "c", "label": "Gamma"},
    ]
    header = {
        "id": "bench",
        "title": "Bench",
        "instructions": "Pick the letter named.",
        "type": "single_choice",
        "options": options,
        "reward": "0.01",
        "overlap": 3,
        "lease_seconds": 600,
    }
    if quality:
        header["quality"] = {"min_seconds": 0}
    pack = folder / "bench.jsonl"
    truth: dict[str, str] = {}
    with pack.open("w", encoding="utf-8") as out:
        out.write(json.dumps(header) + "\n")
        for i in range(TASKS):
            label = options[i % 3]["label"]
            text = f"Task {i}: the answer is {label}"
            truth[text] = label
            task: dict[str, Any] = {"id": f"t{i}", "text": text}
            if quality and i % 10 == 0:
                task["gold"] = options[i % 3]["id"]
            out.write(json.dumps(task) + "\n")
    truth_file = folder / "truth.json"
    truth_file.write_text(json.dumps(truth), encoding="utf-8")
    return pack, truth_file


@dataclass
class Figures:
    answers: int
    rate: float
    cpu_per_k: float
    calls_per_answer: float
    toast: dict[str, Any]
    screen: dict[str, Any]

    def line(self) -> str:
        return (
            f"{self.rate:6,.0f} answers/s, {self.cpu_per_k:5.2f} CPU-s/1,000,"
            f" toast p50/p95 {self.toast.get('p50_ms')}/{self.toast.get('p95_ms')} ms,"
            f" next screen p50/p95 {self.screen.get('p50_ms')}/{self.screen.get('p95_ms')} ms,"
            f" {self.calls_per_answer:.2f} API calls/answer"
        )


def start_simulator(workers: int, latency: str | None, truth: Path) -> tuple[Any, str]:
    command = [
        sys.executable,
        "-m",
        "simulator",
        "--port",
        "0",
        "--workers",
        str(workers),
        "--think-ms",
        "0",
        "--rate-limits",
        "off",
        "--truth",
        str(truth),
        "--seed",
        "1",
        "--skip-rate",
        "0",
    ]
    if latency:
        command += ["--latency-ms", latency]
    simulator = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PTB_TIMEDELTA": "1"}
    )
    assert simulator.stdout is not None
    line = simulator.stdout.readline().split()
    assert line[:1] == ["ready"], line
    return simulator, line[1]


async def measure(base_url: str) -> Figures:
    """Starts the crowd, lets it warm up, then measures MEASURE seconds (answers: toasts)."""
    async with aiohttp.ClientSession() as http:

        async def stats() -> dict[str, Any]:
            result: dict[str, Any] = await (await http.get(f"{base_url}/sim/stats")).json()
            return result

        await http.post(f"{base_url}/sim/start")
        await asyncio.sleep(WARM_UP)
        await http.get(f"{base_url}/sim/latency?reset=1")
        before, cpu0, wall0 = await stats(), time.process_time(), time.perf_counter()
        await asyncio.sleep(MEASURE)
        after, cpu1, wall1 = await stats(), time.process_time(), time.perf_counter()
        latency = await (await http.get(f"{base_url}/sim/latency?reset=1")).json()
        await http.post(f"{base_url}/sim/stop")
    answers = after["callback_answers"] - before["callback_answers"]
    calls = sum(after["calls"].values()) - sum(before["calls"].values())
    return Figures(
        answers=answers,
        rate=answers / (wall1 - wall0),
        cpu_per_k=(cpu1 - cpu0) / max(answers, 1) * 1000,
        calls_per_answer=calls / max(answers, 1),
        toast=latency.get("toast", {}),
        screen={k: v for k, v in latency.items() if k != "toast"},
    )


async def run_ours(folder: Path, pack: Path, base_url: str, *, tag: str) -> Figures:
    db_path = folder / f"bench-{tag}.sqlite3"
    async with Database(db_path) as db:
        report = await load_pack(db, pack, clock=Clock())
        assert report.ok, report.errors
    settings = load_settings(
        bot_token=TOKEN, telegram_api_url=base_url, database_path=db_path, _env_file=None
    )
    app = build_application(settings, rate_limits=False)
    await start_polling(app)
    try:
        return await measure(base_url)
    finally:
        await stop_polling(app)


async def run_bare(base_url: str) -> Figures:
    app = build_bare_bot(TOKEN, base_url)
    await start_bare_bot(app)
    try:
        return await measure(base_url)
    finally:
        await stop_bare_bot(app)


async def in_simulator(
    workers: int, latency: str | None, truth: Path, run: Callable[[str], Awaitable[Figures]]
) -> Figures:
    """One measurement against a fresh simulator and crowd (the same seed every time)."""
    simulator, base_url = start_simulator(workers, latency, truth)
    try:
        return await run(base_url)
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)


async def main(argv: list[str]) -> None:
    quality = "--quality" in argv
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pack, truth = write_pack(folder, quality)
        if quality:
            print("a pack with quality control: 10% gold, training, dynamic overlap")
        for index, (workers, latency) in enumerate(SETTINGS[:1] if quality else SETTINGS):
            bare = await in_simulator(workers, latency, truth, run_bare)
            ours = await in_simulator(
                workers, latency, truth, functools.partial(run_ours, folder, pack, tag=str(index))
            )
            report(workers, latency, ours, bare)


def report(workers: int, latency: str | None, ours: Figures, bare: Figures) -> None:
    delay = f"{latency} ms added per Bot API call" if latency else "no network delay"
    ratio = ours.rate / bare.rate if bare.rate else 0.0
    print(f"end to end, {workers} workers, {delay}, rate limits off, {MEASURE:.0f} s measured:")
    print(f"  this bot:  {ours.line()}")
    print(f"  bare bot:  {bare.line()}")
    print(f"  ratio: {ratio:.2f}x the bare bot's throughput", end="")
    if latency is None:
        checks = [
            ("throughput >= 300/s", ours.rate >= 300),
            ("CPU <= 2 CPU-s/1,000", ours.cpu_per_k <= 2),
        ]
    else:
        limit = 250 if workers <= 50 else 400
        p95 = ours.toast.get("p95_ms")
        checks = [
            ("ratio >= 0.8", ratio >= 0.8),
            (f"toast p95 < {limit} ms", p95 is not None and p95 < limit),
        ]
    print(" | " + ", ".join(f"{name}: {'ok' if good else 'MISSED'}" for name, good in checks))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
