"""`python -m bot` commands of the quality features:

    python -m bot disputes [list]                            open disputes, gold under review
    python -m bot disputes accept ID [--correct OPTION | --retire]
    python -m bot disputes reject ID --reason "..."
    python -m bot disputes review PACK TASK (--keep | --correct OPTION | --retire)
    python -m bot export PACK --format csv|jsonl [--raw] [--out FILE]
    python -m bot packs reaggregate PACK                     skills learned again, labels

They call the same use cases as the operators' buttons in Telegram; workers are told by the bot
(the messages wait in the database's outbox until the running bot sends them).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.cli.arguments import EXIT_REFUSED, OneLineParser, dispute_id
from bot.cli.terminal import printable, terminal_safe
from bot.settings import Settings


def add_commands(commands: Any) -> None:
    """Adds this feature's subcommands to the CLI's subparsers."""
    disputes = commands.add_parser(
        "disputes",
        help="list, accept or reject disputes on gold",
        description="Without an action, or with `list`: the open disputes and gold under review.",
    )
    actions = disputes.add_subparsers(
        dest="dispute_action", metavar="ACTION", parser_class=OneLineParser
    )
    actions.add_parser("list", help="open disputes and gold under review (the default)")
    accept = actions.add_parser("accept", help="the worker was right: correct or retire the gold")
    accept.add_argument("id", type=dispute_id)
    how = accept.add_mutually_exclusive_group()
    how.add_argument("--correct", metavar="OPTION", help="the right option (default: the worker's)")
    how.add_argument("--retire", action="store_true", help="retire the gold item")
    reject = actions.add_parser("reject", help="the gold answer stands; the worker gets the reason")
    reject.add_argument("id", type=dispute_id)
    reject.add_argument("--reason", required=True)
    review = actions.add_parser("review", help="review a gold item flagged for review")
    review.add_argument("pack")
    review.add_argument("task")
    verdict = review.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--keep", action="store_true", help="the gold answer is right")
    verdict.add_argument("--correct", metavar="OPTION")
    verdict.add_argument("--retire", action="store_true")

    export = commands.add_parser("export", help="a pack's results or raw answers (CSV or JSONL)")
    export.add_argument("pack")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("--raw", action="store_true", help="one row per answer (crowd-kit)")
    export.add_argument("--out", type=Path, help="write to this file (default: stdout)")
    export.add_argument("--force", action="store_true", help="replace --out if it exists")


def run(args: argparse.Namespace, settings: Settings) -> int | None:
    """Runs the command if it is one of this feature's (returns its exit code), else None."""
    if args.command == "disputes":
        return asyncio.run(disputes_command(args, settings))
    if args.command == "export":
        return asyncio.run(export_command(args, settings))
    return None


async def disputes_command(args: argparse.Namespace, settings: Settings) -> int:
    from db import Database
    from tasks.quality.control import QualityControl
    from tasks.quality.disputes import DisputeService

    async with Database(settings.database_path) as db:
        service = DisputeService(db, QualityControl())
        action = args.dispute_action
        if action in (None, "list"):
            views, flagged = await service.open_disputes()
            print(format_disputes(views, flagged))
            return 0
        if action == "accept":
            result = await service.accept(args.id, correct=args.correct, retire=args.retire)
        elif action == "reject":
            result = await service.reject(args.id, args.reason)
        else:
            verdict = "keep" if args.keep else ("retire" if args.retire else "correct")
            result = await service.review(args.pack, args.task, verdict, args.correct)
    message = printable(result.message, one_line=False)
    print(
        message if result.ok else f"error: {message}",
        file=sys.stdout if result.ok else sys.stderr,
    )
    return 0 if result.ok else EXIT_REFUSED


def format_disputes(views: list[Any], flagged: list[Any]) -> str:
    """Open disputes for a terminal: what workers wrote (their comments) and what packs hold
    (task texts and ids) pass through `printable`, so no text can drive the terminal."""
    lines = []
    if not views:
        lines.append("no open dispute")
    for view in views:
        flag = " [gold under review]" if view.flagged else ""
        where = printable(f"{view.pack_id}/{view.task_id}")
        lines.append(f"#{view.id}  {where}{flag}  worker {view.worker_id}")
        lines.append(f"    text:     {printable(view.text[:200])}")
        expected, answer = printable(view.expected), printable(view.answer)
        lines.append(f"    expected: {expected}   worker answered: {answer}")
        if view.comment:
            lines.append(f"    comment:  {printable(view.comment)}")
    if flagged:
        lines.append("")
        lines.append("gold flagged for review (not counting until reviewed):")
        lines += [
            f"    {printable(f'{item.pack_id}/{item.task_id}')} (gold {printable(item.gold)})"
            for item in flagged
        ]
    if views or flagged:
        lines.append("")
        lines.append(
            "accept ID [--correct OPTION | --retire] | reject ID --reason TEXT"
            " | review PACK TASK --keep|--correct OPTION|--retire"
        )
    return "\n".join(lines)


async def export_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.output import output_file
    from db import Database
    from tasks.export import UnknownPack, check_pack, export_pack

    async with Database(settings.database_path) as db:
        try:
            # The pack is looked up before the output is opened: a mistyped pack id leaves an
            # existing file as it was (and makes no temporary file).
            await check_pack(db, args.pack)
            with output_file(args.out, force=args.force, protected=[settings.database_path]) as out:
                count = await export_pack(
                    db, args.pack, terminal_safe(out), fmt=args.format, raw=args.raw
                )
        except UnknownPack:
            print(f"error: no pack {args.pack!r} (python -m bot packs lists them)", file=sys.stderr)
            return EXIT_REFUSED
    if args.out is not None:
        print(f"{count.rows} rows written to {args.out}", file=sys.stderr)
    if count.method is not None:
        print(f"labels: {count.method}, computed {count.computed_at}", file=sys.stderr)
    return 0


async def reaggregate_command(settings: Settings, pack_id: str) -> int:
    """`packs reaggregate PACK`: the pack's workers' skills learned again from every answer
    (stored, as the bot's background refresh does), and what it says about the labels."""
    from db import Database
    from db import packs as packs_db
    from db import skills as skills_db
    from tasks.quality.skills import SkillService, changed_labels

    async with Database(settings.database_path) as db:
        pack = await db.run_read(packs_db.pack_by_id, pack_id)
        if pack is None:
            print(f"error: no pack {pack_id!r} (python -m bot packs lists them)", file=sys.stderr)
            return EXIT_REFUSED
        fit = await SkillService(db).refresh(pack)
        if fit is None:
            print(
                f"pack {pack_id} is a {pack.type} pack: its results need no fit (the medoid,"
                " weighed by the gold accuracy, computed at each export)"
            )
            return 0
        press = await db.run_read(skills_db.press_labels, pack.pk)
    run = fit.run
    print(
        f"pack {pack_id} re-aggregated ({run.method}): {run.answers:,} answers"
        f" ({run.gold_answers:,} on gold) from {run.workers:,} workers on {run.tasks:,} tasks,"
        f" {run.iterations} iterations, {run.seconds:.2f} s; computed {run.computed_at}"
    )
    changed, compared = changed_labels(pack, fit, press)
    if compared:
        print(
            f"labels that differ from the ones set at each press: {changed:,} of {compared:,}"
            f" tasks (python -m bot export {pack_id} writes the new ones)"
        )
    return 0
