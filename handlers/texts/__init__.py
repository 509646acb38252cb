"""Every string the bot shows, in French and English: one catalogue, one file per feature.

    worker.py     the worker loop: welcome, consent, tasks, pause, help, language
    types.py      the answer types (multi_choice, rating, text) and their nudges
    media.py      tasks with an image, audio or voice note
    quality.py    gold feedback, training, the test, disputes, /score
    earnings.py   /balance, statements, payouts and bonuses
    operator.py   the operators' side

Each file holds one dict of the same shape (key -> {"fr": ..., "en": ...}); they join here, and a
key defined twice stops the import. Values are HTML (Telegram parse mode): placeholders hold text
that the renderer escapes first. `t(language, key, **values)` is how handlers read it.
"""

from __future__ import annotations

from typing import Any

from handlers.texts.earnings import EARNINGS
from handlers.texts.media import MEDIA
from handlers.texts.operator import OPERATOR
from handlers.texts.quality import QUALITY
from handlers.texts.types import TYPES
from handlers.texts.worker import WORKER

CATALOGUE: dict[str, dict[str, str]] = {}
for _part in (WORKER, QUALITY, EARNINGS, OPERATOR, MEDIA, TYPES):
    _clash = CATALOGUE.keys() & _part.keys()
    assert not _clash, f"text keys defined twice: {sorted(_clash)}"
    CATALOGUE.update(_part)


def t(language: str, key: str, **values: Any) -> str:
    """The catalogue's text for `key` in `language` (French if the language is unknown)."""
    entry = CATALOGUE[key]
    text = entry.get(language) or entry["fr"]
    return text.format(**values) if values else text
