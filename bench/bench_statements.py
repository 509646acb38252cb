"""Weekly statements for 100,000 workers: compute, then send through the simulator.

1. Compute: 100,000 workers with three paid answers each last week (SQL seeding), the week's
   statements computed as `compute_week` does it in the bot (time, peak RSS of this process).
2. Send, rate limits off on both sides: the whole broadcast through the simulator (another
   process, `python -m simulator`), messages per second.
3. The same broadcast with Telegram-like limits on (25 sends/s overall, 20 for the bulk lane, one
   per chat per second; the simulator answers 429 above 30/s) while 50 simulated workers keep
   answering: their press-to-next-task latency before and during the broadcast.
Quiet hours are off here (the benchmark may run at night); everything else is as in the bot.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from bench.bench_e2e import write_pack
from bot.app import build_application, start_polling, stop_polling
from bot.settings import load_settings
from db import Database, to_db_time
from tasks.clock import Clock
from tasks.earnings import EarningsConfig, shift_week, week_bounds, week_of
from tasks.packs import load_pack
from tasks.statements import StatementService

WORKERS = 100_000
ANSWERS_EACH = 3
CROWD = 50
BEFORE = 10.0
DURING = 20.0
ZONE = ZoneInfo("Europe/Paris")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(db_path: Path, week: str) -> None:
    """100,000 workers, each with three answers (30 s each) and their rewards, last week."""
    start, _ = week_bounds(week, ZONE)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA synchronous=OFF")
    stamp = to_db_time(start)
    conn.execute(
        "INSERT INTO packs (id, title, instructions, type, options, reward_micros, currency,"
        " overlap, lease_seconds, header, status, created_at, updated_at) VALUES ('seed', 'Seed',"
        " 'x', 'single_choice', '[]', 20000, 'EUR', 1, 300, '{}', 'closed', ?, ?)",
        (stamp, stamp),
    )
    pack_pk = conn.execute("SELECT pk FROM packs WHERE id = 'seed'").fetchone()[0]
    first_task = conn.execute("SELECT COALESCE(MAX(pk), 0) + 1 FROM tasks").fetchone()[0]
    with conn:
        conn.executemany(
            "INSERT INTO workers (id, first_name, language, created_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ((w, f"W{w}", "fr" if w % 2 else "en", stamp, stamp) for w in range(1, WORKERS + 1)),
        )
        conn.executemany(
            "INSERT INTO tasks (pk, pack_pk, task_id, content, answers, remaining)"
            " VALUES (?, ?, ?, '{}', 1, 0)",
            ((first_task + t, pack_pk, f"s{t}") for t in range(WORKERS * ANSWERS_EACH)),
        )

    def answers() -> Any:
        task = 0
        for worker in range(1, WORKERS + 1):
            for n in range(ANSWERS_EACH):
                task += 1
                delivered = start + timedelta(hours=10, seconds=worker % 3600 + n * 30)
                closed = delivered + timedelta(seconds=30)
                row = (task, worker, first_task + task - 1, pack_pk)
                yield (*row, to_db_time(delivered), to_db_time(closed))

    with conn:
        conn.executemany(
            "INSERT INTO assignments (id, worker_id, task_pk, pack_pk, status, answer,"
            " delivered_at, expires_at, closed_at) VALUES (?, ?, ?, ?, 'answered', 'a', ?, ?, ?)",
            ((a, w, t, p, d, c, c) for a, w, t, p, d, c in answers()),
        )
        conn.executemany(
            "INSERT INTO ledger (worker_id, kind, amount_micros, currency, reason,"
            " idempotency_key, assignment_id, pack_pk, created_at)"
            " VALUES (?, 'reward', 20000, 'EUR', 'answer', ?, ?, ?, ?)",
            ((w, f"reward:{a}", a, p, c) for a, w, _, p, _, c in answers()),
        )
    conn.close()


def simulator(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PTB_TIMEDELTA": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline().split()
    assert line[:1] == ["ready"], line
    return process, line[1]


def sql(db_path: Path, statement: str, *params: Any) -> Any:
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        with conn:
            return conn.execute(statement, params).fetchall()
    finally:
        conn.close()


def app_for(base_url: str, db_path: Path, rate_limits: bool) -> Any:
    settings = load_settings(
        bot_token="123456:SIMULATED",
        telegram_api_url=base_url,
        database_path=db_path,
        timezone=str(ZONE),
        quiet_hours="off",  # the benchmark runs at any hour
        _env_file=None,
    )
    return build_application(settings, rate_limits=rate_limits)


async def sends_ok(http: aiohttp.ClientSession, base_url: str) -> int:
    stats = await (await http.get(f"{base_url}/sim/stats")).json()
    return int(stats["calls_ok"].get("sendMessage", 0))


async def main() -> None:
    week = shift_week(week_of(datetime.now(UTC), ZONE), -1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db_path = folder / "bench.sqlite3"
        pack, truth = write_pack(folder)
        async with Database(db_path) as db:
            assert (await load_pack(db, pack, clock=Clock())).ok
        seed(db_path, week)

        # 1. compute
        rss_before = peak_rss_mb()
        async with Database(db_path) as db:
            service = StatementService(db, EarningsConfig(zone=ZONE, quiet_hours=None))
            began = time.perf_counter()
            computed = await service.compute_week(week)
            compute_s = time.perf_counter() - began
        print(f"statements, {WORKERS:,} workers x {ANSWERS_EACH} answers, week {week}:")
        print(
            f"  compute: {computed:,} statements in {compute_s:.2f} s"
            f" (peak RSS {peak_rss_mb():.0f} MB; {rss_before:.0f} MB before)"
        )

        # 2. send, rate limits off
        process, base_url = simulator("--workers", "0", "--rate-limits", "off")
        try:
            async with aiohttp.ClientSession() as http:
                await http.post(f"{base_url}/sim/users?first=1&count={WORKERS}")
                app = app_for(base_url, db_path, rate_limits=False)
                began = time.perf_counter()
                await start_polling(app)
                while await sends_ok(http, base_url) < computed:
                    await asyncio.sleep(0.5)
                send_s = time.perf_counter() - began
                await stop_polling(app)
        finally:
            process.terminate()
            process.wait(timeout=10)
        (sent,) = sql(
            db_path, "SELECT COUNT(*) FROM outbox WHERE kind = 'statement' AND status = 'sent'"
        )[0]
        print(
            f"  send, limits off: {sent:,} sent in {send_s:.1f} s: {sent / send_s:,.0f} messages/s"
            f" (peak RSS {peak_rss_mb():.0f} MB)"
        )

        # 3. the same broadcast with limits on, while 50 workers answer
        later = to_db_time(datetime.now(UTC) + timedelta(days=1))
        sql(
            db_path,
            "UPDATE outbox SET status = 'due', attempts = 0, sent_at = NULL, due_at = ?"
            " WHERE kind = 'statement'",
            later,
        )
        process, base_url = simulator(
            "--workers", str(CROWD), "--rate-limits", "on", "--think-ms", "300-1500",
            "--truth", str(truth), "--seed", "1", "--first-user-id", "10000000",
        )  # fmt: skip
        try:
            async with aiohttp.ClientSession() as http:
                await http.post(f"{base_url}/sim/users?first=1&count={WORKERS}")
                app = app_for(base_url, db_path, rate_limits=True)
                await start_polling(app)
                await http.post(f"{base_url}/sim/start")
                await asyncio.sleep(5)
                await http.get(f"{base_url}/sim/latency?reset=1")
                await asyncio.sleep(BEFORE)
                before = await (await http.get(f"{base_url}/sim/latency?reset=1")).json()
                now = to_db_time(datetime.now(UTC))
                sql(db_path, "UPDATE outbox SET due_at = ? WHERE kind = 'statement'", now)
                await asyncio.sleep(3)
                await http.get(f"{base_url}/sim/latency?reset=1")
                sends0, t0 = await sends_ok(http, base_url), time.perf_counter()
                await asyncio.sleep(DURING)
                during = await (await http.get(f"{base_url}/sim/latency?reset=1")).json()
                sends1, t1 = await sends_ok(http, base_url), time.perf_counter()
                stats = await (await http.get(f"{base_url}/sim/stats")).json()
                await http.post(f"{base_url}/sim/stop")
                await stop_polling(app)
        finally:
            process.terminate()
            process.wait(timeout=10)
        refused = stats["calls"].get("sendMessage", 0) - stats["calls_ok"].get("sendMessage", 0)
        print(
            f"  limits on, {CROWD} workers answering (think 0.3-1.5 s):"
            f" broadcast at {(sends1 - sends0) / (t1 - t0):.1f} messages/s,"
            f" {refused} sends refused with 429"
        )
        for label, figures in (("before", before), ("during", during)):
            print(
                f"  press-to-next-task {label} the broadcast: {figures.get('count', 0)} presses,"
                f" p50 {figures.get('p50_ms')} ms, p95 {figures.get('p95_ms')} ms,"
                f" p99 {figures.get('p99_ms')} ms, max {figures.get('max_ms')} ms"
            )


if __name__ == "__main__":
    asyncio.run(main())
