"""`python -m bot` commands of the earnings features: statements, payouts, bonus, adjust.

statements preview [--week YYYY-Www]   what the week's statements say (writes nothing)
statements send [--week YYYY-Www]      compute what is due (or that week, due now): the bot sends it
payouts export --min AMOUNT [--currency EUR] [--out FILE]   recorded: each line names its export
payouts mark-paid FILE                 a line is recorded once, however the file was edited
bonus WORKER AMOUNT --reason "..." [--currency EUR] [--key KEY]
adjust WORKER AMOUNT --reason "..." [--currency EUR] [--key KEY]   negative: take money back
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import shlex
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.cli.arguments import EXIT_REFUSED, worker_id
from bot.cli.terminal import printable, terminal_safe
from bot.settings import Settings
from tasks.money import MAX_BONUS


def add_commands(commands: Any) -> None:
    """Adds this feature's subcommands to the CLI's subparsers."""
    statements = commands.add_parser("statements", help="weekly statements: preview or send")
    statements.add_argument("action", choices=("preview", "send"))
    statements.add_argument("--week", help="an ISO week, e.g. 2026-W48 (default: last week)")

    payouts = commands.add_parser("payouts", help="export unpaid balances, record payouts")
    actions = payouts.add_subparsers(dest="payouts_action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="CSV of workers owed at least --min")
    export.add_argument("--min", required=True, metavar="AMOUNT", help="e.g. 10.00")
    export.add_argument("--currency", help="only this currency (default: every one)")
    export.add_argument("--out", type=Path, help="write here instead of standard output")
    export.add_argument("--force", action="store_true", help="replace --out if it exists")
    mark = actions.add_parser(
        "mark-paid", help="record an exported file as paid (each line once, however edited)"
    )
    mark.add_argument("file", type=Path)

    bonus = commands.add_parser("bonus", help="grant a bonus; the reason is shown to the worker")
    bonus.add_argument("worker", type=worker_id, help="the worker's Telegram id")
    bonus.add_argument("amount", help=f"a decimal amount, e.g. 2.50 (at most {MAX_BONUS:,})")
    bonus.add_argument("--reason", required=True)
    bonus.add_argument("--currency", default="EUR")
    bonus.add_argument("--key", help="idempotency key (default: worker, amount, reason, date)")

    adjust = commands.add_parser(
        "adjust", help="correct a balance (negative: take back); the worker is told why"
    )
    adjust.add_argument("worker", type=worker_id, help="the worker's Telegram id")
    adjust.add_argument(
        "amount", help=f"a decimal amount, e.g. -2.50 (at most {MAX_BONUS:,} either way)"
    )
    adjust.add_argument("--reason", required=True, help="shown to the worker")
    adjust.add_argument("--currency", default="EUR")
    adjust.add_argument("--key", help="idempotency key (default: worker, amount, reason, date)")


def run(args: argparse.Namespace, settings: Settings) -> int | None:
    """Runs the command if it is one of this feature's (returns its exit code), else None."""
    if args.command == "statements":
        return asyncio.run(statements_command(settings, args.action, args.week))
    if args.command == "payouts" and args.payouts_action == "export":
        return export_command(settings, args.min, args.currency, args.out, args.force)
    if args.command == "payouts":
        return mark_paid_command(settings, args.file)
    if args.command in ("bonus", "adjust"):
        return asyncio.run(bonus_command(settings, args))
    return None


