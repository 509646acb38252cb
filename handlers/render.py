"""Screens: the texts and keyboards a worker sees. Operator text is always escaped."""

from __future__ import annotations

from html import escape

from bot.texts import t
from handlers.callbacks import answer_data, skip_data
from tasks.money import format_amount
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


def task_screen(card: TaskCard, language: str, notice: str | None = None) -> Screen:
    pack = card.pack
    lines = []
    if notice:
        lines += [notice, ""]
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


def no_task_screen(reason: NoTask, language: str, notice: str | None = None) -> Screen:
    key = {"empty": "no_task", "paused": "paused", "consent": "need_consent"}[reason.reason]
    text = t(language, key)
    return (f"{notice}\n\n{text}" if notice else text), None


def packs_list(packs: list[PackSummary], language: str) -> str:
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
        if pack.description:
            line += f"\n  <i>{esc(shorten(pack.description, 300))}</i>"
        lines.append(line)
    return "\n".join(lines)


def welcome_screen(
    name: str, packs: list[PackSummary], lease_minutes: int, language: str
) -> Screen:
    text = t(
        language,
        "welcome",
        name=esc(name),
        packs=packs_list(packs, language),
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
