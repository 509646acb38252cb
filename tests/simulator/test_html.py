"""Telegram's HTML parse mode: entities, UTF-16 offsets, and tdlib's error texts."""

from __future__ import annotations

import pytest

from simulator import EntityParseError, parse_html


def test_parse_html_entities_and_offsets() -> None:
    text, entities = parse_html('é<b>😀x</b> &lt;<a href="https://e.org/?a=1&amp;b=2">l</a>')
    assert text == "é😀x <l"
    assert entities == [
        {"type": "bold", "offset": 1, "length": 3},
        {"type": "text_link", "offset": 6, "length": 1, "url": "https://e.org/?a=1&b=2"},
    ]
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]
    text, entities = parse_html("<blockquote expandable>q</blockquote><tg-spoiler>s</tg-spoiler>")
    assert [e["type"] for e in entities] == ["expandable_blockquote", "spoiler"]


@pytest.mark.parametrize(
    ("markup", "detail"),
    [
        ("hello <foo>x</foo>", 'Unsupported start tag "foo" at byte offset 6'),
        ("<b>never closed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("é</b>", "Unexpected end tag at byte offset 2"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("Tom & Jerry", "Character entity expected at byte offset 4"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_parse_html_errors(markup: str, detail: str) -> None:
    with pytest.raises(EntityParseError) as err:
        parse_html(markup)
    assert err.value.detail == detail
    assert err.value.description == "Bad Request: can't parse entities: " + detail
