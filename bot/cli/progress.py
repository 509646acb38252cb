"""Terminal output for the operator CLI: a progress bar for pack loads, and plain-text tables."""

from __future__ import annotations

import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from tasks.media import MEDIA_FAILURES
from tasks.money import format_amount
from tasks.packs import LoadReport, PackProgress

_NUMBER = re.compile(r"^[-+]?\d[\d.,]*(%|/\d[\d.,]*| [A-Z]{3})?$")


class ProgressBar:
    """A one-line progress bar on stderr, drawn only when it is a terminal.

    update() can be called as often as wanted: it redraws at most ~10 times a second. The
    instance is also a load_pack on_progress callback: bar(bytes_read, total_bytes, tasks).

    load_pack calls it on the event loop after each batch; a lock keeps each update and the
    final finish() whole, whichever thread draws.
    """

    def __init__(
        self,
        total_bytes: int,
        label: str,
        stream: TextIO | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.1,
    ) -> None:
        self.total_bytes = max(0, total_bytes)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _isatty(self.stream)
        self._clock = clock
        self._interval = interval
        self._started = clock()
        self._last_draw: float | None = None
        self._done = 0
        self._tasks = 0
        self._drawn = False
        self._lock = threading.Lock()

    def __call__(self, done_bytes: int, total_bytes: int, tasks: int) -> None:
        if total_bytes and total_bytes != self.total_bytes:
            self.total_bytes = total_bytes
        self.update(done_bytes, tasks)

    def update(self, done_bytes: int, tasks: int) -> None:
        with self._lock:
            self._done, self._tasks = done_bytes, tasks
            if not self.enabled:
                return
            now = self._clock()
            if self._last_draw is not None and now - self._last_draw < self._interval:
                return
            self._last_draw = now
            self._draw(now)

    def finish(self) -> None:
        """Draws the final state and ends the line (nothing when nothing was drawn)."""
        with self._lock:
            if not self.enabled or not self._drawn:
                return
            self._draw(self._clock())
            self.stream.write("\n")
            self.stream.flush()

    def render(self, now: float | None = None, width: int | None = None) -> str:
        """The bar's text, e.g. 'loading big.jsonl [#####.....]  50%  500,000 tasks  120,000/s'."""
        now = self._clock() if now is None else now
        width = width or shutil.get_terminal_size((80, 24)).columns
        fraction = min(1.0, self._done / self.total_bytes) if self.total_bytes else 1.0
        elapsed = max(now - self._started, 1e-9)
        rate = self._tasks / elapsed
        tail = f" {fraction:4.0%}  {self._tasks:,} tasks  {rate:,.0f} tasks/s"
        room = width - len(self.label) - len(tail) - 4
        bar_width = max(10, min(40, room))
        filled = int(bar_width * fraction)
        line = f"{self.label} [{'#' * filled}{'.' * (bar_width - filled)}]{tail}"
        return line[: max(width - 1, 1)]

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.render(now) + "\x1b[K")
        self.stream.flush()
        self._drawn = True


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns aligned with two spaces between them; numeric columns right-aligned."""
    count = len(headers)
    cells = [[*row, *([""] * (count - len(row)))][:count] for row in rows]
    widths = [max([len(headers[i]), *(len(row[i]) for row in cells)]) for i in range(count)]
    numeric = [
        bool(cells) and all(not row[i] or _NUMBER.match(row[i]) for row in cells)
        for i in range(count)
    ]

    def line(values: list[str]) -> str:
        parts = [
            value.rjust(widths[i]) if numeric[i] else value.ljust(widths[i])
            for i, value in enumerate(values)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), "  ".join("-" * width for width in widths)]
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def format_load_report(report: LoadReport) -> str:
    """What the CLI prints after `load`: one line when it worked, every error when it did not."""
    if not report.ok:
        total = report.error_count or len(report.errors)
        count = f"{total:,} error{'s' if total != 1 else ''}"
        if report.stopped_at_line is not None:
            listed = len(report.errors) - 1  # the last line says where reading stopped
            count = (
                f"more than {listed:,} errors in its first {report.stopped_at_line:,} lines"
                f" (reading stopped there; the first {listed:,} below)"
            )
        lines = [f'pack "{report.pack_id}" refused: {count}, nothing imported']
        lines.extend(f"  {error}" for error in report.errors)
        return "\n".join(lines)
    verb = "replaced" if report.replaced else "loaded"
    detail = [f"{report.tasks_added:,} added"]
    if report.replaced:
        detail.append(f"{report.tasks_updated:,} updated")
        detail.append(f"{report.tasks_retired:,} retired")
    lines = [
        f'pack "{report.pack_id}" {verb}: {report.tasks_total:,} tasks ({", ".join(detail)}),'
        f" overlap {report.overlap},"
        f" reward {format_amount(report.reward_micros, report.currency)},"
        f" budget {format_amount(report.budget_micros, report.currency)}"
    ]
    lines.extend(f"warning: {warning}" for warning in report.warnings)
    return "\n".join(lines)


def format_progress(
    rows: list[PackProgress],
    extra_headers: Sequence[str] = (),
    extra: Callable[[PackProgress], list[str]] | None = None,
) -> str:
    """The `packs` table of the CLI; `extra` adds columns (the fair-pay figures) to each row."""
    if not rows:
        return "no packs loaded"
    # Each column is said in docs/operators.md ("The packs table"): regular tasks and their answers
    # first, then the check questions (gold) and their answers, never mixed.
    headers = [
        "pack",
        "status",
        "tasks",
        "complete",
        "answers",
        "wanted",
        "% done",
        "checks",
        "check answers",
        "open leases",
        "held",
        "out of service",
        "reward",
        "spent",
        *extra_headers,
    ]
    body = [
        [
            row.id,
            row.status,
            f"{row.tasks:,}",
            f"{row.tasks_complete:,}",
            f"{row.answers:,}",
            f"{row.answers_wanted:,}",
            f"{row.percent:.1f}%",
            f"{row.gold_tasks:,}",
            f"{row.gold_answers:,}",
            f"{row.open_leases:,}",
            f"{row.media_held:,}",
            f"{row.media_out:,}",
            format_amount(row.reward_micros, row.currency),
            format_amount(row.spent_micros, row.currency),
            *(extra(row) if extra else []),
        ]
        for row in rows
    ]
    return format_table(headers, body)


def media_off_notes(rows: list[PackProgress]) -> list[str]:
    """A line per pack with tasks not handed out because of their media: what to do."""
    notes = []
    for row in rows:
        parts = []
        if row.media_held:
            parts.append(
                f"{row.media_held:,} task{'s' if row.media_held != 1 else ''} held (a media file"
                " changed since the pack was loaded)"
            )
        if row.media_out:
            parts.append(
                f"{row.media_out:,} task{'s' if row.media_out != 1 else ''} out of service"
                f" (Telegram refused its media {MEDIA_FAILURES} times in a row)"
            )
        if parts:
            notes.append(
                f"warning: pack {row.id}: {' and '.join(parts)}: not handed out until the pack"
                " is reloaded (python -m bot load-pack --replace FILE); the bot's log names"
                " each task and file"
            )
    return notes
