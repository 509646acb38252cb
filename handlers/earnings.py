"""Earnings in Telegram: /balance, and the screens of statements and payout, bonus and
adjustment notices."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from html import escape

from telegram import Update
from telegram.ext import ContextTypes

from handlers.deps import meet, services
from handlers.render import Screen, shorten
from handlers.texts import t
from tasks.earnings import Balance, hourly_micros, next_payout, round_to_cents, week_monday
from tasks.money import format_amount, is_currency_code
from tasks.operator.workers import MAX_REASON
from tasks.payouts import Notice
from tasks.statements import Statement

# A currency that is not a code can only come from an entry recorded before currencies were
# checked; it is shown escaped, and at most this long, so no notice or screen outgrows Telegram.
CURRENCY_SHOWN = 12


async def show_balance(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/balance: this week, last week, owed, paid, accuracy on checks, effective hourly rate."""
    worker = await meet(update, context)
    deps = services(context)
    balance = await deps.earnings.balance(worker.id, deps.zone)
    config = deps.earnings.settings(deps.zone)
    today = deps.earnings.clock.now().astimezone(deps.zone).date()
    payout = next_payout(today, config.payout_day)
    screen = balance_screen(balance, worker.language, payout, config.break_seconds // 60)
    await deps.presenter.say(worker.id, screen)


def money(micros: int, currency: str, language: str) -> str:
    """An amount for a message (HTML): '2.50 EUR', its currency escaped (and shortened if it is
    not a code)."""
    shown = currency if is_currency_code(currency) else shorten(currency, CURRENCY_SHOWN)
    return escape(format_amount(micros, shown, language), quote=False)


def amounts(earned: dict[str, int], language: str) -> str:
    """Amounts in several currencies for a message (HTML): '0.40 EUR + 1.00 USD'."""
    if not earned:
        return money(0, "EUR", language)
    return " + ".join(money(v, cur, language) for cur, v in sorted(earned.items()))


def day_text(day: date, language: str) -> str:
    return day.strftime("%d/%m/%Y") if language == "fr" else day.isoformat()


def accuracy_text(correct: int, checks: int, language: str) -> str:
    if checks == 0:
        return t(language, "no_checks")
    percent = (Decimal(100) * correct / checks).quantize(Decimal(1))
    return t(language, "accuracy", percent=percent, correct=correct, checks=checks)


def hourly_text(rates: dict[str, int | None], language: str) -> str:
    shown = [
        t(language, "hourly", amount=money(round_to_cents(micros), currency, language))
        for currency, micros in sorted(rates.items())
        if micros is not None
    ]
    return " + ".join(shown) if shown else t(language, "no_rate")


def expected_rate_text(hourly: int | None, currency: str, language: str) -> str | None:
    """ "about 12.40 EUR/h" for a pack's line on the consent screen; None when not measured."""
    if hourly is None:
        return None
    return t(language, "expected_rate", amount=money(round_to_cents(hourly), currency, language))


def balance_screen(balance: Balance, language: str, payout: date, break_minutes: int = 5) -> Screen:
    rates = {currency: balance.hourly(currency) for currency in balance.active_ms}
    text = t(
        language,
        "balance",
        week_tasks=balance.tasks_this_week,
        week_amount=amounts(balance.earned_this_week, language),
        last_tasks=balance.tasks_last_week,
        last_amount=amounts(balance.earned_last_week, language),
        total_tasks=balance.tasks_total,
        total_amount=amounts(balance.earned_total, language),
        unpaid=amounts(balance.unpaid, language),
        paid=amounts(balance.paid, language),
        payout=day_text(payout, language),
        accuracy=accuracy_text(balance.correct, balance.checks, language),
        hourly=hourly_text(rates, language),
    )
    return text + "\n" + t(language, "rate_note", minutes=break_minutes), None


def statement_screen(statement: Statement, language: str) -> Screen:
    monday = week_monday(statement.week)
    lines = statement.lines
    top_ups = {cur: line.top_up for cur, line in lines.items() if line.top_up > 0}
    top_up = t(language, "statement_top_up", amount=amounts(top_ups, language)) if top_ups else ""
    rates = {cur: hourly_micros(line.earned, line.active_ms) for cur, line in lines.items()}
    unpaid = {cur: line.unpaid for cur, line in lines.items() if line.unpaid}
    text = t(
        language,
        "statement",
        week=statement.week,
        first=day_text(monday, language),
        last=day_text(monday + timedelta(days=6), language),
        tasks=statement.tasks,
        earned=amounts({cur: line.earned for cur, line in lines.items() if line.earned}, language),
        top_up=top_up,
        accuracy=accuracy_text(statement.correct, statement.checks, language),
        hourly=hourly_text(rates, language),
        unpaid=amounts(unpaid, language),
        payout=day_text(statement.next_payout, language),
    )
    return text, None


def notice_screen(notice: Notice, language: str) -> Screen:
    """A payout, bonus or adjustment notice. It always fits one message: the reason is bounded
    where it is written (MAX_REASON characters) and shortened to that here too, for an entry
    recorded before the bound."""
    params = notice.params
    amount = money(int(params["amount_micros"]), str(params["currency"]), language)
    if notice.kind == "payout":
        return t(language, "payout_notice", amount=amount), None
    reason = str(params.get("reason", ""))
    if len(reason) > MAX_REASON:
        reason = shorten(reason, MAX_REASON)
    reason = escape(reason, quote=False)
    if notice.kind == "adjustment":
        sign = "+" if int(params["amount_micros"]) > 0 else ""
        return t(language, "adjustment_notice", amount=sign + amount, reason=reason), None
    return t(language, "bonus_notice", amount=amount, reason=reason), None
