"""The operators' handlers, registered in one table (the modules are listed in __init__.py).

Every handler checks OPERATOR_IDS itself (handlers/operator/access.py): a command or a button
from anyone else gets the worker's help and is logged."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers import quality
from handlers.operator import broadcast, export, help, packs, stats, upload, workers
from handlers.operator.access import (
    REASONS_KEY,
    PendingReasons,
    on_button,
    operator_or_refuse,
    press_operator_button,
)

# Any data starting "o:" is an operator button: the handler checks the presser and the token.
OPERATOR_BUTTONS = re.compile(r"o:")


async def list_disputes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/disputes as before (handlers/quality.py), an outsider answered like every operator
    command: the worker's help, logged."""
    if await operator_or_refuse(update, context, "/disputes") is not None:
        await quality.list_disputes(update, context)


COMMANDS = {
    "help": help.show_help,
    "packs": packs.list_packs,
    "export": export.export_command,
    "stats": stats.show_stats,
    "workers": workers.show_workers,
    "worker": workers.show_worker,
    "broadcast": broadcast.ask_to_broadcast,
    "disputes": list_disputes,
}

BUTTONS = {
    "replace": upload.confirm_replace,
    "replace_cancel": upload.cancel_replace,
    "pack_details": packs.show_details,
    "pack_pause": packs.pause_pack,
    "pack_resume": packs.resume_pack,
    "pack_close_ask": packs.ask_to_close,
    "pack_close": packs.close_pack,
    "pack_export": packs.export_from_list,
    "dismiss": packs.dismiss,
    "export_file": export.send_export,
    workers.BAR_BUTTON: workers.ask_reason,
    workers.UNBAR_BUTTON: workers.ask_reason,
    "broadcast_send": broadcast.send_broadcast,
}


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Registered before the other feature modules: /help and text replies are looked at here
    first (for an operator), then fall through to the worker's handlers."""
    reasons = PendingReasons()
    app.bot_data[REASONS_KEY] = reasons
    for name, handler in COMMANDS.items():
        app.add_handler(CommandHandler(name, handler))
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL, upload.receive_pack)
    )
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & reasons, workers.take_reason)
    )
    app.add_handler(CallbackQueryHandler(press_operator_button, pattern=OPERATOR_BUTTONS))
    for kind, button in BUTTONS.items():
        on_button(app.bot_data, kind, button)
