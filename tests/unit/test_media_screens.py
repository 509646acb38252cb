"""A media task's caption fits Telegram's 1,024 UTF-16 units in its worst case: the longest
title and instructions, the longest text a media task may have (800 units, emoji counting 2),
training, news and a notice on top. The instructions give way first, never the task."""

from __future__ import annotations

from handlers import render
from handlers.render import media_task_screen
from handlers.texts import t
from tasks.media import MAX_MEDIA_TEXT_UNITS, TaskMedia
from tasks.packs import Option, PackInfo
from tasks.quality.news import Feedback
from tasks.telegram_limits import CAPTION_UNITS, MESSAGE_UNITS
from tasks.work_results import TaskCard


def worst_card() -> TaskCard:
    pack = PackInfo(
        pk=1,
        id="p",
        title="😀&<" * 66,  # 198 characters, 264 units, every one escaped or an emoji
        instructions="Listen to the whole note before you answer & decide. " * 37,
        type="single_choice",
        options=tuple(Option(f"o{i}", "L" * 40) for i in range(8)),
        reward_micros=999_999_999,
        currency="EUR",
        overlap=3,
        lease_seconds=300,
        status="active",
        description=None,
        header={},
    )
    news = Feedback(1, pack.title, "<" * 3500, "L" * 40, "M" * 40, "&" * 1000, False, (5, 5))
    media = TaskMedia("voice", "file_id", "AwACAgIAAxkBAAIBb2d0ZXN0LWZpbGUtaWQ")
    text = "🎵" * (MAX_MEDIA_TEXT_UNITS // 2)  # 400 emoji: 800 units, the most a pack may hold
    return TaskCard(7, pack, text, training=(5, 5), news=(news,), media=media)


def test_the_worst_caption_fits_and_keeps_the_task() -> None:
    card = worst_card()
    notice = "✅ Recorded: <b>" + "L" * 40 + "</b>"
    screen = media_task_screen(card, "fr", notice)
    assert render.visible_length(screen.caption) <= CAPTION_UNITS
    assert card.text in screen.caption  # the task is whole; what gave way is above it
    assert screen.instructions is not None  # too long for the caption: a message of its own
    assert render.esc(card.pack.instructions) in screen.instructions  # whole, escaped
    assert [data for row in screen.keyboard or () for _, data in row][-1] == "s:7"
    fallback_text, fallback_keyboard = screen.fallback()
    assert fallback_keyboard == (((t("fr", "skip_button"), "s:7"),),)
    assert render.visible_length(fallback_text) <= MESSAGE_UNITS


def test_a_short_caption_keeps_everything() -> None:
    card = worst_card()
    pack = card.pack
    small = TaskCard(
        8,
        PackInfo(**{**pack.__dict__, "title": "Tones", "instructions": "Which is higher?"}),
        "",
        media=card.media,
    )
    screen = media_task_screen(small, "en", None)
    assert "Tones" in screen.caption and "Which is higher?" in screen.caption
    assert screen.instructions is None  # they fit: no message of their own
