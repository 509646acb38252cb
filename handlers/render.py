"""Screens: the texts and keyboards a worker sees (a media task's too: `MediaScreen`), built
here and shown by the presenter (handlers/presenter/). Operator text is always escaped; every
screen fits Telegram's limits (tasks/telegram_limits.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape, unescape
from zoneinfo import ZoneInfo

from handlers.callbacks import answer_data, dispute_data, done_data, skip_data, toggle_data
from handlers.texts import t
from tasks.answer_types import text as text_type
from tasks.media import TaskMedia
from tasks.money import format_amount
from tasks.quality.news import Decision, Feedback, News, Points
from tasks.telegram_limits import BUTTONS_PER_ROW, CAPTION_UNITS, MESSAGE_UNITS, utf16_units
from tasks.work_results import NoTask, PackSummary, TaskCard

INSTRUCTIONS_SHOWN = 300  # characters of the pack's instructions repeated in each task message
TITLE_SHOWN = 200  # a pack title's own limit: shortened only to make room for the task
PACKS_LIST_BUDGET = 2400  # of the welcome screen's 4,096 (the rules take about 1,000)
_TAG = re.compile(r"<[^>]*>")
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
# edge (handlers/presenter/keyboards.py). Building PTB objects for every task costs more CPU
# than the rest of the answer path's rendering.
Button = tuple[str, str]
Keyboard = tuple[tuple[Button, ...], ...]
Screen = tuple[str, Keyboard | None]


def task_screen(
    card: TaskCard,
    language: str,
    notice: str | None = None,
    zone: tzinfo | None = None,
    limit: int = MESSAGE_UNITS,
) -> Screen:
    """The task, its options and Skip. Fits Telegram's 4,096 characters whatever the pack holds
    (`limit`: 1,024 for a media task's caption, whose text the pack load keeps short): the
    instructions, then the title, then the news and the notice give way, never the task."""
    pack = card.pack
    news = news_text(card.news, language, zone) if card.news else None
    training = None
    if card.training is not None:
        training = t(language, "training_header", i=card.training[0], n=card.training[1])
    reward = format_amount(pack.reward_micros, pack.currency, language)
    body, prompt = task_body(card, language)

    def compose(instructions: int, title: int, with_news: bool, with_notice: bool) -> str:
        lines = []
        if notice and with_notice:
            lines += [notice, ""]
        if news and with_news:
            lines += [news, ""]
        if training:
            lines.append(training)
        lines.append(
            t(language, "task_header", title=esc(shorten(pack.title, title)), reward=reward)
        )
        if instructions:
            lines.append(f"<i>{esc(shorten(pack.instructions, instructions))}</i>")
        lines += ["", body]
        if prompt:
            lines += ["", prompt]
        return "\n".join(lines)

    text = first_that_fits(
        compose(INSTRUCTIONS_SHOWN, TITLE_SHOWN, True, True),
        lambda: compose(80, TITLE_SHOWN, True, True),
        lambda: compose(0, 60, True, True),
        lambda: compose(0, 60, False, True),
        lambda: compose(0, 40, False, False),
        limit=limit,
    )
    return text, task_keyboard(card, language)


def task_body(card: TaskCard, language: str) -> tuple[str, str | None]:
    """The task's text and the line under it that says how to answer, per answer type: a
    text task's text in a <code> block (one tap copies it), a rating's scale."""
    pack = card.pack
    if pack.type == "text":
        low, high = text_type.min_length(pack), text_type.max_length(pack)
        prompt = t(language, "text_prompt", low=low, high=high)
        return f"<code>{esc(card.text)}</code>", prompt
    if pack.type == "multi_choice":
        return esc(card.text), t(language, "multi_prompt")
    if pack.type == "rating":
        first, last = pack.options[0], pack.options[-1]
        prompt = t(language, "rating_prompt", low=esc(first.id), high=esc(last.id))
        legend = [
            esc(option.label)
            if option.label.startswith(option.id)
            else f"{esc(option.id)} · {esc(option.label)}"
            for option in pack.options
            if option.label != option.id
        ]
        return esc(card.text), "\n".join([prompt, *legend])
    return esc(card.text), None


def task_keyboard(card: TaskCard, language: str) -> Keyboard:
    """The task's buttons: options (two to a row when short), a rating's scale in one row (in
    even rows past Telegram's BUTTONS_PER_ROW), multi_choice's toggles with their check marks
    and Done; Skip last. A text task has Skip only: the answer is a message."""
    pack = card.pack
    aid = card.assignment_id
    rows: list[list[Button]] = []
    if pack.type == "rating":
        scale = [(option.id, answer_data(aid, i)) for i, option in enumerate(pack.options)]
        rows += [scale] if len(scale) <= BUTTONS_PER_ROW else _even_rows(scale)
    elif pack.type == "multi_choice":
        toggles = [
            (
                ("✅ " if card.selection & (1 << i) else "▫️ ") + option.label,
                toggle_data(aid, i),
            )
            for i, option in enumerate(pack.options)
        ]
        width = 2 if all(len(o.label) <= TWO_PER_ROW_MAX for o in pack.options) else 1
        rows += [toggles[i : i + width] for i in range(0, len(toggles), width)]
        rows.append([(t(language, "done_button"), done_data(aid, card.selection))])
    elif pack.type != "text":
        buttons = [(option.label, answer_data(aid, i)) for i, option in enumerate(pack.options)]
        width = 2 if all(len(option.label) <= TWO_PER_ROW_MAX for option in pack.options) else 1
        rows += [buttons[i : i + width] for i in range(0, len(buttons), width)]
    rows.append([(t(language, "skip_button"), skip_data(aid))])
    return tuple(tuple(row) for row in rows)


def _even_rows(buttons: list[Button]) -> list[list[Button]]:
    """Buttons too many for one row (Telegram's BUTTONS_PER_ROW) in rows of even length: a
    10-point scale in two rows of 5."""
    count = len(buttons)
    rows = -(-count // BUTTONS_PER_ROW)
    width = -(-count // rows)
    return [buttons[i : i + width] for i in range(0, count, width)]


def visible_length(html_text: str) -> int:
    """What Telegram counts against its limits: the text once the HTML is parsed, in UTF-16
    code units (an emoji outside the BMP counts two), leading and trailing space trimmed."""
    return utf16_units(unescape(_TAG.sub("", html_text)).strip())


def first_that_fits(full: str, *shorter: Callable[[], str], limit: int = MESSAGE_UNITS) -> str:
    """`full` if Telegram would take it, else the first shorter version that fits (the last
    one is built to always fit)."""
    if 2 * len(full) <= limit:
        return full  # each character is at most two UTF-16 units, and tags only add: it fits
    text = full
    for make in shorter:
        if visible_length(text) <= limit:
            return text
        text = make()
    return text


def no_task_screen(
    reason: NoTask, language: str, notice: str | None = None, zone: tzinfo | None = None
) -> Screen:
    key = {
        "empty": "no_task",
        "paused": "paused",
        "consent": "need_consent",
        "held": "no_task_held",
        "barred": "no_task_barred",
        "media": "no_task_media",
    }[reason.reason]
    text = t(language, key)
    if reason.news:
        text = f"{news_text(reason.news, language, zone)}\n\n{text}"
    return (f"{notice}\n\n{text}" if notice else text), None


# -- a task with media: an image, an audio file or a voice note, the task as its caption --------


@dataclass(frozen=True)
class MediaScreen:
    """A task shown as a media message: the media, the caption (HTML) and the buttons."""

    media: TaskMedia
    caption: str
    keyboard: Keyboard | None
    pack_pk: int
    instructions: str | None  # the whole instructions, when the caption cannot hold them
    fallback: Callable[[], Screen]  # shown if the media cannot be sent: text and Skip only
    assignment_id: int = 0
    # The screen of what the worker gets instead when this media cannot be shown (same
    # language, notice and zone).
    following: Callable[[TaskCard | NoTask], AnyScreen] | None = None


AnyScreen = Screen | MediaScreen


def next_screen(
    following: TaskCard | NoTask,
    language: str,
    notice: str | None,
    zone: tzinfo | None = None,
) -> AnyScreen:
    """What a worker is shown next: a task (with its media, if any) or why there is none."""
    if isinstance(following, TaskCard):
        if following.media is not None:
            return media_task_screen(following, language, notice, zone)
        return task_screen(following, language, notice, zone)
    return no_task_screen(following, language, notice, zone)


def media_task_screen(
    card: TaskCard, language: str, notice: str | None, zone: tzinfo | None = None
) -> MediaScreen:
    """The task as a media message: its text in the caption (Telegram's 1,024 units), the
    whole instructions in a message of their own when the caption cannot hold them."""
    assert card.media is not None
    caption, keyboard = task_screen(card, language, notice, zone, limit=CAPTION_UNITS)
    pack = card.pack
    instructions = None
    if len(pack.instructions) > INSTRUCTIONS_SHOWN:
        instructions = t(
            language,
            "media_instructions",
            title=esc(pack.title),
            instructions=esc(pack.instructions),
        )

    def fallback() -> Screen:  # built only when needed: the answer path renders once
        text, _ = task_screen(card, language, notice, zone)
        skip_only = keyboard[-1:] if keyboard else None
        return f"{text}\n\n{t(language, 'media_unavailable')}", skip_only

    def following(instead: TaskCard | NoTask) -> AnyScreen:
        return next_screen(instead, language, notice, zone)

    return MediaScreen(
        card.media,
        caption,
        keyboard,
        pack.pk,
        instructions,
        fallback,
        card.assignment_id,
        following,
    )


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
    test = item.test
    numbers = points_values(test, language) if test is not None else {}
    if item.kind == "passed":
        return t(language, "passed", pack=pack, correct=item.correct, total=item.total, **numbers)
    if item.kind == "failed":
        return t(language, "failed", pack=pack, retry=retry, **numbers)
    why = t(language, f"why_{item.reason}", **numbers)
    return t(language, "suspended", pack=pack, why=why, retry=retry)


def fine_percent(share: float, language: str) -> str:
    """A small share with two decimals: 0.07% (0,07 % in French)."""
    text = f"{100 * share:.2f}"
    return f"{text.replace('.', ',')} %" if language == "fr" else f"{text}%"


def signed(number: int) -> str:
    """A whole number with a true minus sign (−16), as the rule's "−5 per right answer"."""
    return f"−{-number}" if number < 0 else str(number)


def points_values(test: Points, language: str) -> dict[str, object]:
    """The sequential test's figures for the catalogue's texts (points_rule, why_accuracy...)."""
    rule = t(
        language,
        "points_rule",
        miss=test.miss,
        right=test.right,
        floor=signed(test.floor),
        limit=test.limit,
    )
    return {
        "points": signed(test.points),
        "limit": test.limit,
        "gap": test.limit - test.points,
        "rule": rule,
        "golds": test.golds,
        "rights": test.rights,
        "careful": fine_percent(test.careful_stopped, language),
    }


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
    (`rates`: pack id -> "about 12.40 EUR/h"). Within PACKS_LIST_BUDGET characters however many
    packs are open: descriptions go first, then the packs past the budget are counted."""
    if not packs:
        return t(language, "no_packs")

    def entry(pack: PackSummary, with_description: bool) -> str:
        line = t(
            language,
            "pack_line",
            title=esc(pack.title),
            reward=format_amount(pack.reward_micros, pack.currency, language),
        )
        if rates and pack.id in rates:
            line += f" ({esc(rates[pack.id])})"
        if pack.description and with_description:
            line += f"\n  <i>{esc(shorten(pack.description, 300))}</i>"
        return line

    full = "\n".join(entry(pack, True) for pack in packs)
    if visible_length(full) <= PACKS_LIST_BUDGET:
        return full
    lines: list[str] = []
    for count, pack in enumerate(packs):
        line = entry(pack, False)
        more = t(language, "more_packs", n=len(packs) - count)
        if visible_length("\n".join([*lines, line, more])) > PACKS_LIST_BUDGET:
            return "\n".join([*lines, more])
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
