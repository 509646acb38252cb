"""Where a private message that is not a command goes. A text message goes to the first of
these steps that claims it:

  1. `operator_reason`: an operator's reason the bot is waiting for (to bar a worker or let them
     back, to reject a dispute): the awaited reply (tasks/conversation.py) is taken and acted on;
  2. `reply_to_task`: a reply to one of our task messages answers that task (the Skip button of
     the message replied to names it: Telegram sets it, not the sender), refused politely if the
     worker no longer holds it;
  3. a dispute comment: the comment on a dispute the worker just opened;
  4. the open task: the answer to a text task, a nudge for a button task (a late answer to a
     text task whose lease ran out is refused politely);
  5. otherwise the pointer to /help (handlers/worker.py `other_message`).

Steps 3 and 4 are one unit of work (`comment_or_open_task`): the open task's answer takes a
dispute comment awaited from the worker first, by primary key, in its own transaction, and
answers nothing if it found one; a worker's text answer costs no transaction more than the
answer itself. Step 1 looks in the database only for an operator (OPERATOR_IDS is in memory);
step 2 reads only the message.

Anything else that no handler before took (a sticker, a photo, a voice message, a /command we do
not have) goes to `route_other`: the open task (a nudge while a text task is open), else the
pointer to /help. The order is tested in tests/e2e/test_e2e_types.py and
tests/e2e/test_text_router_e2e.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Message, Update
from telegram.ext import ContextTypes

from handlers import answers, callbacks, quality, worker
from handlers.answers import NOT_AN_ANSWER
from handlers.deps import services
from handlers.operator import workers
from handlers.operator.access import is_operator
from tasks.conversation import OPERATOR_REASONS, AwaitedReply, ReplyKind
from tasks.work_results import Outcome

Context = ContextTypes.DEFAULT_TYPE
Step = Callable[[Update, Context], Awaitable[bool]]  # True: the message was handled

# What an operator's awaited reason does once it is taken (step 1).
REASONS: dict[ReplyKind, Callable[[Update, Context, AwaitedReply], Awaitable[None]]] = {
    ReplyKind.BAR_REASON: workers.take_reason,
    ReplyKind.UNBAR_REASON: workers.take_reason,
    ReplyKind.REJECT_REASON: quality.take_rejection_reason,
}
COMMENT = (ReplyKind.DISPUTE_COMMENT,)


async def route_text(update: Update, context: Context) -> None:
    """A private text message that is not a command: the first step that claims it, in the
    order of TEXT_STEPS (this module's docstring), else the pointer to /help."""
    for step in TEXT_STEPS:
        if await step(update, context):
            return
    await worker.other_message(update, context)


async def operator_reason(update: Update, context: Context) -> bool:
    """1. An operator's reason awaited: taken (once, whichever process sees the message) and
    acted on. A reason that expired is not taken: the message goes on to the next steps."""
    user = update.effective_user
    if user is None or not is_operator(context, user.id):
        return False
    awaited = await services(context).replies.take(user.id, OPERATOR_REASONS)
    if awaited is None:
        return False
    await REASONS[awaited.kind](update, context, awaited)
    return True


async def reply_to_task(update: Update, context: Context) -> bool:
    """2. A reply to one of our task messages: the answer to that task, whatever else is
    awaited from the worker (a dispute comment stays awaited)."""
    replied = replied_task(update.message)
    if replied is None:
        return False
    result = await answers.text_answer(update, context, replied)
    if result is not None and result.outcome in NOT_AN_ANSWER:
        await worker.other_message(update, context)
    return True


async def comment_or_open_task(update: Update, context: Context) -> bool:
    """3 and 4, in one unit of work: the comment on the dispute the worker just opened, if one
    is awaited (taken by the answer's transaction), else the answer to the open task."""
    result = await answers.text_answer(update, context, unless_awaited=COMMENT)
    if result is None:
        return True  # no sender: nothing to answer
    if result.outcome is Outcome.AWAITED:
        assert result.awaited is not None
        await quality.save_comment(update, context, result.awaited)
        return True
    return result.outcome not in NOT_AN_ANSWER


TEXT_STEPS: tuple[Step, ...] = (operator_reason, reply_to_task, comment_or_open_task)


async def route_other(update: Update, context: Context) -> None:
    """Not text (a sticker, a photo...) or a command no handler took: a message that is not
    text meets the open task (a nudge while a text task is open); else the pointer to /help."""
    message = update.message
    if message is not None and message.text is None and update.effective_user is not None:
        result = await answers.text_answer(update, context)
        if result is None or result.outcome not in NOT_AN_ANSWER:
            return
    await worker.other_message(update, context)


def replied_task(message: Message | None) -> int | None:
    """The assignment a message replies to: the Skip button of one of our task messages (set
    by Telegram from the message replied to, not by the sender)."""
    if message is None or message.reply_to_message is None:
        return None
    replied = message.reply_to_message
    if replied.from_user is None or not replied.from_user.is_bot or replied.reply_markup is None:
        return None
    for row in replied.reply_markup.inline_keyboard:
        for button in row:
            found = callbacks.skipped_assignment(
                button.callback_data if isinstance(button.callback_data, str) else None
            )
            if found is not None:
                return found
    return None
