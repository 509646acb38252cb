"""Telegram's HTML parse mode, as the Bot API implements it.

The parser follows tdlib's ``parse_html`` closely (same tags, same attribute grammar, same
error texts and UTF-8 *byte* offsets), so that a message the simulator accepts is a message
Telegram accepts, and a message it refuses fails with the text Telegram would give.

One deliberate difference: tdlib silently keeps a bare ``&`` that does not start a known
entity. With ``strict_ampersand=True`` (the default) we refuse it, because a bare ``&`` means
the sender forgot to escape user content, and the next user content will carry a ``<``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BAD_ENTITIES_PREFIX",
    "EntityParseError",
    "finalize_text",
    "parse_html",
    "utf16_len",
]

BAD_ENTITIES_PREFIX = "Bad Request: can't parse entities: "

Entity = dict[str, Any]

_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SIMPLE_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}

_SPACES = frozenset(" \t\r\n\v\0")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HEX = frozenset("0123456789abcdefABCDEF")
_STRIP_CHARS = " \t\r\n\v\f"


class EntityParseError(ValueError):
    """Invalid markup. ``detail`` is tdlib's text, ``description`` the full Bot API text."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def description(self) -> str:
        return BAD_ENTITIES_PREFIX + self.detail


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


class _Open:
    __slots__ = ("argument", "char_begin", "name", "offset")

    def __init__(self, name: str, argument: str, offset: int, char_begin: int) -> None:
        self.name = name
        self.argument = argument
        self.offset = offset  # UTF-16 offset in the result
        self.char_begin = char_begin  # index in the result list of characters


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference starting at ``text[pos] == '&'``.

    Returns (character, position after it) or None when it is not a valid reference.
    Mirrors tdlib's decode_html_entity (including the optional ';').
    """
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        if end < n and text[end] == "x":
            end += 1
            while end < n and text[end] in _HEX:
                value = value * 16 + int(text[end], 16)
                end += 1
                if value >= 0x10FFFF:
                    return None
        else:
            while end < n and "0" <= text[end] <= "9":
                value = value * 10 + ord(text[end]) - 48
                end += 1
                if value >= 0x10FFFF:
                    return None
        if value == 0 or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and text[end] == ";":
        end += 1
    return char, end


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into (plain text, Bot API MessageEntity dicts).

    Raises EntityParseError with tdlib's wording on invalid markup. Entities are sorted by
    offset, then by decreasing length, as Telegram returns them. Leading and trailing
    whitespace is *not* stripped here; see finalize_text.
    """
    if "<" not in text and "&" not in text:
        return text, []
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    out: list[str] = []
    entities: list[Entity] = []
    stack: list[_Open] = []
    offset = 0  # UTF-16 offset of the end of the result so far
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                char, i = decoded
                out.append(char)
                offset += 2 if ord(char) > 0xFFFF else 1
                continue
            if strict_ampersand:
                raise EntityParseError(
                    f"Character entity expected at byte offset {_byte_offset(text, i)}"
                )
        if c != "<":
            out.append(c)
            offset += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            # A start tag.
            name_begin = i
            while at(i) not in _SPACES and at(i) != ">":
                i += 1
            if i >= n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                )
            tag = text[name_begin:i].lower()
            if tag not in _SUPPORTED_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                )
            argument = ""
            while at(i) != ">":
                while i < n and at(i) in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while at(i) not in _SPACES and at(i) != "=" and at(i) != ">":
                    i += 1
                attr = text[attr_begin:i]
                if not attr:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{_byte_offset(text, begin)}"
                    )
                while i < n and at(i) in _SPACES:
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attr.lower() == "expandable":
                        argument = "1"
                        continue
                    raise EntityParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                i += 1
                while i < n and at(i) in _SPACES:
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                value_chars: list[str] = []
                if at(i) not in "'\"":
                    token_begin = i
                    while at(i).isascii() and (at(i).isalnum() or at(i) in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if at(i) not in _SPACES and at(i) != ">":
                        raise EntityParseError(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_entity(text, i)
                            if decoded is not None:
                                value_chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        value_chars.append(text[i])
                        i += 1
                    if i < n:
                        i += 1
                    value = "".join(value_chars)
                if i >= n:
                    raise EntityParseError(
                        f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                    )
                attr_l = attr.lower()
                if tag == "a" and attr_l == "href":
                    argument = value
                elif tag == "code" and attr_l == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr_l == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr_l == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attr_l == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
            i += 1  # skip '>'
            stack.append(_Open(tag, argument, offset, len(out)))
            continue

        # An end tag.
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_name = text[begin + 2 : i].lower()
        while i < n and at(i) in _SPACES:
            i += 1
        if at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        i += 1
        top = stack.pop()
        if end_name and end_name != top.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{top.name}>", found "</{end_name}>"'
            )
        if offset > top.offset:
            _close(top, offset, out, entities)

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close(top: _Open, offset: int, out: list[str], entities: list[Entity]) -> None:
    length = offset - top.offset
    simple = _SIMPLE_TYPES.get(top.name)
    if simple is not None:
        entities.append({"type": simple, "offset": top.offset, "length": length})
        return
    if top.name == "a":
        url = top.argument or "".join(out[top.char_begin :])
        if url.startswith("tg://user?id="):
            user_id = url[len("tg://user?id=") :]
            if user_id.isdigit():
                entities.append(
                    {
                        "type": "text_mention",
                        "offset": top.offset,
                        "length": length,
                        "user": {"id": int(user_id), "is_bot": False, "first_name": ""},
                    }
                )
            return
        if "://" not in url and "." in url:
            url = "http://" + url
        if "://" in url:  # tdlib drops links it cannot make sense of
            entities.append(
                {"type": "text_link", "offset": top.offset, "length": length, "url": url}
            )
        return
    if top.name == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == top.offset
            and last["length"] == length
            and top.argument
        ):
            last["language"] = top.argument
            return
        entity: Entity = {"type": "code", "offset": top.offset, "length": length}
        if top.argument:
            entity["language"] = top.argument  # kept until the enclosing <pre> closes
        entities.append(entity)
        return
    if top.name == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == top.offset
            and last["length"] == length
            and "language" in last
        ):
            last["type"] = "pre"
            return
        entities.append({"type": "pre", "offset": top.offset, "length": length})
        return
    if top.name == "blockquote":
        kind = "expandable_blockquote" if top.argument else "blockquote"
        entities.append({"type": kind, "offset": top.offset, "length": length})
        return
    if top.name == "tg-emoji":
        if top.argument:
            entities.append(
                {
                    "type": "custom_emoji",
                    "offset": top.offset,
                    "length": length,
                    "custom_emoji_id": top.argument,
                }
            )
        return


def finalize_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip leading/trailing whitespace like Telegram, shifting and clipping entities.

    A ``code`` entity still carrying a ``language`` (no enclosing ``<pre>``) loses it.
    """
    stripped = text.strip(_STRIP_CHARS)
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    if stripped == text:
        return text, entities
    lead = len(text) - len(text.lstrip(_STRIP_CHARS))  # stripped chars are all BMP
    total = utf16_len(stripped)
    out: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            moved = dict(entity)
            moved["offset"] = start
            moved["length"] = end - start
            out.append(moved)
    return stripped, out
