"""CSV a spreadsheet opens safely: every CSV the bot writes (results, raw answers, payout lists)
passes its text cells through `neutralise`, so a task id or a worker's name such as
`=HYPERLINK(...)` is shown as text, never run as a formula, and writes its records with
`csv_line`, so no cell can end its record early."""

from __future__ import annotations

import re
from collections.abc import Iterable

# What a spreadsheet takes as the start of a formula (tab and carriage return too: some
# spreadsheets strip them and read what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A CSV cell a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


_NEEDS_QUOTES = re.compile(r'[",\r\n]')


def csv_line(cells: Iterable[str]) -> str:
    """One CSV record, ending in a newline: a cell holding a comma, a double quote, a carriage
    return or a line feed is quoted. (The csv module, with lines ending in \\n, leaves a lone
    carriage return bare: a worker named "x\\r999,Mallory,500,EUR" would end their row there and
    forge another in a payout list.)"""
    return ",".join(_quoted(cell) for cell in cells) + "\n"


def _quoted(cell: str) -> str:
    if _NEEDS_QUOTES.search(cell):
        return '"' + cell.replace('"', '""') + '"'
    return cell
