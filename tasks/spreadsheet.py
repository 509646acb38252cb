"""CSV cells a spreadsheet opens safely: every CSV the bot writes (results, raw answers, payout
lists) passes its text cells through `neutralise`, so a task id or a worker's name such as
`=HYPERLINK(...)` is shown as text, never run as a formula."""

from __future__ import annotations

# What a spreadsheet takes as the start of a formula (tab and carriage return too: some
# spreadsheets strip them and read what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A CSV cell a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
