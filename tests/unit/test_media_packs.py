"""Media fields of a pack, checked when it loads: every refusal with its line, nothing loaded."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from bot.samples.make_media import shape_png
from db import Database
from db.media import described
from tasks.clock import Clock, FakeClock
from tasks.earnings import EarningsService
from tasks.media import (
    MAX_MEDIA_TEXT_UNITS,
    MediaChecker,
    TaskMedia,
    Unreadable,
    audio_format,
    image_size,
    read_bounded,
)
from tasks.operator.upload import PackUploads
from tasks.packs import load_pack
from tests.helpers import json_task_line, table, write_pack_file

SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "samples" / "media"
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


def outside_and_pack_folders(tmp_path: Path) -> tuple[Path, Path]:
    """A pack folder with one good picture, beside a folder it must not reach into."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(PNG)
    (outside / "notes.txt").write_text("private")
    (outside / "sub").mkdir()
    pack = tmp_path / "pack"
    (pack / "media").mkdir(parents=True)
    (pack / "media" / "ok.png").write_bytes(PNG)
    return pack, outside


async def test_media_paths_cannot_climb_out_of_the_pack_folder(
    db: Database, tmp_path: Path
) -> None:
    """An absolute path or a `..` leading out is refused with one sentence, the same whether
    the file outside exists, is a picture, a text or a folder: nothing outside is revealed."""
    pack, outside = outside_and_pack_folders(tmp_path)
    climbing = {
        "abs": str(outside / "secret.png"),  # exists, a valid picture
        "abs-missing": str(outside / "nothing.png"),
        "up": "../outside/secret.png",
        "up-text": "../outside/notes.txt",
        "up-folder": "../outside/sub",
        "up-missing": "../outside/nothing.png",
        "deep": "media/../../outside/secret.png",
        "far": "../../../../../../../../etc/passwd",
    }
    tasks: list[dict[str, Any]] = [
        {"id": "inside", "text": "a .. that stays inside", "image": "media/../media/ok.png"}
    ]
    tasks += [{"id": name, "text": "x", "image": value} for name, value in climbing.items()]
    path = write_pack_file(pack / "pack.json", tasks)
    errors = await errors_of(db, path)
    assert errors == [
        f'line {json_task_line(n + 1)}, task "{name}", field "image": a media file must be'
        " inside the pack's folder"
        for n, name in enumerate(climbing)
    ]
    assert not any(str(outside) in error or "secret" in error for error in errors)

    # Without them the pack loads, and the `..` that stays inside names the file inside.
    path = write_pack_file(pack / "pack.json", tasks[:1])
    assert (await load_pack(db, path, clock=Clock())).ok
    ((ref,),) = await table(db, "SELECT ref FROM task_media")
    assert ref == str((pack / "media" / "ok.png").resolve())


async def test_a_symlink_leading_out_is_refused_without_revealing_the_target(
    db: Database, tmp_path: Path
) -> None:
    """A link in the pack's folder to a file or folder outside it (existing or not) is refused
    with the same sentence as a path that climbs out; a link to a file inside is followed at
    load (the resolved path is what is kept and opened, without following links, at send)."""
    pack, outside = outside_and_pack_folders(tmp_path)
    (pack / "to-secret.png").symlink_to(outside / "secret.png")
    (pack / "to-text.png").symlink_to(outside / "notes.txt")
    (pack / "dangling.png").symlink_to(outside / "nothing.png")
    (pack / "to-outside").symlink_to(outside)
    (pack / "alias.png").symlink_to(pack / "media" / "ok.png")
    (pack / "loop.png").symlink_to(pack / "loop.png")
    links = ["to-secret.png", "to-text.png", "dangling.png", "to-outside/secret.png"]
    tasks: list[dict[str, Any]] = [{"id": "alias", "image": "alias.png"}]
    tasks += [{"id": f"l{n}", "image": name} for n, name in enumerate(links)]
    tasks += [{"id": "loop", "image": "loop.png"}]
    path = write_pack_file(pack / "pack.json", tasks)
    errors = await errors_of(db, path)
    outside_line = "a media file must be inside the pack's folder"
    assert errors[:-1] == [
        f'line {json_task_line(n + 1)}, task "l{n}", field "image": {outside_line}'
        for n in range(len(links))
    ]
    # A link to itself leads nowhere outside: it is refused as what it is, inside the folder.
    assert errors[-1] == (
        f'line {json_task_line(len(links) + 1)}, task "loop", field "image": loop.png is not a'
        " regular file"
    )
    assert not any("secret" in error or "notes" in error for error in errors)

    path = write_pack_file(pack / "pack.json", tasks[:1])
    assert (await load_pack(db, path, clock=Clock())).ok
    ((ref,),) = await table(db, "SELECT ref FROM task_media")
    assert ref == str((pack / "media" / "ok.png").resolve())  # the link's target, resolved


async def test_a_fifo_in_the_pack_folder_is_refused_without_hanging_the_load(
    db: Database, tmp_path: Path
) -> None:
    """A FIFO opened for reading would wait for a writer forever: it is opened without
    waiting (O_NONBLOCK) and refused as not a regular file."""
    os.mkfifo(tmp_path / "pipe.png")
    path = write_pack_file(tmp_path / "pack.json", [{"id": "p", "image": "pipe.png"}])
    errors = await asyncio.wait_for(errors_of(db, path), timeout=10)
    assert errors == [
        f'line {json_task_line(0)}, task "p", field "image": pipe.png is not a regular file'
    ]


def test_a_media_file_is_never_read_past_its_limit(tmp_path: Path) -> None:
    """Reads are bounded by the kind's limit whatever the file says it holds: a device that
    never ends (/dev/zero) is not even read, a file bigger than the limit is refused from its
    size, and the bytes read never pass the limit + 1."""
    assert read_bounded("/dev/zero", 10) == Unreadable("special")
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 11)
    assert read_bounded(big, 10) == Unreadable("too_big", "11")
    assert read_bounded(big, 11) == b"x" * 11
    link = tmp_path / "link.bin"
    link.symlink_to(big)
    assert read_bounded(link, 100) == Unreadable("symlink")  # never followed at the end
    assert read_bounded(tmp_path / "none.bin", 10) == Unreadable("gone")
