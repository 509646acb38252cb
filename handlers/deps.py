"""What handlers need from the wiring, kept in `application.bot_data`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import CallbackContext

from handlers.presenter import Presenter
from tasks.conversation import AwaitedReplies, OperatorButtons
from tasks.earnings import EarningsService
from tasks.operator.packs import PackDesk
from tasks.operator.upload import PackUploads
from tasks.operator.workers import Broadcasts, WorkerDesk
from tasks.outbox import OutboxService
from tasks.quality.disputes import DisputeService
from tasks.quality.service import QualityService
from tasks.work import Worker, WorkService
from tasks.work_results import PackSummary

KEY = "services"


@dataclass
class Operators:
    """The operators' use cases (issue 11)."""

    uploads: PackUploads
    packs: PackDesk
    workers: WorkerDesk
    broadcasts: Broadcasts
    upload_limit: int  # bytes of a pack file sent in the chat
    buttons: OperatorButtons  # what each `o:<token>` button does (tasks/conversation.py)


@dataclass
class Services:
    """The use cases over one database (built by bot/wiring.py), the presenter that shows what
    handlers have to say (handlers/presenter/), and the settings handlers read."""

    work: WorkService
    presenter: Presenter
    earnings: EarningsService
    quality: QualityService
    disputes: DisputeService
    outbox: OutboxService
    default_language: str
    zone: ZoneInfo
    operator_ids: frozenset[int]
    operators: Operators
    replies: AwaitedReplies  # what a person's next text message answers (tasks/conversation.py)


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    found = context.bot_data[KEY]
    assert isinstance(found, Services)
    return found


async def meet(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> Worker:
    """Registers or refreshes the sender (writing to the bot makes them reachable again)."""
    worker, _ = await meet_with_packs(update, context)
    return worker


async def meet_with_packs(
    update: Update, context: CallbackContext[Any, Any, Any, Any]
) -> tuple[Worker, list[PackSummary]]:
    """`meet`, and the packs open for work, in the same unit of work."""
    user = update.effective_user
    assert user is not None
    deps = services(context)
    return await deps.work.meet(
        user.id,
        first_name=user.first_name,
        username=user.username,
        language_code=user.language_code,
        default_language=deps.default_language,
    )
