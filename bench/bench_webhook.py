"""Benchmark: Telegram's webhook calls while strangers hold slow connections
(bot/transport/webserver.py).

    python -m bench.bench_webhook [--slow 1000] [--calls 200]

The bot runs on a webhook in this process (against the simulator, default limits: at most 100
connections, 10 s for a request head). Child processes (their own descriptors) play the parts:
a *staller* opens --slow connections that each send half a request head and stall, a *caller*
is Telegram, posting --calls updates one after the other, each on a new connection (as a proxy
in front does), and timing each answer. The updates are `my_chat_member` (a worker blocked the
bot): stored in the inbox and handled with one database write, no Bot API call.

Three rounds (after one to warm up), each figure beside the floor (the first) as a ratio:
1. floor: no slow connections;
2. attack: --slow stalled connections first, then the calls; how many the server held at once,
   pushed out at the cap and closed at the header timeout, and the log lines it wrote;
3. out of descriptors: the process's open-file limit lowered (after the start) to what it has
   open plus 40, then 300 stalled connections and the calls: accept() fails with EMFILE.
Exits 1 if a call is not answered 200, a stalled connection outlives the header timeout, or the
server writes more than MAX_LOG_LINES lines in a round.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("PTB_TIMEDELTA", "1")

import aiohttp  # noqa: E402

from bot.app import RECEIVER_KEY, build_application, start_webhook, stop_polling  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.transport.webserver import ConnectionLimits, GuardedServer  # noqa: E402
from simulator import SimulatorServer  # noqa: E402

SECRET = "bench-secret"
HALF_HEAD = b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"
MAX_LOG_LINES = 5  # per round, from the server's loggers
FD_HEADROOM = 40  # round 3: descriptors left free under the lowered limit
SERVER_LOGGERS = ("bot.transport.webserver", "bot.transport.receive", "aiohttp", "asyncio")


class LineCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(SERVER_LOGGERS):
            self.lines.append(self.format(record))


def blocked_update(update_id: int, user_id: int) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "W"}
    bot = {"id": 123456, "is_bot": True, "first_name": "Petites Mains"}
    return {
        "update_id": update_id,
        "my_chat_member": {
            "chat": {"id": user_id, "type": "private", "first_name": "W"},
            "from": user,
            "date": 1_700_000_000,
            "old_chat_member": {"user": bot, "status": "member"},
            "new_chat_member": {"user": bot, "status": "kicked", "until_date": 0},
        },
    }


# -- the children


async def caller(url: str, calls: int, first_id: int) -> None:
    """Telegram: `calls` updates, one after the other, each on a new connection, once a line
    comes on stdin."""
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        for n in range(calls):
            update = blocked_update(first_id + n, 10_000 + n)
            started = time.perf_counter()
            async with http.post(url, json=update, headers=headers) as resp:
                await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
            latencies.append(time.perf_counter() - started)
    print(json.dumps({"latencies": latencies, "statuses": statuses}), flush=True)


async def staller(port: int, count: int) -> None:
    """Once a line comes on stdin, opens `count` connections that send half a head; says when;
    counts those the server closes; reports on each next line, and exits at stdin's end."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    closed = 0

    async def watch(reader: asyncio.StreamReader) -> None:
        nonlocal closed
        with contextlib.suppress(ConnectionError):
            while await reader.read(4096):
                pass
        closed += 1

    watchers = []
    while len(opened) < count:
        batch = min(50, count - len(opened))
        pairs = await asyncio.gather(
            *(asyncio.open_connection("127.0.0.1", port) for _ in range(batch)),
            return_exceptions=True,
        )
        for pair in pairs:
            if isinstance(pair, BaseException):
                continue
            reader, writer = pair
            writer.write(HALF_HEAD)
            opened.append((reader, writer))
            watchers.append(asyncio.create_task(watch(reader)))
        if all(isinstance(p, BaseException) for p in pairs):
            break
    print(json.dumps({"opened": len(opened)}), flush=True)
    while await loop.run_in_executor(None, sys.stdin.readline):
        print(json.dumps({"closed_by_server": closed}), flush=True)
    for _reader, writer in opened:
        writer.close()


# -- the rounds


#: The open-file limit at the start: a child gets it back when round 3 has lowered this one's.
START_NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)


def _start_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, START_NOFILE)


