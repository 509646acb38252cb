"""`python -m bot` commands of the earnings features (statements, payouts, bonus)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.settings import Settings


def add_commands(commands: Any) -> None:
    """Adds this feature's subcommands to the CLI's subparsers."""


def run(args: argparse.Namespace, settings: Settings) -> int | None:
    """Runs the command if it is one of this feature's (returns its exit code), else None."""
    return None
