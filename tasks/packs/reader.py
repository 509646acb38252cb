"""Reading a pack file: the header, then its tasks in batches, every problem on the way noted.

Three formats, told apart by the file extension:

- JSON (any other extension, ``.json`` usually): one object, the header fields plus a ``tasks``
  array. The file is read whole: fine for the small packs people write by hand (thousands of
  tasks); use JSONL beyond that.
- JSONL (``.jsonl`` / ``.ndjson``): the header object on the first line, then one task object per
  line. The file is streamed in batches: millions of tasks load in bounded memory.
- CSV (``.csv``): a row of column names, then one task per row; the header fields come from a
  sidecar JSON file or the Telegram caption (csvpack.py). Streamed like JSONL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from json.encoder import encode_basestring
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NamedTuple, cast

from pydantic import ValidationError

from db.packs import TaskRow
from tasks.media import MAX_MEDIA_TEXT_UNITS, MEDIA_FIELDS, MediaChecker, MediaKind, TaskMedia
from tasks.packs.csvpack import CSV_SUFFIXES, CsvRows, csv_list, read_sidecar
from tasks.packs.errors import ErrorList, PackError, describe, field_name
from tasks.packs.format import (
    HEADER_FIELDS,
    MAX_EXPLANATION_UNITS,
    MAX_TEXT_UNITS,
    TASK,
    TASK_FIELDS,
    PackHeader,
    TaskDict,
    json_kind,
    media_task_content,
    task_content,
    too_many_units,
)
from tasks.packs.jsonscan import (
    NOT_AN_OBJECT,
    HostileJson,
    decode_error,
    deep_at,
    json_problem,
    loads,
    scan_json_pack,
    too_deep,
    unencodable,
)
from tasks.packs.lines import (
    MAX_LINE_BYTES,
    _rest_of_line,
    _too_long,
    bounded_lines,
    pack_file_problem,
)
from tasks.telegram_limits import CAPTION_UNITS, utf16_units

BATCH_SIZE = 5000
PAUSE_EVERY = 32  # tasks read between two calls of a reader's `pause`
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
# A JSON pack is read whole (and parsed: several times its size in memory); bigger ones are JSONL.
MAX_JSON_BYTES = 64 * 1024 * 1024


class TaskBatch(NamedTuple):
    """Valid tasks read from a pack, with the line of each."""

    rows: list[TaskRow]  # (task_id, content JSON, gold, explanation)
    lines: list[int]
    media: list[tuple[str, TaskMedia]] = []  # (task_id, its media) for the tasks that have one


class PackReader:
    """Reads and validates a pack file: the header, then the tasks in batches.

    Every problem found goes to `errors`; invalid tasks are left out of the batches. Duplicate
    task ids are not checked here (it takes memory): the database does, as load_pack writes the
    tasks. Use as a context manager; call read_header() before batches().
    """

    def __init__(
        self,
        source: Path,
        settings: dict[str, Any] | None = None,
        settings_errors: Sequence[PackError] = (),
        *,
        media_files: bool = True,
    ) -> None:
        self.source = source
        # Media paths are relative to the pack file; a pack sent in a chat has no folder.
        self.media = MediaChecker(source.parent if media_files else None)
        self._media_rows: list[tuple[str, TaskMedia]] = []
        self.batch_size = BATCH_SIZE
        self.jsonl = source.suffix.lower() in JSONL_SUFFIXES
        self.csv = source.suffix.lower() in CSV_SUFFIXES
        # A CSV pack's header fields (from a caption); None: its sidecar file.
        self.settings = settings
        self._settings_errors = list(settings_errors)
        self._rows: CsvRows | None = None
        self.errors = ErrorList()
        self.header: PackHeader | None = None
        self.header_line: int | None = None
        self.raw_id: str | None = None  # the header's id, even when the header is invalid
        self.total_bytes = 0
        self.bytes_read = 0
        self.tasks_read = 0  # task objects (or JSONL task lines) read, valid or not
        self._file: IO[bytes] | None = None
        self._line = 0  # JSONL: the last line read
        # JSON: the task elements and the line of each, in two lists: a dict of strings is
        # never tracked by the garbage collector, a (line, dict) tuple would be, and 200,000
        # of them surviving make it walk the whole heap (68 ms alone, 117 ms in the bot).
        self._elements: list[Any] = []
        self._element_lines: list[int] = []
        self.header_lines: dict[str, int] = {}  # JSON: the line of each header field
        self.readable = False  # whether tasks can be read (the file opened and parsed)
        self._tasks_reported = False  # a problem with the tasks array was reported
        self._option_ids: tuple[str, ...] | None = None  # from an invalid header, if readable
        # Called every PAUSE_EVERY tasks (and JSON values) read: a reader running in a thread
        # of the bot may sleep there, leaving the GIL and a core to the answers.
        self.pause: Callable[[], None] | None = None

    def __enter__(self) -> PackReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- header --------------------------------------------------------------------------

    def read_header(self) -> PackHeader | None:
        """Reads and validates the header (JSON: the whole file); None if it is invalid."""
        if (problem := pack_file_problem(self.source)) is not None:
            self.errors.add(None, None, None, problem)
            return None
        try:
            self.total_bytes = self.source.stat().st_size
            if self.csv:
                raw = self._read_csv_header()
            elif self.jsonl:
                self._file = self.source.open("rb")
                raw = self._read_jsonl_header()
            else:
                raw = self._read_json_document()
        except OSError as exc:
            self.errors.add(None, None, None, f"cannot read {self.source}: {exc.strerror or exc}")
            return None
        if raw is None:
            return None
        if isinstance(raw.get("id"), str):
            self.raw_id = raw["id"]
        try:
            self.header = PackHeader.model_validate(raw)
        except ValidationError as exc:
            self._option_ids = _raw_option_ids(raw.get("options"))
            for error in exc.errors(include_url=False):
                self.errors.add(
                    self.header_lines.get(str(error["loc"][0]), self.header_line)
                    if error["loc"]
                    else self.header_line,
                    None,
                    field_name(error["loc"]),
                    describe(error, HEADER_FIELDS),
                )
            return None
        return self.header

    def _read_csv_header(self) -> dict[str, Any] | None:
        raw, problems = (
            (self.settings, []) if self.settings is not None else read_sidecar(self.source)
        )
        self._file = self.source.open("rb")
        self._rows = CsvRows(self._file, MAX_LINE_BYTES)
        self.readable = self._rows.header()
        self.bytes_read = self._rows.bytes_read
        self._take_csv_errors()
        for problem in [*self._settings_errors, *problems]:
            self._add(problem)
        if raw is not None and unencodable(raw):
            self.errors.add(None, None, None, "invalid unicode in the header (a lone surrogate)")
            return None
        return raw

    def _add(self, error: PackError) -> None:
        self.errors.add(error.line, error.task_id, error.field, error.message)

    def _take_csv_errors(self) -> None:
        assert self._rows is not None
        for error in self._rows.errors:
            self._add(error)
        self._rows.errors.clear()

    def _read_jsonl_header(self) -> dict[str, Any] | None:
        assert self._file is not None
        for raw, size in bounded_lines(self._file):
            self._line += 1
            self.bytes_read += size
            if raw is None:
                self.header_line = self._line
                self.errors.add(self._line, None, None, f"the header line: {_too_long(size)}")
                return None
            if self._line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if raw.isspace() or not raw:
                continue
            self.header_line = self._line
            self.readable = True
            try:
                value = loads(raw)
            except ValueError as exc:
                self.errors.add(self._line, None, None, f"the header line: {json_problem(exc)}")
                return None
            if not isinstance(value, dict):
                self.errors.add(self._line, None, None, "the first line must be the header object")
                return None
            if "tasks" in value:
                self.errors.add(
                    self._line,
                    None,
                    "tasks",
                    "in a JSONL pack the tasks follow the header line, one per line",
                )
                del value["tasks"]
            if unencodable(value):
                self.errors.add(self._line, None, None, "invalid unicode (a lone surrogate)")
                return None
            return value
        self.errors.add(None, None, None, "the file is empty")
        return None

    def _read_json_document(self) -> dict[str, Any] | None:
        if self.total_bytes > MAX_JSON_BYTES:
            self.errors.add(
                None,
                None,
                None,
                f"a JSON pack is read whole: this one has {self.total_bytes:,} bytes, at most"
                f" {MAX_JSON_BYTES:,}; write it as JSONL (.jsonl, the header line then one task"
                " per line), which streams",
            )
            return None
        data = self.source.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            self.errors.add(line, None, None, "the file is not UTF-8 text")
            return None
        # Measured before anything is parsed (json recurses once per level), a chunk at a time.
        if (deep := deep_at(data)) is not None:
            hostile = too_deep(data, deep)
            self.errors.add(hostile.lineno, None, None, hostile.msg)
            return None
        del data
        try:
            raw, self.header_lines, elements, element_lines = scan_json_pack(text, self.pause)
        except json.JSONDecodeError as exc:
            message = decode_error(exc)
            if exc.msg == "Extra data" and exc.colno == 1:
                message += " (a JSONL pack, one object per line, needs the .jsonl extension)"
            self.errors.add(exc.lineno, None, None, message)
            return None
        except ValueError:
            self.errors.add(1, None, None, NOT_AN_OBJECT)
            return None
        self.header_line = 1
        self.readable = True
        self.bytes_read = self.total_bytes
        if "tasks" not in raw:
            self._tasks_reported = True
            self.errors.add(None, None, "tasks", "required field is missing")
        elif not isinstance(raw["tasks"], list):
            self._tasks_reported = True
            self.errors.add(
                self.header_lines["tasks"],
                None,
                "tasks",
                f"must be an array, not {json_kind(raw['tasks'])}",
            )
        raw.pop("tasks", None)
        self._elements, self._element_lines = elements, element_lines
        if unencodable(raw):
            self.errors.add(1, None, None, "invalid unicode in the header (a lone surrogate)")
            return None
        return raw

    # -- tasks ----------------------------------------------------------------------------

    def batches(self) -> Iterator[TaskBatch]:
        """The valid tasks, `batch_size` at a time; errors go to `errors`.

        Ends with a "no tasks" error when the file had none.
        """
        if self.readable:
            if self.csv:
                yield from self._csv_batches()
            elif self.jsonl:
                yield from self._jsonl_batches()
            else:
                yield from self._json_batches()
        if self.readable and self.tasks_read == 0 and not self._tasks_reported:
            self.errors.add(None, None, "tasks", "the pack has no tasks")

    def _jsonl_batches(self) -> Iterator[TaskBatch]:
        # The hot loop of a big load: ~1 µs of Python per task on top of pydantic's parsing.
        assert self._file is not None
        validate = TASK.validator.validate_json  # the core validator: no wrapper overhead
        encode = encode_basestring
        size = self.batch_size
        half = MAX_TEXT_UNITS // 2  # a longer text may be too long in UTF-16 units
        rows: list[TaskRow] = []
        lines: list[int] = []
        line = self._line
        done = self.bytes_read
        read = self.tasks_read
        errors = self.errors
        cap = errors.cap
        readline = self._file.readline
        limit = MAX_LINE_BYTES + 1  # the content and its newline
        pause = self.pause
        while raw := readline(limit):
            line += 1
            if pause is not None and not line % PAUSE_EVERY:
                pause()
            done += len(raw)
            if errors.total > cap:  # more errors than are listed: stop reading
                errors.stopped_at = line - 1
                break
            if len(raw) == limit and not raw.endswith(b"\n"):
                length = len(raw) + _rest_of_line(self._file)
                done += length - len(raw)
                read += 1
                errors.add(line, None, None, _too_long(length))
                continue
            try:
                task = validate(raw)
            except ValidationError as exc:
                if raw.isspace():
                    continue
                read += 1
                self._invalid_task(line, exc, raw)
                continue
            read += 1
            text = task.get("text", "")
            if len(task) != 2 or not text or len(text) > half or text.isspace():
                self._accept(task, line, rows, lines)
            else:  # the common case, inlined: a plain text task
                rows.append((task["id"], '{"text": ' + encode(text) + "}", None, None))
                lines.append(line)
            if len(rows) >= size:
                self._line, self.bytes_read, self.tasks_read = line, done, read
                yield TaskBatch(rows, lines, self._take_media())
                rows, lines = [], []
        self._line, self.bytes_read, self.tasks_read = line, done, read
        if rows and errors.stopped_at is None:
            yield TaskBatch(rows, lines, self._take_media())

    def _csv_batches(self) -> Iterator[TaskBatch]:
        assert self._rows is not None
        validate = TASK.validate_python
        batch = TaskBatch([], [])
        errors = self.errors
        pause = self.pause
        for line, element in self._rows.tasks():
            if pause is not None and not line % PAUSE_EVERY:
                pause()
            self._take_csv_errors()
            self.bytes_read = self._rows.bytes_read
            if errors.total > errors.cap:
                errors.stopped_at = line - 1
                break
            self.tasks_read += 1
            if element is None:
                continue
            try:
                task = validate(element)
            except ValidationError as exc:
                self._invalid_task(line, exc, element)
                continue
            self._accept(task, line, batch.rows, batch.lines)
            if len(batch.rows) >= self.batch_size:
                yield batch._replace(media=self._take_media())
                batch = TaskBatch([], [])
        self._take_csv_errors()
        self.bytes_read = self._rows.bytes_read
        if batch.rows and errors.stopped_at is None:
            yield batch._replace(media=self._take_media())

    def _json_batches(self) -> Iterator[TaskBatch]:
        validate = TASK.validate_python
        batch = TaskBatch([], [])
        count = len(self._elements)
        errors = self.errors
        pause = self.pause
        for index, (line, element) in enumerate(
            zip(self._element_lines, self._elements, strict=True), 1
        ):
            if pause is not None and not index % PAUSE_EVERY:
                pause()
            if errors.total > errors.cap:  # more errors than are listed: stop reading
                errors.stopped_at = line - 1
                break
            self.tasks_read += 1
            try:
                task = validate(element)
            except ValidationError as exc:
                self._invalid_task(line, exc, element)
                continue
            if unencodable(task):
                task_id = task["id"] if not unencodable(task["id"]) else None
                self.errors.add(line, task_id, None, "invalid unicode (a lone surrogate)")
                continue
            self._accept(task, line, batch.rows, batch.lines)
            if len(batch.rows) >= self.batch_size:
                self.bytes_read = self.total_bytes * index // count
                yield batch._replace(media=self._take_media())
                batch = TaskBatch([], [])
        self.bytes_read = self.total_bytes
        if batch.rows and errors.stopped_at is None:
            yield batch._replace(media=self._take_media())

    def _accept(self, task: TaskDict, line: int, rows: list[TaskRow], lines: list[int]) -> None:
        """Checks what pydantic did not, then adds the task to the batch."""
        gold = task.get("gold")
        explanation = task.get("explanation")
        kinds = [kind for kind in MEDIA_FIELDS if kind in task]
        if "text" not in task and not kinds:
            self.errors.add(line, task["id"], "text", "required field is missing")
            return
        text = task.get("text", "")
        if text and text.isspace():
            self.errors.add(line, task["id"], "text", "is blank")
            return
        if problem := too_many_units(text, MAX_TEXT_UNITS):
            self.errors.add(line, task["id"], "text", problem)
            return
        if explanation is not None and (
            problem := too_many_units(explanation, MAX_EXPLANATION_UNITS)
        ):
            self.errors.add(line, task["id"], "explanation", problem)
            return
        if gold is not None:
            if self.csv and isinstance(gold, str) and gold.startswith("["):
                try:
                    gold = csv_list(gold)  # a CSV cell holds a list as a JSON array
                except HostileJson as exc:
                    self.errors.add(line, task["id"], "gold", exc.msg)
                    return
            stored = self._gold_value(gold)
            if isinstance(stored, ValueError):
                self.errors.add(line, task["id"], "gold", str(stored))
                return
            gold = stored
        elif explanation is not None:
            self.errors.add(
                line, task["id"], "explanation", 'an explanation goes with a "gold" answer'
            )
            return
        content = task_content(text)
        if kinds:
            checked = self._check_media(task, kinds, text, line)
            if checked is None:
                return
            self._media_rows.append((task["id"], checked))
            content = media_task_content(text, checked.kind, task[checked.kind])
        rows.append((task["id"], content, gold, explanation))
        lines.append(line)

    def _check_media(
        self, task: TaskDict, kinds: list[MediaKind], text: str, line: int
    ) -> TaskMedia | None:
        """The task's media, checked (None: refused, the error noted)."""
        if len(kinds) > 1:
            message = f"a task has at most one media (a message carries one): {', '.join(kinds)}"
            self.errors.add(line, task["id"], kinds[1], message)
            return None
        kind = kinds[0]
        if len(text) * 2 > MAX_MEDIA_TEXT_UNITS and utf16_units(text) > MAX_MEDIA_TEXT_UNITS:
            message = (
                f"has {utf16_units(text):,} UTF-16 units; a task with an {kind} shows its text"
                f" in the caption (Telegram: {CAPTION_UNITS:,} with the title), so at most"
                f" {MAX_MEDIA_TEXT_UNITS}"
            )
            self.errors.add(line, task["id"], "text", message)
            return None
        checked = self.media.check(kind, task[kind])
        if isinstance(checked, str):
            self.errors.add(line, task["id"], kind, checked)
            return None
        return checked

    def _take_media(self) -> list[tuple[str, TaskMedia]]:
        taken, self._media_rows = self._media_rows, []
        return taken

    def _gold_value(self, gold: str | list[str]) -> str | ValueError:
        """The gold as stored (tasks.gold), or the error that says what is wrong with it."""
        if self.header is not None:
            try:
                return self.header.gold_value(gold)
            except ValueError as exc:
                return exc
        if self._option_ids is not None and isinstance(gold, str) and gold not in self._option_ids:
            return ValueError(f'"{gold}" is not one of the options ({", ".join(self._option_ids)})')
        return gold if isinstance(gold, str) else json.dumps(gold, ensure_ascii=False)

    def _invalid_task(self, line: int, exc: ValidationError, raw: object) -> None:
        errors = exc.errors(include_url=False)
        value = raw
        if isinstance(raw, bytes):
            try:
                value = loads(raw)
            except HostileJson as hostile:  # nested too deeply, a number too long: one error
                self.errors.add(line, None, None, hostile.msg)
                return
            except ValueError:
                value = None
        if errors[0]["type"] == "json_invalid":
            self.errors.add(line, None, None, json_problem(raw))
            return
        task_id = None
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            task_id = value["id"]
        gold_said = False
        for error in errors:
            if not error["loc"] and error["type"] in ("dict_type", "model_type"):
                message = f"a task must be an object, not {json_kind(error.get('input'))}"
                self.errors.add(line, task_id, None, message)
                continue
            if error["loc"][:1] == ("gold",) and len(error["loc"]) == 2:
                # One line for the union (one option id, or a list of them / of answers), not
                # one per member pydantic tried ("gold.str", "gold.list[str]").
                if not gold_said:
                    gold_said = True
                    kind = json_kind(error.get("input"))
                    message = f"must be a string or an array of strings, not {kind}"
                    self.errors.add(line, task_id, "gold", message)
                continue
            self.errors.add(line, task_id, field_name(error["loc"]), describe(error, TASK_FIELDS))

    def first_lines(self, task_ids: set[str]) -> dict[str, int]:
        """The line where each of these task ids first appears (rereads a JSONL file)."""
        found: dict[str, int] = {}
        if not task_ids:
            return found
        if self.csv:
            elements: Iterator[tuple[int, Any]] = self._csv_objects()
        elif not self.jsonl:
            elements = zip(self._element_lines, self._elements, strict=True)
        else:
            elements = self._jsonl_objects()
        for line, element in elements:
            if isinstance(element, dict):
                task_id = element.get("id")
                if isinstance(task_id, str) and task_id in task_ids and task_id not in found:
                    found[task_id] = line
                    if len(found) == len(task_ids):
                        break
        return found

    def _csv_objects(self) -> Iterator[tuple[int, Any]]:
        with self.source.open("rb") as file:
            rows = CsvRows(file, MAX_LINE_BYTES)
            if rows.header():
                yield from rows.tasks()

    def _jsonl_objects(self) -> Iterator[tuple[int, Any]]:
        with self.source.open("rb") as lines:
            for line, (raw, _) in enumerate(bounded_lines(lines), 1):
                if raw is None or line <= (self.header_line or 0):
                    continue
                try:
                    yield line, loads(raw)
                except ValueError:
                    continue


def _raw_option_ids(options: object) -> tuple[str, ...] | None:
    """The option ids of an invalid header, when they can be made out (to check golds)."""
    if not isinstance(options, list):
        return None
    ids = [option.get("id") for option in options if isinstance(option, dict)]
    if not ids or len(ids) != len(options) or not all(isinstance(id_, str) for id_ in ids):
        return None
    return tuple(dict.fromkeys(cast(list[str], ids)))
