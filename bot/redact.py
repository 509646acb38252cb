"""The bot token never reaches a text a person reads (see docs/secrets.md).

Every Bot API call's URL holds the token (`.../bot<TOKEN>/getMe`, `.../file/bot<TOKEN>/...`), and
so does a self-hosted Bot API server's file path in `--local` mode. aiohttp puts the URL in the
text of many of its errors (a bad status line, a bad Content-Length, a redirect loop, a connect
timeout). The transport (bot/request.py) replaces the token in what it raises, so no later code
can pass it on.
"""

from __future__ import annotations

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
