"""CSV packs: the tasks as a spreadsheet, the pack settings beside them.

A CSV pack is UTF-8 text whose first row names the columns ``id,text[,gold,explanation]`` (in
any order; ``id`` and ``text`` required; an ``image``, ``audio`` or ``voice`` column may add
media, tasks/media.py, and a row with media may leave its text empty), then one task per row.
An empty ``gold`` or ``explanation`` cell means none; a multi_choice or text gold of several
values is written as a JSON array in its cell (``["joy", "fear"]``). A cell may hold line breaks
inside double quotes; a task's line is the line its row starts on.

The header fields of the pack (id, title, instructions, options, reward, ...) come from beside
the file: a sidecar JSON header (``reviews.header.json`` next to ``reviews.csv``, the same
fields as a JSON pack's header, for the CLI), or, for a file sent in Telegram, the document's
caption: either that JSON object, or ``key=value`` lines::

    id=reviews
    title=Reviews
    instructions=Pick the sentiment of the review.
    options=pos:Positive|neg:Negative|neu:Neutral
    reward=0.02
    overlap=3
    quality.gold_ratio=0.1

``options`` lists ``id:label`` pairs separated by ``|``; ``quality.NAME`` sets one field of the
quality block; numbers and true/false are read as such.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from tasks.packs.errors import PackError
from tasks.packs.jsonscan import HostileJson, loads

CSV_SUFFIXES = frozenset({".csv"})
COLUMNS = ("id", "text", "gold", "explanation", "image", "audio", "voice")
MEDIA_COLUMNS = frozenset({"image", "audio", "voice"})  # tasks/media.py: a row's text may be empty
REQUIRED_COLUMNS = ("id", "text")
# Settings read as JSON values (numbers, true/false); the others stay text, as written.
_TYPED = frozenset({"overlap", "lease_seconds", "top_up"})
_LIST_HELP = "id:label pairs separated by |, e.g. pos:Positive|neg:Negative"


def sidecar_path(source: Path) -> Path:
    """Where the CLI looks for a CSV pack's header: reviews.csv -> reviews.header.json."""
    return source.with_name(f"{source.stem}.header.json")


