"""Every screen fits Telegram's limits in its worst case: the longest title, task, labels and
explanation a pack may hold, with every header on top (Telegram refuses a longer message, and
the worker would be stuck on the old task)."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import render
from tasks.packs import Option, PackInfo
from tasks.quality.news import Feedback
from tasks.telegram_limits import (
    BUTTONS_PER_KEYBOARD,
    BUTTONS_PER_ROW,
    CALLBACK_DATA_BYTES,
    MESSAGE_UNITS,
    utf16_units,
)
from tasks.work_results import NoTask, PackSummary, TaskCard

LIMIT = MESSAGE_UNITS


def worst_pack(**changes: Any) -> PackInfo:
    values: dict[str, Any] = {
        "pk": 1,
        "id": "p" * 64,
        "title": "&<" * 100,  # 200 characters, each one escaped
        "instructions": "Read carefully & decide. " * 80,  # 2,000 characters
        "type": "single_choice",
        "options": tuple(Option(f"o{i}", "L" * 40) for i in range(8)),
        "reward_micros": 999_999_999,
        "currency": "EUR",
        "overlap": 3,
        "lease_seconds": 300,
        "status": "active",
        "description": "D" * 1000,
        "header": {},
    }
    values.update(changes)
    return PackInfo(**values)


def feedback(pack: PackInfo) -> Feedback:
    return Feedback(
        assignment_id=1,
        pack_title=pack.title,
        text="<" * 3500,
        answered="L" * 40,
        expected="M" * 40,
        explanation="&" * 1000,
        correct=False,
        training=(5, 5),
    )


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("body", ["<" * 3500, "é" * 3500, "😀" * 1700])
def test_the_longest_task_under_every_header_fits_and_keeps_its_whole_text(
    language: str, body: str
) -> None:
    pack = worst_pack()
    card = TaskCard(1, pack, body, training=(4, 5), news=(feedback(pack),))
    notice = render.t(language, "recorded", label=render.esc("L" * 40))
    text, keyboard = render.task_screen(card, language, notice)
    assert render.visible_length(text) <= LIMIT
    assert render.esc(body) in text  # never the task text
    assert keyboard is not None and len(keyboard) == 9  # 8 long labels, one a row, and Skip


def test_a_short_task_keeps_its_instructions_and_title() -> None:
    pack = worst_pack(title="Reviews", instructions="Pick the sentiment.")
    text, _ = render.task_screen(TaskCard(1, pack, "Fine."), "en")
    assert "Reviews" in text and "Pick the sentiment." in text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_feedback_on_the_longest_check_question_fits(language: str) -> None:
    pack = worst_pack()
    text, _ = render.news_screen([feedback(pack)], language, None)
    assert render.visible_length(text) <= LIMIT


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_welcome_screen_fits_whatever_the_number_of_packs(language: str) -> None:
    packs = [PackSummary(f"p{i}", "T" * 200, "D" * 1000, 999_999_999, "EUR") for i in range(200)]
    rates = {pack.id: "about 1,000,000.00 EUR/h" for pack in packs}
    text, _ = render.welcome_screen("N" * 64, packs, 60, language, rates)
    assert render.visible_length(text) <= LIMIT
    assert render.t(language, "more_packs", n=200 - text.count("T" * 200)) in text


def test_the_no_task_screen_with_news_fits() -> None:
    pack = worst_pack()
    text, _ = render.no_task_screen(NoTask("held", (feedback(pack),)), "en", "N" * 500)
    assert render.visible_length(text) <= LIMIT


def test_visible_length_counts_what_telegram_counts() -> None:
    assert render.visible_length("<b>a&amp;b</b>") == 3
    assert render.visible_length("😀") == 2  # UTF-16 code units
    assert render.visible_length("  x \n") == 1
    assert render.visible_length("a\ud800b") == 3  # a lone surrogate counts, never raises
    assert utf16_units("é😀") == 3


@pytest.mark.parametrize(
    ("task_type", "options", "rows"),
    [
        ("rating", 5, [5]),
        ("rating", 8, [8]),
        ("rating", 9, [5, 4]),
        ("rating", 10, [5, 5]),
        ("single_choice", 8, [2, 2, 2, 2]),
        ("multi_choice", 10, [2, 2, 2, 2, 2, 1]),  # and Done
    ],
)
def test_a_task_keyboard_keeps_to_telegram_s_rows_and_data(
    task_type: str, options: int, rows: list[int]
) -> None:
    """At most BUTTONS_PER_ROW a row (a 9- or 10-point scale in two even rows), 100 in all,
    each button's data within 64 bytes, Skip last on its own row."""
    pack = worst_pack(
        type=task_type, options=tuple(Option(str(i), "short") for i in range(options))
    )
    keyboard = render.task_keyboard(TaskCard(10**18 - 1, pack, "t"), "en")
    assert [len(row) for row in keyboard[: len(rows)]] == rows
    assert [len(row) for row in keyboard[len(rows) :]] == [1]  # Skip
    assert all(len(row) <= BUTTONS_PER_ROW for row in keyboard)
    assert sum(len(row) for row in keyboard) <= BUTTONS_PER_KEYBOARD
    assert all(len(data.encode()) <= CALLBACK_DATA_BYTES for row in keyboard for _, data in row)
