"""An operator sends a pack file as a document: it streams to a temporary file, is validated and
loaded all or nothing, and the answer is every error with its line or the pack's summary (a pack
id that exists is replaced only after the operator confirms)."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from decimal import Decimal
from logging import ERROR
from pathlib import Path

from telegram import Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from handlers import render
from handlers.deps import services
from handlers.incidents import logged
from handlers.operator.access import (
    ACTION_SECONDS,
    Action,
    issue,
    operator_language,
    operator_or_refuse,
)
from handlers.operator.help import megabytes
from handlers.render import esc, visible_length
from handlers.telegram_bot import LocalFileUnreadable, WorkBot
from handlers.texts import t
from tasks.money import format_amount
from tasks.operator.upload import LoadSummary, UploadCheck, UploadOutcome, upload_problem
from tasks.telegram_limits import MESSAGE_UNITS

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

UPLOAD_PREFIX = "petites-mains-upload-"
CHECKING_NOTICE_BYTES = 1024 * 1024  # a bigger file gets "Checking..." before its answer
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def _upload_folder() -> Path:
    """A temporary folder for one file, removed once the file is loaded, refused or (a
    replace) confirmed or cancelled; one left by a question never answered (or a crash) is
    removed by a later upload once its button has expired."""
    root = Path(tempfile.gettempdir())
    limit = time.time() - ACTION_SECONDS
    for old in root.glob(f"{UPLOAD_PREFIX}*"):
        try:
            if old.stat().st_mtime < limit:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue
    return Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX))


def _safe_name(name: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    stem = _UNSAFE.sub("_", stem if dot else name)[:80].lstrip(".") or "pack"
    return f"{stem}.{_UNSAFE.sub('_', suffix).lower()}" if dot else stem


async def receive_pack(update: Update, context: Context) -> None:
    """A document: an operator's pack file (anyone else gets the worker's help)."""
    message = update.effective_message
    operator = await operator_or_refuse(update, context, "a document upload")
    if operator is None or message is None or message.document is None:
        return
    deps = services(context)
    lang = await operator_language(context, operator)
    document = message.document
    limit = deps.operators.upload_limit
    problem = upload_problem(document.file_name, document.file_size, limit)
    if problem is not None:
        await _say(context, operator, _problem_text(problem, lang, document.file_size, limit))
        return
    folder = _upload_folder()
    path = folder / _safe_name(document.file_name or "pack")
    check = UploadCheck(limit)
    try:
        with path.open("wb") as out:

            def write(chunk: bytes) -> bool:
                if check.feed(chunk):
                    out.write(chunk)
                    return True
                return False

            assert isinstance(context.bot, WorkBot)
            await context.bot.download_file(document.file_id, write)
    except TelegramError as exc:  # the operator reads a sentence; the details go to the log
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, BadRequest) and "too big" in str(exc).lower():
            text = _problem_text("too_big", lang, document.file_size, limit)
        else:
            what = "pack file %r of operator %s not downloaded"
            ref = logged(log, exc, what, document.file_name, operator)
            key = "up_local_unreadable" if isinstance(exc, LocalFileUnreadable) else None
            text = t(lang, key or "up_download_failed", ref=ref)
        await _say(context, operator, text)
        return
    problem = check.finish()
    if problem is not None:
        shutil.rmtree(folder, ignore_errors=True)
        text = _problem_text(problem, lang, check.size, limit, check.bad_line)
        await _say(context, operator, text)
        return
    log.info("operator %s sent pack file %r (%d bytes)", operator, document.file_name, check.size)
    if check.size > CHECKING_NOTICE_BYTES:  # seconds of work: say it has started
        await _say(context, operator, t(lang, "up_checking", name=esc(document.file_name or "")))
    try:
        outcome = await deps.operators.uploads.upload(path, message.caption)
    except Exception as exc:  # a fault, not the file: nothing imported (one transaction)
        what = "pack file %r of operator %s not loaded"
        ref = logged(log, exc, what, document.file_name, operator, level=ERROR, traceback=True)
        shutil.rmtree(folder, ignore_errors=True)
        await _say(context, operator, t(lang, "up_failed", ref=ref))
        return
    if outcome.needs_confirmation:
        await _ask_to_replace(context, operator, lang, outcome, path, message.caption)
        return
    shutil.rmtree(folder, ignore_errors=True)
    if outcome.summary is not None:
        deps.work.forget_packs()  # offered from the next press, not after the cache's second
    await _say(context, operator, outcome_text(outcome, lang))


def _problem_text(
    problem: str, lang: str, size: int | None, limit: int, line: int | None = None
) -> str:
    if problem == "too_big":
        shown = megabytes(size) if size else f"> {megabytes(limit)}"
        return t(lang, "up_too_big", size=shown, limit=megabytes(limit))
    if problem == "not_utf8":
        return t(lang, "up_not_utf8", line=line or 1)
    if problem == "empty":
        return t(lang, "up_empty")
    return t(lang, "up_not_a_pack")


async def _say(context: Context, operator: int, text: str) -> None:
    await services(context).presenter.say(operator, text)


async def _ask_to_replace(
    context: Context,
    operator: int,
    lang: str,
    outcome: UploadOutcome,
    path: Path,
    caption: str | None,
) -> None:
    assert outcome.summary is not None
    text = t(lang, "up_confirm", pack=esc(outcome.pack_id)) + "\n\n"
    text += summary_text(outcome.summary, lang)
    replace, cancel = await issue(
        context,
        operator,
        ("replace", str(path), caption),
        ("replace_cancel", str(path)),
        one_shot=True,  # one answer: whichever is pressed first spends both
    )
    keyboard = (((t(lang, "up_replace_button"), replace), (t(lang, "up_cancel_button"), cancel)),)
    await services(context).presenter.say(operator, (text, keyboard))


async def confirm_replace(update: Update, context: Context, action: Action, token: str) -> None:
    """The Replace button: the load for real (validated again: the pack may have changed). The
    question was spent when the press was found: a Cancel pressed after it does nothing."""
    query = update.callback_query
    assert query is not None
    path, caption = Path(action.args[0]), action.args[1]
    await services(context).presenter.toast(query)
    lang = await operator_language(context, action.operator_id)
    if not path.parent.is_dir():  # removed meanwhile (the temporary folder was cleaned up)
        await _say(context, action.operator_id, t(lang, "op_expired_button"))
        return
    try:
        outcome = await services(context).operators.uploads.upload(path, caption, confirmed=True)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    if outcome.summary is not None:
        services(context).work.forget_packs()
    await services(context).presenter.drop_keyboard(query.message)
    await _say(context, action.operator_id, outcome_text(outcome, lang))


async def cancel_replace(update: Update, context: Context, action: Action, token: str) -> None:
    """The Cancel button: the file goes, nothing changes (a Replace pressed after it does
    nothing: the question is spent)."""
    query = update.callback_query
    assert query is not None
    shutil.rmtree(Path(action.args[0]).parent, ignore_errors=True)
    await services(context).presenter.toast(query)
    lang = await operator_language(context, action.operator_id)
    await services(context).presenter.drop_keyboard(query.message)
    await _say(context, action.operator_id, t(lang, "up_cancelled"))


def outcome_text(outcome: UploadOutcome, lang: str) -> str:
    if outcome.summary is None:
        return errors_text(outcome, lang)
    summary = outcome.summary
    if summary.replaced:
        head = t(
            lang,
            "up_replaced",
            pack=esc(summary.pack_id),
            added=summary.tasks_added,
            updated=summary.tasks_updated,
            retired=summary.tasks_retired,
        )
    else:
        head = t(lang, "up_loaded", pack=esc(summary.pack_id))
    return head + "\n\n" + summary_text(summary, lang)


def errors_text(outcome: UploadOutcome, lang: str) -> str:
    """Every error with its line, as many as a message holds, then how many more there are."""
    head = t(lang, "up_errors", pack=esc(outcome.pack_id), n=outcome.error_count)
    lines = [f"• {esc(str(error))}" for error in outcome.errors]
    shown = len(lines)
    while True:
        more = outcome.error_count - shown
        tail = [t(lang, "up_more_errors", n=more)] if more > 0 and shown < len(lines) else []
        text = head + "\n".join(lines[:shown] + tail)
        if visible_length(text) <= MESSAGE_UNITS or shown == 0:
            return text
        shown -= 1


def summary_text(summary: LoadSummary, lang: str) -> str:
    def money(micros: int) -> str:
        return format_amount(micros, summary.currency, lang)

    unknown = t(lang, "up_unknown_yet")
    if summary.median_seconds is None:
        hours = hourly = unknown
    else:
        seconds = f"{summary.median_seconds:.1f}"
        key = "up_from_pack" if summary.median_from_pack else "up_from_crowd"
        hours_value = f"{summary.hours or Decimal(0):.1f} h"
        hours = t(lang, key, value=hours_value, seconds=seconds)
        hourly = money(summary.hourly_micros) + "/h" if summary.hourly_micros else unknown
    lines = [
        t(
            lang,
            "up_summary",
            tasks=summary.tasks,
            gold=summary.gold,
            overlap=summary.overlap,
            reward=money(summary.reward_micros),
            budget=money(summary.budget_micros),
            answers=summary.answers,
            gold_answers=summary.gold_answers,
            gold_rate=render.percent(_gold_rate(summary), lang),
            hours=hours,
            hourly=hourly,
        )
    ]
    floor = money(summary.min_hourly_micros) + "/h"
    if summary.below_floor and summary.hourly_micros is not None:
        lines.append(
            t(lang, "up_fair_pay_warning", hourly=money(summary.hourly_micros), floor=floor)
        )
    lines.append(t(lang, "up_break_even", seconds=f"{summary.break_even_seconds:.1f}", floor=floor))
    lines += [f"⚠️ {esc(warning)}" for warning in summary.warnings]
    return "\n".join(lines)


def _gold_rate(summary: LoadSummary) -> float:
    total = summary.answers + summary.gold_answers
    return summary.gold_answers / total if total else 0.0
