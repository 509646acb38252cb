"""The bot token never reaches a text a person reads: the log, the database, a chat.

A server that misbehaves (tests/misbehaving.py: a bad status line, a bad Content-Length, a
redirect loop, a captive portal's page) stands between the real bot and the simulator. aiohttp's
errors for those hold the whole URL, `.../bot<TOKEN>/...`; the transport (bot/transport/request.py)
raises them with the token replaced, so the getUpdates warning, the error handler's traceback, the
inbox's and the outbox's error columns and an operator's chat never hold it. Operators read a
sentence and a reference to the log line. A self-hosted Bot API server in --local mode names a
file on its disk under a folder named after the token: the pack is read from there, and the path
is never shown.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.ext import MessageHandler, filters
from telegram.request import RequestData

import bot.jobs
from bot.app import INBOX_KEY, build_application, start_polling, stop_polling
from bot.cli.run import EXIT_UNREACHABLE, _preflight
from bot.redact import RedactingFilter, install, redact
from bot.settings import load_settings
from bot.transport.request import AiohttpRequest
from bot.wiring import build_bot
from db import Database, to_db_time
from db import outbox as outbox_db
from simulator import SimMessage, SimulatorServer
from tasks.clock import Clock
from tasks.packs import load_pack
from tests.helpers import pack_dict
from tests.misbehaving import KINDS, MisbehavingProxy

TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"  # the shape BotFather gives
SECRET = TOKEN.partition(":")[2]
OPERATOR = 900
WORKER = 1
REF = re.compile(r"ref ([0-9a-f]{6})")

Start = Callable[..., Awaitable[Any]]


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    """The simulator, knowing the bot by a token shaped like a real one."""
    async with SimulatorServer(token=TOKEN) as server:
        yield server


@pytest.fixture
async def proxy(sim: SimulatorServer) -> AsyncIterator[MisbehavingProxy]:
    async with MisbehavingProxy(sim.port) as server:
        yield server


@pytest.fixture
async def start(proxy: MisbehavingProxy, db_path: Path) -> AsyncIterator[Start]:
    """Starts the real bot, polling the simulator through the proxy. Sends are not retried
    (the limiter's retries would take half a minute per failed send; they change no text)."""
    running: list[Any] = []

    async def go(before_start: Callable[[Any], None] | None = None, **settings: Any) -> Any:
        app = build_application(
            load_settings(
                bot_token=TOKEN,
                telegram_api_url=proxy.base_url,
                database_path=db_path,
                _env_file=None,
                **settings,
            ),
            rate_limits=False,
        )
        if before_start is not None:
            before_start(app)
        await start_polling(app)
        running.append(app)
        return app

    yield go
    for app in running:
        if app.running:
            await stop_polling(app)


@pytest.fixture(autouse=True)
def quick_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.jobs, "SENDER_CHECK_SECONDS", 0.3)


async def until(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 10
) -> None:
    async with asyncio.timeout(timeout):
        while True:
            done = check()
            if not isinstance(done, bool):
                done = await done
            if done:
                return
            await asyncio.sleep(0.05)


def every_text_of(error: BaseException) -> str:
    """What any code could print of an exception: its traceback, and the text, repr and
    attributes of each exception in its chain (causes and contexts)."""
    texts = ["".join(traceback.format_exception(error))]
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        texts += [str(current), repr(current), repr(getattr(current, "__dict__", {}))]
        pending += [current.__cause__, current.__context__]
    return "\n".join(texts)


def chat_texts(sim: SimulatorServer, user_id: int) -> str:
    return "\n".join(e.message.text for e in sim.chat(user_id).events if e.message is not None)


def pack_bytes(pack_id: str = "reviews") -> bytes:
    return json.dumps(pack_dict(pack_id, 4), indent=1).encode()


# -- the transport, alone


