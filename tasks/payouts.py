"""Payouts and bonuses: ledger entries with idempotency keys, and a notice to the worker.

- Export: workers whose unpaid balance reaches a minimum, per currency, as CSV
  (id, name, amount, currency, export; amounts as exact decimal strings). Each export is recorded
  with its lines (db/payout_exports.py) under an id written on every line,
  `exp-<UTC date>-<UTC time>-<random>`. A balance in a currency that is not a code (recorded
  before currencies were checked) is left out of the file and reported, so it blocks nothing.
- Mark paid: a line is one transfer, identified by its export, the worker and the currency; it
  becomes a payout entry (a negative amount) keyed `payout:<export>:<worker>:<currency>`, with
  the line's amount. Marking a file again, whatever was edited or removed in it, records only
  the lines not recorded yet and reports the others (MarkPaidReport.already). All or nothing for
  the rest: a recorded line with another amount, a line listed twice, a line no export wrote,
  more than its export listed, a line of an export made before a payout since recorded to that
  worker in that currency (its amount counted money paid since) or more than the worker is owed
  refuse the whole file.
- A file without the export column (written before exports were recorded) is accepted only
  unchanged from one already marked paid (its keys were `payout:<digest of its rows>:<worker>:
  <currency>`): nothing is recorded twice. Any other is refused: it cannot be told apart from an
  edited copy of a file already paid.
- Bonus: keyed `bonus:<worker>:<amount>:<currency>:<reason digest>:<date>` unless a key is given,
  so the same command run twice the same day by mistake pays once.
- Adjustment (negative allowed: a mistaken bonus taken back): keyed the same way,
  `adjustment:<worker>:<amount>:<currency>:<reason digest>:<date>`. Bonuses and adjustments are
  at most MAX_BONUS either way, in a currency code (tasks/money.py), with a reason of at most
  MAX_REASON characters (the worker reads it, like an operator's bar). The one exception to the
  code: a negative adjustment may take back a balance recorded in a currency that is not a code
  before currencies were checked, so that it can be cleared.
Each new entry queues one notice in the outbox, in the same transaction (dedupe key: the entry's
own key), that the bot sends, paced, outside quiet hours: payouts in the bulk lane (a batch may
pay thousands), a bonus or an adjustment in the interactive lane.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal, NoReturn, TextIO

from db import Database, Tx, to_db_time
from db import ledger as ledger_db
from db import outbox as outbox_db
from db import payout_exports as exports_db
from db import workers as workers_db
from tasks.clock import Clock
from tasks.money import (
    MAX_BONUS,
    MoneyError,
    currency_code,
    from_micros,
    is_currency_code,
    parse_amount,
    to_micros,
)
from tasks.operator.workers import MAX_REASON
from tasks.spreadsheet import csv_line, neutralise

CSV_HEADER = ["id", "name", "amount", "currency"]
EXPORT_COLUMN = "export"
EXPORT_ID = re.compile(r"exp-\d{8}-\d{6}-[0-9a-f]{6}")


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
    export: str | None = None  # the export that wrote it; None: a file from before exports
    line: int = field(default=0, compare=False)  # its line in the file (0: not from a file)


@dataclass(frozen=True)
class AlreadyRecorded:
    row: PayoutRow
    at: str  # when it was recorded, as stored (UTC)


@dataclass
class MarkPaidReport:
    recorded: list[PayoutRow] = field(default_factory=list)
    already: list[AlreadyRecorded] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.recorded:
            out[row.currency] = out.get(row.currency, 0) + row.amount_micros
        return out

    def exports(self) -> list[str]:
        """The exports the file's lines came from (none: a file from before exports)."""
        rows = self.recorded + [item.row for item in self.already]
        return sorted({row.export for row in rows if row.export is not None})


@dataclass(frozen=True)
class PayoutExport:
    id: str
    rows: list[PayoutRow]  # written in the file, each with this export's id
    left_out: list[PayoutRow]  # owed in a currency that is not a code: reported, not written


async def unpaid_at_least(
    db: Database, min_micros: int, currency: str | None = None
) -> list[PayoutRow]:
    rows = await db.run_read(ledger_db.unpaid_balances, min_micros, currency)
    return [PayoutRow(row[0], row[1], int(row[3]), row[2]) for row in rows]


def new_export_id(moment: datetime) -> str:
    return f"exp-{moment.astimezone(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


async def export_payouts(
    db: Database, min_micros: int, currency: str | None = None, clock: Clock | None = None
) -> PayoutExport:
    """Who is owed at least `min_micros` (in `currency`, or in each), recorded as one export
    whose id every line carries."""
    if currency is not None:
        currency_code(currency)
    moment = (clock or Clock()).now()
    return await db.run(_export, moment, min_micros, currency)


