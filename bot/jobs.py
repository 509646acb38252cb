"""Scheduled work (PTB's JobQueue, APScheduler): the jobs only trigger; the truth is in SQLite."""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from handlers.delivery import send
from handlers.deps import services
from handlers.render import new_work_screen

log = logging.getLogger(__name__)

LEASE_CHECK_SECONDS = 5
NEW_WORK_CHECK_SECONDS = 15


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


def schedule(app: Application) -> None:  # type: ignore[type-arg]
    queue = app.job_queue
    assert queue is not None, "install python-telegram-bot[job-queue]"
    queue.run_repeating(expire_leases, interval=LEASE_CHECK_SECONDS, first=0, name="leases")
    queue.run_repeating(tell_of_new_work, interval=NEW_WORK_CHECK_SECONDS, first=1, name="new-work")
    queue.run_repeating(prune_updates, interval=3600, first=60, name="prune-updates")