@pytest.mark.parametrize("token", [TOKEN, "123456:SIMULATED"])
@pytest.mark.parametrize("kind", KINDS)
async def test_a_bot_api_call_raises_no_token_when_the_server_misbehaves(
    kind: str, token: str
) -> None:
    async with MisbehavingProxy(upstream_port=9) as proxy:
        proxy.misbehave("/bot", kind)
        request = AiohttpRequest()
        await request.initialize()
        try:
            with pytest.raises(TelegramError) as raised:
                await request.post(f"{proxy.base_url}/bot{token}/getMe", RequestData())
        finally:
            await request.shutdown()
    error = raised.value
    assert isinstance(error, NetworkError)
    if kind != "portal_page":  # (PTB's own error for a page that is not JSON keeps its cause)
        assert error.__cause__ is None and error.__context__ is None  # aiohttp's is not kept
    text = every_text_of(error)
    assert token not in text and token.partition(":")[2] not in text
    assert "<token>" in str(error)  # the URL (or the page quoting it) is there, redacted


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "portal_page"])
async def test_a_file_download_raises_no_token_when_the_server_misbehaves(kind: str) -> None:
    async with MisbehavingProxy(upstream_port=9) as proxy:
        proxy.misbehave("/file/bot", kind)
        request = AiohttpRequest()
        await request.initialize()
        try:
            with pytest.raises(NetworkError) as raised:
                url = f"{proxy.base_url}/file/bot{TOKEN}/documents/file_1.json"
                await request.stream_to(url, lambda chunk: True)
        finally:
            await request.shutdown()
    error = raised.value
    assert error.__cause__ is None and error.__context__ is None
    assert SECRET not in every_text_of(error)
    assert "/file/bot<token>/documents" in str(error) and "\n" not in str(error)