def _export(tx: Tx, moment: datetime, min_micros: int, currency: str | None) -> PayoutExport:
    export_id = new_export_id(moment)
    while exports_db.created_at(tx, export_id) is not None:  # the same second, the same luck
        export_id = new_export_id(moment)
    rows, left_out = [], []
    for worker, name, cur, micros in _owed_rows(tx, min_micros, currency):
        if is_currency_code(cur):
            rows.append(PayoutRow(worker, name, micros, cur, export_id))
        else:
            left_out.append(PayoutRow(worker, name, micros, cur))
    exports_db.record(
        tx,
        export_id,
        [(row.worker_id, row.currency, row.amount_micros) for row in rows],
        min_micros=min_micros,
        currency=currency,
        now=to_db_time(moment),
    )
    return PayoutExport(export_id, rows, left_out)


def _owed_rows(tx: Tx, min_micros: int, currency: str | None) -> list[tuple[int, str, str, int]]:
    return [
        (int(row[0]), str(row[1]), str(row[2]), int(row[3]))
        for row in ledger_db.unpaid_balances(tx, min_micros, currency)
    ]


def write_csv(rows: Iterable[PayoutRow], out: TextIO) -> None:
    out.write(csv_line([*CSV_HEADER, EXPORT_COLUMN]))
    for row in rows:
        amount = f"{from_micros(row.amount_micros):f}"
        out.write(
            csv_line(
                [
                    str(row.worker_id),
                    neutralise(row.name),
                    amount,
                    neutralise(row.currency),
                    row.export or "",
                ]
            )
        )


def read_csv(path: Path) -> list[PayoutRow]:
    """The rows of a payout file; every bad line listed in one PayoutError, a file that cannot
    be read as CSV text in one PayoutFileError that names it. The `export` column may stand
    anywhere after the first four; a file without it is one from before exports were recorded
    (its rows have no export)."""
    text = _payout_text(path)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        names = [h.strip().lower() for h in header or []]
        if names[:4] != CSV_HEADER:
            raise PayoutFileError(f"{path}: the first line must be {','.join(CSV_HEADER)}")
        export_at = names.index(EXPORT_COLUMN, 4) if EXPORT_COLUMN in names[4:] else None
        rows, errors = [], []
        for line, values in enumerate(reader, start=2):
            if not values or not any(v.strip() for v in values):
                continue
            try:
                rows.append(_payout_row(values, line, export_at))
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


def _payout_row(values: list[str], line: int, export_at: int | None) -> PayoutRow:
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
    currency_code(currency)
    export = None
    if export_at is not None:
        export = values[export_at].strip() if len(values) > export_at else ""
        if not export:
            raise ValueError(
                "no export id: the export column is empty (the lines to mark paid are those"
                " `payouts export` wrote)"
            )
        if not EXPORT_ID.fullmatch(export):
            raise ValueError(f"not an export id: {export[:40]!r} (e.g. exp-20260112-153000-3f9a1c)")
    return PayoutRow(int(worker), name, micros, currency, export, line)


def file_digest(rows: list[PayoutRow]) -> str:
    """What identified a payout batch before exports were recorded: its rows, whatever the
    file's spacing or order (the keys of files without an export column)."""
    canonical = "\n".join(
        sorted(f"{r.worker_id},{r.amount_micros},{r.currency}" for r in rows)
    ).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]


def payout_key(export: str, worker_id: int, currency: str) -> str:
    """One transfer: a line of an export (the amount is the entry's, compared, not keyed: a
    line recorded once cannot be recorded again with another amount)."""
    return f"payout:{export}:{worker_id}:{currency}"


LEGACY_REFUSED = (
    "this file has no export column: it was written before payout exports were recorded and"
    " it is not, unchanged, a file already marked paid, so it cannot be told apart from an"
    " edited copy of one; run `payouts export` again, set its amounts to what was paid, and mark"
    " that file (docs/earnings.md, Payouts)"
)


async def mark_paid(
    db: Database, rows: list[PayoutRow], clock: Clock | None = None
) -> MarkPaidReport:
    """Records each line of a payout file once; refuses the file whole if any line is wrong."""
    now = to_db_time((clock or Clock()).now())
    without = [row for row in rows if row.export is None]
    if without and len(without) < len(rows):
        raise PayoutError("some lines have an export id and others none: one file, one kind")
    if without:
        return await db.run_read(_legacy, rows)
    return await db.run(_mark_paid, rows, now)


def _legacy(tx: Tx, rows: list[PayoutRow]) -> MarkPaidReport:
    """A file from before exports: only the very file already marked paid is accepted (and
    nothing is recorded)."""
    digest = file_digest(rows)
    report = MarkPaidReport()
    for row in rows:
        entry = ledger_db.entry(tx, f"payout:{digest}:{row.worker_id}:{row.currency}")
        if entry is None:
            raise PayoutError(LEGACY_REFUSED)
        report.already.append(AlreadyRecorded(row, str(entry["created_at"])))
    return report


def _money(micros: int, currency: str) -> str:
    return f"{from_micros(micros):f} {currency}"


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:5])
    more = f" and {len(numbers) - 5:,} more" if len(numbers) > 5 else ""
    return f"line{'s' if len(numbers) > 1 else ''} {shown}{more}"


