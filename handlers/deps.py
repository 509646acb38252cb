"""What handlers need from the wiring, kept in `application.bot_data`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import CallbackContext

from tasks.work import WorkService

KEY = "services"


@dataclass
class Services:
    work: WorkService
    default_language: str
    zone: ZoneInfo


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    found = context.bot_data[KEY]
    assert isinstance(found, Services)
    return found
