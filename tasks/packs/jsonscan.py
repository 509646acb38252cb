"""JSON as the pack reader needs it: where a broken line breaks (line, column), the line each
task of a JSON pack starts on (json.loads gives no positions), and values SQLite cannot store."""

from __future__ import annotations

import json
import re
from typing import Any, cast


def json_problem(raw: object) -> str:
    """Why a JSONL line (bytes) is not JSON, with the column; `raw` can be the decode error."""
    exc: Exception
    if isinstance(raw, Exception):
        exc = raw
    else:
        try:
            json.loads(cast(bytes, raw))
        except ValueError as error:
            exc = error
        else:  # json accepts what pydantic's parser refused (a lone surrogate, for one)
            return "invalid JSON: invalid unicode escape"
    if isinstance(exc, json.JSONDecodeError):
        return decode_error(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start + 1})"
    return f"invalid JSON: {exc}"


def decode_error(exc: json.JSONDecodeError) -> str:
    """A decode error as "invalid JSON at column N: expecting value"."""
    message = exc.msg.removesuffix(" at")
    return f"invalid JSON at column {exc.colno}: {message[:1].lower()}{message[1:]}"


def unencodable(value: object) -> bool:
    """Whether a parsed JSON value holds a lone surrogate (\\ud800), which SQLite cannot store."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_WHITESPACE = re.compile(r"[ \t\n\r]*")


def scan_json_pack(text: str) -> tuple[dict[str, Any], dict[str, int], list[tuple[int, Any]]]:
    """Walks a JSON pack document (already known to be valid JSON, an object).

    Returns the top-level fields, the line of each top-level field's value, and each element of
    the "tasks" array with the line it starts on (json.loads gives no positions).
    """
    decoder = json.JSONDecoder()
    skip = _WHITESPACE.match
    position = 0
    line = 1

    def line_at(index: int) -> int:
        nonlocal position, line
        line += text.count("\n", position, index)
        position = index
        return line

    fields: dict[str, Any] = {}
    lines: dict[str, int] = {}
    elements: list[tuple[int, Any]] = []
    i = cast(re.Match[str], skip(text, 0)).end() + 1  # past "{"
    i = cast(re.Match[str], skip(text, i)).end()
    while text[i] != "}":
        key, i = decoder.raw_decode(text, i)
        i = cast(re.Match[str], skip(text, i)).end() + 1  # past ":"
        i = cast(re.Match[str], skip(text, i)).end()
        lines[key] = line_at(i)
        if key == "tasks" and text[i] == "[":
            elements = []
            i = cast(re.Match[str], skip(text, i + 1)).end()
            items: list[Any] = []
            while text[i] != "]":
                start = line_at(i)
                element, i = decoder.raw_decode(text, i)
                elements.append((start, element))
                items.append(None)
                i = cast(re.Match[str], skip(text, i)).end()
                if text[i] == ",":
                    i = cast(re.Match[str], skip(text, i + 1)).end()
            fields[key] = items
            i += 1
        else:
            fields[key], i = decoder.raw_decode(text, i)
        i = cast(re.Match[str], skip(text, i)).end()
        if text[i] == ",":
            i = cast(re.Match[str], skip(text, i + 1)).end()
    return fields, lines, elements
