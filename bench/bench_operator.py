"""Benchmark: the operator's side in Telegram, through the local Bot API simulator.

    python -m bench.bench_operator [--tasks 150000] [--workers 20]

- A pack file near Telegram's 20 MB download limit, sent as a document: from the send to the
  bot's summary (download streamed to a temporary file, checked, validated, loaded), beside the
  floor measured in the same run: load_pack on the same file from disk (what the CLI does).
- A worker suspended from /worker ID: from the operator's reason to the worker reading it,
  for --workers workers one after the other, beside the floor: a new user's /help round trip.

Exits 1 when a target is missed: the upload within 3x its floor plus 2 s, every worker told
within 5 seconds (the issue's bar).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.app import build_application, start_polling, stop_polling  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from db import Database  # noqa: E402
from simulator import SimulatorServer  # noqa: E402
from tasks.clock import Clock  # noqa: E402
from tasks.packs import load_pack  # noqa: E402

OPERATOR = 900
TOLD_WITHIN = 5.0


async def join(sim: SimulatorServer, user: int) -> None:
    sim.add_user(user, f"Worker{user}", language_code="en")
    sim.send_text(user, "/start")
    event = await sim.wait_for(
        user, lambda e: e.message is not None and bool(e.message.button("consent")), 10
    )
    assert event.message is not None
    sim.press(user, event.message.message_id, "consent")
    await sim.wait_for(user, lambda e: e.message is not None and bool(e.message.buttons), 10)


async def run(tasks: int, workers: int, folder: Path) -> int:
    pack = folder / "big.jsonl"
    command = [sys.executable, str(ROOT / "bench" / "make_pack.py"), "--tasks", str(tasks)]
    subprocess.run([*command, "--out", str(pack)], check=True, stdout=subprocess.DEVNULL)
    data = pack.read_bytes()
    size_mb = len(data) / 1024 / 1024

    floor_db = folder / "floor.sqlite3"
    async with Database(floor_db) as db:
        started = time.perf_counter()
        report = await load_pack(db, pack, clock=Clock())
        floor = time.perf_counter() - started
    assert report.ok, report.errors[:3]

    failed = 0
    async with SimulatorServer() as sim:
        settings = load_settings(
            bot_token=sim.token,
            telegram_api_url=sim.base_url,
            database_path=folder / "bot.sqlite3",
            operator_ids=str(OPERATOR),
            quiet_hours="off",
            _env_file=None,
        )
        app = build_application(settings)
        await start_polling(app)
        try:
            sim.add_user(OPERATOR, "Olga", language_code="en")
            sim.send_text(OPERATOR, "/help")
            await sim.wait_for_text(OPERATOR, "Operator", 10)
            started = time.perf_counter()
            sim.send_document(OPERATOR, data, "big.jsonl")
            await sim.wait_for_text(OPERATOR, "loaded", 120)
            upload = time.perf_counter() - started
            ok = upload <= 3 * floor + 2
            failed += not ok
            print(
                f"upload of a {size_mb:.1f} MB JSONL pack ({tasks:,} tasks) in the chat:"
                f" {upload:.2f} s to the summary; floor (load_pack from disk, the CLI):"
                f" {floor:.2f} s  [{'ok' if ok else 'MISSED'}: within 3x + 2 s]"
            )

            helps = []  # users writing for the first time: no per-chat pacing in the way
            for user in range(5000, 5000 + workers):
                sim.add_user(user, f"Visitor{user}", language_code="en")
                started = time.perf_counter()
                sim.send_text(user, "/help")
                await sim.wait_for_text(user, "how it works", 10)
                helps.append(time.perf_counter() - started)
            told = []
            for user in range(1, workers + 1):
                await join(sim, user)
                sim.send_text(OPERATOR, f"/worker {user}")
                card = await sim.wait_for_text(OPERATOR, "Earned", 10)
                button = card.buttons[0].callback_data
                assert button is not None
                sim.press(OPERATOR, card.message_id, button)
                await sim.wait_for_text(OPERATOR, "Reply in one message", 10)
                started = time.perf_counter()
                sim.send_text(OPERATOR, f"Benchmark reason {user}")
                await sim.wait_for_text(user, f"Benchmark reason {user}", 10)
                told.append(time.perf_counter() - started)
            ok = max(told) < TOLD_WITHIN
            failed += not ok
            print(
                f"suspension told to the worker, {workers} workers: median"
                f" {statistics.median(told) * 1000:.0f} ms, max {max(told) * 1000:.0f} ms;"
                " floor (a new user's /help round trip): median"
                f" {statistics.median(helps) * 1000:.0f} ms"
                f"  [{'ok' if ok else 'MISSED'}: every one within {TOLD_WITHIN:.0f} s]"
            )
        finally:
            await stop_polling(app)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tasks", type=int, default=150_000)
    parser.add_argument("--workers", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(run(args.tasks, args.workers, Path(folder)))


if __name__ == "__main__":
    raise SystemExit(main())
