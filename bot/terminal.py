"""Text from workers (names, dispute comments) printed on an operator's terminal: control
characters (ESC, BEL, the rest of C0 and C1, DEL) are shown as visible escapes, so a worker's
text can never move the cursor, change colours, retitle the window or ring the bell."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\n\t]")


def printable(text: str, *, one_line: bool = True) -> str:
    """`text` safe to print: each control character as \\xNN (and, for a table cell, line
    breaks and tabs as spaces)."""
    if one_line:
        text = _LINE_BREAKS.sub(" ", text)
    return _CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", text)
