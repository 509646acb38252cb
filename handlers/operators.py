"""The operators' side in Telegram (issue 11): the registration table of its handlers.

Every handler checks OPERATOR_IDS itself (handlers/operator_access.py): a command or a button
from anyone else gets the worker's help and is logged. One idea per module:

    operator_access.py     who is an operator; `o:<token>` buttons; reasons being waited for
    operator_help.py       /help for operators; their command menu, in their language
    operator_upload.py     a pack file sent as a document: validated, loaded, summarised
    operator_packs.py      /packs and its buttons (details, pause, resume, close, export)
    operator_export.py     /export PACK: the results file, the CLI's bytes
    operator_stats.py      /stats PACK: the chart
    operator_workers.py    /workers, /worker ID, suspend and reinstate with a reason
    operator_broadcast.py  /broadcast TEXT, after a confirmation
"""

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

from handlers import (
    operator_broadcast,
    operator_export,
    operator_help,
    operator_packs,
    operator_stats,
    operator_upload,
    operator_workers,
    quality,
)
from handlers.operator_access import (
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
    "help": operator_help.show_help,
    "packs": operator_packs.list_packs,
    "export": operator_export.export_command,
    "stats": operator_stats.show_stats,
    "workers": operator_workers.show_workers,
    "worker": operator_workers.show_worker,
    "broadcast": operator_broadcast.ask_to_broadcast,
    "disputes": list_disputes,
}

BUTTONS = {
    "replace": operator_upload.confirm_replace,
    "replace_cancel": operator_upload.cancel_replace,
    "pack_details": operator_packs.show_details,
    "pack_pause": operator_packs.pause_pack,
    "pack_resume": operator_packs.resume_pack,
    "pack_close_ask": operator_packs.ask_to_close,
    "pack_close": operator_packs.close_pack,
    "pack_export": operator_packs.export_from_list,
    "dismiss": operator_packs.dismiss,
    "export_file": operator_export.send_export,
    "worker_suspend": operator_workers.ask_reason,
    "worker_reinstate": operator_workers.ask_reason,
    "broadcast_send": operator_broadcast.send_broadcast,
}


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Registered before the other feature modules: /help and text replies are looked at here
    first (for an operator), then fall through to the worker's handlers."""
    reasons = PendingReasons()
    app.bot_data[REASONS_KEY] = reasons
    for name, handler in COMMANDS.items():
        app.add_handler(CommandHandler(name, handler))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.Document.ALL, operator_upload.receive_pack
        )
    )
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.TEXT & reasons, operator_workers.take_reason
        )
    )
    app.add_handler(CallbackQueryHandler(press_operator_button, pattern=OPERATOR_BUTTONS))
    for kind, button in BUTTONS.items():
        on_button(app.bot_data, kind, button)
