"""/stats PACK: the pack's chart as a photo, with its key numbers in the caption."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from handlers import render
from handlers.deps import services
from handlers.operator.access import operator_language, operator_or_refuse
from handlers.operator.chart import draw_stats
from handlers.render import esc
from handlers.texts import t
from tasks.earnings import round_to_cents
from tasks.money import format_amount
from tasks.operator.packs import PackStats

Context = ContextTypes.DEFAULT_TYPE


async def show_stats(update: Update, context: Context) -> None:
    """/stats PACK: answers per hour and trust, drawn in a thread (the bot keeps serving)."""
    operator = await operator_or_refuse(update, context, "/stats")
    if operator is None:
        return
    deps = services(context)
    lang = await operator_language(context, operator)
    if not context.args or len(context.args) != 1:
        await deps.presenter.say(operator, t(lang, "op_usage", usage="/stats PACK"))
        return
    pack_id = context.args[0]
    stats = await deps.operators.packs.stats(pack_id)
    if stats is None:
        await deps.presenter.say(operator, t(lang, "op_no_pack", pack=esc(pack_id)))
        return
    png = await asyncio.to_thread(draw_stats, stats, lang)
    await deps.presenter.show_photo(operator, png, stats_caption(stats, lang))


def stats_caption(stats: PackStats, lang: str) -> str:
    """The key numbers (well under a caption's 1,024 characters)."""
    line = stats.line
    progress = line.progress
    median = "-" if line.median_seconds is None else f"{line.median_seconds:.1f} s"
    hourly = "-"
    if line.hourly_micros is not None:
        rate = format_amount(round_to_cents(line.hourly_micros), progress.currency, lang)
        hourly = t(lang, "pack_hourly", rate=rate)
        if line.below_floor:
            hourly += " " + t(lang, "pack_below_floor")
    trust = "-" if stats.median_trust is None else render.percent(stats.median_trust, lang)
    return t(
        lang,
        "stats_caption",
        title=esc(render.shorten(progress.title, 80)),
        pack=esc(progress.id),
        answers=progress.answers,
        wanted=progress.answers_wanted,
        percent=render.percent(progress.percent / 100, lang),
        peak=stats.peak_per_hour,
        hours=sum(1 for _, count in stats.hours if count),
        trust=trust,
        workers=len(stats.trust),
        median=median,
        hourly=hourly,
    )
