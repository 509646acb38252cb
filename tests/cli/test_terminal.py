"""Worker text printed by the CLI cannot drive the operator's terminal."""

from __future__ import annotations

from bot.cli.terminal import printable


def test_escape_sequences_and_the_bell_are_shown_not_obeyed() -> None:
    hostile = "Awa\x1b[2J\x1b]0;pwned\x07 \x9b31m done\x7f"
    shown = printable(hostile)
    assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in shown)
    assert shown == "Awa\\x1b[2J\\x1b]0;pwned\\x07 \\x9b31m done\\x7f"


def test_ordinary_text_is_left_alone_and_a_cell_stays_on_one_line() -> None:
    assert printable("Zoë — ça va ? 😀") == "Zoë — ça va ? 😀"
    assert printable("two\nlines\tand a tab") == "two lines and a tab"
    assert printable("two\nlines", one_line=False) == "two\nlines"
