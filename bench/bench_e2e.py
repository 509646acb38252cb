"""End to end through the simulator: answers per second and the bot's CPU per 1,000 answers.

The bot (the Application `run` builds, with its SQLite database) runs in this process; the
simulator and a crowd of 50 workers who answer without thinking run in another process
(`python -m bot.simulator`), so this process's CPU time is the bot's alone. Rate limits are off
on both sides, as the targets ask: at least 300 answers/s, at most 2 CPU-seconds per 1,000.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bot.app import build_application, start_polling, stop_polling
from bot.settings import load_settings
from db import Database
from tasks.clock import Clock
from tasks.packs import load_pack

WORKERS = 50
TASKS = 20_000
WARM_UP = 3.0
MEASURE = 15.0


def write_pack(folder: Path) -> tuple[Path, Path]:
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
    pack = folder / "bench.jsonl"
    truth: dict[str, str] = {}
    with pack.open("w", encoding="utf-8") as out:
        out.write(json.dumps(header) + "\n")
        for i in range(TASKS):
            label = options[i % 3]["label"]
            text = f"Task {i}: the answer is {label}"
            truth[text] = label
            out.write(json.dumps({"id": f"t{i}", "text": text}) + "\n")
    truth_file = folder / "truth.json"
    truth_file.write_text(json.dumps(truth), encoding="utf-8")
    return pack, truth_file


async def count_answers(db: Database) -> int:
    return int(await db.value("SELECT COUNT(*) FROM assignments WHERE status = 'answered'"))


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pack, truth = write_pack(folder)
        db_path = folder / "bench.sqlite3"
        async with Database(db_path) as db:
            report = await load_pack(db, pack, clock=Clock())
            assert report.ok, report.errors
        simulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot.simulator",
                "--port",
                "0",
                "--workers",
                str(WORKERS),
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
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PTB_TIMEDELTA": "1"},
        )
        try:
            assert simulator.stdout is not None
            line = simulator.stdout.readline().split()
            assert line[:1] == ["ready"], line
            base_url = line[1]
            settings = load_settings(
                bot_token="123456:SIMULATED",
                telegram_api_url=base_url,
                database_path=db_path,
                _env_file=None,
            )
            app = build_application(settings, rate_limits=False)
            await start_polling(app)
            async with aiohttp.ClientSession() as http, Database(db_path) as reader:
                await http.post(f"{base_url}/sim/start")
                await asyncio.sleep(WARM_UP)
                answers0, cpu0, wall0 = (
                    await count_answers(reader),
                    time.process_time(),
                    time.perf_counter(),
                )
                calls0 = sum(
                    (await (await http.get(f"{base_url}/sim/stats")).json())["calls"].values()
                )
                await asyncio.sleep(MEASURE)
                answers1, cpu1, wall1 = (
                    await count_answers(reader),
                    time.process_time(),
                    time.perf_counter(),
                )
                calls1 = sum(
                    (await (await http.get(f"{base_url}/sim/stats")).json())["calls"].values()
                )
                await http.post(f"{base_url}/sim/stop")
            await stop_polling(app)
        finally:
            simulator.terminate()
            simulator.wait(timeout=10)
    answers = answers1 - answers0
    rate = answers / (wall1 - wall0)
    cpu_per_k = (cpu1 - cpu0) / max(answers, 1) * 1000
    print(
        f"end to end, {WORKERS} workers, rate limits off, {MEASURE:.0f} s measured:"
        f" {answers:,} answers"
    )
    print(
        f"  throughput: {rate:,.0f} answers/s (target >= 300: {'ok' if rate >= 300 else 'MISSED'})"
    )
    print(
        f"  bot CPU: {cpu_per_k:.2f} CPU-s per 1,000 answers"
        f" (target <= 2: {'ok' if cpu_per_k <= 2 else 'MISSED'})"
    )
    print(
        f"  Bot API calls per answer: {(calls1 - calls0) / max(answers, 1):.2f}"
        " (getUpdates included)"
    )


if __name__ == "__main__":
    asyncio.run(main())
