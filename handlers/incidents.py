"""A failure an operator is told about: a sentence in their language with a short reference,
never the exception's text (it may hold a URL, a path, an internal detail); the details go to
the bot's log, on a line that carries the same reference ("ref 3f9a2c"), so the one who runs
the bot finds it with `grep "ref 3f9a2c"`. The transport has already taken the token out of
the exception (bot/transport/request.py); the log's own filter is a second line of defence."""

from __future__ import annotations

import logging
import secrets


def reference() -> str:
    """Six hex digits: enough to find one line among a day's log."""
    return secrets.token_hex(3)


def logged(
    log: logging.Logger,
    error: BaseException,
    what: str,
    *args: object,
    level: int = logging.WARNING,
    traceback: bool = False,
) -> str:
    """Logs `what` (a %-format with `args`) and the error, with a new reference; returns it."""
    ref = reference()
    log.log(
        level,
        "%s (ref %s): %s: %s",
        what % args,
        ref,
        type(error).__name__,
        error,
        exc_info=error if traceback else None,
    )
    return ref
