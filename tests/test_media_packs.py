"""Media fields of a pack, checked when it loads: every refusal with its line, nothing loaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.samples.make_media import shape_png
from db import Database
from db.media import described
from tasks.clock import Clock, FakeClock
from tasks.earnings import EarningsService
from tasks.media import MAX_MEDIA_TEXT_UNITS, MediaChecker, TaskMedia, audio_format, image_size
from tasks.operator_upload import PackUploads
from tasks.packs import load_pack
from tests.helpers import json_task_line, table, write_pack_file

SAMPLES = Path(__file__).resolve().parent.parent / "bot" / "samples" / "media"
PNG = shape_png("circle", (200, 30, 30))
MP3 = (SAMPLES / "tones-440-660.mp3").read_bytes()


def ogg_opus() -> bytes:
    """The first bytes of an OGG/Opus file: what Telegram looks for to play a voice note."""
    return b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead\x01\x01" + b"\x00" * 40


async def errors_of(db: Database, path: Path, **options: Any) -> list[str]:
    report = await load_pack(db, path, clock=Clock(), **options)
    assert not report.ok
    assert await table(db, "SELECT * FROM task_media") == []  # nothing of it was loaded
    return [str(error) for error in report.errors]


async def test_media_problems_are_refused_with_their_lines(db: Database, tmp_path: Path) -> None:
    (tmp_path / "ok.png").write_bytes(PNG)
    (tmp_path / "huge.png").write_bytes(PNG + b"\x00" * (10 * 1024 * 1024))
    (tmp_path / "notes.txt").write_text("not a picture")
    (tmp_path / "tones.mp3").write_bytes(MP3)
    (tmp_path / "big-voice.mp3").write_bytes(MP3 + b"\x00" * (1024 * 1024))
    (tmp_path / "song.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    (tmp_path / "folder.png").mkdir()
    tasks: list[dict[str, Any]] = [
        {"id": "fine", "text": "a circle", "image": "ok.png"},
        {"id": "missing", "text": "where", "image": "nowhere/missing.png"},
        {"id": "huge", "text": "too big", "image": "huge.png"},
        {"id": "text", "text": "not an image", "image": "notes.txt"},
        {"id": "http", "text": "plain http", "audio": "http://example.org/song.mp3"},
        {"id": "two", "text": "both", "image": "ok.png", "voice": "tones.mp3"},
        {"id": "long", "text": "x" * (MAX_MEDIA_TEXT_UNITS + 1), "image": "ok.png"},
        {"id": "bigvoice", "voice": "big-voice.mp3"},
        {"id": "wav", "audio": "song.wav"},
        {"id": "dir", "image": "folder.png"},
        {"id": "none"},
        {"id": "wide", "image": "wide.png"},
    ]
    wide = bytearray(PNG)
    wide[16:24] = (4000).to_bytes(4, "big") + (150).to_bytes(4, "big")
    (tmp_path / "wide.png").write_bytes(bytes(wide))
    path = write_pack_file(tmp_path / "media.json", tasks)
    line = {task["id"]: json_task_line(n) for n, task in enumerate(tasks)}
    assert await errors_of(db, path) == [
        f'line {line["missing"]}, task "missing", field "image": no such file:'
        " nowhere/missing.png (paths are relative to the pack file)",
        f'line {line["huge"]}, task "huge", field "image": huge.png has'
        f" {len(PNG) + 10 * 2**20:,} bytes; Telegram takes a photo of at most 10 MB",
        f'line {line["text"]}, task "text", field "image": notes.txt: not a PNG, JPEG or WebP'
        " image (what Telegram shows as a photo)",
        f'line {line["http"]}, task "http", field "audio": a URL must start with https://'
        " (Telegram fetches only those): 'http://example.org/song.mp3'",
        f'line {line["two"]}, task "two", field "voice": a task has at most one media (a'
        " message carries one): image, voice",
        f'line {line["long"]}, task "long", field "text": has 801 UTF-16 units; a task with an'
        " image shows its text in the caption (Telegram: 1,024 with the title), so at most 800",
        f'line {line["bigvoice"]}, task "bigvoice", field "voice": big-voice.mp3 has'
        f" {len(MP3) + 2**20:,} bytes; Telegram takes a voice note of at most 1 MB (a bigger"
        " one shows as a file, not a voice note)",
        f'line {line["wav"]}, task "wav", field "audio": song.wav: not an MP3 or M4A file (what'
        " Telegram plays as audio)",
        f'line {line["dir"]}, task "dir", field "image": folder.png is not a regular file',
        f'line {line["none"]}, task "none", field "text": required field is missing',
        f'line {line["wide"]}, task "wide", field "image": wide.png: 4000×150: Telegram wants'
        " an aspect ratio of at most 20",
    ]


async def test_a_media_pack_loads_with_urls_file_ids_and_files_in_json_jsonl_and_csv(
    db: Database, tmp_path: Path
) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "ok.png").write_bytes(PNG)
    (tmp_path / "media" / "tones.mp3").write_bytes(MP3)
    (tmp_path / "media" / "note.ogg").write_bytes(ogg_opus())
    tasks = [
        {"id": "file", "image": "media/ok.png"},
        {"id": "same", "text": "the same file, hashed once", "image": "media/ok.png"},
        {"id": "url", "text": "by URL", "audio": "https://example.org/a.mp3"},
        {"id": "fid", "voice": "AwACAgIAAxkBAAIBb2d0ZXN0LWZpbGUtaWQ"},
        {"id": "opus", "voice": "media/note.ogg", "gold": "pos"},
    ]
    for name in ("pack.json", "pack.jsonl"):
        path = write_pack_file(
            tmp_path / name, tasks, id=name.replace(".", "-"), quality={"qualification": 0}
        )
        report = await load_pack(db, path, clock=Clock())
        assert report.ok, report.errors
    rows = await table(
        db,
        "SELECT t.task_id, m.kind, m.source, m.media_key IS NOT NULL, t.content"
        " FROM task_media AS m JOIN tasks AS t ON t.pk = m.task_pk WHERE t.pack_pk = 1"
        " ORDER BY t.pk",
    )
    assert [row[:4] for row in rows] == [
        ("file", "image", "file", 1),
        ("same", "image", "file", 1),
        ("url", "audio", "url", 1),
        ("fid", "voice", "file_id", 0),
        ("opus", "voice", "file", 1),
    ]
    assert json.loads(rows[0][4]) == {"text": "", "image": "media/ok.png"}  # as written
    keys = await table(db, "SELECT DISTINCT media_key FROM task_media WHERE kind = 'image'")
    assert len(keys) == 1  # one content, one key: uploaded once for both packs and tasks

    csv = tmp_path / "sheet.csv"
    csv.write_text(
        "id,text,image,gold\nc1,,media/ok.png,\nc2,plain text,,\nc3,,missing.png,pos\n",
        encoding="utf-8",
    )
    header = {"id": "sheet", "title": "Sheet", "instructions": "Pick.", "type": "single_choice"}
    header |= {"options": [{"id": "pos", "label": "P"}, {"id": "neg", "label": "N"}]}
    header |= {"reward": "0.01", "quality": {"qualification": 0}}
    (tmp_path / "sheet.header.json").write_text(json.dumps(header))
    report = await load_pack(db, csv, clock=Clock())
    assert [str(e) for e in report.errors] == [
        'line 4, task "c3", field "image": no such file: missing.png (paths are relative to the'
        " pack file)"
    ]


async def test_a_pack_sent_in_the_chat_takes_only_urls_and_file_ids(
    db: Database, tmp_path: Path
) -> None:
    """A Telegram document has no folder: a path in it cannot be found, and says so."""
    (tmp_path / "ok.png").write_bytes(PNG)
    tasks = [
        {"id": "path", "text": "a path", "image": "ok.png"},
        {"id": "url", "text": "a URL", "image": "https://example.org/ok.png"},
    ]
    path = write_pack_file(tmp_path / "chat.json", tasks, quality={"qualification": 0})
    clock = FakeClock()
    uploads = PackUploads(db, clock, EarningsService(db, clock), 12_000_000)
    outcome = await uploads.upload(path, None)
    assert [str(e) for e in outcome.errors] == [
        f'line {json_task_line(0, 7)}, task "path", field "image": \'ok.png\': a pack sent in'
        " the chat has no folder for files; give an https URL or a Telegram file_id, or load"
        " the pack with its files: python -m bot load"
    ]


def test_formats_are_told_from_their_first_bytes() -> None:
    assert image_size(PNG) == (48, 48)
    assert image_size(b"GIF89a") is None
    assert audio_format(MP3) == "mp3" and audio_format(ogg_opus()) == "ogg_opus"
    assert audio_format(b"\x00\x00\x00\x18ftypM4A ") == "m4a"
    assert audio_format(b"OggS" + b"\x00" * 30 + b"vorbis") == "ogg"
    checker = MediaChecker(None)
    by_id = checker.check("image", "AgACAgIAAxkBAAIBbWd0ZXN0")
    assert isinstance(by_id, TaskMedia) and by_id.source == "file_id" and by_id.key is None
    assert isinstance(checker.check("image", "ftp://example.org/a.png"), str)


def test_an_operator_reads_a_media_task_with_its_file() -> None:
    assert described('{"text": "", "image": "media/a.png"}') == "[image: media/a.png]"
    assert described('{"text": "Higher?", "voice": "t.mp3"}') == "[voice: t.mp3] Higher?"
    assert described('{"text": "plain"}') == "plain"
