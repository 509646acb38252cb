"""Payouts and bonuses: ledger entries with idempotency keys, and a notice to the worker.

- Export: workers whose unpaid balance reaches a minimum, per currency, as CSV
  (id, name, amount, currency; amounts as exact decimal strings).
- Mark paid: each row of that file becomes a payout entry (a negative amount) keyed
  `payout:<file digest>:<worker>:<currency>`, where the digest is of the rows themselves (not the
  bytes): running the same file twice pays nothing twice. All or nothing: a row for an unknown
  worker, or more than the worker is owed, refuses the whole file.
- Bonus: keyed `bonus:<worker>:<amount>:<currency>:<reason digest>:<date>` unless a key is given,
  so the same command run twice the same day by mistake pays once.
- Adjustment (negative allowed: a mistaken bonus taken back): keyed the same way,
  `adjustment:<worker>:<amount>:<currency>:<reason digest>:<date>`. Bonuses and adjustments are
  at most MAX_BONUS either way.
Each new entry queues one notice in the outbox, in the same transaction (dedupe key: the entry's
own key), that the bot sends, paced, outside quiet hours: payouts in the bulk lane (a batch may
pay thousands), a bonus or an adjustment in the interactive lane.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, Literal, TextIO

from db import Database, Tx, to_db_time
from db import ledger as ledger_db
from db import outbox as outbox_db
from db import workers as workers_db
from tasks.clock import Clock
from tasks.money import MAX_BONUS, MoneyError, from_micros, parse_amount, to_micros
from tasks.spreadsheet import csv_line, neutralise

CSV_HEADER = ["id", "name", "amount", "currency"]


@dataclass(frozen=True)
class Notice:
    """A payout, a bonus or an adjustment, told to the worker (params: amount_micros, currency,
    reason)."""

    kind: Literal["payout", "bonus", "adjustment"]
    params: dict[str, Any]


class PayoutError(ValueError):
    """A payout file or a bonus refused, with every reason."""


class PayoutFileError(PayoutError):
    """A payout file that cannot be read at all (missing, a folder, not UTF-8, not CSV): one
    line that names it."""


@dataclass(frozen=True)
class PayoutRow:
    worker_id: int
    name: str
    amount_micros: int
    currency: str


@dataclass
class MarkPaidReport:
    recorded: list[PayoutRow] = field(default_factory=list)
    already: list[PayoutRow] = field(default_factory=list)
    digest: str = ""

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.recorded:
            out[row.currency] = out.get(row.currency, 0) + row.amount_micros
        return out


async def unpaid_at_least(
    db: Database, min_micros: int, currency: str | None = None
) -> list[PayoutRow]:
    rows = await db.run_read(ledger_db.unpaid_balances, min_micros, currency)
    return [PayoutRow(row[0], row[1], int(row[3]), row[2]) for row in rows]


def write_csv(rows: Iterable[PayoutRow], out: TextIO) -> None:
    out.write(csv_line(CSV_HEADER))
    for row in rows:
        amount = f"{from_micros(row.amount_micros):f}"
        out.write(
            csv_line([str(row.worker_id), neutralise(row.name), amount, neutralise(row.currency)])
        )


def read_csv(path: Path) -> list[PayoutRow]:
    """The rows of a payout file; every bad line listed in one PayoutError, a file that cannot
    be read as CSV text in one PayoutFileError that names it."""
    text = _payout_text(path)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header[:4]] != CSV_HEADER:
            raise PayoutFileError(f"{path}: the first line must be {','.join(CSV_HEADER)}")
        rows, errors = [], []
        for line, values in enumerate(reader, start=2):
            if not values or not any(v.strip() for v in values):
                continue
            try:
                rows.append(_payout_row(values))
            except (ValueError, MoneyError) as exc:
                errors.append(f"line {line}: {exc}")
    except csv.Error as exc:
        raise PayoutFileError(f"{path}: not a CSV file ({exc})") from None
    if errors:
        raise PayoutError("\n".join(errors))
    return rows


def _payout_text(path: Path) -> str:
    if path.is_dir():
        raise PayoutFileError(f"{path} is a folder: name the payout file (a CSV)")
    if path.exists() and not path.is_file():
        raise PayoutFileError(f"{path} is not a regular file: name the payout file (a CSV)")
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:  # a quoted CR stays a CR
            return stream.read()
    except FileNotFoundError:
        raise PayoutFileError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise PayoutFileError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}):"
            " save the payout list as CSV in UTF-8"
        ) from None
    except OSError as exc:
        raise PayoutFileError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def _payout_row(values: list[str]) -> PayoutRow:
    if len(values) < 4:
        raise ValueError(
            f"{len(values)} values, expected {len(CSV_HEADER)}: {','.join(CSV_HEADER)}"
        )
    worker, name, amount, currency = (v.strip() for v in values[:4])
    if not worker.isascii() or not worker.isdigit() or not 0 < int(worker) < 2**63:
        raise ValueError(f"not a worker id: {worker[:40]!r}")
    micros = to_micros(parse_amount(amount))
    if micros <= 0:
        raise MoneyError(f"not a positive amount: {amount!r}")
    if not currency.isascii() or not currency.isalpha() or len(currency) != 3:
        raise MoneyError(f"not a currency code: {currency!r}")
    return PayoutRow(int(worker), name, micros, currency.upper())


def file_digest(rows: list[PayoutRow]) -> str:
    """What identifies a payout batch: its rows, whatever the file's spacing or order."""
    canonical = "\n".join(
        sorted(f"{r.worker_id},{r.amount_micros},{r.currency}" for r in rows)
    ).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]


async def mark_paid(
    db: Database, rows: list[PayoutRow], clock: Clock | None = None
) -> MarkPaidReport:
    """Records a payout batch once; refuses it whole if any row is wrong."""
    now = to_db_time((clock or Clock()).now())
    return await db.run(_mark_paid, rows, file_digest(rows), now)


