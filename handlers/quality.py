"""Quality in Telegram: feedback on checks, disputes, /score (filled in by the quality issue)."""

from __future__ import annotations

from telegram.ext import Application


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Handlers of the quality features, registered before the worker loop's catch-alls."""
