"""Hostile JSON in a pack: a number of thousands of digits, nesting thousands of levels deep.

Python's json module refuses an int of more than 4,300 digits with a ValueError that is not a
JSONDecodeError, and recurses once per level of nesting (a RecursionError, or a crash in a thread
with a small stack). Every way JSON enters a pack (a JSON document, JSONL lines, a CSV gold cell,
a CSV sidecar header, a caption) must turn them into one pack error with its line, like any other.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from db import Database
from tasks.clock import FakeClock
from tasks.packs import jsonscan, load_pack
from tasks.packs.csvpack import parse_settings
from tasks.packs.jsonscan import MAX_DEPTH, HostileJson, deep_at, loads
from tests.helpers import PACK_HEADER, check_pack, cli, make_tasks, table, write_pack_file

BIG = "1" * 5000
DIGITS = "a number has 5,000 digits, more than the 4,300 a number may have"
DEEP = f"nested too deeply (more than {MAX_DEPTH} levels)"
NESTED = "[" * 50_000 + "]" * 50_000


def json_document(path: Path, field: str) -> Path:
    """A JSON pack whose second task (line 4) has `field` as the raw JSON of a field "n"."""
    head = json.dumps(PACK_HEADER)[:-1]
    tasks = '{"id": "t1", "text": "a"},\n{"id": "t2", "text": "b", "n": ' + field + "}"
    path.write_text(head + ',\n"tasks": [\n' + tasks + "\n]}\n", encoding="utf-8")
    return path


def jsonl_pack(path: Path, task_field: str | None, header_field: str | None = None) -> Path:
    header = json.dumps(PACK_HEADER)
    if header_field is not None:
        header = header[:-1] + ', "n": ' + header_field + "}"
    lines = [header, json.dumps({"id": "t1", "text": "a"})]
    if task_field is not None:
        lines.append('{"id": "t2", "text": "b", "n": ' + task_field + "}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def csv_pack(path: Path, gold: str, sidecar: str | None = None) -> Path:
    path.write_text(f'id,text,gold\nt1,a,pos\nt2,b,"{gold}"\n', encoding="utf-8")
    header = {k: v for k, v in PACK_HEADER.items() if k != "tasks"}
    header["type"] = "multi_choice"
    header["quality"] = {"qualification": 0}
    text = json.dumps(header) if sidecar is None else '{"id": "p",\n"n": ' + sidecar + "}"
    path.with_name(f"{path.stem}.header.json").write_text(text, encoding="utf-8")
    return path


CASES: list[tuple[str, Any, str]] = [
    ("json-number", lambda p: json_document(p / "p.json", BIG), f"line 4: {DIGITS}"),
    ("json-nesting", lambda p: json_document(p / "p.json", NESTED), f"line 4: {DEEP}"),
    ("jsonl-number", lambda p: jsonl_pack(p / "p.jsonl", BIG), f"line 3: {DIGITS}"),
    ("jsonl-nesting", lambda p: jsonl_pack(p / "p.jsonl", NESTED), f"line 3: {DEEP}"),
    (
        "jsonl-header-number",
        lambda p: jsonl_pack(p / "p.jsonl", None, BIG),
        f"line 1: the header line: {DIGITS}",
    ),
    (
        "jsonl-header-nesting",
        lambda p: jsonl_pack(p / "p.jsonl", None, NESTED),
        f"line 1: the header line: {DEEP}",
    ),
    ("csv-cell-number", lambda p: csv_pack(p / "p.csv", f"[{BIG}]"), f'field "gold": {DIGITS}'),
    ("csv-cell-nesting", lambda p: csv_pack(p / "p.csv", NESTED), f'field "gold": {DEEP}'),
    ("csv-sidecar-number", lambda p: csv_pack(p / "p.csv", "pos", BIG), f"line 2: {DIGITS}"),
    ("csv-sidecar-nesting", lambda p: csv_pack(p / "p.csv", "pos", NESTED), f"line 2: {DEEP}"),
]


@pytest.mark.parametrize(("name", "make", "said"), CASES, ids=[case[0] for case in CASES])
async def test_a_huge_number_or_deep_nesting_is_one_pack_error_with_its_line_in_every_format(
    db: Database, tmp_path: Path, clock: FakeClock, name: str, make: Any, said: str
) -> None:
    report = await load_pack(db, make(tmp_path), clock=clock)
    assert not report.ok
    assert [str(error) for error in report.errors if said in str(error)], report.errors
    assert report.error_count == 1, report.errors
    assert await table(db, "SELECT COUNT(*) FROM tasks") == [(0,)]


def test_load_pack_says_one_line_and_exits_1_for_hostile_json(tmp_path: Path) -> None:
    for path, said in (
        (json_document(tmp_path / "deep.json", NESTED), f"line 4: {DEEP}"),
        (jsonl_pack(tmp_path / "big.jsonl", BIG), f"line 3: {DIGITS}"),
    ):
        result = cli("load-pack", str(path), db=tmp_path / "db.sqlite3")
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr and "Error" not in result.stderr
        assert f"  {said}" in result.stdout.splitlines(), result.stdout


def test_a_caption_with_a_huge_number_or_deep_nesting_is_one_error_with_its_line() -> None:
    _, errors = parse_settings(f"id=p\noverlap={BIG}")
    assert [str(error) for error in errors] == [f'field "overlap": caption line 2: {DIGITS}']
    _, errors = parse_settings(f"id=p\nquality.qualification={NESTED}")
    assert [str(error) for error in errors] == [
        f'field "quality.qualification": caption line 2: {DEEP}'
    ]
    _, errors = parse_settings('{"id": "p",\n "overlap": ' + BIG + "}")
    assert [str(error) for error in errors] == [f"caption line 2: {DIGITS}"]


def test_nesting_is_refused_before_parsing_even_in_a_thread_with_a_small_stack() -> None:
    """json.loads of 900 levels in a thread with a 64 KiB stack crashes the process (a
    segmentation fault, not even a RecursionError); the reader measures first."""
    script = (
        "import threading\n"
        "from tasks.packs.jsonscan import loads\n"
        "def run():\n"
        "    try:\n"
        "        loads('[' * 900 + ']' * 900)\n"
        "    except ValueError as exc:\n"
        "        print(exc.msg)\n"
        "threading.stack_size(64 * 1024)\n"
        "thread = threading.Thread(target=run)\n"
        "thread.start()\n"
        "thread.join()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == DEEP


def _depth_the_slow_way(data: bytes, limit: int) -> int | None:
    depth, inside, escaped = 0, False, False
    for index, byte in enumerate(data):
        if inside:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                inside = False
        elif byte == 0x22:
            inside = True
        elif byte in b"[{":
            depth += 1
            if depth > limit:
                return index
        elif byte in b"]}":
            depth -= 1
    return None


def test_the_nesting_measure_skips_strings_and_escapes_across_chunk_boundaries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """deep_at drops strings with bulk string operations a chunk at a time: it must agree with
    a character-by-character walk on JSON full of quotes, backslashes and brackets in strings,
    wherever the chunks are cut."""
    rng = random.Random(5)
    pieces = ['"a\\\\"', '"\\""', '"[[{"', '"\\\\\\"]"', '"é€"', "1", "true", '"\\\\"']

    def value(level: int) -> str:
        if level > 45 or rng.random() < 0.3:
            return rng.choice(pieces)
        items = [value(level + 1) for _ in range(rng.randint(0, 3))]
        if rng.random() < 0.5:
            return "[" + ",".join(items) + "]"
        return "{" + ",".join(f'"k{i}\\\\":{item}' for i, item in enumerate(items)) + "}"

    for chunk in (7, 64, 1 << 20):
        monkeypatch.setattr(jsonscan, "_CHUNK", chunk)
        for _ in range(60):
            data = json.dumps(json.loads(value(0))).encode() if rng.random() < 0.5 else b""
            data = data or value(0).encode()
            for limit in (3, 10, MAX_DEPTH):
                assert deep_at(data, limit) == _depth_the_slow_way(data, limit), data


def test_strings_full_of_brackets_are_not_nesting() -> None:
    text = json.dumps({"text": "[" * 1000 + "{" * 1000, "id": "\\" * 33 + '"' + "[" * 40})
    assert loads(text)["text"].startswith("[[[")
    with pytest.raises(HostileJson) as caught:
        loads('{"a":\n' + "[" * 40 + "]" * 40 + "}")
    assert (caught.value.lineno, caught.value.msg) == (2, DEEP)


BROKEN_DOCUMENTS = [
    "",
    "   ",
    '{"id": "x", "tasks": [',
    '{"id": "x", "tasks": [{"id": "t1"},]}',
    '{"id": "x",, "tasks": []}',
    '{"id" "x"}',
    '{"id": "x" "tasks": []}',
    '{"id": "x", "tasks": [{"id": "t1"} {"id": "t2"}]}',
    '{"id": "x", "tasks": [{"id": "t1", "text": }]}',
    '{"id": "x"}\n{"id": "t1"}\n',
    '{"id": "x"} trailing',
    "{'id': 'x'}",
    '{"id": "x", }',
    "hello",
    '{"id": "x", "tasks": [1, 2',
    '{\n  "id": "x",\n  "tasks": [\n    {"id": "t1"},\n    {"id": "t2" "text": "b"}\n  ]\n}',
]


@pytest.mark.parametrize("document", BROKEN_DOCUMENTS)
def test_a_broken_json_pack_is_reported_where_json_itself_would_say(
    tmp_path: Path, document: str
) -> None:
    """The JSON reader parses one value at a time (one parse of 20 MB would hold the GIL for
    half a second); what it says of a broken file is what json.loads says."""
    path = tmp_path / "p.json"
    path.write_text(document, encoding="utf-8")
    check = check_pack(path)
    try:
        json.loads(document)
    except json.JSONDecodeError as exc:
        expected = f"line {exc.lineno}: invalid JSON at column {exc.colno}"
        assert str(check.errors[0]).startswith(expected), (check.errors, exc)
        assert len(check.errors) == 1
    else:
        pytest.fail("not a broken document")


def test_a_json_pack_that_is_not_an_object_is_said_so(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(make_tasks(2)), encoding="utf-8")
    assert [str(error) for error in check_pack(path).errors] == [
        "line 1: a JSON pack is one object (the header and its tasks)"
    ]
    pack = write_pack_file(tmp_path / "ok.json", make_tasks(3))
    assert check_pack(pack).tasks == 3