def _mark_paid(tx: Tx, rows: list[PayoutRow], now: str) -> MarkPaidReport:
    report = MarkPaidReport()
    errors: list[str] = []
    seen: dict[tuple[str, int, str], int] = {}
    made: dict[str, str | None] = {}  # export id -> when it was made (None: no such export)
    unknown: dict[str, list[int]] = {}
    for row in rows:
        assert row.export is not None
        at = f"line {row.line}: " if row.line else ""
        who = f"{at}worker {row.worker_id}"
        ident = (row.export, row.worker_id, row.currency)
        if ident in seen:
            errors.append(
                f"{who}: {row.currency} of export {row.export} listed twice"
                + (f" (line {seen[ident]} too)" if seen[ident] else "")
            )
            continue
        seen[ident] = row.line
        if row.export not in made:
            made[row.export] = exports_db.created_at(tx, row.export)
        exported_at = made[row.export]
        if exported_at is None:
            unknown.setdefault(row.export, []).append(row.line)
            continue
        key = payout_key(row.export, row.worker_id, row.currency)
        entry = ledger_db.entry(tx, key)
        if entry is not None:
            paid = -int(entry["amount_micros"])
            if paid == row.amount_micros:
                report.already.append(AlreadyRecorded(row, str(entry["created_at"])))
            else:
                errors.append(
                    f"{who}: export {row.export}'s {row.currency} line was recorded paid as"
                    f" {_money(paid, row.currency)} on {shown_time(str(entry['created_at']))};"
                    f" this file says {_money(row.amount_micros, row.currency)}: a line is one"
                    " transfer, recorded once (to pay the rest, export again)"
                )
            continue
        listed = exports_db.listed(tx, row.export, row.worker_id, row.currency)
        if listed is None:
            errors.append(f"{who}: export {row.export} has no {row.currency} line for them")
            continue
        if row.amount_micros > listed:
            errors.append(
                f"{who}: {_money(row.amount_micros, row.currency)} is more than the"
                f" {_money(listed, row.currency)} export {row.export} listed"
            )
            continue
        later = ledger_db.payout_after(tx, row.worker_id, row.currency, exported_at)
        if later is not None:
            source = str(later["idempotency_key"]).split(":")[1]
            errors.append(
                f"{who}: {_money(-int(later['amount_micros']), row.currency)} was recorded paid"
                f" to them on {shown_time(str(later['created_at']))} (export {source}), after"
                f" export {row.export} was made: its {row.currency} amount counted money paid"
                " since (export again)"
            )
            continue
        owed = ledger_db.unpaid(tx, row.worker_id).get(row.currency, 0)
        if row.amount_micros > owed:
            errors.append(
                f"{who}: {_money(row.amount_micros, row.currency)}"
                f" is more than the {_money(owed, row.currency)} owed"
            )
            continue
        ledger_db.credit(
            tx,
            worker_id=row.worker_id,
            kind="payout",
            amount_micros=-row.amount_micros,
            currency=row.currency,
            reason=f"payout, export {row.export}",
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
    for export, numbers in unknown.items():
        errors.append(
            f"{_lines(numbers)}: export {export} was not made by `payouts export` on this database"
        )
    if errors:
        raise PayoutError("\n".join(errors))  # the transaction rolls back: nothing recorded
    return report


def shown_time(stored: str) -> str:
    """A stored UTC time as an operator reads it: '2026-01-12 15:31 UTC'."""
    return f"{stored[:10]} {stored[11:16]} UTC"


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
    reason = reason.strip()
    if not reason:
        raise PayoutError(
            f"{'a bonus' if kind == 'bonus' else 'an adjustment'} needs a reason"
            " (--reason), shown to the worker"
        )
    if len(reason) > MAX_REASON:
        raise PayoutError(
            f"the reason has {len(reason):,} characters, at most {MAX_REASON}"
            " (the worker reads it in one Telegram message)"
        )
    if not is_currency_code(currency) and not (kind == "adjustment" and micros < 0):
        _currency_refused(currency)
    moment = (clock or Clock()).now()
    key = key or entry_key(
        kind, worker_id, micros, currency, reason, moment.astimezone(zone).date().isoformat()
    )
    return await db.run(
        _record_entry, kind, worker_id, micros, currency, reason, key, to_db_time(moment)
    )


def _currency_refused(currency: str, held: int = 0) -> NoReturn:
    """Refuses a currency that is not a code (`held`: what the worker has in it, from entries
    recorded before currencies were checked, which a negative adjustment may take back)."""
    try:
        currency_code(currency)
    except MoneyError as exc:
        if held <= 0:
            raise PayoutError(str(exc)) from None
        raise PayoutError(
            f"{exc}: only the {from_micros(held)} recorded in it before currencies were checked"
            " can be taken back"
        ) from None
    raise AssertionError(f"{currency!r} is a currency code")


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
    if not is_currency_code(currency):  # a negative adjustment: it may clear an old entry's
        held = ledger_db.unpaid(tx, worker_id).get(currency, 0)
        if -micros > held and not ledger_db.has_key(tx, key):
            _currency_refused(currency, held)
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
