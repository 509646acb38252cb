"""Text from workers (names, dispute comments) printed on an operator's terminal: control
characters (ESC, BEL, the rest of C0 and C1, DEL) are shown as visible escapes, so a worker's
text can never move the cursor, change colours, retitle the window or ring the bell."""

from __future__ import annotations

import io
import re
from typing import TextIO, cast

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\n\t]")


def printable(text: str, *, one_line: bool = True) -> str:
    """`text` safe to print: each control character as \\xNN (and, for a table cell, line
    breaks and tabs as spaces)."""
    if one_line:
        text = _LINE_BREAKS.sub(" ", text)
    return _CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", text)


class _PrintableStream(io.TextIOBase):
    """Writes to a terminal with control characters made visible (line breaks kept)."""

    def __init__(self, terminal: TextIO) -> None:
        self._terminal = terminal

    def write(self, text: str) -> int:
        self._terminal.write(printable(text, one_line=False))
        return len(text)

    def flush(self) -> None:
        self._terminal.flush()


def terminal_safe(stream: TextIO) -> TextIO:
    """`stream` itself for a file or a pipe (the data exact), or, for a terminal, a stream that
    shows control characters instead of obeying them (a worker's name printed in a CSV)."""
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return cast(TextIO, _PrintableStream(stream))
    return stream
