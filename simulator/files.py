"""Files, as Telegram keeps them: what users send (documents), what the bot uploads
(sendDocument, sendPhoto, sendAudio, sendVoice, editMessageMedia), getFile and the download
route, with Telegram's limits and texts.

Limits (the Bot API's, for bots on api.telegram.org): a bot downloads files of up to 20 MB
(getFile: "file is too big" above), uploads documents, audio and voice notes of up to 50 MB
(413 above) and photos of up to 10 MB; by URL Telegram fetches photos of up to 5 MB and other
files of up to 20 MB; an empty upload is refused; a caption holds 1,024 UTF-16 code units.
A voice note is OGG/Opus, MP3 or M4A and an audio file MP3 or M4A: another format arrives as a
document, as Telegram does. A file_id of another kind (a photo's sent as a voice) is refused.

A self-hosted Bot API server started with --local answers getFile with an absolute path on its
own disk, under a folder named after the bot's token, and serves no download route:
``local_mode(directory)`` does the same (the file is written there, or not when
``files_here=False``: the server runs on another machine).

Tests count what the bot sends: ``uploads`` (multipart files), ``by_file_id`` and ``by_url``,
each per kind ("photo", "audio", "voice", "document"). ``web`` holds what https URLs serve (an
unknown URL cannot be fetched); ``revoke`` makes Telegram forget a file_id.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.web_request import FileField

from .html import EntityParseError, finalize_text, parse_html, utf16_len
from .protocol import ApiError, JSONDict, Params, bad_request

MAX_DOWNLOAD = 20 * 1024 * 1024
MAX_DOCUMENT_UPLOAD = 50 * 1024 * 1024
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
MAX_PHOTO_URL = 5 * 1024 * 1024
MAX_URL_DOWNLOAD = 20 * 1024 * 1024
MAX_CAPTION = 1024
_PREFIX = {"photo": "AgAC", "document": "BQAC", "audio": "CQAC", "voice": "AwAC"}

ERR_FILE_TOO_BIG = "Bad Request: file is too big"
ERR_INVALID_FILE_ID = "Bad Request: invalid file_id"
ERR_WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
ERR_EMPTY_FILE = "Bad Request: file must be non-empty"
ERR_TOO_LARGE = "Request Entity Too Large"
ERR_IMAGE = "Bad Request: IMAGE_PROCESS_FAILED"
ERR_CAPTION_TOO_LONG = "Bad Request: message caption is too long"
ERR_URL_CONTENT = "Bad Request: failed to get HTTP URL content"
ERR_TYPE_MISMATCH = "Bad Request: type of file mismatch"


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None
    mime_type: str | None
    kind: str = "document"

    @property
    def size(self) -> int:
        return len(self.data)

    def document_json(self) -> JSONDict:
        out: JSONDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name:
            out["file_name"] = self.file_name
        if self.mime_type:
            out["mime_type"] = self.mime_type
        return out

    def sound_json(self) -> JSONDict:
        """An Audio or Voice object (duration: a second, not decoded)."""
        out = self.document_json()
        out.pop("file_name", None)
        out["duration"] = 1
        return out

    def photo_json(self) -> list[JSONDict]:
        width, height = png_size(self.data) or (0, 0)
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": self.size,
                "width": width,
                "height": height,
            }
        ]


class Files:
    """Every file of the simulated Telegram, by file_id and by download path."""

    def __init__(self) -> None:
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self._seq = itertools.count(1)
        self.uploads: Counter[str] = Counter()  # multipart files the bot sent, per kind
        self.by_file_id: Counter[str] = Counter()  # files sent again by file_id
        self.by_url: Counter[str] = Counter()  # files Telegram fetched from a URL
        self.web: dict[str, bytes] = {}  # what an https URL serves (tests set it)
        self.local_dir: Path | None = None  # --local mode: getFile names a file in this folder
        self.local_files_here = True  # False: that folder is on another machine (not written)
        self.token = ""  # the bot's token (the --local server's folder for the bot's files)

    def local_mode(self, directory: Path | None, *, files_here: bool = True) -> None:
        """getFile answers as a --local Bot API server does (None: as api.telegram.org)."""
        self.local_dir = directory
        self.local_files_here = files_here

    def revoke(self, file_id: str) -> None:
        """Telegram no longer knows this file_id ("wrong file identifier" from now on)."""
        self.by_id.pop(file_id, None)

    def add(
        self,
        data: bytes,
        *,
        file_name: str | None,
        mime_type: str | None,
        folder: str,
        kind: str = "document",
    ) -> StoredFile:
        n = next(self._seq)
        digest = hashlib.sha256(data + str(n).encode()).hexdigest()
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1][:8]
        stored = StoredFile(
            file_id=f"{_PREFIX.get(kind, 'BQAC')}{digest[:40]}",
            file_unique_id=f"AgAD{digest[40:52]}",
            file_path=f"{folder}/file_{n}{suffix}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            kind=kind,
        )
        self.by_id[stored.file_id] = stored
        self.by_path[stored.file_path] = stored
        return stored

    def get_file(self, p: Params) -> JSONDict:
        """getFile: the path to download from, for files up to 20 MB."""
        file_id = (p.get_str("file_id") or "").strip()
        if not file_id:
            raise bad_request("file_id is empty")
        stored = self.by_id.get(file_id)
        if stored is None:
            raise ApiError(400, ERR_INVALID_FILE_ID)
        if stored.size > MAX_DOWNLOAD and self.local_dir is None:
            raise ApiError(400, ERR_FILE_TOO_BIG)  # a --local server has no such limit
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": self._local_path(stored) if self.local_dir else stored.file_path,
        }

    def _local_path(self, stored: StoredFile) -> str:
        """Where a --local server keeps the file: <dir>/<token>/<folder>/file_N.ext."""
        assert self.local_dir is not None
        path = self.local_dir / self.token / stored.file_path
        if self.local_files_here:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(stored.data)
        return str(path.absolute())

    def upload(self, p: Params, name: str, *, photo: bool = False, kind: str = "") -> StoredFile:
        """The file of a sendDocument/sendPhoto/sendAudio/sendVoice: a multipart upload, a
        known file_id or an https URL. `name` is the parameter (or the attach:// name)."""
        kind = kind or ("photo" if photo else "document")
        value = p.raw(name)
        if isinstance(value, FileField):
            return self.receive(value.file.read(), kind, value.filename, value.content_type)
        if isinstance(value, str) and value.startswith("attach://"):
            value = p.raw(value[len("attach://") :])
            if isinstance(value, FileField):
                return self.receive(value.file.read(), kind, value.filename, value.content_type)
            raise bad_request(f'parameter "{name}" is required')
        if isinstance(value, str) and value.strip():
            return self.known(value.strip(), kind)
        raise bad_request(f'parameter "{name}" is required')

    def receive(
        self, data: bytes, kind: str, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        """A file the bot uploads (multipart), checked as Telegram does."""
        limit = MAX_PHOTO_UPLOAD if kind == "photo" else MAX_DOCUMENT_UPLOAD
        if len(data) > limit:
            raise ApiError(413, ERR_TOO_LARGE)
        stored = self._take(data, kind, file_name, mime_type)
        self.uploads[stored.kind] += 1
        return stored

    def known(self, value: str, kind: str) -> StoredFile:
        """A file_id, or an https URL Telegram fetches."""
        if value.lower().startswith(("http://", "https://")):
            data = self.web.get(value)
            if data is None:
                raise ApiError(400, ERR_URL_CONTENT)
            limit = MAX_PHOTO_URL if kind == "photo" else MAX_URL_DOWNLOAD
            if len(data) > limit:
                raise ApiError(400, ERR_URL_CONTENT)
            fetched = self._take(data, kind, value.rsplit("/", 1)[-1] or None, None)
            self.by_url[fetched.kind] += 1
            return fetched
        stored = self.by_id.get(value)
        if stored is None:
            raise ApiError(400, ERR_WRONG_FILE)
        if kind != stored.kind and "document" not in (kind, stored.kind):
            raise ApiError(400, ERR_TYPE_MISMATCH)
        self.by_file_id[stored.kind] += 1
        return stored

    def _take(self, data: bytes, kind: str, file_name: str | None, mime: str | None) -> StoredFile:
        if not data:
            raise ApiError(400, ERR_EMPTY_FILE)
        if kind == "photo" and png_size(data) is None and not data.startswith(b"\xff\xd8\xff"):
            raise ApiError(400, ERR_IMAGE)
        sound = _sound_format(data)
        if (kind == "voice" and sound is None) or (kind == "audio" and sound in (None, "ogg")):
            kind = "document"  # Telegram: "other formats may be sent as Audio or Document"
        folder = {"photo": "photos", "audio": "music", "voice": "voice"}.get(kind, "documents")
        return self.add(data, file_name=file_name, mime_type=mime, folder=folder, kind=kind)


def caption(p: Params, *, strict_ampersand: bool) -> tuple[str, list[JSONDict]]:
    """The ``caption`` parameter per ``parse_mode``: (plain text, entities); may be empty."""
    raw = p.get_str("caption") or ""
    parse_mode = p.get_str("parse_mode") or None
    entities: list[JSONDict] = []
    plain = raw
    if raw and parse_mode is not None:
        if parse_mode.lower() != "html":
            raise bad_request("unsupported parse_mode")
        try:
            plain, entities = parse_html(raw, strict_ampersand=strict_ampersand)
        except EntityParseError as err:
            raise ApiError(400, err.description) from None
    plain, entities = finalize_text(plain, entities)
    if utf16_len(plain) > MAX_CAPTION:
        raise ApiError(400, ERR_CAPTION_TOO_LONG)
    return plain, entities


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG image, None if `data` is not one."""
    if len(data) < 24 or not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _sound_format(data: bytes) -> str | None:
    """ "ogg" (Opus), "mp3", "m4a" or None: what Telegram plays as a voice note."""
    if data.startswith(b"OggS"):
        return "ogg" if b"OpusHead" in data[:128] else None
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if data[4:8] == b"ftyp":
        return "m4a"
    return None


def media_json(kind: str, stored: StoredFile) -> Any:
    if kind == "photo":
        return stored.photo_json()
    if kind in ("audio", "voice"):
        return stored.sound_json()
    return stored.document_json()