async def test_a_connect_timeout_raises_no_token(
    sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiohttp's ConnectionTimeoutError says "Connection timeout to host <the whole URL>"."""

    async def hangs(*args: Any, **kwargs: Any) -> Any:
        raise TimeoutError

    monkeypatch.setattr(aiohttp.TCPConnector, "connect", hangs)
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(TimedOut) as raised:
            await request.post(f"{sim.bot_base_url}{TOKEN}/getMe", RequestData())
    finally:
        await request.shutdown()
    assert "ConnectionTimeoutError" in str(raised.value)
    assert SECRET not in every_text_of(raised.value) and "<token>" in str(raised.value)


async def test_the_start_up_check_prints_no_token_when_the_server_sends_a_bad_status_line(
    proxy: MisbehavingProxy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(
        bot_token=TOKEN,
        telegram_api_url=proxy.base_url,
        database_path=tmp_path / "db.sqlite3",
        _env_file=None,
    )
    proxy.misbehave("/getMe", "bad_status_line")
    code = await _preflight(settings, attempts=2, first_delay=0.01)
    err = capsys.readouterr().err
    assert code == EXIT_UNREACHABLE
    assert SECRET not in err and "Bad status line" in err
    assert len(err.strip().splitlines()) == 2  # one line per try, as ever


# -- the running bot, through a server that misbehaves


@pytest.mark.parametrize("kind", KINDS)
async def test_token_never_reaches_the_log_when_get_updates_meets_a_misbehaving_server(
    kind: str,
    sim: SimulatorServer,
    proxy: MisbehavingProxy,
    start: Start,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    proxy.misbehave("/getUpdates", kind)
    await start()

    def warned() -> bool:
        return any("getUpdates round failed" in r.getMessage() for r in caplog.records)

    await until(warned)
    proxy.behave()
    sim.add_user(WORKER, "Ada", language_code="en")
    sim.send_text(WORKER, "/help")
    await sim.wait_for_text(WORKER, "how it works", timeout=10)  # and the bot carries on
    assert SECRET not in caplog.text
    assert "<token>" in caplog.text


@pytest.mark.parametrize("kind", KINDS)
async def test_token_never_reaches_the_error_handler_log_nor_the_inbox_when_a_reply_fails(
    kind: str,
    sim: SimulatorServer,
    proxy: MisbehavingProxy,
    start: Start,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def quick_retries(app: Any) -> None:
        app.bot_data[INBOX_KEY].retry_delays = (0.1, 0.1)

    caplog.set_level(logging.INFO)
    await start(before_start=quick_retries)
    proxy.misbehave("/sendMessage", kind)
    sim.add_user(WORKER, "Ada", language_code="en")
    update_id = sim.send_text(WORKER, "/help")

    async with Database(db_path) as db:

        async def set_aside() -> bool:
            rows = await db.query(
                "SELECT set_aside_at FROM inbox WHERE update_id = ?", (update_id,)
            )
            return bool(rows) and rows[0][0] is not None

        await until(set_aside)  # three attempts, each through the error handler
        rows = await db.query("SELECT error FROM inbox WHERE update_id = ?", (update_id,))
    error = rows[0][0]
    assert error.startswith("NetworkError: ") and "<token>" in error
    assert SECRET not in error
    handled = [r for r in caplog.records if r.getMessage().startswith("error while handling")]
    assert len(handled) == 3 and all(r.exc_info for r in handled)
    assert SECRET not in caplog.text and "<token>" in caplog.text


async def test_a_handler_error_that_quotes_a_token_is_kept_in_the_inbox_without_it(
    sim: SimulatorServer, start: Start, db_path: Path
) -> None:
    """Not the transport's: any error a handler raises (here one quoting a token of the shape
    BotFather gives) is kept seven days in inbox.error, and never with the token."""

    async def explode(update: Any, context: Any) -> None:
        raise RuntimeError(f"could not reach https://api.telegram.org/bot{TOKEN}/getMe")

    def poison(app: Any) -> None:
        app.add_handler(MessageHandler(filters.Regex("^poison$"), explode), group=-5)
        app.bot_data[INBOX_KEY].retry_delays = (0.1, 0.1)

    await start(before_start=poison)
    sim.add_user(WORKER, "Ada", language_code="en")
    update_id = sim.send_text(WORKER, "poison")
    async with Database(db_path) as db:

        async def failed() -> bool:
            rows = await db.query("SELECT error FROM inbox WHERE update_id = ?", (update_id,))
            return bool(rows) and rows[0][0] is not None

        await until(failed)
        rows = await db.query("SELECT error FROM inbox WHERE update_id = ?", (update_id,))
    assert rows[0][0] == "RuntimeError: could not reach https://api.telegram.org/bot<token>/getMe"


@pytest.mark.parametrize("kind", KINDS)
async def test_token_never_reaches_the_outbox_when_a_message_cannot_be_sent(
    kind: str,
    sim: SimulatorServer,
    proxy: MisbehavingProxy,
    start: Start,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    await start(quiet_hours="off")
    proxy.misbehave("/sendMessage", kind)
    sim.add_user(WORKER, "Ada", language_code="en").started = True
    now = to_db_time(Clock().now())

    def queue(tx: Any) -> None:
        tx.execute(
            "INSERT INTO workers (id, first_name, language, created_at, last_seen_at)"
            " VALUES (?, 'Ada', 'en', ?, ?)",
            (WORKER, now, now),
        )
        outbox_db.enqueue(
            tx,
            recipient=WORKER,
            kind="op_broadcast",
            params={"body": "Hello"},
            dedupe_key="secrets-test",
            now=now,
        )

    async with Database(db_path) as db:
        await db.run(queue)

        async def recorded() -> bool:
            rows = await db.query("SELECT last_error FROM outbox WHERE dedupe_key = 'secrets-test'")
            return rows[0][0] is not None

        await until(recorded)
        rows = await db.query("SELECT last_error FROM outbox WHERE dedupe_key = 'secrets-test'")
    error = rows[0][0]
    assert error.startswith("NetworkError: ") and "<token>" in error
    assert SECRET not in error
    assert SECRET not in caplog.text


@pytest.mark.parametrize("kind", KINDS)
async def test_an_operator_reads_a_sentence_and_a_reference_when_a_pack_download_fails(
    kind: str,
    sim: SimulatorServer,
    proxy: MisbehavingProxy,
    start: Start,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    await start(operator_ids=str(OPERATOR))
    sim.add_user(OPERATOR, "Olga", language_code="en")
    proxy.misbehave("/file/bot", kind)
    sim.send_document(OPERATOR, pack_bytes(), "reviews.json")
    reply = await sim.wait_for_text(OPERATOR, "could not be downloaded", timeout=15)
    assert reply.text == (
        "The file could not be downloaded from Telegram. Send it again; if it happens again,"
        f" the bot's log says why (ref {ref_of(reply)})."
    )
    logged = [r.getMessage() for r in caplog.records if f"(ref {ref_of(reply)})" in r.getMessage()]
    assert len(logged) == 1 and "not downloaded" in logged[0]
    assert SECRET not in chat_texts(sim, OPERATOR) and SECRET not in caplog.text

    proxy.behave()  # the same file, sent again, loads
    sim.send_document(OPERATOR, pack_bytes(), "reviews.json")
    await sim.wait_for_text(OPERATOR, "Pack reviews loaded.", timeout=15)


def ref_of(message: SimMessage) -> str:
    found = REF.search(message.text)
    assert found is not None, message.text
    return found.group(1)


async def test_an_operator_reads_a_sentence_and_a_reference_when_an_export_cannot_be_sent(
    sim: SimulatorServer,
    proxy: MisbehavingProxy,
    start: Start,
    db_path: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    pack = tmp_path / "reviews.json"
    pack.write_bytes(pack_bytes())
    async with Database(db_path) as db:
        assert (await load_pack(db, pack, clock=Clock())).ok
    await start(operator_ids=str(OPERATOR))
    sim.add_user(OPERATOR, "Olga", language_code="en")
    sim.send_text(OPERATOR, "/export reviews")
    menu = await sim.wait_for_text(OPERATOR, "which file", timeout=10)
    proxy.misbehave("/sendDocument", "bad_status_line")
    button = next(b for b in menu.buttons if b.text == "Results CSV")
    assert button.callback_data is not None
    sim.press(OPERATOR, menu.message_id, button.callback_data)
    reply = await sim.wait_for_text(OPERATOR, "could not be sent", timeout=10)
    assert reply.text == (
        "The file could not be sent. Try again; if it happens again, the bot's log says why"
        f" (ref {ref_of(reply)})."
    )
    assert any(f"(ref {ref_of(reply)})" in r.getMessage() for r in caplog.records)
    assert SECRET not in chat_texts(sim, OPERATOR) and SECRET not in caplog.text


# -- a self-hosted Bot API server in --local mode


async def test_a_pack_sent_to_a_local_mode_server_is_read_from_its_disk_and_the_path_never_shown(
    sim: SimulatorServer, start: Start, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    folder = tmp_path / "telegram-bot-api"
    sim.files.local_mode(folder)
    await start(operator_ids=str(OPERATOR))
    sim.add_user(OPERATOR, "Olga", language_code="en")
    sim.send_document(OPERATOR, pack_bytes(), "reviews.json")
    await sim.wait_for_text(OPERATOR, "Pack reviews loaded.", timeout=15)
    kept = list((folder / TOKEN).rglob("*.json"))
    assert len(kept) == 1  # the server's copy, read where it lies
    assert sim.calls["file download"] == 0  # (a --local server serves no downloads)
    shown = chat_texts(sim, OPERATOR) + caplog.text
    assert str(folder) not in shown and SECRET not in shown


async def test_a_local_mode_server_on_another_machine_gets_one_clear_line(
    sim: SimulatorServer, start: Start, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    folder = tmp_path / "elsewhere"
    sim.files.local_mode(folder, files_here=False)
    await start(operator_ids=str(OPERATOR))
    sim.add_user(OPERATOR, "Olga", language_code="en")
    sim.send_document(OPERATOR, pack_bytes(), "reviews.json")
    reply = await sim.wait_for_text(OPERATOR, "--local mode", timeout=15)
    assert reply.text == (
        "The Bot API server runs in --local mode and keeps its files where the bot cannot read"
        f" them: load this pack with python -m bot load-pack (ref {ref_of(reply)})."
    )
    shown = chat_texts(sim, OPERATOR) + caplog.text
    assert str(folder) not in shown and SECRET not in shown
    assert any(f"(ref {ref_of(reply)})" in r.getMessage() for r in caplog.records)


# -- the second line of defence: the log's filter, and the bot's repr


def test_the_log_filter_takes_tokens_out_of_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.secrets.filter")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    other = "987654321:" + "Zz9_-" * 7  # a token not given to the filter, of a token's shape
    try:
        install([TOKEN], logger)
        logger.info("calling %s", f"http://h/bot{TOKEN}/getMe")
        logger.info(f"the other bot: {other}")
        try:
            raise RuntimeError(f"boom at /file/bot{TOKEN.replace(':', '%3A')}/x")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert SECRET not in out and other.partition(":")[2] not in out
    assert out.count("<token>") == 3
    assert "Traceback" in out and "RuntimeError: boom at /file/bot<token>/x" in out


def test_the_log_filter_cleans_ptbs_own_debug_line_with_the_base_url() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter([TOKEN]))
    ptb = logging.getLogger("telegram")
    before = ptb.level
    ptb.addHandler(handler)
    ptb.setLevel(logging.DEBUG)
    try:
        build_bot(load_settings(bot_token=TOKEN, _env_file=None))  # logs "Set Bot API URL: ..."
    finally:
        ptb.removeHandler(handler)
        ptb.setLevel(before)
    out = stream.getvalue()
    assert "Set Bot API URL" in out and "/bot<token>" in out and SECRET not in out


def test_the_bot_object_does_not_show_its_token_in_its_repr() -> None:
    work_bot = build_bot(load_settings(bot_token=TOKEN, _env_file=None))
    assert SECRET not in repr(work_bot) and SECRET not in str(work_bot)
    assert repr(work_bot) == "WorkBot[id=110201543]"


def test_redact_replaces_the_token_whole_encoded_or_alone() -> None:
    text = f"a {TOKEN} b {TOKEN.replace(':', '%3A')} c {SECRET} d 110201543"
    assert redact(text, [TOKEN]) == "a <token> b <token> c <token> d 110201543"
