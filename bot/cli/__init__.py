"""`python -m bot` (also the `petites-mains` command): the parser and the dispatch of every command.

One module per group of commands:

    run.py        run (long polling or a webhook), after a preflight
    packs.py      load-pack, packs (and pause, resume, close)
    quality.py    disputes, export, packs reaggregate
    earnings.py   statements, payouts, bonus, adjust
    (demo         bot/demo.py, on the simulator: a distribution of its own, simulator/)

and their tools: arguments.py (argument types, one-line errors, exit codes), output.py (files
written whole), progress.py (the progress bar and tables), terminal.py (worker text made safe).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot import redact
from bot.cli import earnings as earnings_commands
from bot.cli import packs as pack_commands
from bot.cli import quality as quality_commands
from bot.cli import run as run_command
from bot.cli.arguments import EXIT_REFUSED, OneLineParser
from bot.settings import EXIT_BAD_SETTINGS, settings_or_exit

# The demo runs on the Bot API simulator, a test and demo tool the bot's package does not carry.
SIMULATOR_MISSING = (
    "error: demo: the Telegram simulator is not installed (it is not part of the bot):"
    " pip install -e ./simulator from a clone, or run make demo"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; expected failures end as one line on stderr and a non-zero exit."""
    from bot.cli.output import OutputError
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
    feature_commands: list[Any] = [quality_commands, earnings_commands]
    for feature in feature_commands:
        feature.add_commands(commands)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.command == "run" else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The transport keeps the token out of what it raises (bot/transport/request.py); this
    # filter keeps it out of every log line too (PTB logs its base URL, token included, at DEBUG).
    redact.install()
    # Each scheduler run ("Running job ...", "... executed successfully") every few seconds at
    # INFO would drown what matters; the jobs log what they did themselves.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if args.command == "demo":
        try:
            from bot.demo import run_demo
        except ModuleNotFoundError as exc:
            if exc.name != "simulator":
                raise
            print(SIMULATOR_MISSING, file=sys.stderr)
            return EXIT_REFUSED
        return asyncio.run(run_demo(workers=args.workers, seed=args.seed, keep=args.keep))
    settings = settings_or_exit()
    redact.install([settings.bot_token])
    for feature in feature_commands:
        code: int | None = feature.run(args, settings)
        if code is not None:
            return code
    if args.command == "run":
        return run_command.run_bot(
            settings, args.webhook, args.port, args.listen or settings.webhook_listen
        )
    if args.command == "load-pack":
        return asyncio.run(pack_commands.load_pack_command(settings, args.file, args.replace))
    if getattr(args, "pack_action", None) == "reaggregate":
        return asyncio.run(quality_commands.reaggregate_command(settings, args.pack))
    if getattr(args, "pack_action", None):
        action = args.pack_action
        return asyncio.run(
            pack_commands.pack_status_command(
                settings, action, args.pack, getattr(args, "yes", False)
            )
        )
    return asyncio.run(pack_commands.packs_command(settings))


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
