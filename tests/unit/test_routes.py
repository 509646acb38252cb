"""The route table (handlers/routes.py) covers every route once, in an order that works: every
command of the menus has one handler, every callback_data shape one button handler and the
refusal comes last, text goes to the one text router after documents, and the catch-all is the
last handler. Every kind of awaited reply has a router step that takes it."""

from __future__ import annotations

import re

from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
)

from bot.app import COMMANDS
from handlers import callbacks, routes, text_router
from handlers.operator.access import BUTTONS_KEY
from handlers.operator.help import OPERATOR_MENU
from handlers.operator.upload import receive_pack
from tasks.conversation import OPERATOR_REASONS, ReplyKind


def registered() -> tuple[Application, list[BaseHandler]]:  # type: ignore[type-arg]
    app = ApplicationBuilder().token("123:TEST").updater(None).build()
    routes.register(app)
    assert list(app.handlers) == [0]  # one group: the first match wins, in this order
    return app, list(app.handlers[0])


def test_every_command_of_the_menus_has_one_handler() -> None:
    _, handlers = registered()
    commands = [c for h in handlers if isinstance(h, CommandHandler) for c in h.commands]
    assert len(commands) == len(set(commands))  # none registered twice (the second is dead)
    assert set(commands) == set(COMMANDS) | set(OPERATOR_MENU)


def test_every_button_shape_has_one_handler_and_anything_else_is_refused_last() -> None:
    _, handlers = registered()
    buttons = [h for h in handlers if isinstance(h, CallbackQueryHandler)]
    shapes = {
        name: value for name, value in vars(callbacks).items() if isinstance(value, re.Pattern)
    }
    routed = [h.pattern for h in buttons[:-1]]
    assert sorted(p.pattern for p in routed if isinstance(p, re.Pattern)) == sorted(
        p.pattern for p in shapes.values()
    )
    assert buttons[-1].pattern is None  # the refusal, after every shape
    assert all(h.pattern is not None for h in buttons[:-1])


def test_messages_go_documents_first_then_the_text_router_then_the_catch_all() -> None:
    app, handlers = registered()
    messages = [h.callback for h in handlers if isinstance(h, MessageHandler)]
    assert messages == [receive_pack, text_router.route_text, text_router.route_other]
    assert handlers[-1].callback is text_router.route_other
    assert app.bot_data[BUTTONS_KEY] == routes.OPERATOR_BUTTONS


def test_every_awaited_reply_has_a_step_that_takes_it() -> None:
    assert set(text_router.REASONS) == set(OPERATOR_REASONS)
    assert set(OPERATOR_REASONS) | set(text_router.COMMENT) == set(ReplyKind)
