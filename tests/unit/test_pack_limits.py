"""Limits a pack file cannot get past: a line too long to hold, a JSON file too big to read
whole, more errors than anyone reads, and task texts Telegram could never send."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from bot.cli.progress import format_load_report
from db import Database
from tasks.clock import FakeClock
from tasks.packs import MAX_ERRORS, load_pack
from tasks.packs.lines import MAX_LINE_BYTES
from tasks.packs.reader import MAX_JSON_BYTES
from tests.helpers import PACK_HEADER, check_pack, make_tasks, write_pack_file


def test_a_200_mb_line_is_refused_with_its_line_number_without_being_read_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "huge.jsonl"
    chunk = b"a" * (1024 * 1024)
    with path.open("wb") as out:
        out.write(json.dumps(PACK_HEADER).encode() + b"\n")
        out.write(json.dumps(make_tasks(1)[0]).encode() + b"\n")
        out.write(b'{"id": "big", "text": "')
        for _ in range(200):
            out.write(chunk)
        out.write(b'"}\n')
        out.write(json.dumps(make_tasks(2, start=1)[0]).encode() + b"\n")
    tracemalloc.start()
    try:
        checked = check_pack(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # a 1 MiB chunk at a time, not 200 MB (it used 656 MB)
    (error,) = checked.errors
    assert error.line == 3
    size = 200 * 1024 * 1024 + len('{"id": "big", "text": ""}\n')
    assert error.message == (
        f"the line has {size:,} bytes, more than the {MAX_LINE_BYTES:,} a line may have"
        " (a task at its limits takes far less)"
    )
    assert checked.tasks == 2  # the lines around it were read


def test_a_task_at_every_limit_fits_in_a_line(tmp_path: Path) -> None:
    # Every character of the longest text and explanation as an escaped surrogate pair.
    task = {"id": "x" * 128, "text": "😀" * 1750, "gold": "pos", "explanation": "😀" * 500}
    line = json.dumps(task)  # ensure_ascii: \ud83d\ude00 for each emoji
    assert len(line) < MAX_LINE_BYTES / 4
    assert check_pack(write_pack_file(tmp_path / "p.jsonl", [line])).ok


def test_a_json_pack_too_big_to_read_whole_is_sent_to_jsonl(tmp_path: Path) -> None:
    path = write_pack_file(tmp_path / "big.json", make_tasks(2))
    with path.open("ab") as out:
        out.truncate(MAX_JSON_BYTES + 1)
    (error,) = check_pack(path).errors
    assert "JSON pack is read whole" in error.message and "JSONL" in error.message


async def test_a_file_with_thousands_of_errors_stops_early_and_says_how_far_it_read(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    tasks = [{"id": f"t{n}", "text": " "} for n in range(100_000)]  # blank: every one refused
    report = await load_pack(db, write_pack_file(tmp_path / "bad.jsonl", tasks), clock=clock)
    assert not report.ok and report.stopped_at_line == MAX_ERRORS + 2
    lines = format_load_report(report).splitlines()
    assert lines[0] == (
        f'pack "reviews" refused: more than {MAX_ERRORS} errors in its first'
        f" {MAX_ERRORS + 2} lines (reading stopped there; the first {MAX_ERRORS} below),"
        " nothing imported"
    )
    assert len(lines) == 1 + MAX_ERRORS + 1
    assert lines[1] == '  line 2, task "t0", field "text": is blank'
    assert await db.value("SELECT COUNT(*) FROM tasks") == 0


def test_a_task_text_is_measured_as_telegram_measures_it_in_utf16_units(tmp_path: Path) -> None:
    tasks = [
        {"id": "emoji", "text": "😀" * 3500},  # 3,500 characters, 7,000 units: never sendable
        {"id": "half", "text": "😀" * 1750},  # 3,500 units: fits
        {"id": "accents", "text": "é" * 3500},  # one unit each: fits
        {"id": "why", "text": "ok", "gold": "pos", "explanation": "🙂" * 501},
    ]
    for suffix in (".jsonl", ".json"):
        checked = check_pack(write_pack_file(tmp_path / f"p{suffix}", tasks))
        assert [(e.task_id, e.field, e.message) for e in checked.errors] == [
            (
                "emoji",
                "text",
                "has 3,500 characters but 7,000 UTF-16 units, at most 3,500 (Telegram counts"
                " each emoji, like any character beyond U+FFFF, as 2)",
            ),
            (
                "why",
                "explanation",
                "has 501 characters but 1,002 UTF-16 units, at most 1,000 (Telegram counts"
                " each emoji, like any character beyond U+FFFF, as 2)",
            ),
        ]
        assert checked.tasks == 2


def test_a_title_and_a_button_label_are_measured_in_utf16_units_too(tmp_path: Path) -> None:
    options = [{"id": "pos", "label": "👍" * 21}, {"id": "neg", "label": "👎" * 20}]
    path = write_pack_file(tmp_path / "p.jsonl", make_tasks(1), title="🌟" * 150, options=options)
    found = {(e.field, e.message.split(",")[0]) for e in check_pack(path).errors}
    assert found == {
        ("title", "has 150 characters but 300 UTF-16 units"),
        ("options[0].label", "has 21 characters but 42 UTF-16 units"),
    }


@pytest.mark.parametrize("reward", ["1e30", "1e400", "5000"])
def test_a_huge_reward_is_one_error_that_names_the_bound(tmp_path: Path, reward: str) -> None:
    path = write_pack_file(tmp_path / "p.json", make_tasks(2), reward=reward)
    [error] = check_pack(path).errors
    assert f"a reward of {reward} per answer is above 1000: a typo?" in str(error)
