"""Quality in Telegram: /score, the Dispute button and its comment, operators' /disputes with
accept/reject. What quality tells people on its own goes through the outbox (handlers/outbox.py)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from handlers import callbacks, render
from handlers.deps import Services, meet, services
from handlers.operator.access import operator_or_refuse
from handlers.render import esc
from handlers.texts import t
from tasks.conversation import AwaitedReply
from tasks.quality.disputes import DisputeOutcome, DisputeService, DisputeView
from tasks.quality.service import PackScore, QualityService

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

DISPUTES_SHOWN = 5


def quality(context: Context) -> QualityService:
    return services(context).quality


def disputes(context: Context) -> DisputeService:
    return services(context).disputes


async def show_score(update: Update, context: Context) -> None:
    """/score: the worker's standing on each pack, with the threshold and the rules."""
    me = await meet(update, context)
    deps = services(context)
    scores = await quality(context).score(me.id)
    await deps.presenter.say(me.id, score_text(scores, me.language, deps))


def score_text(scores: list[PackScore], language: str, deps: Services) -> str:
    """Each pack's standing in the sequential test's points: where the worker stands, how far
    from the pause line, the rule; and what the rule costs careful workers by bad luck."""
    if not scores:
        return t(language, "score_none")
    lines = [t(language, "score_header")]
    for score in scores:
        values: dict[str, Any] = {
            "pack": esc(score.pack_title),
            "retry": render.when(score.retry_at, language, deps.zone),
            "correct": score.train_correct,
            "total": score.train_total,
            "n": score.qualification,
            **render.points_values(score.test, language),
        }
        lines.append(t(language, f"score_{score.state}", **values))
    careful = max(score.test.careful_stopped for score in scores)
    lines += ["", t(language, "score_rules", careful=render.fine_percent(careful, language))]
    return "\n".join(lines)


async def dispute(update: Update, context: Context) -> None:
    """The Dispute button under a missed check question: recorded in one tap."""
    query = update.callback_query
    assert query is not None
    deps = services(context)
    parsed = callbacks.parse_dispute(query.data)
    if parsed is None:
        await deps.presenter.toast(query, t(deps.default_language, "invalid_toast"))
        return
    me = await deps.work.worker(query.from_user.id)
    lang = me.language if me else deps.default_language
    outcome = await disputes(context).open_dispute(query.from_user.id, parsed.assignment_id)
    if outcome is DisputeOutcome.NOT_ALLOWED:
        log.warning("refused dispute %r from user %s", query.data, query.from_user.id)
        await deps.presenter.toast(query, t(lang, "dispute_not_allowed_toast"))
        return
    if outcome is DisputeOutcome.ALREADY:
        await deps.presenter.toast(query, t(lang, "dispute_already_toast"))
        return
    await deps.presenter.toast(query, t(lang, "dispute_sent_toast"))
    await deps.presenter.drop_keyboard(query.message)
    await deps.presenter.say(query.from_user.id, t(lang, "dispute_sent"))


async def save_comment(update: Update, context: Context, awaited: AwaitedReply) -> None:
    """The comment of a dispute the worker just opened (taken by the text router)."""
    user = update.effective_user
    message = update.message
    if user is None or message is None or message.text is None:
        return
    me = await meet(update, context)
    deps = services(context)
    await disputes(context).comment(awaited.ref, message.text)
    await deps.presenter.say(user.id, t(me.language, "comment_saved"))


async def take_rejection_reason(update: Update, context: Context, awaited: AwaitedReply) -> None:
    """An operator's reason for rejecting a dispute (taken by the text router): the dispute is
    rejected and the worker receives the reason."""
    user = update.effective_user
    message = update.message
    if user is None or message is None or message.text is None:
        return
    me = await meet(update, context)
    deps = services(context)
    result = await disputes(context).reject(awaited.ref, message.text)
    key = "op_done" if result.ok else "op_failed"
    await deps.presenter.say(user.id, t(me.language, key, message=esc(result.message)))


async def list_disputes(update: Update, context: Context) -> None:
    """/disputes (operators only): open disputes with their accept and reject buttons; anyone
    else is answered like every operator command: the worker's help, logged."""
    user = update.effective_user
    deps = services(context)
    if user is None or await operator_or_refuse(update, context, "/disputes") is None:
        return
    me = await meet(update, context)
    lang = me.language
    views, flagged = await disputes(context).open_disputes()
    if not views:
        text = t(lang, "op_no_disputes")
        if flagged:
            text += "\n" + ", ".join(esc(f"{item.pack_id}/{item.task_id}") for item in flagged)
        await deps.presenter.say(user.id, text)
        return
    names = ", ".join(esc(f"{item.pack_id}/{item.task_id}") for item in flagged) or "-"
    header = t(lang, "op_disputes_header", n=len(views), flagged=names)
    await deps.presenter.say(user.id, header)
    for view in views[:DISPUTES_SHOWN]:
        await deps.presenter.say(user.id, dispute_screen(view, lang))
    if len(views) > DISPUTES_SHOWN:
        more = t(lang, "op_more", n=len(views) - DISPUTES_SHOWN)
        await deps.presenter.say(user.id, more)


def dispute_screen(view: DisputeView, language: str) -> render.Screen:
    text = t(
        language,
        "op_dispute",
        id=view.id,
        pack=esc(view.pack_id),
        task=esc(view.task_id),
        flag=t(language, "op_flagged") if view.flagged else "",
        text=esc(render.shorten(view.text, 500)),
        expected=esc(view.expected_label),
        answer=esc(view.answer_label),
        explanation=esc(view.explanation or "-"),
        comment=esc(view.comment or "-"),
    )
    keyboard = (
        ((t(language, "op_fix_button", label=view.answer_label[:30]), _review(view, "fix")),),
        (
            (t(language, "op_retire_button"), _review(view, "retire")),
            (t(language, "op_reject_button"), _review(view, "reject")),
        ),
    )
    return text, keyboard


def _review(view: DisputeView, action: str) -> str:
    return callbacks.review_data(view.id, action)


async def review(update: Update, context: Context) -> None:
    """An operator's button on a dispute: correct, retire, or reject (the reason comes next)."""
    query = update.callback_query
    assert query is not None
    deps = services(context)
    parsed = callbacks.parse_review(query.data)
    if parsed is None or query.from_user.id not in deps.operator_ids:
        log.warning("refused review %r from user %s", query.data, query.from_user.id)
        await deps.presenter.toast(query, t(deps.default_language, "invalid_toast"))
        return
    me = await deps.work.worker(query.from_user.id)
    lang = me.language if me else deps.default_language
    service = disputes(context)
    # The dispute's state makes its buttons one question, decided once: a press after it was
    # decided (a second Fix, Reject after Fix) changes nothing and says so; a Reject asks for
    # the reason only while the dispute is open.
    if parsed.action == "reject":
        asked = await service.ask_reason(query.from_user.id, parsed.dispute_id)
        await deps.presenter.toast(query)
        if asked.ok:
            text = t(lang, "op_reason_prompt", id=parsed.dispute_id)
        else:
            text = t(lang, "op_failed", message=esc(asked.message))
        await deps.presenter.say(query.from_user.id, text)
        return
    if parsed.action == "retire":
        result = await service.accept(parsed.dispute_id, retire=True)
    else:
        result = await service.accept(parsed.dispute_id)
    key = "op_done" if result.ok else "op_failed"
    await deps.presenter.toast(query)
    await deps.presenter.drop_keyboard(query.message)
    await deps.presenter.say(query.from_user.id, t(lang, key, message=esc(result.message)))
