"""Earnings in Telegram: /balance."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.texts import t
from handlers.delivery import send
from handlers.deps import services
from handlers.render import Screen
from handlers.worker import meet
from tasks.earnings import Balance
from tasks.money import format_amount


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("balance", show_balance))


async def show_balance(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/balance: tasks done and amount earned, this week and in all."""
    worker = await meet(update, context)
    deps = services(context)
    balance = await deps.earnings.balance(worker.id, deps.zone)
    await send(context.bot, deps.work, worker.id, balance_screen(balance, worker.language))


def amounts(earned: dict[str, int], language: str) -> str:
    if not earned:
        return format_amount(0, "EUR", language)
    return " + ".join(format_amount(v, cur, language) for cur, v in sorted(earned.items()))


def balance_screen(balance: Balance, language: str) -> Screen:
    text = t(
        language,
        "balance",
        week_tasks=balance.tasks_this_week,
        week_amount=amounts(balance.earned_this_week, language),
        total_tasks=balance.tasks_total,
        total_amount=amounts(balance.earned_total, language),
    )
    return text, None
