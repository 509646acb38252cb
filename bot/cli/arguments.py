"""Argument types, parsers and exit codes shared by the CLI's commands.

Ids typed by an operator go to SQLite, whose integers stop at 2**63 - 1: a longer id is refused
when the command line is read (one line, exit 2), never as an OverflowError deep in a query."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

SQLITE_MAX_INTEGER = 2**63 - 1
#: The exit code of a command refused (an unknown pack, a file that cannot be written...).
EXIT_REFUSED = 1


def _whole_number(what: str, text: str) -> int:
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit() or not 1 <= int(digits) <= SQLITE_MAX_INTEGER:
        raise argparse.ArgumentTypeError(
            f"not {what}: {text[:40]!r} (a whole number from 1 to {SQLITE_MAX_INTEGER:,})"
        )
    return int(digits)


def dispute_id(text: str) -> int:
    """A dispute's id as `disputes` lists it (#12)."""
    return _whole_number("a dispute id", text.removeprefix("#"))


def worker_id(text: str) -> int:
    """A worker's Telegram user id."""
    return _whole_number("a worker's Telegram id", text)


class OneLineParser(argparse.ArgumentParser):
    """A parser whose errors are one line, `error: <command>: <what>`, and exit code 2 (the
    README's promise for bad input), with where to find the usage."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("python -m bot ")
        print(f"error: {command}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)
