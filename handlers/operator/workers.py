"""/workers (counts) and /worker ID (one worker's packs, trust, earnings, last activity), with
a button that bars the worker from tasks or lets them back (labelled Suspend and Reinstate; in
the code "bar" and "unbar", as "suspended" is the quality test's word): the bot asks for the
reason, and the worker is told it through the outbox within seconds."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import ContextTypes

from handlers import render
from handlers.deps import services
from handlers.earnings import money
from handlers.operator.access import (
    Action,
    answer_once,
    issue,
    operator_language,
    operator_or_refuse,
)
from handlers.render import Keyboard, esc
from handlers.texts import t
from tasks.conversation import AwaitedReply, ReplyKind
from tasks.operator.workers import SteerResult, WorkerRecord

Context = ContextTypes.DEFAULT_TYPE

PACKS_SHOWN = 15
# The two buttons' kinds, as operator_buttons.kind stores them (migration 014).
BAR_BUTTON, UNBAR_BUTTON = "worker_suspend", "worker_reinstate"
REASON_SECONDS = 600  # how long the bot waits for the reason


async def show_workers(update: Update, context: Context) -> None:
    """/workers: how many are active, barred by an operator, blocked."""
    operator = await operator_or_refuse(update, context, "/workers")
    if operator is None:
        return
    deps = services(context)
    lang = await operator_language(context, operator)
    counts = await deps.operators.workers.counts()
    text = t(
        lang,
        "workers_counts",
        total=counts.total,
        active=counts.active,
        barred=counts.barred,
        blocked=counts.blocked,
        recent=counts.answered_last_day,
    )
    await deps.presenter.say(operator, text)


async def show_worker(update: Update, context: Context) -> None:
    """/worker ID: one worker's record and the button that bars or unbars them."""
    operator = await operator_or_refuse(update, context, "/worker")
    if operator is None:
        return
    deps = services(context)
    lang = await operator_language(context, operator)
    args = context.args or []
    if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 18:
        await deps.presenter.say(operator, t(lang, "op_usage", usage="/worker ID"))
        return
    await _send_record(context, operator, int(args[0]), lang)


async def _send_record(context: Context, operator: int, worker_id: int, lang: str) -> None:
    deps = services(context)
    record = await deps.operators.workers.record(worker_id)
    if record is None:
        await deps.presenter.say(operator, t(lang, "worker_unknown", id=worker_id))
        return
    text = worker_text(record, lang, deps.zone)
    keyboard = await _keyboard(context, operator, record, lang)
    await deps.presenter.say(operator, (text, keyboard))


async def _keyboard(context: Context, operator: int, record: WorkerRecord, lang: str) -> Keyboard:
    """Suspend or Reinstate (bar or unbar): a question of one button (it asks for the reason
    once)."""
    worker_id = record.worker.id
    if record.worker.barred_at is None:
        label, kind = t(lang, "worker_bar_button"), BAR_BUTTON
    else:
        label, kind = t(lang, "worker_unbar_button"), UNBAR_BUTTON
    (data,) = await issue(context, operator, (kind, worker_id), one_shot=True)
    return (((label, data),),)


def worker_text(record: WorkerRecord, lang: str, zone: ZoneInfo) -> str:
    worker = record.worker
    if worker.barred_at is not None:
        state = t(lang, "worker_state_barred", reason=esc(worker.bar_reason or "-"))
    elif worker.blocked:
        state = t(lang, "worker_state_blocked")
    elif not worker.consented:
        state = t(lang, "worker_state_new")
    else:
        state = t(lang, "worker_state_active")
    lines = []
    for item in record.packs[:PACKS_SHOWN]:
        trust = "-" if item.trust is None else render.percent(item.trust, lang)
        lines.append(
            t(
                lang,
                "worker_pack_line",
                title=esc(render.shorten(item.title, 60)),
                answers=item.answers,
                trust=trust,
                standing=esc(item.state or "-"),
            )
        )
    return t(
        lang,
        "worker_card",
        name=esc(render.shorten(worker.name or "-", 60)),
        id=worker.id,
        username=f" @{esc(worker.username)}" if worker.username else "",
        state=state,
        earned=_amounts(record.earned, lang),
        unpaid=_amounts(record.unpaid, lang),
        last=_when(record.last_answer_at, lang, zone),
        seen=_when(worker.last_seen_at, lang, zone),
        packs="\n".join(lines) or t(lang, "worker_no_packs"),
    )


def _amounts(amounts: dict[str, int], lang: str) -> str:
    return ", ".join(money(v, c, lang) for c, v in sorted(amounts.items())) or "0"


def _when(stamp: str | None, lang: str, zone: ZoneInfo) -> str:
    if not stamp:
        return "-"
    return render.when(datetime.fromisoformat(stamp.replace("Z", "+00:00")), lang, zone)


async def ask_reason(update: Update, context: Context, action: Action, token: str) -> None:
    """Suspend or Reinstate (bar or unbar): the next message of this operator is the reason
    (an awaited reply, kept in the database: it survives a restart)."""
    lang = await answer_once(update, context, action, token)
    worker_id = int(action.args[0])
    kind = ReplyKind.BAR_REASON if action.kind == BAR_BUTTON else ReplyKind.UNBAR_REASON
    await services(context).replies.ask(action.operator_id, kind, worker_id, REASON_SECONDS)
    verb = t(lang, "action_bar" if action.kind == BAR_BUTTON else "action_unbar")
    text = t(lang, "worker_reason_prompt", action=verb, id=worker_id)
    await services(context).presenter.say(action.operator_id, text)


async def take_reason(update: Update, context: Context, awaited: AwaitedReply) -> None:
    """The reason an operator was asked for (taken by the text router): the worker is barred
    or unbarred."""
    message = update.effective_message
    operator = await operator_or_refuse(update, context, "a reason")
    if operator is None or message is None or message.text is None:
        return
    lang = await operator_language(context, operator)
    worker_id = awaited.ref
    desk = services(context).operators.workers
    if awaited.kind is ReplyKind.BAR_REASON:
        result = await desk.bar(operator, worker_id, message.text)
        done = "worker_barred_done"
    else:
        result = await desk.unbar(operator, worker_id, message.text)
        done = "worker_unbarred_done"
    key = {
        SteerResult.DONE: done,
        SteerResult.ALREADY: "worker_already",
        SteerResult.NO_REASON: "worker_no_reason",
        SteerResult.UNKNOWN: "worker_unknown",
    }[result]
    await services(context).presenter.say(operator, t(lang, key, id=worker_id))
