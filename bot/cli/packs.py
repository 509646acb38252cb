"""`python -m bot load-pack` and `packs` (the progress table; pause, resume, close)."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.cli.arguments import EXIT_REFUSED
from bot.settings import Settings


async def load_pack_command(settings: Settings, file: Path, replace: bool) -> int:
    from bot.cli.progress import ProgressBar, format_load_report
    from db import Database
    from tasks.clock import Clock
    from tasks.packs import load_pack
    from tasks.packs.lines import pack_file_problem
    from tasks.packs.loading import CLI_STEP_ROWS

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
    from bot.cli.progress import format_progress, media_off_notes
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
