"""CSV packs (tasks/packs/csvpack.py) and the checks a file sent in the chat goes through as it
downloads (tasks/operator/upload.py), without Telegram."""

from __future__ import annotations

import json
from pathlib import Path

from db import Database
from tasks.clock import FakeClock
from tasks.operator.upload import UploadCheck, upload_problem
from tasks.packs import load_pack
from tests.helpers import PACK_HEADER, check_pack


def csv_pack(folder: Path, text: str | bytes, **header: object) -> Path:
    path = folder / "reviews.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    sidecar = {**PACK_HEADER, "quality": {"qualification": 0}, **header}
    (folder / "reviews.header.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return path


def errors(path: Path) -> list[str]:
    return [str(error) for error in check_pack(path).errors]


def test_a_csv_pack_reads_quoted_cells_blank_lines_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = csv_pack(
        tmp_path,
        '\ufeffText,ID,Gold\n"Good, ""very""",t1,\n\n"Two\nlines",t2,neg\n'.encode(),
    )
    check = check_pack(path)
    assert check.errors == [] and check.tasks == 2


def test_each_bad_row_is_named_by_the_line_it_starts_on(tmp_path: Path) -> None:
    text = 'id,text,gold\nt1,"multi\nline",\nt2,only two\nt3,x,maybe\nt4,"a",pos,extra\n'
    assert errors(csv_pack(tmp_path, text)) == [
        "line 4: the row has 2 cells, the first row names 3 columns",
        'line 5, task "t3", field "gold": "maybe" is not one of the options (pos, neg, neu)',
        "line 6: the row has 4 cells, the first row names 3 columns",
    ]


def test_unknown_or_repeated_columns_are_refused(tmp_path: Path) -> None:
    assert errors(csv_pack(tmp_path, "id,text,label,text\nt1,a,b,c\n")) == [
        'line 1: unknown column "label" (the columns are id,text[,gold,explanation])',
        'line 1: column "text" appears twice',
    ]


def test_text_that_is_not_utf8_stops_the_reading_at_its_line(tmp_path: Path) -> None:
    path = csv_pack(tmp_path, b"id,text\nt1,ok\nt2,caf\xe9\nt3,more\n")
    assert errors(path) == ["line 3: the file is not UTF-8 text (save it as CSV UTF-8)"]


async def test_a_duplicate_id_in_a_csv_names_its_first_line(tmp_path: Path) -> None:
    path = csv_pack(tmp_path, "id,text\nt1,a\nt2,b\nt1,c\n")
    async with Database(tmp_path / "db.sqlite3") as db:
        report = await load_pack(db, path, clock=FakeClock())
    assert [str(e) for e in report.errors] == [
        'line 4, task "t1", field "id": duplicate task id (first on line 2)'
    ]


async def test_a_dry_run_reports_what_a_load_would_do_and_imports_nothing(
    tmp_path: Path,
) -> None:
    path = csv_pack(tmp_path, "id,text\nt1,a\nt2,b\n")
    async with Database(tmp_path / "db.sqlite3") as db:
        report = await load_pack(db, path, clock=FakeClock(), dry_run=True)
        assert report.ok and report.tasks_total == 2
        assert await db.query("SELECT id FROM packs") == []


def test_the_download_checks_size_utf8_across_chunks_and_emptiness() -> None:
    check = UploadCheck(max_bytes=100)
    assert check.feed(b"line one\nline two \xc3")  # a character cut between two chunks
    assert check.feed(b"\xa9 still fine\n")
    assert not check.feed(b"third \xff\n")
    assert (check.finish(), check.bad_line) == ("not_utf8", 3)
    big = UploadCheck(max_bytes=10)
    assert not big.feed(b"x" * 11)
    assert big.finish() == "too_big"
    assert UploadCheck(max_bytes=10).finish() == "empty"
    cut = UploadCheck(max_bytes=10)
    cut.feed(b"ab\xc3")
    assert cut.finish() == "not_utf8"


def test_a_document_is_judged_by_its_name_and_size_before_any_download() -> None:
    assert upload_problem("pack.JSONL", 10, 100) is None
    assert upload_problem("notes.txt", 10, 100) == "not_a_pack"
    assert upload_problem(None, 10, 100) == "not_a_pack"
    assert upload_problem("pack.csv", 101, 100) == "too_big"
    assert upload_problem("pack.json", 0, 100) == "empty"
