"""Files, as Telegram keeps them: what users send (documents), what the bot uploads
(sendDocument, sendPhoto), getFile and the download route, with Telegram's limits and texts.

Limits (the Bot API's, for bots on api.telegram.org): a bot downloads files of up to 20 MB
(getFile: "file is too big" above), uploads documents of up to 50 MB (413 above) and photos of
up to 10 MB; an empty upload is refused; a caption holds 1,024 UTF-16 code units.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from dataclasses import dataclass
from typing import Any

from aiohttp.web_request import FileField

from .html import EntityParseError, finalize_text, parse_html, utf16_len
from .protocol import ApiError, JSONDict, Params, bad_request

MAX_DOWNLOAD = 20 * 1024 * 1024
MAX_DOCUMENT_UPLOAD = 50 * 1024 * 1024
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
MAX_CAPTION = 1024

ERR_FILE_TOO_BIG = "Bad Request: file is too big"
ERR_INVALID_FILE_ID = "Bad Request: invalid file_id"
ERR_WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
ERR_EMPTY_FILE = "Bad Request: file must be non-empty"
ERR_TOO_LARGE = "Request Entity Too Large"
ERR_IMAGE = "Bad Request: IMAGE_PROCESS_FAILED"
ERR_CAPTION_TOO_LONG = "Bad Request: message caption is too long"


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None
    mime_type: str | None

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

    def add(
        self, data: bytes, *, file_name: str | None, mime_type: str | None, folder: str
    ) -> StoredFile:
        n = next(self._seq)
        digest = hashlib.sha256(data + str(n).encode()).hexdigest()
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1][:8]
        stored = StoredFile(
            file_id=f"BQAC{digest[:40]}",
            file_unique_id=f"AgAD{digest[40:52]}",
            file_path=f"{folder}/file_{n}{suffix}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
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
        if stored.size > MAX_DOWNLOAD:
            raise ApiError(400, ERR_FILE_TOO_BIG)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    def upload(self, p: Params, name: str, *, photo: bool) -> StoredFile:
        """The file of a sendDocument/sendPhoto: a multipart upload or a known file_id."""
        value = p.raw(name)
        if isinstance(value, FileField):
            data = value.file.read()
            limit = MAX_PHOTO_UPLOAD if photo else MAX_DOCUMENT_UPLOAD
            if len(data) > limit:
                raise ApiError(413, ERR_TOO_LARGE)
            if not data:
                raise ApiError(400, ERR_EMPTY_FILE)
            if photo and png_size(data) is None and not data.startswith(b"\xff\xd8\xff"):
                raise ApiError(400, ERR_IMAGE)
            return self.add(
                data,
                file_name=value.filename,
                mime_type=value.content_type,
                folder="photos" if photo else "documents",
            )
        if isinstance(value, str) and value.strip():
            stored = self.by_id.get(value.strip())
            if stored is None:
                raise ApiError(400, ERR_WRONG_FILE)
            return stored
        raise bad_request(f'parameter "{name}" is required')


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


def media_json(kind: str, stored: StoredFile) -> Any:
    return stored.photo_json() if kind == "photo" else stored.document_json()
