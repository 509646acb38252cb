"""`python -m bot` (also the `petites-mains` command): run, load-pack, packs, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot import cli_earnings, cli_quality, redact
from bot.arguments import OneLineParser
from bot.settings import EXIT_BAD_SETTINGS, Settings, settings_or_exit

EXIT_REFUSED = 1
EXIT_UNREACHABLE = 3
log = logging.getLogger("bot")


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; expected failures end as one line on stderr and a non-zero exit."""
    from bot.output import OutputError
    from db import DatabaseUnavailable

    try:
        code = _main(argv)
        sys.stdout.flush()  # a reader gone by now (`... | head -3`) is caught below, not at exit
        return code
    except DatabaseUnavailable as exc:
        print(f"error: setting DATABASE_PATH: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    except OutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        # The reader went away (`... | head -1`): stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130


def _main(argv: Sequence[str] | None) -> int:
    parser = OneLineParser(
        prog="python -m bot", description="Petites Mains: fair, well-run annotation on Telegram."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the bot (long polling, or a webhook)")
    run.add_argument("--webhook", metavar="URL", help="public HTTPS URL Telegram calls")
    run.add_argument("--port", type=_port, default=8443, help="local port for the webhook")
    run.add_argument(
        "--listen",
        metavar="HOST",
        help="local address for the webhook (default: WEBHOOK_LISTEN, 127.0.0.1)",
    )

    load = commands.add_parser("load-pack", help="validate and load a task pack (JSON or JSONL)")
    load.add_argument("file", type=Path)
    load.add_argument(
        "--replace", action="store_true", help="update an existing pack (answers are kept)"
    )

    packs = commands.add_parser("packs", help="progress of every pack; pause, resume or close one")
    pack_actions = packs.add_subparsers(dest="pack_action", metavar="ACTION")
    for action, text in (
        ("pause", "hand out nothing new from PACK (open leases finish)"),
        ("resume", "hand out PACK's tasks again"),
        ("close", "stop PACK for good (open leases finish); needs --yes"),
        ("reaggregate", "learn PACK's workers' skills from every answer again (its labels)"),
    ):
        sub = pack_actions.add_parser(action, help=text)
        sub.add_argument("pack", metavar="PACK")
        if action == "close":
            sub.add_argument("--yes", action="store_true", help="yes, close it for good")

    demo = commands.add_parser("demo", help="the whole loop on a local simulator, no token")
    demo.add_argument("--workers", type=_workers, default=30, help="simulated workers, 1 to 500")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--keep", type=Path, help="keep the demo database at this path")

    # Feature commands (quality: disputes, export; earnings: statements, payouts, bonus).
    feature_commands: list[Any] = [cli_quality, cli_earnings]
    for feature in feature_commands:
        feature.add_commands(commands)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.command == "run" else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The transport keeps the token out of what it raises (bot/request.py); this filter keeps
    # it out of every log line too (PTB logs its base URL, token included, at DEBUG).
    redact.install()
    # Each scheduler run ("Running job ...", "... executed successfully") every few seconds at
    # INFO would drown what matters; the jobs log what they did themselves.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if args.command == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo(workers=args.workers, seed=args.seed, keep=args.keep))
    settings = settings_or_exit()
    redact.install([settings.bot_token])
    for feature in feature_commands:
        code: int | None = feature.run(args, settings)
        if code is not None:
            return code
    if args.command == "run":
        return run_bot(settings, args.webhook, args.port, args.listen or settings.webhook_listen)
    if args.command == "load-pack":
        return asyncio.run(load_pack_command(settings, args.file, args.replace))
    if getattr(args, "pack_action", None) == "reaggregate":
        return asyncio.run(cli_quality.reaggregate_command(settings, args.pack))
    if getattr(args, "pack_action", None):
        action = args.pack_action
        return asyncio.run(
            pack_status_command(settings, action, args.pack, getattr(args, "yes", False))
        )
    return asyncio.run(packs_command(settings))


def run_bot(settings: Settings, webhook: str | None, port: int, listen: str) -> int:
    from bot.app import build_application, run_until_stopped, start_polling, start_webhook
    from bot.webserver import Limits, ListenError

    if not settings.bot_token:
        print(
            "error: setting BOT_TOKEN: missing (ask @BotFather for a token, then"
            " export BOT_TOKEN=... or put it in .env)",
            file=sys.stderr,
        )
        return EXIT_BAD_SETTINGS
    # A bad DATABASE_PATH or an unreachable Bot API: one line each, before PTB starts.
    code = asyncio.run(_preflight(settings))
    if code:
        return code
    app = build_application(settings)
    if webhook is None:
        run_until_stopped(lambda: start_polling(app), app)
        return 0
    parsed = urlparse(webhook)
    # Telegram calls only https webhooks; a self-hosted Bot API server (--local) may call http.
    local_api = not settings.telegram_api_url.startswith("https://api.telegram.org")
    allowed = ("https", "http") if local_api else ("https",)
    if parsed.scheme not in allowed or not parsed.netloc:
        print(f"error: --webhook: not an https URL: {webhook!r}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        print("error: setting WEBHOOK_SECRET: use 1-256 of A-Z a-z 0-9 _ -", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    limits = Limits(max_connections=settings.webhook_max_connections)
    try:
        run_until_stopped(
            lambda: start_webhook(
                app,
                listen=listen,
                port=port,
                url_path=parsed.path.lstrip("/"),
                webhook_url=webhook,
                secret=secret,
                limits=limits,
            ),
            app,
        )
    except ListenError as exc:
        print(f"error: --listen/--port: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    return 0


CONNECT_ATTEMPTS = 5


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("petites-mains")
    except PackageNotFoundError:
        return "(not installed)"


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port from 1 to 65535: {text!r}")
    return int(text)


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 500:
        raise argparse.ArgumentTypeError(f"not a number of workers from 1 to 500: {text!r}")
    return int(text)


async def _preflight(
    settings: Settings, attempts: int = CONNECT_ATTEMPTS, first_delay: float = 1.0
) -> int:
    """Opens the database and asks the Bot API who the bot is, retrying a few times with one
    line each; says which bot runs on which database. The token never appears in the output."""
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.wiring import build_bot
    from db import Database

    async with Database(settings.database_path):
        pass
    bot = build_bot(settings)
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            async with bot:
                me = bot.bot
            log.info("bot @%s on database %s", me.username, settings.database_path)
            return 0
        except InvalidToken:
            print(
                "error: setting BOT_TOKEN: the Bot API refused this token (revoked or mistyped;"
                " ask @BotFather)",
                file=sys.stderr,
            )
            return EXIT_BAD_SETTINGS
        except (NetworkError, TelegramError, OSError) as exc:
            reason = redact.redact(str(exc) or type(exc).__name__, [settings.bot_token])
            if attempt == attempts:
                print(
                    f"error: cannot reach the Bot API at {settings.telegram_api_url} after"
                    f" {attempts} attempts: {reason}",
                    file=sys.stderr,
                )
                return EXIT_UNREACHABLE
            print(
                f"cannot reach the Bot API at {settings.telegram_api_url} ({reason});"
                f" retrying in {delay:.0f} s",
                file=sys.stderr,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
    return EXIT_UNREACHABLE


async def load_pack_command(settings: Settings, file: Path, replace: bool) -> int:
    from bot.progress import ProgressBar, format_load_report
    from db import Database
    from tasks.clock import Clock
    from tasks.packs import load_pack
    from tasks.packs.loading import CLI_STEP_ROWS
    from tasks.packs.reader import pack_file_problem

    problem = pack_file_problem(file)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_REFUSED
    bar = ProgressBar(file.stat().st_size, f"loading {file.name}")
    async with Database(settings.database_path) as db:
        report = await load_pack(
            db,
            file,
            replace=replace,
            clock=Clock(),
            on_progress=lambda b, _t, n: bar.update(b, n),
            step_rows=CLI_STEP_ROWS,
            paced=False,
        )
    bar.finish()
    print(format_load_report(report))
    return 0 if report.ok else EXIT_REFUSED


async def pack_status_command(settings: Settings, action: str, pack_id: str, yes: bool) -> int:
    """`packs pause|resume|close PACK`: one line saying what changed, exit 1 when refused."""
    from db import Database
    from tasks.clock import Clock
    from tasks.packs import set_pack_status

    if action == "close" and not yes:
        print(
            f"error: closing pack {pack_id} is for good (it cannot be resumed); nothing done."
            f" Run again with --yes to close it, or use 'packs pause {pack_id}'",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    async with Database(settings.database_path) as db:
        change = await set_pack_status(db, pack_id, action, clock=Clock())
    if not change.found:
        print(f"error: no pack {pack_id!r} (python -m bot packs lists them)", file=sys.stderr)
        return EXIT_REFUSED
    leases = (
        f"; {change.open_leases} open lease{'s' if change.open_leases != 1 else ''} may finish"
        if change.open_leases and change.after != "active"
        else ""
    )
    if change.changed:
        done = {"paused": "paused", "active": "resumed", "closed": "closed"}[change.after]
        tail = (
            ": its tasks are handed out again"
            if change.after == "active"
            else ": nothing new is handed out"
        )
        print(f"pack {pack_id} {done}{tail} (the bot sees it within a second){leases}")
        return 0
    if change.before == "closed" and action != "close":
        print(f"error: pack {pack_id} is closed; a closed pack stays closed", file=sys.stderr)
        return EXIT_REFUSED
    print(f"pack {pack_id} is already {change.before}{leases}")
    return 0


async def packs_command(settings: Settings) -> int:
    """Progress of every pack with its fair pay (median time per task, implied hourly rate),
    and a warning for each pack whose rate is below MIN_HOURLY_RATE."""
    from bot.progress import format_progress, media_off_notes
    from db import Database
    from tasks.earnings import EarningsService, round_to_cents
    from tasks.money import format_amount
    from tasks.packs import PackProgress, pack_progress

    async with Database(settings.database_path) as db:
        rows = await pack_progress(db)
        rates = await EarningsService(db, config=settings.earnings_config()).pack_rates(fresh=True)
    if not rows:
        print("no pack loaded yet (python -m bot load-pack FILE)")
        return 0
    by_id = {rate.pack_id: rate for rate in rates}

    def fair_pay(row: PackProgress) -> list[str]:
        rate = by_id.get(row.id)
        if rate is None:
            return ["-", "-", "off"]
        hourly, median = rate.hourly_micros, rate.median_seconds
        return [
            "-" if median is None else f"{median:.1f}",
            "-" if hourly is None else format_amount(round_to_cents(hourly), row.currency),
            "on" if rate.top_up else "off",
        ]

    print(format_progress(rows, ["median s/task", "rate/h", "top_up"], fair_pay))
    for note in media_off_notes(rows):
        print(note)
    floor = settings.min_hourly_rate
    for rate in rates:
        if rate.below_floor and rate.hourly_micros is not None:
            then = (
                "its workers get a top-up at statement time"
                if rate.top_up
                else "raise the reward, or set top_up: true to top workers up"
            )
            print(
                f"warning: pack {rate.pack_id} pays"
                f" {format_amount(round_to_cents(rate.hourly_micros), rate.currency)}/h at its"
                f" median pace, below MIN_HOURLY_RATE {floor} {rate.currency}/h: {then}"
            )
    return 0