def _mark_paid(tx: Tx, rows: list[PayoutRow], digest: str, now: str) -> MarkPaidReport:
    report = MarkPaidReport(digest=digest)
    errors = []
    seen: set[tuple[int, str]] = set()
    for row in rows:
        if (row.worker_id, row.currency) in seen:
            errors.append(f"worker {row.worker_id}: {row.currency} listed twice")
            continue
        seen.add((row.worker_id, row.currency))
        key = f"payout:{digest}:{row.worker_id}:{row.currency}"
        if ledger_db.has_key(tx, key):
            report.already.append(row)
            continue
        if not workers_db.exists(tx, row.worker_id):
            errors.append(f"worker {row.worker_id}: unknown")
            continue
        owed = ledger_db.unpaid(tx, row.worker_id).get(row.currency, 0)
        if row.amount_micros > owed:
            errors.append(
                f"worker {row.worker_id}: {from_micros(row.amount_micros)} {row.currency}"
                f" is more than the {from_micros(owed)} {row.currency} owed"
            )
            continue
        ledger_db.credit(
            tx,
            worker_id=row.worker_id,
            kind="payout",
            amount_micros=-row.amount_micros,
            currency=row.currency,
            reason=f"payout batch {digest}",
            idempotency_key=key,
            now=now,
        )
        outbox_db.enqueue(
            tx,
            recipient=row.worker_id,
            kind="payout",
            params={"amount_micros": row.amount_micros, "currency": row.currency},
            dedupe_key=key,
            now=now,
            lane="bulk",
        )
        report.recorded.append(row)
    if errors:
        raise PayoutError("\n".join(errors))  # the transaction rolls back: nothing recorded
    return report


@dataclass(frozen=True)
class BonusResult:
    created: bool
    key: str


def parse_bonus(text: str) -> int:
    """An operator's bonus or adjustment amount, in micro-units: at most MAX_BONUS either way."""
    return to_micros(parse_amount(text, maximum=MAX_BONUS))


def bonus_key(worker_id: int, micros: int, currency: str, reason: str, day: str) -> str:
    return entry_key("bonus", worker_id, micros, currency, reason, day)


def entry_key(kind: str, worker_id: int, micros: int, currency: str, reason: str, day: str) -> str:
    """The key of an operator's entry: the same command run twice the same day is one entry."""
    digest = hashlib.sha256(reason.strip().encode()).hexdigest()[:12]
    return f"{kind}:{worker_id}:{micros}:{currency}:{digest}:{day}"


async def grant_bonus(
    db: Database,
    worker_id: int,
    micros: int,
    currency: str,
    reason: str,
    *,
    zone: tzinfo,
    key: str | None = None,
    clock: Clock | None = None,
) -> BonusResult:
    """A bonus with the reason the worker will read; once per key (see the module's note)."""
    if micros <= 0:
        raise PayoutError("a bonus is a positive amount (to take money back: adjust)")
    return await _operator_entry(db, "bonus", worker_id, micros, currency, reason, zone, key, clock)


async def adjust(
    db: Database,
    worker_id: int,
    micros: int,
    currency: str,
    reason: str,
    *,
    zone: tzinfo,
    key: str | None = None,
    clock: Clock | None = None,
) -> BonusResult:
    """An adjustment (negative to take back a mistaken bonus), with the reason the worker will
    read; once per key, like a bonus."""
    if micros == 0:
        raise PayoutError("an adjustment of 0 changes nothing")
    return await _operator_entry(
        db, "adjustment", worker_id, micros, currency, reason, zone, key, clock
    )


async def _operator_entry(
    db: Database,
    kind: Literal["bonus", "adjustment"],
    worker_id: int,
    micros: int,
    currency: str,
    reason: str,
    zone: tzinfo,
    key: str | None,
    clock: Clock | None,
) -> BonusResult:
    if abs(micros) > to_micros(MAX_BONUS):
        raise PayoutError(f"too large: {from_micros(micros)} (at most {MAX_BONUS:,})")
    if not reason.strip():
        raise PayoutError(
            f"{'a bonus' if kind == 'bonus' else 'an adjustment'} needs a reason"
            " (--reason), shown to the worker"
        )
    moment = (clock or Clock()).now()
    key = key or entry_key(
        kind, worker_id, micros, currency, reason, moment.astimezone(zone).date().isoformat()
    )
    return await db.run(
        _record_entry, kind, worker_id, micros, currency, reason.strip(), key, to_db_time(moment)
    )


def _record_entry(
    tx: Tx,
    kind: Literal["bonus", "adjustment"],
    worker_id: int,
    micros: int,
    currency: str,
    reason: str,
    key: str,
    now: str,
) -> BonusResult:
    """The entry and, if it is new, its notice to the worker (interactive lane)."""
    if not workers_db.exists(tx, worker_id):
        raise PayoutError(f"worker {worker_id}: unknown (they must have written to the bot)")
    created = ledger_db.credit(
        tx,
        worker_id=worker_id,
        kind=kind,
        amount_micros=micros,
        currency=currency,
        reason=reason,
        idempotency_key=key,
        now=now,
    )
    if created:
        outbox_db.enqueue(
            tx,
            recipient=worker_id,
            kind=kind,
            params={"amount_micros": micros, "currency": currency, "reason": reason},
            dedupe_key=key,
            now=now,
        )
    return BonusResult(created, key)


async def unpaid_of(db: Database, worker_id: int) -> dict[str, int]:
    """What the worker is owed now, per currency (shown after an adjustment)."""
    owed: dict[str, int] = await db.run_read(ledger_db.unpaid, worker_id)
    return owed
