"""JSON as the pack reader needs it: where a broken line breaks (line, column), the line each
task of a JSON pack starts on (json.loads gives no positions), values SQLite cannot store, and
JSON that is refused before it is parsed.

Hostile JSON: Python's json module recurses once per level of nesting (a RecursionError past
about a thousand levels, sooner in a thread with a small stack) and refuses to turn a number of
more than 4,300 digits into an int (a ValueError that is not a JSONDecodeError). Every pack
path parses with `loads` (or `scan_json_pack`), which measures the nesting first, with C-speed
string operations, and turns both into a `HostileJson`: a JSONDecodeError whose message says
what is wrong ("nested too deeply (more than 32 levels)", "a number has 5,000 digits, ...") at
its line.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from itertools import accumulate
from typing import Any, cast

# Deeper than any pack needs: a JSON pack's task sits at level 3 ({"tasks": [{...}]}), a gold
# list at 4. The check costs nothing for a line with fewer opening brackets than this.
MAX_DEPTH = 32
# The nesting is measured a chunk at a time: a thread measuring 20 MB lets the event loop (and
# every other thread) run between chunks, each a few milliseconds.
_CHUNK = 1 << 20
_STRUCTURE = b'"[]{}'
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in _STRUCTURE)
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


class HostileJson(json.JSONDecodeError):
    """JSON refused before (or instead of) being parsed: nested deeper than MAX_DEPTH, or a
    number with more digits than Python turns into an int. `msg` is what an operator reads;
    `lineno` and `colno` say where (`colno` in bytes when the document was bytes)."""

    def __init__(self, msg: str, doc: str | bytes, pos: int) -> None:
        if isinstance(doc, str):
            lineno, colno = doc.count("\n", 0, pos) + 1, pos - doc.rfind("\n", 0, pos)
        else:
            lineno, colno = doc.count(b"\n", 0, pos) + 1, pos - doc.rfind(b"\n", 0, pos)
        ValueError.__init__(self, f"{msg}: line {lineno} column {colno}")
        self.msg, self.doc, self.pos, self.lineno, self.colno = msg, "", pos, lineno, colno


def too_deep(doc: str | bytes, pos: int) -> HostileJson:
    return HostileJson(f"nested too deeply (more than {MAX_DEPTH} levels)", doc, pos)


def deep_at(data: bytes, limit: int = MAX_DEPTH, start: int = 0) -> int | None:
    """Where the nesting of JSON `data` first goes deeper than `limit` levels (brackets inside
    strings do not count), from `start` on; None when it never does.

    A line with `limit` opening brackets or fewer is answered at once. Otherwise, a chunk at a
    time (no call on the whole of a big document: each call holds the GIL): escaped backslashes
    and quotes are dropped, then every byte but quotes and brackets, then what lies between
    quotes; the brackets left are summed. In valid JSON a backslash only appears inside strings,
    and no byte of a multi-byte UTF-8 character is a quote, a backslash or a bracket. Invalid
    JSON may be measured wrong: its parser says what is wrong with it.
    """
    end_all = len(data)
    if end_all - start <= _CHUNK and data.count(b"[", start) + data.count(b"{", start) <= limit:
        return None
    depth = 0
    inside = False  # whether the chunk starts inside a string
    while start < end_all:
        end = min(start + _CHUNK, end_all)
        while end < end_all and data[end - 1] == 0x5C:  # never cut after a backslash
            end += 1
        chunk = data[start:end]
        skeleton = chunk.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
        parts = skeleton.split(b'"')
        brackets = b"".join(parts[1::2] if inside else parts[0::2])
        if brackets:
            levels = list(accumulate(map(_STEP.__getitem__, brackets), initial=depth))
            if max(levels) > limit:
                return start + _exact(chunk, depth, inside, limit)
            depth = levels[-1]
        if len(parts) % 2 == 0:  # an odd number of quotes: the next chunk starts on the other side
            inside = not inside
        start = end
    return None


def _exact(chunk: bytes, depth: int, inside: bool, limit: int) -> int:
    """The offset in `chunk` where the nesting passes `limit` (the slow way: only for a chunk
    known to go too deep)."""
    escaped = False
    for index, byte in enumerate(chunk):
        if inside:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                inside = False
        elif byte == 0x22:
            inside = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return index
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return len(chunk)


def too_many_digits(doc: str | bytes, start: int = 0) -> HostileJson:
    """The error for the first number of `doc` (from `start` on) longer than Python reads."""
    limit = sys.get_int_max_str_digits()
    pattern = rf"[0-9]{{{limit + 1},}}"
    if isinstance(doc, str):
        found: re.Match[str] | re.Match[bytes] | None = re.compile(pattern).search(doc, start)
    else:
        found = re.compile(pattern.encode()).search(doc, start)
    pos, digits = (found.start(), len(found.group())) if found else (start, 0)
    said = f"{digits:,} digits" if digits else "too many digits"
    return HostileJson(f"a number has {said}, more than the {limit:,} a number may have", doc, pos)


def loads(data: str | bytes) -> Any:
    """json.loads for pack input: JSONDecodeError for invalid JSON (a UnicodeDecodeError for
    bytes that are not UTF-8), HostileJson for JSON nested too deeply or with a number too long
    to read; never a RecursionError."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if (pos := deep_at(raw)) is not None:
        raise too_deep(raw, pos)
    try:
        return json.loads(data)
    except json.JSONDecodeError:
        raise
    except RecursionError:  # a thread's stack shallower than MAX_DEPTH levels of the parser
        raise too_deep(raw, 0) from None
    except ValueError as exc:
        if isinstance(exc, UnicodeDecodeError):
            raise
        raise too_many_digits(data) from None


