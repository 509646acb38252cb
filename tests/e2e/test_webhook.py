"""Webhook mode: `python -m bot run --webhook URL` receives updates with the secret token; the
server (bot/transport/webserver.py) cannot be held by strangers' slow connections, and a hostile
body is a 400 (bot/transport/receive.py)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import RECEIVER_KEY, build_application, start_webhook, stop_polling
from bot.cli import main as cli_main
from bot.cli import run as run_command
from bot.settings import load_settings
from bot.transport.logbudget import MAX_KINDS, LogBudget
from bot.transport.receive import parse_update
from bot.transport.webserver import ConnectionLimits, GuardedServer
from db import Database
from simulator import SimulatorServer
from tests.helpers import cli, has_button, text_has


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(sim: SimulatorServer, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BOT_TOKEN": sim.token,
        "TELEGRAM_API_URL": sim.base_url,
        "DATABASE_PATH": str(tmp_path / "hook.sqlite3"),
        "WEBHOOK_SECRET": "s3cret-token",
        "PTB_TIMEDELTA": "1",
    }


def bot_command(url: str, port: int) -> list[str]:
    return [sys.executable, "-m", "bot", "run", "--webhook", url, "--port", str(port)]


async def test_updates_come_by_webhook_and_a_wrong_secret_is_refused(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    bot = subprocess.Popen(
        [*bot_command(url, port), "--listen", "127.0.0.1"],
        env=bot_env(sim, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sim.add_user(5, "Noor", language_code="en")
        sim.send_text(5, "/start")  # the simulator delivers it to the webhook, with the secret
        welcome = await sim.wait_for(5, has_button("consent"), timeout=20)
        assert welcome.message is not None and "Welcome" in welcome.message.text

        async with aiohttp.ClientSession() as http:
            forged = await http.post(
                url,
                json={"update_id": 999_999, "message": {}},
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            )
        assert forged.status == 403
    finally:
        bot.terminate()
        try:
            bot.wait(timeout=15)
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait()


# -- the server strangers cannot hold (bot/transport/webserver.py), hostile bodies (receive.py)

SECRET = "hook-secret"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
#: Half a request head, then nothing: what a stranger holding connections sends.
HALF_HEAD = b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"
#: Loggers whose lines a flood would multiply (the server's, aiohttp's, asyncio's).
SERVER_LOGGERS = ("bot.transport.webserver", "bot.transport.receive", "aiohttp", "asyncio")
#: A call that hangs fails the test in this time rather than aiohttp's default 5 minutes.
CALL_TIMEOUT = aiohttp.ClientTimeout(total=30)


@dataclass
class Hook:
    app: Any
    url: str
    port: int
    server: GuardedServer


@pytest.fixture
async def start_hook(sim: SimulatorServer, db_path: Path) -> AsyncIterator[Any]:
    """`await start_hook(ConnectionLimits(...))`: the bot on a webhook at 127.0.0.1 (in this
    process)."""
    apps: list[Any] = []

    async def start(limits: ConnectionLimits) -> Hook:
        settings = load_settings(
            bot_token=sim.token,
            telegram_api_url=sim.base_url,
            database_path=db_path,
            _env_file=None,
        )
        app = build_application(settings)
        apps.append(app)
        port = free_port()
        url = f"http://127.0.0.1:{port}/hook"
        await start_webhook(
            app,
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=url,
            secret=SECRET,
            limits=limits,
        )
        server = app.bot_data[RECEIVER_KEY]._server
        assert isinstance(server, GuardedServer)
        return Hook(app, url, port, server)

    yield start
    for app in apps:
        await stop_polling(app)


async def open_stalled(port: int, count: int, head: bytes = HALF_HEAD) -> list[Any]:
    """`count` connections that each send `head` and then nothing, opened 50 at a time."""
    opened: list[Any] = []
    while len(opened) < count:
        batch = min(50, count - len(opened))
        pairs = await asyncio.gather(
            *(asyncio.open_connection("127.0.0.1", port) for _ in range(batch))
        )
        for _reader, writer in pairs:
            writer.write(head)
        opened.extend(pairs)
    return opened


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """What the server sent before it closed the connection (waits for the close)."""
    received = b""
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(4096):
            received += chunk
    return received


def close_all(connections: list[Any]) -> None:
    for _reader, writer in connections:
        writer.close()


def update_from(sim: SimulatorServer, update_id: int) -> dict[str, Any]:
    """A real update (the last one the simulator made) under a new update_id."""
    return {**sim.updates.all_updates[-1], "update_id": update_id}


def server_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(SERVER_LOGGERS)]


async def test_slow_connections_cannot_hold_the_webhook_from_telegrams_calls(
    sim: SimulatorServer, start_hook: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # 5 s for a head: long enough that none of the 300 times out while they are being opened
    # on a busy machine (so that 200 of them must be pushed out at the cap).
    hook = await start_hook(ConnectionLimits(max_connections=100, header_timeout=5.0))
    sim.add_user(1, "Ada", language_code="en")
    sim.send_text(1, "/help")
    await sim.wait_for(1, text_has("how it works"), timeout=10)
    caplog.clear()

    stalled = await open_stalled(hook.port, 300)
    connector = aiohttp.TCPConnector(force_close=True)  # a new connection per call
    async with aiohttp.ClientSession(connector=connector, timeout=CALL_TIMEOUT) as http:
        for n in range(20):
            started = time.monotonic()
            async with http.post(
                hook.url, json=update_from(sim, 800_000 + n), headers=HEADERS
            ) as resp:
                assert resp.status == 200
            assert time.monotonic() - started < 5  # generous: bench/bench_webhook.py measures
    assert hook.server.stats.peak <= 100  # the cap held; the oldest stalled ones made room
    assert hook.server.stats.pushed_out >= 200

    # Every stalled connection is closed by the server: at the cap, or after the header timeout.
    leftovers = await asyncio.wait_for(
        asyncio.gather(*(closed_by_server(reader) for reader, _writer in stalled)), timeout=20
    )
    close_all(stalled)
    assert leftovers == [b""] * 300  # closed without a word (a stranger gets nothing)
    assert hook.server.stats.timed_out >= 1
    assert hook.server.open_connections == 0

    lines = server_lines(caplog)
    assert len(lines) <= 3, [r.getMessage() for r in lines]  # sums, not one line per connection
    assert not any(r.exc_info for r in lines)


async def test_a_kept_alive_connection_that_stalls_in_its_next_head_is_closed(
    start_hook: Any,
) -> None:
    hook = await start_hook(ConnectionLimits(header_timeout=1.0, idle_timeout=60.0))
    reader, writer = await asyncio.open_connection("127.0.0.1", hook.port)
    writer.write(b"GET /hook HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # a whole request: 405
    status = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    assert status.startswith(b"HTTP/1.1 405")
    await asyncio.wait_for(reader.read(4096), timeout=10)  # the body, if any
    started = time.monotonic()
    writer.write(HALF_HEAD)  # then half of the next one
    assert await asyncio.wait_for(closed_by_server(reader), timeout=30) == b""
    writer.close()
    assert time.monotonic() - started < 30  # the header timeout, not the 60 s idle one
    assert hook.server.stats.timed_out == 1


async def test_when_every_connection_is_in_a_request_new_ones_wait_for_a_free_place(
    sim: SimulatorServer, start_hook: Any
) -> None:
    hook = await start_hook(ConnectionLimits(max_connections=3, body_timeout=3.0))
    sim.add_user(1, "Ada", language_code="en")
    sim.send_text(1, "/help")
    await sim.wait_for(1, text_has("how it works"), timeout=10)
    # Three calls that bring the secret and a head, and then not the body they announced: in
    # a request, they are not pushed out; their body timeout frees the places.
    slow_body = (
        b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\nContent-Length: 100\r\n\r\n".encode()
        + b'{"update_id": 1'
    )
    busy = await open_stalled(hook.port, 3, slow_body)
    for _ in range(200):
        if hook.server.open_connections == 3 and not hook.server.waiting_connections:
            break
        await asyncio.sleep(0.05)
    assert hook.server.open_connections == 3 and not hook.server.waiting_connections

    async with aiohttp.ClientSession(timeout=CALL_TIMEOUT) as http:
        async with http.post(hook.url, json=update_from(sim, 900_001), headers=HEADERS) as resp:
            assert resp.status == 200  # served once a place was free, not refused
    answers = await asyncio.wait_for(
        asyncio.gather(*(closed_by_server(reader) for reader, _writer in busy)), timeout=20
    )
    close_all(busy)
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers)
    assert hook.server.stats.peak <= 3
    assert hook.server.stats.cap_pauses >= 1  # the fourth waited in the kernel's queue


DEEP = 100_000


def hostile_bodies() -> dict[str, bytes]:
    digits = "9" * 5000
    inside = f'{{"update_id": 5, "message": {{"date": {digits}}}}}'
    return {
        "a 5,000-digit update_id": f'{{"update_id": {digits}}}'.encode(),
        "a 5,000-digit number inside": inside.encode(),
        "nested 100,000 deep": b'{"update_id": 6, "x": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        "nested 100 deep": b'{"update_id": 7, "x": ' + b"[" * 100 + b"]" * 100 + b"}",
        "update_id true": b'{"update_id": true}',
        "update_id 0": b'{"update_id": 0}',
        "update_id -3": b'{"update_id": -3}',
        "update_id 2**63": b'{"update_id": 9223372036854775808}',
        "update_id 1.0": b'{"update_id": 1.0}',
        "update_id a string": b'{"update_id": "8"}',
        "no update_id": b'{"message": {}}',
        "a list": b'[{"update_id": 9}]',
        "not UTF-8": b'{"update_id": 10, "x": "\xff\xfe"}',
        "not JSON": b"update_id=11",
        "empty": b"",
    }


async def test_hostile_bodies_are_a_400_never_a_500(
    sim: SimulatorServer, start_hook: Any, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hook = await start_hook(ConnectionLimits())
    caplog.set_level(logging.INFO)
    statuses = {}
    async with aiohttp.ClientSession(timeout=CALL_TIMEOUT) as http:
        for name, body in hostile_bodies().items():
            headers = {**HEADERS, "Content-Type": "application/json"}
            async with http.post(hook.url, data=body, headers=headers) as resp:
                statuses[name] = resp.status
        # The largest update_id there may be is one, as is the smallest.
        for update_id in (2**63 - 1, 1):
            body = json.dumps({"update_id": update_id, "poll": None}).encode()
            async with http.post(hook.url, data=body, headers=headers) as resp:
                statuses[f"update_id {update_id}"] = resp.status
    assert statuses == {
        **dict.fromkeys(hostile_bodies(), 400),
        f"update_id {2**63 - 1}": 200,
        "update_id 1": 200,
    }
    assert not any(r.exc_info for r in server_lines(caplog))
    async with Database(db_path) as db:
        stored = {row[0] for row in await db.query("SELECT update_id FROM inbox")}
    assert {1, 2**63 - 1} <= stored and not stored & {5, 6, 7, 9, 10}


async def test_a_secret_header_that_is_not_utf8_is_a_403_not_a_500(start_hook: Any) -> None:
    hook = await start_hook(ConnectionLimits())
    reader, writer = await asyncio.open_connection("127.0.0.1", hook.port)
    writer.write(
        b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"X-Telegram-Bot-Api-Secret-Token: \xff\xfe\r\nContent-Length: 2\r\n\r\n{}"
    )
    status = await asyncio.wait_for(reader.readuntil(b"\r\n"), timeout=10)
    writer.close()
    assert status.startswith(b"HTTP/1.1 403")


@pytest.mark.parametrize(
    ("body", "update_id"),
    [
        (b'{"update_id": 1}', 1),
        (b'{"update_id": 9223372036854775807}', 2**63 - 1),
        (b'{"update_id": 9223372036854775808}', None),
        (b'{"update_id": 0}', None),
        (b'{"update_id": false}', None),
        (b'{"update_id": true}', None),
        (b'{"update_id": 3.0}', None),
        (b'{"update_id": "3"}', None),
        (b'{"update_id": null}', None),
        (b'{"update_id": 1' + b"0" * 5000 + b"}", None),
        (b'{"update_id": 2, "a": ' + b"[" * 63 + b"]" * 63 + b"}", 2),  # 64 deep
        (b'{"update_id": 2, "a": ' + b"[" * 64 + b"]" * 64 + b"}", None),  # 65 deep
        (b"[" * 10_000 + b"]" * 10_000, None),
        (b"\xff", None),
    ],
)
def test_parse_update_takes_only_an_object_with_a_positive_63_bit_update_id(
    body: bytes, update_id: int | None
) -> None:
    data = parse_update(body)
    assert (data["update_id"] if data is not None else None) == update_id


async def ping(request: web.Request) -> web.Response:
    return web.Response(text="pong")


@pytest.fixture
async def bare_server() -> AsyncIterator[Any]:
    """`await bare_server(ConnectionLimits(...))`: the guarded server alone, on a port of its
    choosing, serving GET /ping."""
    servers: list[GuardedServer] = []

    async def start(limits: ConnectionLimits) -> GuardedServer:
        app = web.Application()
        app.router.add_get("/ping", ping)
        server = GuardedServer(app, limits)
        servers.append(server)
        await server.start("127.0.0.1", 0)
        return server

    yield start
    for server in servers:
        await server.stop()


async def test_out_of_file_descriptors_accept_pauses_and_logs_once_per_interval(
    bare_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = await bare_server(ConnectionLimits(accept_retry=0.01))
    stalled = await open_stalled(server.port, 1)
    for _ in range(200):
        if server.waiting_connections == 1:
            break
        await asyncio.sleep(0.01)
    caplog.set_level(logging.INFO)
    failures = 0
    real_accept = server.accept

    def out_of_descriptors(sock: socket.socket) -> tuple[socket.socket, Any]:
        nonlocal failures
        if failures < 100:  # as accept() fails while the process is at `ulimit -n`
            failures += 1
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))
        return real_accept(sock)

    server.accept = out_of_descriptors
    async with aiohttp.ClientSession(timeout=CALL_TIMEOUT) as http:
        async with http.get(f"http://127.0.0.1:{server.port}/ping") as resp:
            assert resp.status == 200 and await resp.text() == "pong"
    assert failures == 100 and server.stats.accept_errors == 100
    # The stalled connection was closed to free a descriptor (and only it was waiting).
    assert await asyncio.wait_for(closed_by_server(stalled[0][0]), timeout=10) == b""
    close_all(stalled)
    assert server.stats.pushed_out == 1
    assert len(server_lines(caplog)) <= 1  # the first failure, at once; the rest are counted
    await server.stop()
    lines = server_lines(caplog)
    assert 1 <= len(lines) <= 2, [r.getMessage() for r in lines]
    assert not any(r.exc_info for r in lines)  # asyncio's own accept: 100 tracebacks
    assert "Too many open files" in lines[0].getMessage()
    assert sum(n for kind, n in server.tally.totals.items() if "accept()" in kind) == 100


async def test_malformed_requests_do_not_write_a_traceback_each(
    bare_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = await bare_server(ConnectionLimits())
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    for _ in range(50):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n")
        answer = await asyncio.wait_for(closed_by_server(reader), timeout=10)
        writer.close()
        assert answer.startswith((b"HTTP/1.0 400", b"HTTP/1.1 400"))
    errors = [r for r in caplog.records if r.name == "aiohttp.server" and r.levelno >= 40]
    assert len(errors) <= 1  # aiohttp writes one traceback per malformed request


def test_a_log_budget_lets_one_line_per_interval_through_and_counts_the_rest() -> None:
    now = 0.0
    budget = LogBudget(60.0, 1, clock=lambda: now)
    assert budget.take("accept") == 0
    assert [budget.take("accept") for _ in range(5)] == [None] * 5
    assert budget.take("timeout") == 0  # each kind has its own budget
    now = 59.9
    assert budget.take("accept") is None
    now = 60.0
    assert budget.take("accept") == 6  # the next line says how many were not written
    assert budget.take("accept") is None
    # A message made anew each time (an f-string) cannot make the budget grow without end.
    counted = [budget.take(f"kind {n}") for n in range(MAX_KINDS * 2)]
    assert counted.count(0) <= MAX_KINDS + 1


def test_the_webhook_listens_on_127_0_0_1_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("WEBHOOK_LISTEN", "WEBHOOK_MAX_CONNECTIONS"):
        monkeypatch.delenv(name, raising=False)
    asked: list[tuple[str, int]] = []

    def run_bot(settings: Any, webhook: str | None, port: int, listen: str) -> int:
        asked.append((listen, settings.webhook_max_connections))
        return 0

    monkeypatch.setattr(run_command, "run_bot", run_bot)
    webhook = ["run", "--webhook", "https://example.org/tg"]
    assert cli_main(webhook) == 0
    monkeypatch.setenv("WEBHOOK_LISTEN", "0.0.0.0")
    monkeypatch.setenv("WEBHOOK_MAX_CONNECTIONS", "250")
    assert cli_main(webhook) == 0
    assert cli_main([*webhook, "--listen", "::1"]) == 0
    monkeypatch.setenv("WEBHOOK_LISTEN", "[::1]")
    assert cli_main(webhook) == 0
    assert asked == [("127.0.0.1", 100), ("0.0.0.0", 250), ("::1", 250), ("::1", 250)]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("WEBHOOK_LISTEN", " ", "setting WEBHOOK_LISTEN: not a local address"),
        ("WEBHOOK_MAX_CONNECTIONS", "0", "setting WEBHOOK_MAX_CONNECTIONS:"),
    ],
)
def test_a_bad_webhook_setting_is_one_line(
    name: str, value: str, says: str, tmp_path: Path
) -> None:
    done = cli(
        "run", "--webhook", "https://example.org/tg", db=tmp_path / "x.sqlite3", **{name: value}
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {says}") and done.stderr.count("\n") == 1


async def test_a_port_in_use_is_one_line_not_a_traceback(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = await asyncio.create_subprocess_exec(
            *bot_command(f"http://127.0.0.1:{port}/telegram", port),
            env=bot_env(sim, tmp_path),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(bot.communicate(), timeout=60)
    assert bot.returncode == 2
    errors = [line for line in err.decode().splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: --listen/--port: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
    assert "Traceback" not in err.decode()


async def test_under_a_low_open_file_limit_slow_connections_do_not_flood_the_log(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    """The issue's case: 300 half-sent requests against a bot whose `ulimit -n` is 256 (before:
    accept() out of descriptors, thousands of tracebacks a second, Telegram's calls refused)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"

    def low_limit() -> None:
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    bot = subprocess.Popen(
        bot_command(url, port),
        env=bot_env(sim, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=low_limit,
    )
    stalled: list[Any] = []
    try:
        sim.add_user(5, "Noor", language_code="en")
        sim.send_text(5, "/help")  # the webhook is up once this is answered
        await sim.wait_for(5, text_has("how it works"), timeout=30)
        stalled = await open_stalled(port, 300, b"POST /telegram HTTP/1.1\r\nHost: x\r\n")
        sim.send_text(5, "/start")  # Telegram's call, among them
        welcome = await sim.wait_for(5, has_button("consent"), timeout=20)
        assert welcome.message is not None and "Welcome" in welcome.message.text
        await asyncio.sleep(1.0)  # a flood, if there were one, would be thousands of lines by now
    finally:
        close_all(stalled)
        bot.terminate()
        try:
            _, err = bot.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            bot.kill()
            _, err = bot.communicate()
    log = err.decode()
    assert "Traceback" not in log and "Too many open files" not in log
    assert len(log.splitlines()) < 40, log[-3000:]
    assert "connections closed to make room at the cap of 100" in log