def parse_settings(text: str, where: str = "caption") -> tuple[dict[str, Any], list[PackError]]:
    """A pack header from a caption: a JSON object, or ``key=value`` lines (see the module)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = loads(stripped)
        except HostileJson as exc:
            return {}, [PackError(None, None, None, f"{where} line {exc.lineno}: {exc.msg}")]
        except ValueError as exc:
            return {}, [PackError(None, None, None, f"the {where} is not a JSON object: {exc}")]
        if not isinstance(value, dict):
            return {}, [PackError(None, None, None, f"the {where} must be a JSON object")]
        return value, []
    header: dict[str, Any] = {}
    errors: list[PackError] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, raw = line.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            message = f'{where} line {number}: expected key=value, got "{line.strip()[:60]}"'
            errors.append(PackError(None, None, None, message))
            continue
        if key == "options":
            options, problem = _options(raw)
            if problem:
                errors.append(PackError(None, None, "options", f"{where} line {number}: {problem}"))
            header["options"] = options
        elif key.startswith("quality.") or key in _TYPED:
            try:
                value = _typed(raw)
            except HostileJson as exc:
                errors.append(PackError(None, None, key, f"{where} line {number}: {exc.msg}"))
                continue
            if key in _TYPED:
                header[key] = value
            else:
                header.setdefault("quality", {})[key.removeprefix("quality.")] = value
        else:
            header[key] = raw
    return header, errors


def _typed(raw: str) -> Any:
    """A setting's value as JSON (a number, true/false), or the text as written; HostileJson
    for a value nested too deeply or a number too long to read."""
    try:
        return loads(raw)
    except HostileJson:
        raise
    except ValueError:
        return raw


def _options(raw: str) -> tuple[list[dict[str, str]], str | None]:
    options = []
    for part in raw.split("|"):
        option_id, sep, label = part.partition(":")
        if not sep or not option_id.strip() or not label.strip():
            return [], f'"{part.strip()}" is not an option: {_LIST_HELP}'
        options.append({"id": option_id.strip(), "label": label.strip()})
    return options, None


def read_sidecar(source: Path) -> tuple[dict[str, Any] | None, list[PackError]]:
    """The sidecar JSON header of a CSV pack read from disk (the CLI's case)."""
    path = sidecar_path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        message = (
            f"a CSV pack needs its header: write it in {path.name} beside the file (the header"
            " fields of a JSON pack), or send the file in Telegram with the settings as caption"
        )
        return None, [PackError(None, None, None, message)]
    except OSError as exc:
        return None, [PackError(None, None, None, f"cannot read {path}: {exc.strerror or exc}")]
    try:
        value = loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None, [PackError(None, None, None, f"{path.name} is not UTF-8 text")]
    except HostileJson as exc:
        return None, [PackError(None, None, None, f"{path.name} line {exc.lineno}: {exc.msg}")]
    except json.JSONDecodeError as exc:
        message = f"{path.name} line {exc.lineno}: invalid JSON ({exc.msg})"
        return None, [PackError(None, None, None, message)]
    if not isinstance(value, dict):
        return None, [PackError(None, None, None, f"{path.name} must hold one JSON object")]
    return value, []


class CsvRows:
    """The rows of a CSV pack file with the line each starts on; decoding problems and rows of
    the wrong width become errors (reading stops at text that is not UTF-8)."""

    def __init__(self, file: IO[bytes], max_line_bytes: int) -> None:
        self._file = file
        self._max = max_line_bytes
        self.errors: list[PackError] = []
        self.lines_read = 0
        self.bytes_read = 0
        self.columns: list[str] = []
        self._reader = csv.reader(self._text_lines(), strict=True)

    def _text_lines(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")()
        limit = self._max + 1
        first = True
        while raw := self._file.readline(limit):
            self.lines_read += 1
            self.bytes_read += len(raw)
            if len(raw) == limit and not raw.endswith(b"\n"):
                message = f"the line has more than {self._max:,} bytes"
                self.errors.append(PackError(self.lines_read, None, None, message))
                return
            if first and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            first = False
            try:
                yield decoder.decode(raw)
            except UnicodeDecodeError:
                message = "the file is not UTF-8 text (save it as CSV UTF-8)"
                self.errors.append(PackError(self.lines_read, None, None, message))
                return

    def header(self) -> bool:
        """Reads the column row; False (with errors) when it is not id,text[,gold,explanation]."""
        try:
            row = next(self._reader, None)
        except csv.Error as exc:
            self.errors.append(PackError(self.lines_read, None, None, f"invalid CSV: {exc}"))
            return False
        if row is None:
            if not self.errors:
                self.errors.append(PackError(None, None, None, "the file is empty"))
            return False
        columns = [name.strip().lower() for name in row]
        problems = []
        unknown = [name for name in columns if name not in COLUMNS]
        if unknown:
            problems.append(
                f'unknown column "{unknown[0]}" (the columns are id,text[,gold,explanation])'
            )
        problems += [
            f'missing column "{name}": the first row must name the columns'
            " id,text[,gold,explanation]"
            for name in REQUIRED_COLUMNS
            if name not in columns
        ]
        repeated = sorted({name for name in columns if columns.count(name) > 1})
        problems += [f'column "{name}" appears twice' for name in repeated]
        for problem in problems:
            self.errors.append(PackError(self.lines_read, None, None, problem))
        self.columns = columns
        return not problems

    def tasks(self) -> Iterator[tuple[int, dict[str, str] | None]]:
        """(line, task dict) per row; (line, None) for a row whose width is wrong (an error)."""
        width = len(self.columns)
        while True:
            start = self.lines_read + 1
            try:
                row = next(self._reader, None)
            except csv.Error as exc:
                self.errors.append(PackError(start, None, None, f"invalid CSV: {exc}"))
                return
            if row is None:
                return
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            if len(row) != width:
                message = f"the row has {len(row)} cells, the first row names {width} columns"
                self.errors.append(PackError(start, None, None, message))
                yield start, None
                continue
            cells = list(zip(self.columns, row, strict=True))
            media = any(name in MEDIA_COLUMNS and cell.strip() for name, cell in cells)
            task = {
                name: cell
                for name, cell in cells
                if cell.strip() or (name in REQUIRED_COLUMNS and not (media and name == "text"))
            }
            yield start, task


def csv_list(cell: str) -> str | list[str]:
    """A CSV gold cell written as a JSON array of strings (multi_choice ids, accepted texts);
    the cell as it is otherwise. Raises HostileJson for a cell nested too deeply or holding a
    number too long to read."""
    try:
        value = loads(cell)
    except HostileJson:
        raise
    except ValueError:
        return cell
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return cast(list[str], value)
    return cell