def json_problem(raw: object) -> str:
    """Why a JSONL line (bytes) is not JSON, with the column; `raw` can be the decode error."""
    exc: Exception
    if isinstance(raw, Exception):
        exc = raw
    else:
        try:
            loads(cast(bytes, raw))
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
    """A decode error as "invalid JSON at column N: expecting value" (a HostileJson: what it
    says, "nested too deeply (more than 32 levels)")."""
    if isinstance(exc, HostileJson):
        return exc.msg
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
_VALUE_START = frozenset('[{"-0123456789tfn')


def scan_json_pack(
    text: str, pause: Callable[[], None] | None = None
) -> tuple[dict[str, Any], dict[str, int], list[Any], list[int]]:
    """Reads a JSON pack document one value at a time: the top-level fields, the line of each
    top-level field's value, and the elements of the "tasks" array with the line each starts
    on, in a list of their own (json.loads gives no positions).

    Never one parse of the whole document (a C call that would hold the GIL for the whole file:
    20 MB is about half a second in which no other thread runs): each value is its own call.
    Raises JSONDecodeError where the document is not JSON (json's own messages), HostileJson
    where it is nested too deeply or holds a number too long to read, and ValueError (with
    `NOT_AN_OBJECT`) when the document is JSON but not an object. `pause` is called every 32
    task elements (PackReader.pause).
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

    def at(index: int) -> str:
        return text[index : index + 1]

    def after_space(index: int) -> int:
        return cast(re.Match[str], skip(text, index)).end()

    def decode(index: int) -> tuple[Any, int]:
        try:
            return decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            raise
        except RecursionError:
            raise too_deep(text, index) from None
        except ValueError:
            raise too_many_digits(text, index) from None

    fields: dict[str, Any] = {}
    lines: dict[str, int] = {}
    elements: list[Any] = []
    starts: list[int] = []
    i = after_space(0)
    if at(i) != "{":
        if at(i) and at(i) in _VALUE_START:
            raise ValueError(NOT_AN_OBJECT)
        raise json.JSONDecodeError("Expecting value", text, i)
    i = after_space(i + 1)
    if at(i) == "}":
        i += 1
    else:
        while True:
            if at(i) != '"':
                raise json.JSONDecodeError(
                    "Expecting property name enclosed in double quotes", text, i
                )
            key, i = decode(i)
            i = after_space(i)
            if at(i) != ":":
                raise json.JSONDecodeError("Expecting ':' delimiter", text, i)
            i = after_space(i + 1)
            lines[key] = line_at(i)
            if key == "tasks" and at(i) == "[":
                elements, starts = [], []
                items: list[Any] = []
                i = after_space(i + 1)
                if at(i) != "]":
                    while True:
                        starts.append(line_at(i))
                        if pause is not None and not len(starts) % 32:
                            pause()
                        element, i = decode(i)
                        elements.append(element)
                        items.append(None)
                        i = after_space(i)
                        if at(i) == "]":
                            break
                        if at(i) != ",":
                            raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
                        i = after_space(i + 1)
                fields[key] = items
                i += 1
            else:
                fields[key], i = decode(i)
            i = after_space(i)
            if at(i) == "}":
                i += 1
                break
            if at(i) != ",":
                raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
            i = after_space(i + 1)
    i = after_space(i)
    if i != len(text):
        raise json.JSONDecodeError("Extra data", text, i)
    return fields, lines, elements, starts


NOT_AN_OBJECT = "a JSON pack is one object (the header and its tasks)"