def plain(text: str) -> str:
    """A message's HTML as a terminal shows it."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def sums(by_currency: dict[str, int]) -> str:
    """'0.40 EUR + 1.00 USD' for the terminal (a currency from an old entry shown, not obeyed)."""
    from handlers.earnings import amounts

    return printable(plain(amounts(by_currency, "en")))


async def statements_command(settings: Settings, action: str, week_text: str | None) -> int:
    from db import Database
    from handlers.earnings import statement_screen
    from tasks.earnings import parse_week, shift_week, week_bounds, week_of
    from tasks.statements import StatementService, WeekNotOver

    config = settings.earnings_config()
    try:
        week = parse_week(week_text) if week_text else None
    except ValueError as exc:
        print(f"error: --week: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    async with Database(settings.database_path) as db:
        service = StatementService(db, config)
        last_closed = shift_week(week_of(service.clock.now(), config.zone), -1)
        if action == "preview":
            shown = week or last_closed
            preview = await service.preview(shown)
            start, end = week_bounds(shown, config.zone)
            print(
                f"week {shown} ({start.date()} to {end.date() - timedelta(days=1)},"
                f" {settings.timezone}):"
                f" {preview.workers:,} statements"
                + ("" if preview.ended else " so far (the week has not ended yet)")
            )
            print(f"  earned {sums(preview.earned)}, unpaid {sums(preview.unpaid)}")
            if preview.top_ups:
                print(f"  fair-pay top-ups still to add: {sums(preview.top_ups)}")
            if preview.counts:
                stored = ", ".join(
                    f"{n:,} {status}" for status, n in sorted(preview.counts.items())
                )
                print(f"  already stored: {stored}")
            if len(preview.samples) < preview.workers:
                print(f"  {len(preview.samples):,} of {preview.workers:,} statements shown")
            for sample in preview.samples:
                name = preview.names.get(sample.worker_id, "")
                named = f" ({printable(name)})" if name else ""  # as the worker wrote it
                print(f"\n--- worker {sample.worker_id}{named} ---")
                print(printable(plain(statement_screen(sample, "en")[0]), one_line=False))
            return 0
        if week is not None:
            if week in await _computed(db):
                print(f"week {week}: computed before, its statements are kept as they are")
            else:
                try:
                    inserted = await service.compute_week(week)
                except WeekNotOver as exc:
                    print(f"error: {exc}: statements are for finished weeks", file=sys.stderr)
                    return EXIT_REFUSED
                print(f"week {week}: {_computed_text(inserted)}")
            made_due = await service.make_due_now(week)
            print(
                f"week {week}: {_statements(made_due)} waiting for a later time made due now"
                if made_due
                else f"week {week}: no statement waiting for a later time"
            )
        else:
            done = await service.compute_due()
            if not done:
                print(f"no week to compute: {last_closed}, the last finished one, was done before")
                return 0
            for computed, count in done.items():
                print(f"week {computed}: {_computed_text(count)}")
        print(
            "the bot sends them from the outbox while it runs, paced (workers in quiet hours"
            " get theirs when they end)"
        )
        if week is not None:
            counts = await service.week_counts(week)
            states = ", ".join(f"{n:,} {s}" for s, n in sorted(counts.items()))
            print(f"week {week} in the outbox: {states or 'no statements'}")
    return 0


def _computed_text(count: int) -> str:
    if count == 0:
        return "no statements: no worker earned or was owed anything that week"
    return f"{_statements(count)} computed and queued"


def _statements(count: int) -> str:
    return f"{count:,} statement" + ("" if count == 1 else "s")


async def _computed(db: Any) -> list[str]:
    from db import statements as statements_db

    weeks: list[str] = await db.run_read(statements_db.computed_weeks)
    return weeks


def export_command(
    settings: Settings, minimum: str, currency: str | None, out: Path | None, force: bool
) -> int:
    from bot.cli.output import check_target, output_file
    from db import Database
    from tasks.money import MoneyError, currency_code, parse_amount, to_micros
    from tasks.payouts import PayoutExport, export_payouts, write_csv

    try:
        min_micros = to_micros(parse_amount(minimum))
    except MoneyError as exc:
        print(f"error: --min: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        if currency is not None:
            currency_code(currency)
    except MoneyError as exc:
        print(f"error: --currency: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if out is not None:  # a bad --out is refused before the database is read
        check_target(out, force=force, protected=[settings.database_path])

    async def owed() -> PayoutExport:
        async with Database(settings.database_path) as db:
            return await export_payouts(db, min_micros, currency)

    export = asyncio.run(owed())
    with output_file(out, force=force, protected=[settings.database_path]) as stream:
        write_csv(export.rows, terminal_safe(stream))
    for row in export.left_out:
        print(_left_out(row), file=sys.stderr)
    where = f" written to {out}" if out is not None else ""
    print(f"export {export.id}: {_workers(len(export.rows))}{where}", file=sys.stderr)
    return 0


def _workers(count: int) -> str:
    return f"{count:,} worker" + ("" if count == 1 else "s")


def _left_out(row: Any) -> str:
    """A balance in a currency that is not a code, recorded before currencies were checked:
    not written to the file (it would refuse it), with how to clear it."""
    from tasks.money import from_micros

    name = f" ({printable(row.name)})" if row.name else ""
    amount = f"{from_micros(row.amount_micros):f}"
    return printable(
        f"left out: worker {row.worker_id}{name} is owed {amount} in {row.currency!r}, not a"
        f" currency code (recorded before currencies were checked); to clear it: python -m bot"
        f" adjust {row.worker_id} -{amount} --currency {shlex.quote(row.currency)} --reason"
        " '...', then grant it again in a currency"
    )


def mark_paid_command(settings: Settings, file: Path) -> int:
    from db import Database
    from tasks.payouts import (
        MarkPaidReport,
        PayoutError,
        PayoutFileError,
        mark_paid,
        read_csv,
        shown_time,
    )

    async def record() -> MarkPaidReport:
        async with Database(settings.database_path) as db:
            return await mark_paid(db, rows)

    try:
        rows = read_csv(file)
        report = asyncio.run(record())
    except PayoutFileError as exc:
        print(f"error: {exc}; nothing recorded", file=sys.stderr)
        return EXIT_REFUSED
    except PayoutError as exc:
        print(f"refused, nothing recorded:\n{exc}", file=sys.stderr)
        return EXIT_REFUSED
    if not rows:
        print(f"{printable(str(file))} lists no payout: nothing recorded")
        return 0
    exports = ", ".join(report.exports()) or "a file from before exports were recorded"
    print(
        f"{exports}: {len(report.recorded):,} payouts recorded"
        f" ({sums(report.totals())}), {len(report.already):,} already recorded"
        " before (not recorded again); each worker paid is told by the bot"
    )
    if report.already and not report.recorded:
        count = len(report.already)
        lines = "the one line" if count == 1 else f"all {count:,} lines"
        print(
            f"{lines} of {printable(str(file))} {'was' if count == 1 else 'were'} recorded"
            " before: nothing recorded twice"
        )
    else:
        for item in report.already:
            row = item.row
            name = f" ({printable(row.name)})" if row.name else ""
            print(
                f"already recorded: line {row.line}, worker {row.worker_id}{name},"
                f" {sums({row.currency: row.amount_micros})}"
                f" on {shown_time(item.at)}"
            )
    return 0


async def bonus_command(settings: Settings, args: argparse.Namespace) -> int:
    """`bonus` and `adjust`: one ledger entry, once per key, and a notice to the worker."""
    from db import Database
    from tasks.money import MoneyError
    from tasks.payouts import PayoutError, adjust, grant_bonus, parse_bonus, unpaid_of

    record = grant_bonus if args.command == "bonus" else adjust
    what = "bonus" if args.command == "bonus" else "adjustment"
    try:
        micros = parse_bonus(args.amount)
        async with Database(settings.database_path) as db:
            result = await record(
                db,
                args.worker,
                micros,
                args.currency,
                args.reason,
                zone=settings.tz,
                key=args.key,
            )
            owed = await unpaid_of(db, args.worker)
    except (MoneyError, PayoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if result.created:
        print(f"{what} recorded (key {result.key}); the worker is told by the bot")
    else:
        print(f"already recorded (key {result.key}): nothing recorded twice")
    if what == "adjustment":
        print(f"worker {args.worker} is now owed {sums(owed)}")
    return 0
