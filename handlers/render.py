"""Screens: the texts and keyboards a worker sees. Operator text is always escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from html import escape
from zoneinfo import ZoneInfo

from handlers.callbacks import answer_data, dispute_data, skip_data
from handlers.texts import t
from tasks.money import format_amount
from tasks.quality.news import Decision, Feedback, News
from tasks.work import NoTask, PackSummary, TaskCard

INSTRUCTIONS_SHOWN = 300  # characters of the pack's instructions repeated in each task message
TWO_PER_ROW_MAX = 16  # option labels up to this length sit two to a row


def esc(text: str) -> str:
    return escape(text, quote=False)


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


# A keyboard as rows of (label, callback_data): plain tuples, turned into Telegram's JSON at the
# edge (delivery.py). Building PTB objects for every task costs more CPU than the rest of the
# answer path's rendering.
Button = tuple[str, str]
Keyboard = tuple[tuple[Button, ...], ...]
Screen = tuple[str, Keyboard | None]


def task_screen(
    card: TaskCard, language: str, notice: str | None = None, zone: tzinfo | None = None
) -> Screen:
    pack = card.pack
    lines = []
    if notice:
        lines += [notice, ""]
    if card.news:
        lines += [news_text(card.news, language, zone), ""]
    if card.training is not None:
        lines.append(t(language, "training_header", i=card.training[0], n=card.training[1]))
    lines += [
        t(
            language,
            "task_header",
            title=esc(pack.title),
            reward=format_amount(pack.reward_micros, pack.currency, language),
        ),
        f"<i>{esc(shorten(pack.instructions, INSTRUCTIONS_SHOWN))}</i>",
        "",
        esc(card.text),
    ]
    buttons = [
        (option.label, answer_data(card.assignment_id, index))
        for index, option in enumerate(pack.options)
    ]
    width = 2 if all(len(option.label) <= TWO_PER_ROW_MAX for option in pack.options) else 1
    rows = [buttons[i : i + width] for i in range(0, len(buttons), width)]
    rows.append([(t(language, "skip_button"), skip_data(card.assignment_id))])
    return "\n".join(lines), tuple(tuple(row) for row in rows)


def no_task_screen(
    reason: NoTask, language: str, notice: str | None = None, zone: tzinfo | None = None
) -> Screen:
    key = {
        "empty": "no_task",
        "paused": "paused",
        "consent": "need_consent",
        "held": "no_task_held",
    }[reason.reason]
    text = t(language, key)
    if reason.news:
        text = f"{news_text(reason.news, language, zone)}\n\n{text}"
    return (f"{notice}\n\n{text}" if notice else text), None


# -- quality: feedback and standing ----------------------------------------------------------

UTC_ZONE = ZoneInfo("UTC")


def when(moment: datetime | None, language: str, zone: tzinfo | None) -> str:
    """A retry time in the worker's words: "on 24/11 at 09:00"."""
    if moment is None:
        return "-"
    local = moment.astimezone(zone or UTC_ZONE)
    return t(language, "retry_at", date=local.strftime("%d/%m"), time=local.strftime("%H:%M"))


def percent(share: float, language: str) -> str:
    text = f"{100 * share:.0f} %" if language == "fr" else f"{100 * share:.0f}%"
    return text


def news_text(news: Sequence[News], language: str, zone: tzinfo | None) -> str:
    return "\n\n".join(
        feedback_text(item, language)
        if isinstance(item, Feedback)
        else decision_text(item, language, zone)
        for item in news
    )


def feedback_text(item: Feedback, language: str) -> str:
    lines = []
    if item.training is not None:
        lines.append(
            t(
                language,
                "feedback_training",
                i=item.training[0],
                n=item.training[1],
                pack=esc(item.pack_title),
            )
        )
    else:
        lines.append(t(language, "feedback_check", pack=esc(item.pack_title)))
    lines.append(f"<i>{esc(shorten(item.text, 300))}</i>")
    if item.correct:
        lines.append(t(language, "feedback_right", expected=esc(item.expected)))
    else:
        lines.append(
            t(language, "feedback_wrong", answered=esc(item.answered), expected=esc(item.expected))
        )
    if item.explanation:
        lines.append(t(language, "feedback_why", explanation=esc(item.explanation)))
    if not item.correct:
        lines.append(t(language, "feedback_dispute_hint"))
    return "\n".join(lines)


def decision_text(item: Decision, language: str, zone: tzinfo | None) -> str:
    pack = esc(item.pack_title)
    retry = when(item.retry_at, language, zone)
    if item.kind == "training":
        return t(language, "training_intro", pack=pack, n=item.qualification)
    if item.kind == "retraining":
        return t(language, "retraining_intro", pack=pack, n=item.qualification)
    if item.kind == "stopped":
        return t(language, "stopped_no_gold", pack=pack)
    threshold = percent(item.threshold, language)
    if item.kind == "passed":
        return t(
            language,
            "passed",
            pack=pack,
            correct=item.correct,
            total=item.total,
            threshold=threshold,
        )
    if item.kind == "failed":
        return t(
            language,
            "failed",
            pack=pack,
            correct=item.correct,
            total=item.total,
            threshold=threshold,
            retry=retry,
        )
    why = t(
        language,
        f"why_{item.reason}",
        score=percent(item.score, language),
        threshold=threshold,
        correct=item.correct,
        total=item.total,
    )
    return t(language, "suspended", pack=pack, why=why, retry=retry)


def news_screen(news: Sequence[News], language: str, zone: tzinfo | None) -> Screen:
    """What an answer taught or decided, in place of the answered task; a missed check
    question gets its Dispute button."""
    buttons = tuple(
        ((t(language, "dispute_button"), dispute_data(item.assignment_id)),)
        for item in news
        if isinstance(item, Feedback) and not item.correct
    )
    return news_text(news, language, zone), buttons or None


def packs_list(packs: list[PackSummary], language: str, rates: dict[str, str] | None = None) -> str:
    """The open packs with their reward per task and, once measured, the expected hourly rate
    (`rates`: pack id -> "about 12.40 EUR/h")."""
    if not packs:
        return t(language, "no_packs")
    lines = []
    for pack in packs:
        line = t(
            language,
            "pack_line",
            title=esc(pack.title),
            reward=format_amount(pack.reward_micros, pack.currency, language),
        )
        if rates and pack.id in rates:
            line += f" ({esc(rates[pack.id])})"
        if pack.description:
            line += f"\n  <i>{esc(shorten(pack.description, 300))}</i>"
        lines.append(line)
    return "\n".join(lines)


def welcome_screen(
    name: str,
    packs: list[PackSummary],
    lease_minutes: int,
    language: str,
    rates: dict[str, str] | None = None,
) -> Screen:
    text = t(
        language,
        "welcome",
        name=esc(name),
        packs=packs_list(packs, language, rates),
        lease=t(language, "minutes", n=lease_minutes),
    )
    keyboard = (((t(language, "consent_button"), "consent"),),)
    return text, keyboard


def new_work_screen(language: str) -> Screen:
    keyboard = (((t(language, "new_work_button"), "go"),),)
    return t(language, "new_work"), keyboard


def language_screen(language: str) -> Screen:
    keyboard = ((("Français", "lang:fr"), ("English", "lang:en")),)
    return t(language, "language_prompt"), keyboard
