"""What handlers need from the wiring, kept in `application.bot_data`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import CallbackContext

from tasks.earnings import EarningsService
from tasks.work import WorkService

KEY = "services"


@dataclass
class Services:
    work: WorkService
    earnings: EarningsService
    default_language: str
    zone: ZoneInfo
    operator_ids: frozenset[int]


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    found = context.bot_data[KEY]
    assert isinstance(found, Services)
    return found
