"""Every scheduled job of the bot (PTB's JobQueue, APScheduler), in one place. The jobs only
trigger; the truth is in SQLite."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.ext import Application, ContextTypes

from handlers.deps import KEY, Services, services
from handlers.outbox import OutboxSender
from handlers.render import new_work_screen
from tasks.packs.replacing import recover_loads
from tasks.quality.skills import REFRESH_CHECK_SECONDS, SkillService
from tasks.statements import StatementService

log = logging.getLogger(__name__)

LEASE_CHECK_SECONDS = 5
NEW_WORK_CHECK_SECONDS = 15
STATEMENT_CHECK_SECONDS = 60
SENDER_CHECK_SECONDS = 5
PACK_LOADS_CHECK_SECONDS = 60
SENDER_KEY = "outbox.sender"
SKILLS_KEY = "quality.skills"


async def expire_leases(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Leases past their time go back to the pool."""
    count = await services(context).work.expire_leases()
    if count:
        log.info("%d expired leases returned to the pool", count)


async def tell_of_new_work(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Workers who ran out of work hear once that there is more (sends are paced)."""
    deps = services(context)
    work = deps.work
    for worker in await work.workers_to_tell_of_new_work():
        message = await deps.presenter.say(worker.id, new_work_screen(worker.language))
        if message is not None:
            await work.told_of_new_work(worker.id)


async def compute_statements(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Computes the weeks that are due; each statement is queued in the outbox as it is."""
    deps = services(context)
    earnings = deps.earnings
    statements = StatementService(earnings.db, earnings.settings(deps.zone), earnings.clock)
    try:
        for week, count in (await statements.compute_due()).items():
            log.info("statements of week %s computed and queued: %d workers", week, count)
    except Exception:
        log.exception("statements: this round failed; the next trigger carries on")


async def refresh_skills(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Packs whose answers grew by a tenth since their last fit get their workers' skills
    learned again from every answer (tasks/quality/skills.py: the EM runs in a thread, the
    database is written in one short transaction); answer presses read them."""
    app = context.application
    service: SkillService | None = app.bot_data.get(SKILLS_KEY)
    if service is None:
        service = app.bot_data[SKILLS_KEY] = SkillService(services(context).work.db)
    try:
        for fit in await service.refresh_due():
            run = fit.run
            log.info(
                "skills of pack %s learned from %d answers in %.2f s",
                run.pack_pk,
                run.answers,
                run.seconds,
            )
    except Exception:
        log.exception("skills: this refresh failed; the next trigger carries on")


async def recover_pack_loads(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pack loads a crash left (tasks/packs/loading.py): a replace past its commit point is
    finished (its pack hands out nothing until then), any other is thrown away."""
    work = services(context).work
    try:
        count = await recover_loads(work.db, work.clock)
    except Exception:
        log.exception("pack loads left by a crash: this round failed; the next one carries on")
        return
    if count:
        work.forget_packs()
        log.info("%d pack loads left by a crash finished or thrown away", count)


async def keep_sender_running(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Starts the outbox sender (handlers/outbox.py), and again if it ever died. The sender
    runs as its own task while the bot runs: it polls the outbox and is woken by this process's
    own queuing, so a message is on its way within seconds whoever queued it."""
    app = context.application
    running: asyncio.Task[None] | None = app.bot_data.get(SENDER_KEY)
    if running is not None and not running.done():
        return
    app.bot_data[SENDER_KEY] = app.create_task(_run_sender(app), name="outbox-sender")


async def _run_sender(app: Application) -> None:  # type: ignore[type-arg]
    deps: Services = app.bot_data[KEY]
    sender = OutboxSender(deps.presenter, deps.outbox, deps.default_language)
    try:
        await sender.run(lambda: app.running)
    except Exception:
        log.exception("outbox sender stopped; restarted within %d s", SENDER_CHECK_SECONDS)
    finally:
        log.info("outbox sender stopped: %s", sender.report)


def schedule(app: Application) -> None:  # type: ignore[type-arg]
    queue = app.job_queue
    assert queue is not None, "install python-telegram-bot[job-queue]"
    queue.run_repeating(expire_leases, interval=LEASE_CHECK_SECONDS, first=0, name="leases")
    queue.run_repeating(tell_of_new_work, interval=NEW_WORK_CHECK_SECONDS, first=1, name="new-work")
    queue.run_repeating(
        compute_statements, interval=STATEMENT_CHECK_SECONDS, first=1, name="statements"
    )
    queue.run_repeating(refresh_skills, interval=REFRESH_CHECK_SECONDS, first=5, name="skills")
    # first=1, not 0: a first run due before the scheduler has started is missed (APScheduler's
    # misfire grace) and would wait a whole interval.
    queue.run_repeating(
        keep_sender_running, interval=SENDER_CHECK_SECONDS, first=1, name="outbox-sender"
    )
    queue.run_repeating(
        recover_pack_loads, interval=PACK_LOADS_CHECK_SECONDS, first=1, name="pack-loads"
    )


__all__: list[Any] = ["schedule"]
