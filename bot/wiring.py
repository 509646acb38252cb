"""The one place that builds what the bot, the CLI and the demo share: the Bot (transport,
rate limiter, defaults), the services over one database, and the presenter that shows in the
chats what they have to say."""

from __future__ import annotations

from telegram.constants import ParseMode
from telegram.ext import Defaults

from bot.settings import Settings
from bot.transport.pacing import PacedRateLimiter
from bot.transport.request import AiohttpRequest
from db import Database
from handlers.deps import Operators, Services
from handlers.presenter import Presenter
from handlers.telegram_bot import BULK_LANE, WorkBot
from tasks.clock import Clock
from tasks.conversation import AwaitedReplies, OperatorButtons
from tasks.earnings import EarningsService
from tasks.media import MediaCache
from tasks.operator.packs import PackDesk
from tasks.operator.upload import PackUploads
from tasks.operator.workers import Broadcasts, WorkerDesk
from tasks.outbox import OutboxService
from tasks.quality.disputes import DisputeService
from tasks.quality.service import QualityService
from tasks.work import WorkService

# Connections to the Bot API for everything but getUpdates (which has its own, held open by
# long polling) and bulk sends. Sized for the concurrency: up to 64 updates run at once
# (bot/app.py), each answer making its two calls (the toast and the edit) together; at 20-80 ms
# a call, 8 connections made presses queue for one (74 answers/s against a bare bot's 241).
API_CONNECTIONS = 128
# Statements and broadcasts (the outbox's bulk lane) go by their own connections: as many as the
# outbox sends at once (handlers/outbox.py CONCURRENCY).
BULK_CONNECTIONS = 8


def build_bot(settings: Settings, *, rate_limits: bool = True) -> WorkBot:
    """The Bot: the aiohttp transport, sends paced under Telegram's limits, HTML parse mode."""
    if not settings.bot_token:
        raise ValueError("BOT_TOKEN is not set")
    limiter = PacedRateLimiter(send_rate=settings.send_rate)
    limiter.enabled = rate_limits
    return WorkBot(
        settings.bot_token,
        base_url=settings.api_base_url,
        base_file_url=settings.api_file_url,
        request=AiohttpRequest(
            connection_pool_size=API_CONNECTIONS,
            bulk_pool_size=BULK_CONNECTIONS,
            bulk=BULK_LANE.get,
        ),
        get_updates_request=AiohttpRequest(connection_pool_size=1, read_timeout=40),
        rate_limiter=limiter,
        defaults=Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz),
    )


def build_services(
    settings: Settings, db: Database, bot: WorkBot, clock: Clock | None = None
) -> Services:
    """The use cases over one database, sharing one clock and one pack cache, and the one
    presenter that shows in the chats (through `bot`) what they have to say."""
    work = WorkService(db, clock)
    # What a chat tells the domain (a worker blocked the bot, a media not shown) goes to the
    # worker loop; the media's file_ids are kept in the database (media_files).
    presenter = Presenter(bot, work, MediaCache(db, work.clock), work.clock)
    config = settings.earnings_config()
    earnings = EarningsService(db, work.clock, config=config)
    operators = Operators(
        uploads=PackUploads(db, work.clock, earnings, config.min_hourly_micros),
        packs=PackDesk(db, work.clock, earnings),
        workers=WorkerDesk(db, work.clock),
        broadcasts=Broadcasts(db, work.clock),
        upload_limit=settings.max_pack_upload_bytes,
        buttons=OperatorButtons(db, work.clock),
    )
    return Services(
        work=work,
        presenter=presenter,
        earnings=earnings,
        quality=QualityService(db, work.clock),
        disputes=DisputeService(db, work.quality, work.clock),
        outbox=OutboxService(db, config, work.clock, settings.operator_ids),
        default_language=settings.default_language,
        zone=settings.tz,
        operator_ids=settings.operator_ids,
        operators=operators,
        replies=AwaitedReplies(db, work.clock),
    )
