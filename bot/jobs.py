"""Scheduled work (PTB's JobQueue, APScheduler): the jobs only trigger; the truth is in SQLite."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.broadcast import Broadcaster
from handlers.delivery import send
from handlers.deps import KEY, Services, services
from handlers.render import new_work_screen
from tasks.statements import StatementService

log = logging.getLogger(__name__)

LEASE_CHECK_SECONDS = 5
NEW_WORK_CHECK_SECONDS = 15
STATEMENT_CHECK_SECONDS = 60
BROADCAST_KEY = "earnings.broadcast"


async def expire_leases(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Leases past their time go back to the pool."""
    count = await services(context).work.expire_leases()
    if count:
        log.info("%d expired leases returned to the pool", count)


async def tell_of_new_work(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Workers who ran out of work hear once that there is more (sends are paced)."""
    work = services(context).work
    for worker in await work.workers_to_tell_of_new_work():
        message = await send(context.bot, work, worker.id, new_work_screen(worker.language))
        if message is not None:
            await work.told_of_new_work(worker.id)


async def prune_updates(context: ContextTypes.DEFAULT_TYPE) -> None:
    await services(context).work.prune_processed_updates()


async def send_statements(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Computes the weeks that are due and sends the statements and notices due now.

    Only a trigger: what is due and what was sent are in SQLite. The sending runs as its own
    task (a broadcast can outlast many triggers); it stops between two sends when the bot stops.
    """
    app = context.application
    running: asyncio.Task[None] | None = app.bot_data.get(BROADCAST_KEY)
    if running is not None and not running.done():
        return
    app.bot_data[BROADCAST_KEY] = app.create_task(_broadcast(app), name="statements")


async def _broadcast(app: Application) -> None:  # type: ignore[type-arg]
    deps: Services = app.bot_data[KEY]
    earnings = deps.earnings
    statements = StatementService(earnings.db, earnings.settings(deps.zone), earnings.clock)
    try:
        for week, count in (await statements.compute_due()).items():
            log.info("statements of week %s computed: %d workers", week, count)
        report = await Broadcaster(app.bot, deps.work, statements).drain(lambda: app.running)
        if report.sent or report.blocked or report.failed:
            log.info("statements and notices: %s", report)
    except Exception:
        log.exception("statements: this round failed; the next trigger carries on")


def schedule(app: Application) -> None:  # type: ignore[type-arg]
    queue = app.job_queue
    assert queue is not None, "install python-telegram-bot[job-queue]"
    queue.run_repeating(expire_leases, interval=LEASE_CHECK_SECONDS, first=0, name="leases")
    queue.run_repeating(tell_of_new_work, interval=NEW_WORK_CHECK_SECONDS, first=1, name="new-work")
    queue.run_repeating(prune_updates, interval=3600, first=60, name="prune-updates")
    queue.run_repeating(
        send_statements, interval=STATEMENT_CHECK_SECONDS, first=1, name="statements"
    )


__all__: list[Any] = ["schedule"]
