"""The bot token never reaches a text a person reads (see docs/secrets.md).

Every Bot API call's URL holds the token (`.../bot<TOKEN>/getMe`, `.../file/bot<TOKEN>/...`),
and so does a self-hosted Bot API server's file path in `--local` mode. aiohttp puts the URL in
the text of many of its errors (a bad status line, a bad Content-Length, a redirect loop, a
connect timeout). The transport (bot/transport/request.py) replaces the token in what it raises,
so no later code can pass it on; the log has a second line of defence here (`RedactingFilter`),
for a library that logs a URL of its own (PTB logs its base URL, token included, at DEBUG).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MARK = "<token>"

# A token's shape, whatever the token: the bot's id, a colon (maybe percent-encoded), the secret
# (BotFather's are 35 characters). What the exact token misses (another token, a shortened one).
_SHAPE = re.compile(r"\d{5,}(?::|%3[Aa])[A-Za-z0-9_-]{30,}")
# The token in a Bot API URL: `/bot<id>:<secret>/` (the file URLs' `/file/bot...` alike).
_IN_URL = re.compile(r"/bot(\d+:[^/?#\s]+)")
# A secret shorter than this is not replaced alone (it could be an ordinary word).
_MIN_SECRET = 8


def token_in_url(url: str) -> str | None:
    """The token in a Bot API URL, if it holds one."""
    found = _IN_URL.search(url)
    return found.group(1) if found else None


def _variants(token: str) -> list[str]:
    """The token as it may be written: whole, with its colon percent-encoded, its secret alone."""
    variants = [token, token.replace(":", "%3A"), token.replace(":", "%3a")]
    secret = token.partition(":")[2]
    if len(secret) >= _MIN_SECRET:
        variants.append(secret)
    return variants


def redact(text: str, tokens: Iterable[str | None] = ()) -> str:
    """`text` with every known token (and anything shaped like one) replaced by <token>."""
    for token in tokens:
        if token:
            for variant in _variants(token):
                if variant in text:
                    text = text.replace(variant, MARK)
    return _SHAPE.sub(MARK, text)


def redact_bytes(data: bytes, token: str | None) -> bytes:
    """The same for a response body (only error bodies and non-JSON ones are passed here)."""
    if token:
        for variant in _variants(token):
            data = data.replace(variant.encode(), MARK.encode())
    return data


class RedactingFilter(logging.Filter):
    """On a handler: each record's message, traceback and stack, with the token replaced.

    The message is formatted here (record.args are then spent) and the traceback formatted
    once into record.exc_text, which formatters print instead of formatting it again (the
    exception itself is dropped from the record)."""

    def __init__(self, tokens: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.tokens: set[str] = {token for token in tokens if token}
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it for logging to report
            return True
        clean = redact(message, self.tokens)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.tokens)
            record.exc_info = None  # no formatter can print the raw traceback again
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.tokens)
        return True


def install(tokens: Iterable[str | None] = (), logger: logging.Logger | None = None) -> None:
    """Puts a RedactingFilter on every handler of `logger` (the root logger by default), or
    adds `tokens` to the one already there."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        found = next((f for f in handler.filters if isinstance(f, RedactingFilter)), None)
        if found is None:
            handler.addFilter(RedactingFilter(tokens))
        else:
            found.tokens.update(token for token in tokens if token)
