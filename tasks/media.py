"""Media on a task: an image, an audio file or a voice note, and the rules Telegram sets on them.

A task field `image`, `audio` or `voice` (at most one per task: a message carries one media) is
an https URL, a file path relative to the pack file, or a Telegram file_id. Local files are
checked when the pack loads (exists, regular, readable, within Telegram's limits, of a format
Telegram shows as that kind) and hashed: the cache of what Telegram knows (media_files, keyed
by content) makes a file uploaded once, whatever pack or path names it later.

Limits from the Bot API's own documentation (sendPhoto, sendAudio, sendVoice):
- a photo upload is at most 10 MB; its width + height at most 10,000; its aspect ratio at most
  20. By URL Telegram fetches photos up to 5 MB and other files up to 20 MB (not checked at
  load: the URL is not fetched then; a refusal shows when it is sent).
- an audio file (music player) is MP3 or M4A, at most 50 MB.
- a voice note is OGG/Opus, MP3 or M4A; Telegram shows it as a playable voice note up to 1 MB
  (bigger ones arrive as a file), so that is the limit here.

A file path must stay inside the pack's folder (no absolute path, no `..` nor symbolic link
leading out: refused with one sentence that says nothing of what lies outside). A file is read
opened without following a symbolic link at its end (O_NOFOLLOW: the path kept is the resolved
one), refused unless regular, and never read past its kind's limit, at load and at send time.
At send time its bytes are hashed again before anything is uploaded: a file that changed since
the load is not sent (its task is held until the pack is reloaded), and what is uploaded is the
very bytes that were hashed, so a file_id is only ever stored under the hash of its content.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import stat
import struct
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple, cast

from db import media as media_db
from db.core import Database, Tx, read_only, to_db_time, unit_of_work
from db.media import StoredMedia
from tasks.clock import Clock

MediaKind = Literal["image", "audio", "voice"]
MEDIA_FIELDS: tuple[MediaKind, ...] = ("image", "audio", "voice")
# The store tells a media task by these same fields (db/media.py has_media): one list.
assert MEDIA_FIELDS == media_db.MEDIA_KINDS
Source = Literal["file", "url", "file_id"]

MB = 1024 * 1024
UPLOAD_LIMIT: dict[str, int] = {"image": 10 * MB, "audio": 50 * MB, "voice": 1 * MB}
_NOUN = {"image": "a photo", "audio": "an audio file", "voice": "a voice note"}
MAX_PHOTO_SIDES = 10_000  # width + height
MAX_PHOTO_RATIO = 20
# A caption holds 1,024 UTF-16 units (tasks/telegram_limits.py); a media task's text must leave
# room for the title line and the reward (the instructions give way first): 800 units.
MAX_MEDIA_TEXT_UNITS = 800

# Telegram's refusals in a row (a URL it cannot fetch, a file_id it does not know after the one
# upload again...) that take a task's media out of service: the task is no longer handed out
# until its pack is reloaded. A worker who meets a refusal gets their next task meanwhile.
MEDIA_FAILURES = 3
# One sentence for every path that leads out of the pack's folder, whatever lies there: nothing
# outside the folder is revealed (whether it exists, is a file, a folder...).
OUTSIDE = "a media file must be inside the pack's folder"

# A Telegram file_id: URL-safe base64, long, no dot and no slash (a path has one or the other,
# or is short).
_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{24,255}$")


@dataclass(frozen=True)
class TaskMedia:
    """A task's media as stored (task_media) and shown: what to send and how to find it again.

    `ref` is the absolute path (file), the URL, or the file_id; `key` names it in the upload
    cache (media_files): "sha256:<hex>" for a file, "url:<url>" for a URL, None for a file_id
    (already Telegram's)."""

    kind: MediaKind
    source: Source
    ref: str
    key: str | None = None
    size: int | None = None
    file_id: str | None = None  # what Telegram gave for `key`, once sent (filled when read)
    failures: int = 0  # Telegram's refusals in a row (task_media.failures)

    def with_file_id(self, file_id: str | None) -> TaskMedia:
        return TaskMedia(
            self.kind, self.source, self.ref, self.key, self.size, file_id, self.failures
        )


class MediaChecker:
    """Checks the media fields of a pack's tasks; a file named by many tasks is read once.

    `base` is the pack file's folder, which every file path must stay inside; None for a pack
    sent in a chat (a Telegram document has no folder: only URLs and file_ids can be given
    there)."""

    def __init__(self, base: Path | None) -> None:
        self.base = base
        self._seen: dict[tuple[str, Path], TaskMedia | str] = {}

    def check(self, kind: MediaKind, value: str) -> TaskMedia | str:
        """The task's media, or why it is refused (an operator's sentence)."""
        value = value.strip()
        if not value:
            return "is empty"
        lowered = value.lower()
        if lowered.startswith("https://"):
            if len(value) > 2048 or any(c.isspace() for c in value):
                return "is not a valid URL"
            return TaskMedia(kind, "url", value, key=f"url:{value}")
        if "://" in lowered[:12]:
            return f"a URL must start with https:// (Telegram fetches only those): {value!r}"
        if _FILE_ID.match(value) and "." not in value:
            return TaskMedia(kind, "file_id", value)
        if self.base is None:
            return (
                f"{value!r}: a pack sent in the chat has no folder for files; give an https URL"
                " or a Telegram file_id, or load the pack with its files: python -m bot load"
            )
        path = self._inside(value)
        if path is None:
            return OUTSIDE
        memo = self._seen.get((kind, path))
        if memo is None:
            memo = self._seen[(kind, path)] = _check_file(kind, path, value)
        return memo

    def _inside(self, value: str) -> Path | None:
        """The file `value` names, symbolic links resolved, if it is inside the pack's folder
        (a link inside the folder to a file inside it is followed); None otherwise. Decided on
        the path alone: nothing outside the folder is opened."""
        assert self.base is not None
        if "\x00" in value or Path(value).is_absolute():
            return None
        base = Path(os.path.realpath(self.base))
        path = Path(os.path.realpath(base / value))
        return path if path.is_relative_to(base) else None


class Unreadable(NamedTuple):
    """Why a file could not be read: "gone", "symlink", "special" (not a regular file),
    "too_big" (detail: its size) or "error" (detail: the system's words)."""

    why: Literal["gone", "symlink", "special", "too_big", "error"]
    detail: str = ""


def read_bounded(path: str | Path, limit: int) -> bytes | Unreadable:
    """The bytes of the regular file at `path`, at most `limit` of them. Opened without
    following a symbolic link (O_NOFOLLOW: `path` is already resolved, so a link there now was
    put in after the check) nor waiting on a FIFO (O_NONBLOCK), checked regular on the open
    file (fstat), and never read past `limit` + 1 bytes, whatever the file grows to."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return Unreadable("gone")
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # what O_NOFOLLOW says of a link
            return Unreadable("symlink")
        return Unreadable("error", exc.strerror or str(exc))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Unreadable("special")
        if info.st_size > limit:
            return Unreadable("too_big", f"{info.st_size:,}")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            return Unreadable("too_big", f"more than {limit:,}")
        return b"".join(chunks)
    except OSError as exc:
        return Unreadable("error", exc.strerror or str(exc))
    finally:
        os.close(fd)


def _check_file(kind: MediaKind, path: Path, written: str) -> TaskMedia | str:
    limit = UPLOAD_LIMIT[kind]
    data = read_bounded(path, limit)
    if isinstance(data, Unreadable):
        if data.why == "gone":
            return f"no such file: {written} (paths are relative to the pack file)"
        if data.why in ("special", "symlink"):
            return f"{written} is not a regular file"
        if data.why == "too_big":
            extra = " (a bigger one shows as a file, not a voice note)" if kind == "voice" else ""
            return (
                f"{written} has {data.detail} bytes; Telegram takes {_NOUN[kind]} of at most"
                f" {limit // MB} MB{extra}"
            )
        return f"cannot read {written}: {data.detail}"
    if not data:
        return f"{written} is empty"
    problem = format_problem(kind, data)
    if problem is not None:
        return f"{written}: {problem}"
    digest = hashlib.sha256(data).hexdigest()
    return TaskMedia(kind, "file", str(path), key=f"sha256:{digest}", size=len(data))


def read_verified(media: TaskMedia) -> bytes | str:
    """A task's local file as it is to be uploaded: its bytes if they are still the ones
    hashed when the pack was loaded; else why not, as the end of an operator's sentence
    ("changed since the pack was loaded"...): the file is then not sent at all."""
    data = read_bounded(media.ref, UPLOAD_LIMIT[media.kind])
    if isinstance(data, Unreadable):
        return {
            "gone": "is gone since the pack was loaded",
            "symlink": "is now a symbolic link",
            "special": "is no longer a regular file",
            "too_big": "changed since the pack was loaded (now over Telegram's limit)",
        }.get(data.why, f"cannot be read ({data.detail})")
    if media.key != f"sha256:{hashlib.sha256(data).hexdigest()}":
        return "changed since the pack was loaded"
    return data


def format_problem(kind: MediaKind, data: bytes) -> str | None:
    """Why Telegram would not show `data` as this kind of media, or None."""
    if kind == "image":
        size = image_size(data)
        if size is None:
            return "not a PNG, JPEG or WebP image (what Telegram shows as a photo)"
        width, height = size
        if width and height:
            if width + height > MAX_PHOTO_SIDES:
                return f"{width}×{height}: Telegram wants width + height of at most 10,000"
            if max(width, height) > MAX_PHOTO_RATIO * min(width, height):
                return f"{width}×{height}: Telegram wants an aspect ratio of at most 20"
        return None
    audio = audio_format(data)
    if kind == "audio" and audio not in ("mp3", "m4a"):
        return "not an MP3 or M4A file (what Telegram plays as audio)"
    if kind == "voice" and audio not in ("ogg_opus", "mp3", "m4a"):
        return "not OGG/Opus, MP3 or M4A (what Telegram plays as a voice note)"
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG; (0, 0) for a WebP (size not read); None otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg_size(data) or (0, 0)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return 0, 0
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return int(width), int(height)
        at += 2 + length
    return None


def audio_format(data: bytes) -> str | None:
    """ "ogg_opus", "ogg" (another codec), "mp3", "m4a" or None, from the first bytes."""
    if data.startswith(b"OggS"):
        return "ogg_opus" if b"OpusHead" in data[:128] else "ogg"
    if data.startswith(b"ID3"):
        return "mp3"
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:
        return "mp3"
    if data[4:8] == b"ftyp":
        return "m4a"
    return None


def media_field(task: dict[str, object]) -> tuple[MediaKind, str] | None:
    """The media field a task has, if any (the reader checks there is at most one)."""
    for kind in MEDIA_FIELDS:
        value = task.get(kind)
        if isinstance(value, str):
            return kind, value
    return None


def from_stored(stored: StoredMedia | None) -> TaskMedia | None:
    if stored is None:
        return None
    kind = cast(MediaKind, stored.kind)
    source = cast(Source, stored.source)
    return TaskMedia(
        kind, source, stored.ref, stored.media_key, stored.size, stored.file_id, stored.failures
    )


class MediaCache:
    """The file_ids Telegram gave for our files and URLs (media_files), and one lock per file:
    when many workers get the same new file at once, one uploads and the others wait for its
    file_id instead of uploading it again (single flight)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def lock(self, media: TaskMedia) -> asyncio.Lock:
        """The lock of this media's upload (held while it is uploaded)."""
        name = (media.key or media.ref, media.kind)
        found = self._locks.get(name)
        if found is None:
            found = asyncio.Lock()
            self._locks[name] = found
        return found

    @read_only
    def cached(self, tx: Tx, media: TaskMedia) -> str | None:
        if media.key is None:
            return None
        return media_db.cached_file_id(tx, media.key, media.kind)

    @unit_of_work
    def remember(self, tx: Tx, media: TaskMedia, file_id: str) -> None:
        if media.key is not None:
            media_db.remember(tx, media.key, media.kind, file_id, to_db_time(self.clock.now()))

    @unit_of_work
    def forget(self, tx: Tx, media: TaskMedia, file_id: str) -> None:
        """Telegram refused this file_id ("wrong file identifier"): the next send uploads."""
        if media.key is not None:
            media_db.forget(tx, media.key, media.kind, file_id)
