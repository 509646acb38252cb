"""The bot's table of contents: every update Telegram sends, to the handler that answers it.

PTB tries the handlers in the order they are added and runs the first that matches (one group),
so the order below is the routing: commands, buttons by the pattern of their data, the bot
blocked or unblocked, documents, text, anything else. Operator commands and buttons check
OPERATOR_IDS inside (handlers/operator/access.py): anyone else gets the worker's help, logged.
"""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import answers, callbacks, earnings, quality, text_router, worker
from handlers.operator import broadcast, export, help, packs, stats, upload, workers
from handlers.operator.access import BUTTONS_KEY, ButtonHandler, press_operator_button

# What each operator button (`o:<token>`) does: the token names an action kept in the database
# (tasks/conversation.py), whose kind picks the handler.
OPERATOR_BUTTONS: dict[str, ButtonHandler] = {
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
    """Adds every handler, in order (bot/app.py `build_application` calls it once)."""
    # Commands, a worker's then an operator's. /help is one handler: an operator's help adds
    # their commands to the worker's, which is what everyone else gets.
    app.add_handler(CommandHandler("start", worker.start))
    app.add_handler(CommandHandler("task", worker.next_task))
    app.add_handler(CommandHandler("pause", worker.pause))
    app.add_handler(CommandHandler("language", worker.choose_language))
    app.add_handler(CommandHandler("balance", earnings.show_balance))
    app.add_handler(CommandHandler("score", quality.show_score))
    app.add_handler(CommandHandler("help", help.show_help))
    app.add_handler(CommandHandler("packs", packs.list_packs))
    app.add_handler(CommandHandler("export", export.export_command))
    app.add_handler(CommandHandler("stats", stats.show_stats))
    app.add_handler(CommandHandler("workers", workers.show_workers))
    app.add_handler(CommandHandler("worker", workers.show_worker))
    app.add_handler(CommandHandler("broadcast", broadcast.ask_to_broadcast))
    app.add_handler(CommandHandler("disputes", quality.list_disputes))

    # Buttons, by the shape of their callback_data (handlers/callbacks.py: whole strings only).
    app.add_handler(CallbackQueryHandler(worker.answer_task, pattern=callbacks.ANSWER))
    app.add_handler(CallbackQueryHandler(worker.skip_task, pattern=callbacks.SKIP))
    app.add_handler(CallbackQueryHandler(answers.toggle_option, pattern=callbacks.TOGGLE))
    app.add_handler(CallbackQueryHandler(answers.finish_selection, pattern=callbacks.DONE))
    app.add_handler(CallbackQueryHandler(worker.consent, pattern=callbacks.CONSENT))
    app.add_handler(CallbackQueryHandler(worker.start_new_work, pattern=callbacks.NEW_WORK))
    app.add_handler(CallbackQueryHandler(worker.set_language, pattern=callbacks.LANGUAGE))
    app.add_handler(CallbackQueryHandler(quality.dispute, pattern=callbacks.DISPUTE))
    app.add_handler(CallbackQueryHandler(quality.review, pattern=callbacks.REVIEW))
    # An operator's button: the presser and the token are checked, then OPERATOR_BUTTONS.
    app.add_handler(CallbackQueryHandler(press_operator_button, pattern=callbacks.OPERATOR))
    app.bot_data[BUTTONS_KEY] = dict(OPERATOR_BUTTONS)
    app.add_handler(CallbackQueryHandler(worker.refuse_button))  # any other data: refused

    # The worker blocked the bot, or came back.
    app.add_handler(ChatMemberHandler(worker.membership_changed, ChatMemberHandler.MY_CHAT_MEMBER))

    # A document: a pack file from an operator.
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL, upload.receive_pack)
    )
    # Text that is not a command: one router, its order in its docstring (handlers/text_router.py).
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, text_router.route_text
        )
    )
    # Anything else (a sticker, a photo, a command we do not have): a nudge or the help pointer.
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE, text_router.route_other))