class Child:
    def __init__(self, *args: str) -> None:
        command = [sys.executable, "-m", "bench.bench_webhook", *args]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=_start_limit,
        )

    async def line(self) -> Any:
        assert self.process.stdout is not None
        text = await asyncio.to_thread(self.process.stdout.readline)
        return json.loads(text)

    async def ask(self) -> Any:
        """Tells the child to go on (start, or report), and returns what it says."""
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        return await self.line()

    def end(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else -1


def calls(url: str, count: int, first_id: int) -> Child:
    """A caller, started and waiting: `await calls_done(child)` makes and times its calls."""
    return Child(
        "--role", "caller", "--url", url, "--calls", str(count), "--first-id", str(first_id)
    )


async def calls_done(child: Child) -> tuple[dict[str, float], dict[str, int]]:
    result = await child.ask()
    child.end()
    return summary(result["latencies"]), {str(k): v for k, v in result["statuses"].items()}


async def run(slow: int, count: int) -> int:
    counter = LineCounter()
    logging.getLogger().addHandler(counter)
    logging.getLogger().setLevel(logging.INFO)
    failed = False
    async with SimulatorServer() as sim:
        with tempfile.TemporaryDirectory() as scratch:
            settings = load_settings(
                bot_token=sim.token,
                telegram_api_url=sim.base_url,
                database_path=Path(scratch) / "bench.sqlite3",
                _env_file=None,
            )
            app = build_application(settings, rate_limits=False)
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            url = f"http://127.0.0.1:{port}/hook"
            limits = ConnectionLimits()
            await start_webhook(
                app,
                listen="127.0.0.1",
                port=port,
                url_path="hook",
                webhook_url=url,
                secret=SECRET,
                limits=limits,
            )
            server: GuardedServer = app.bot_data[RECEIVER_KEY]._server
            try:
                print(
                    f"webhook at {url}: at most {server.limits.max_connections} connections,"
                    f" {limits.header_timeout:g} s for a request head; {count} calls a round,"
                    " each on a new connection"
                )
                # 1. floor, after a round to warm up (the database's first writes, the imports)
                await calls_done(calls(url, count, 900_000))
                counter.lines.clear()
                floor, statuses = await calls_done(calls(url, count, 1))
                print(f"1. floor: {fmt(floor)}; answers {statuses}")
                failed |= statuses != {"200": count}

                # 2. attack
                counter.lines.clear()
                before = _copy(server)
                stall = Child("--role", "staller", "--port", str(port), "--count", str(slow))
                opened = (await stall.ask())["opened"]
                held = server.open_connections
                attack, statuses = await calls_done(calls(url, count, 100_000))
                during = _delta(server, before)
                print(
                    f"2. {opened} stalled connections opened, the server held {held} of them"
                    f" (peak {server.stats.peak}); {fmt(attack, floor)}; answers {statuses}"
                )
                failed |= statuses != {"200": count}
                await asyncio.sleep(limits.header_timeout + 1.5)
                closed = (await stall.ask())["closed_by_server"]
                stall.end()
                after = _delta(server, before)
                print(
                    f"   pushed out at the cap: {after['pushed_out']} ({during['pushed_out']}"
                    f" by the time the calls were done); closed at the header timeout:"
                    f" {after['timed_out']}; closed by the server, as the staller saw:"
                    f" {closed}/{opened}; open now: {server.open_connections}"
                )
                print(f"   server log lines this round: {len(counter.lines)}")
                for line in counter.lines:
                    print(f"     {line[:160]}")
                failed |= closed != opened or len(counter.lines) > MAX_LOG_LINES

                # 3. out of descriptors
                counter.lines.clear()
                before = _copy(server)
                soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                # Both children start first: this process may not be able to, once full.
                stall = Child("--role", "staller", "--port", str(port), "--count", "300")
                telegram = calls(url, count, 200_000)
                in_use = open_descriptors()
                resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + FD_HEADROOM, hard))
                try:
                    opened = (await stall.ask())["opened"]
                    starved, statuses = await calls_done(telegram)
                    closed = (await stall.ask())["closed_by_server"]
                    stall.end()
                finally:
                    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
                during = _delta(server, before)
                print(
                    f"3. open-file limit lowered to {in_use + FD_HEADROOM} ({in_use} in use),"
                    f" {opened} stalled connections: {fmt(starved, floor)}; answers {statuses}"
                )
                print(
                    f"   accept() failures: {during['accept_errors']}; pushed out:"
                    f" {during['pushed_out']}; server log lines this round: {len(counter.lines)}"
                )
                for line in counter.lines:
                    print(f"     {line[:160]}")
                failed |= statuses != {"200": count} or len(counter.lines) > MAX_LOG_LINES
            finally:
                counter.lines.clear()
                await stop_polling(app)
    print(f"at the stop, what was counted and not yet said ({len(counter.lines)} lines):")
    for line in counter.lines:
        print(f"     {line[:200]}")
    return 1 if failed else 0


def _copy(server: GuardedServer) -> dict[str, int]:
    return dict(vars(server.stats))


def _delta(server: GuardedServer, before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in vars(server.stats).items()}


def fmt(figures: dict[str, float], floor: dict[str, float] | None = None) -> str:
    text = ", ".join(f"{k.removesuffix('_ms')} {v:.1f} ms" for k, v in figures.items())
    if floor is not None:
        ratio = figures["median_ms"] / floor["median_ms"]
        text += f" (median {ratio:.2f}x the floor)"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--slow", type=int, default=1000, help="stalled connections, round 2")
    parser.add_argument("--calls", type=int, default=200, help="Telegram's calls per round")
    parser.add_argument("--role", choices=["caller", "staller"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--first-id", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "caller":
        asyncio.run(caller(args.url, args.calls, args.first_id))
        return 0
    if args.role == "staller":
        asyncio.run(staller(args.port, args.count))
        return 0
    return asyncio.run(run(args.slow, args.calls))


if __name__ == "__main__":
    raise SystemExit(main())
