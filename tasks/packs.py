"""Task packs: the file format an operator loads, its validation, and the loading use cases.

A pack is a file of annotation tasks with a header that says how to answer them and what an
answer pays. Two formats, told apart by the file extension:

- JSON (any other extension, ``.json`` usually): one object, the header fields plus a ``tasks``
  array. The file is read whole: fine for the small packs people write by hand (thousands of
  tasks); use JSONL beyond that.
- JSONL (``.jsonl`` / ``.ndjson``): the header object on the first line, then one task object per
  line. The file is streamed in batches: millions of tasks load in bounded memory.

Header fields: ``id`` (a slug), ``title``, ``instructions``, optional ``description``, ``type``,
``options``, ``reward`` (a decimal string), ``currency``, ``overlap``, ``lease_seconds``, optional
``quality`` and ``top_up``. Task fields: ``id``, ``text``, optional ``gold`` and ``explanation``.
Unknown fields are errors (they are usually typos).

Validation reports every error, each with its line, task id and field (PackError), capped at
MAX_ERRORS. A load is all-or-nothing: one transaction, rolled back on any error.

Adding an answer type (multi_choice, text, rating...): add it to TaskType, give it a TypeRules
entry in TYPE_RULES, and extend PackHeader.gold_error if its gold is not an option id.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from json.encoder import encode_basestring
from pathlib import Path
from types import TracebackType
from typing import IO, Annotated, Any, Literal, NamedTuple, NotRequired, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
    with_config,
)
from pydantic_core import ErrorDetails
from typing_extensions import TypedDict

from db import packs as db_packs
from db.core import Database, Tx, to_db_time
from tasks.clock import Clock
from tasks.money import parse_amount, to_micros

MAX_ERRORS = 1000
BATCH_SIZE = 5000
# The page cache (KiB) while a load runs: the unique (pack_pk, task_id) index of a big pack with
# ids in random order would otherwise be read back from disk for most rows.
LOAD_CACHE_KIB = 64 * 1024
MAX_REWARD = Decimal(1000)
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})

TaskType = Literal["single_choice"]
PackStatus = Literal["active", "paused", "closed"]
PACK_STATUSES: tuple[PackStatus, ...] = ("active", "paused", "closed")


@dataclass(frozen=True)
class TypeRules:
    """What a task type asks of a pack header."""

    min_options: int
    max_options: int
    gold_is_option: bool = True  # gold names one option id


TYPE_RULES: dict[str, TypeRules] = {
    "single_choice": TypeRules(min_options=2, max_options=8),
    # "multi_choice": TypeRules(2, 8), "text": TypeRules(0, 0, gold_is_option=False), ...
}

# --------------------------------------------------------------------------------------------
# The format
# --------------------------------------------------------------------------------------------

_SLUG_HELP = 'lowercase letters, digits, "-" and "_", starting with a letter or digit'


def _not_blank(value: str) -> str:
    if value.isspace():
        raise ValueError("is blank")
    return value


Slug = Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
OptionId = Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
OptionLabel = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=40), AfterValidator(_not_blank)
]
Title = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=200), AfterValidator(_not_blank)
]
Instructions = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=2000), AfterValidator(_not_blank)
]
Description = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=1000), AfterValidator(_not_blank)
]
Currency = Annotated[str, Strict(), StringConstraints(pattern=r"^[A-Z]{3}$")]
# Task fields. The blank-text check is done by the loader, outside pydantic, for speed.
TaskId = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=128)]
TaskText = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=3500)]
Gold = Annotated[str, Strict()]
Explanation = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=1000)]


class OptionSpec(BaseModel):
    """One answer button: `id` is stored as the answer, `label` is the button text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: OptionId
    label: OptionLabel


Share = Annotated[float, Strict(), Field(ge=0, le=1)]


class QualityBlock(BaseModel):
    """The `quality` block of a pack header: gold, qualification, trust and overlap settings.

    Every field is optional (the defaults are in tasks/quality.py's QualitySettings); the stored
    header keeps what the operator wrote. docs/quality.md says what each one does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gold_ratio: Annotated[float, Field(ge=0, le=1)] = 0.1
    qualification: Annotated[int, Strict(), Field(ge=0, le=50)] = 5
    pass_mark: Annotated[float, Field(ge=0, le=1)] = 0.8
    min_accuracy: Annotated[float, Field(ge=0, le=1)] = 0.7
    min_gold_answers: Annotated[int, Strict(), Field(ge=2, le=500)] = 5
    window: Annotated[int, Strict(), Field(ge=2, le=500)] = 10
    min_seconds: Annotated[float, Field(ge=0, le=3600)] | None = None
    retry_after_hours: Annotated[float, Field(ge=0, le=8760)] = 24
    train_paid: Annotated[bool, Strict()] = True
    gold_floor: Annotated[float, Field(ge=0, le=0.9)] = 0.03
    target_confidence: Annotated[float, Field(ge=0.5, le=1)] = 0.9
    min_overlap: Annotated[int, Strict(), Field(ge=1, le=50)] = 2
    max_overlap: Annotated[int, Strict(), Field(ge=1, le=100)] | None = None
    fast_streak: Annotated[int, Strict(), Field(ge=2, le=100)] = 5

    @field_validator(
        "gold_ratio",
        "pass_mark",
        "min_accuracy",
        "min_seconds",
        "retry_after_hours",
        "gold_floor",
        "target_confidence",
        mode="before",
    )
    @classmethod
    def _number(cls, value: object) -> object:
        if isinstance(value, bool) or (value is not None and not isinstance(value, int | float)):
            raise ValueError(f"must be a number, not {_json_kind(value)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> QualityBlock:
        if self.max_overlap is not None and self.min_overlap > self.max_overlap:
            raise ValueError(
                f"min_overlap ({self.min_overlap}) is more than max_overlap ({self.max_overlap})"
            )
        if "gold_floor" in self.model_fields_set and self.gold_floor > self.gold_ratio:
            raise ValueError(
                f"gold_floor ({self.gold_floor}) is more than gold_ratio ({self.gold_ratio})"
            )
        return self


class PackHeader(BaseModel):
    """Everything in a pack but its tasks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    title: Title
    instructions: Instructions
    description: Description | None = None
    type: TaskType
    options: tuple[OptionSpec, ...] = ()
    reward: Decimal
    currency: Currency = "EUR"
    overlap: Annotated[int, Strict(), Field(ge=1, le=50)] = 3
    lease_seconds: Annotated[int, Strict(), Field(ge=30, le=86400)] = 300
    quality: QualityBlock | None = None
    top_up: Annotated[bool, Strict()] = False

    @field_serializer("quality")
    def _quality_as_written(self, quality: QualityBlock | None) -> dict[str, Any] | None:
        return None if quality is None else quality.model_dump(mode="json", exclude_unset=True)

    @field_validator("reward", mode="before")
    @classmethod
    def _reward(cls, value: object) -> Decimal:
        if not isinstance(value, str):
            raise ValueError('write the reward as a string, e.g. "0.02"')
        amount = parse_amount(value)
        if amount <= 0:
            raise ValueError(f"the reward must be more than 0 (got {value!r})")
        if amount > MAX_REWARD:
            raise ValueError(f"a reward of {value} per answer is above {MAX_REWARD}: a typo?")
        return amount

    @field_validator("options")
    @classmethod
    def _options(
        cls, options: tuple[OptionSpec, ...], info: ValidationInfo
    ) -> tuple[OptionSpec, ...]:
        rules = TYPE_RULES.get(info.data.get("type", ""))
        if rules is None:  # the type itself is invalid: reported on its own
            return options
        if not rules.min_options <= len(options) <= rules.max_options:
            wanted = (
                "no options"
                if rules.max_options == 0
                else f"{rules.min_options} to {rules.max_options} options"
            )
            raise ValueError(f"a {info.data['type']} pack has {wanted}, not {len(options)}")
        seen: set[str] = set()
        for option in options:
            if option.id in seen:
                raise ValueError(f'option id "{option.id}" appears twice')
            seen.add(option.id)
        return options

    @field_serializer("reward")
    def _reward_text(self, reward: Decimal) -> str:
        return format(reward, "f")

    @property
    def reward_micros(self) -> int:
        return to_micros(self.reward)

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(option.id for option in self.options)

    def gold_error(self, gold: str) -> str | None:
        """Why `gold` is not a valid correct answer for this pack's tasks, or None."""
        if TYPE_RULES[self.type].gold_is_option and gold not in self.option_ids:
            return f'"{gold}" is not one of the options ({", ".join(self.option_ids)})'
        return None

    def to_json(self) -> str:
        """The whole header as stored in packs.header (reward as a decimal string)."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False)


class TaskSpec(BaseModel):
    """One task of a pack. Loading validates task lines as _TaskDict (same fields, faster)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: TaskId
    text: TaskText
    gold: Gold | None = None
    explanation: Explanation | None = None


@with_config(ConfigDict(extra="forbid"))
class _TaskDict(TypedDict):
    """TaskSpec as a TypedDict: pydantic validates it 2-3 times faster than a model."""

    id: TaskId
    text: TaskText
    gold: NotRequired[Gold | None]
    explanation: NotRequired[Explanation | None]


_TASK = TypeAdapter(_TaskDict)
_HEADER_FIELDS = tuple(PackHeader.model_fields)
_TASK_FIELDS = tuple(TaskSpec.model_fields)


def task_content(text: str) -> str:
    """The tasks.content JSON of a text task: json.dumps({"text": text}, ensure_ascii=False)."""
    return '{"text": ' + encode_basestring(text) + "}"


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackError:
    """One problem in a pack file. line/task_id/field are None when they do not apply."""

    line: int | None
    task_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.task_id is not None:
            where.append(f"task {json.dumps(self.task_id, ensure_ascii=False)}")
        if self.field is not None:
            where.append(f'field "{self.field}"')
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ErrorList:
    """The errors of a pack: the `cap` with the lowest line numbers are kept, all are counted."""

    def __init__(self, cap: int | None = None) -> None:
        self.cap = cap or MAX_ERRORS
        self.total = 0
        # A heap whose top is the kept error with the highest line (the latest, on a tie): the one
        # to drop when an error with a lower line comes in over the cap.
        self._heap: list[tuple[int, int, PackError]] = []

    def add(self, line: int | None, task_id: str | None, field: str | None, message: str) -> None:
        self.total += 1
        entry = (-(line or 0), -self.total, PackError(line, task_id, field, message))
        if len(self._heap) < self.cap:
            heapq.heappush(self._heap, entry)
        elif entry[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, entry)

    @property
    def items(self) -> list[PackError]:
        """The kept errors by line (pack-level ones, without a line, first)."""
        return [entry[2] for entry in sorted(self._heap, key=lambda entry: (-entry[0], -entry[1]))]

    def rewrite(self, change: Callable[[PackError], PackError]) -> None:
        """Replaces every kept error by change(error)."""
        self._heap = [(line, order, change(error)) for line, order, error in self._heap]

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total

    def as_list(self) -> list[PackError]:
        """The kept errors by line, then '... and N more errors' when some were dropped."""
        errors = self.items
        if self.total > len(errors):
            errors.append(
                PackError(None, None, None, f"... and {self.total - len(errors)} more errors")
            )
        return errors


def _field_name(loc: tuple[int | str, ...]) -> str | None:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or None


def _describe(error: ErrorDetails, allowed: Sequence[str]) -> str:
    """A pydantic error in words an operator understands."""
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    last = error["loc"][-1] if error["loc"] else None
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        if error["loc"][:1] == ("quality",):
            allowed = tuple(QualityBlock.model_fields)
        return f'unknown field "{last}" (allowed: {", ".join(allowed)})'
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "string_type":
        if last == "id" and isinstance(value, int | float) and not isinstance(value, bool):
            return f'write the id as a string: "{value}"'
        return f"must be a string, not {_json_kind(value)}"
    if kind == "string_too_short":
        return "is empty"
    if kind == "string_too_long":
        return f"has {len(value)} characters, at most {ctx['max_length']}"
    if kind == "string_pattern_mismatch":
        if last == "currency":
            return f'"{value}" is not an ISO 4217 code (3 capital letters, e.g. "EUR")'
        size = 32 if error["loc"][0] == "options" else 64
        return f'"{value}" is not a valid id: up to {size} {_SLUG_HELP}'
    if kind == "literal_error":
        return f'unknown type "{value}" (supported: {", ".join(TYPE_RULES)})'
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"must be a whole number, not {_json_kind(value)}"
    if kind == "bool_type":
        return f"must be true or false, not {_json_kind(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be an object, not {_json_kind(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"must be an array, not {_json_kind(value)}"
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"must be between {_bounds(error['loc'])} (got {value})"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, not {_json_kind(value)}"
    return str(error["msg"])


def _bounds(loc: tuple[int | str, ...]) -> str:
    model: type[BaseModel] = QualityBlock if loc[:1] == ("quality",) else PackHeader
    info = model.model_fields.get(str(loc[-1]) if loc else "")
    low = high = None
    for meta in info.metadata if info else ():
        low = getattr(meta, "ge", low)
        high = getattr(meta, "le", high)
    return f"{low} and {high}"


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {json.dumps(value, ensure_ascii=False)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --------------------------------------------------------------------------------------------
# Reading a pack file
# --------------------------------------------------------------------------------------------


class TaskBatch(NamedTuple):
    """Valid tasks read from a pack, with the line of each."""

    rows: list[db_packs.TaskRow]  # (task_id, content JSON, gold, explanation)
    lines: list[int]


class PackReader:
    """Reads and validates a pack file: the header, then the tasks in batches.

    Every problem found goes to `errors`; invalid tasks are left out of the batches. Duplicate
    task ids are not checked here (it takes memory): the caller checks them (see validate_pack,
    load_pack). Use as a context manager; call read_header() before batches().
    """

    def __init__(self, source: Path, *, batch_size: int | None = None) -> None:
        self.source = source
        self.batch_size = batch_size or BATCH_SIZE
        self.jsonl = source.suffix.lower() in JSONL_SUFFIXES
        self.errors = ErrorList()
        self.header: PackHeader | None = None
        self.header_line: int | None = None
        self.raw_id: str | None = None  # the header's id, even when the header is invalid
        self.total_bytes = 0
        self.bytes_read = 0
        self.tasks_read = 0  # task objects (or JSONL task lines) read, valid or not
        self._file: IO[bytes] | None = None
        self._line = 0  # JSONL: the last line read
        self._elements: list[tuple[int, Any]] = []  # JSON: (line, task element)
        self.header_lines: dict[str, int] = {}  # JSON: the line of each header field
        self.readable = False  # whether tasks can be read (the file opened and parsed)
        self._tasks_reported = False  # a problem with the tasks array was reported
        self._option_ids: tuple[str, ...] | None = None  # from an invalid header, if readable

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
        try:
            self.total_bytes = self.source.stat().st_size
            if self.jsonl:
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
                    _field_name(error["loc"]),
                    _describe(error, _HEADER_FIELDS),
                )
            return None
        return self.header

    def _read_jsonl_header(self) -> dict[str, Any] | None:
        assert self._file is not None
        for raw in self._file:
            self._line += 1
            self.bytes_read += len(raw)
            if self._line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if raw.isspace() or not raw:
                continue
            self.header_line = self._line
            self.readable = True
            try:
                value = json.loads(raw)
            except ValueError as exc:
                self.errors.add(self._line, None, None, f"the header line: {_json_problem(exc)}")
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
            if _unencodable(value):
                self.errors.add(self._line, None, None, "invalid unicode (a lone surrogate)")
                return None
            return value
        self.errors.add(None, None, None, "the file is empty")
        return None

    def _read_json_document(self) -> dict[str, Any] | None:
        data = self.source.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            self.errors.add(line, None, None, "the file is not UTF-8 text")
            return None
        del data
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            message = _decode_error(exc)
            if exc.msg == "Extra data" and exc.colno == 1:
                message += " (a JSONL pack, one object per line, needs the .jsonl extension)"
            self.errors.add(exc.lineno, None, None, message)
            return None
        if not isinstance(document, dict):
            self.errors.add(1, None, None, "a JSON pack is one object (the header and its tasks)")
            return None
        self.header_line = 1
        self.readable = True
        del document
        raw, self.header_lines, elements = _scan_json_pack(text)
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
                f"must be an array, not {_json_kind(raw['tasks'])}",
            )
        raw.pop("tasks", None)
        self._elements = elements
        if _unencodable(raw):
            self.errors.add(1, None, None, "invalid unicode in the header (a lone surrogate)")
            return None
        return raw

    # -- tasks ----------------------------------------------------------------------------

    def batches(self) -> Iterator[TaskBatch]:
        """The valid tasks, `batch_size` at a time; errors go to `errors`.

        Ends with a "no tasks" error when the file had none.
        """
        if self.readable:
            if self.jsonl:
                yield from self._jsonl_batches()
            else:
                yield from self._json_batches()
        if self.readable and self.tasks_read == 0 and not self._tasks_reported:
            self.errors.add(None, None, "tasks", "the pack has no tasks")

    def _jsonl_batches(self) -> Iterator[TaskBatch]:
        # The hot loop of a big load: ~1 µs of Python per task on top of pydantic's parsing.
        assert self._file is not None
        validate = _TASK.validator.validate_json  # the core validator: no wrapper overhead
        encode = encode_basestring
        size = self.batch_size
        rows: list[db_packs.TaskRow] = []
        lines: list[int] = []
        line = self._line
        done = self.bytes_read
        read = self.tasks_read
        for raw in self._file:
            line += 1
            done += len(raw)
            try:
                task = validate(raw)
            except ValidationError as exc:
                if raw.isspace():
                    continue
                read += 1
                self._invalid_task(line, exc, raw)
                continue
            read += 1
            if "gold" in task or "explanation" in task or task["text"].isspace():
                self._accept(task, line, rows, lines)
            else:  # the common case, inlined: a plain text task
                rows.append((task["id"], '{"text": ' + encode(task["text"]) + "}", None, None))
                lines.append(line)
            if len(rows) >= size:
                self._line, self.bytes_read, self.tasks_read = line, done, read
                yield TaskBatch(rows, lines)
                rows, lines = [], []
        self._line, self.bytes_read, self.tasks_read = line, done, read
        if rows:
            yield TaskBatch(rows, lines)

    def _json_batches(self) -> Iterator[TaskBatch]:
        validate = _TASK.validate_python
        batch = TaskBatch([], [])
        count = len(self._elements)
        for index, (line, element) in enumerate(self._elements, 1):
            self.tasks_read += 1
            try:
                task = validate(element)
            except ValidationError as exc:
                self._invalid_task(line, exc, element)
                continue
            if _unencodable(task):
                task_id = task["id"] if not _unencodable(task["id"]) else None
                self.errors.add(line, task_id, None, "invalid unicode (a lone surrogate)")
                continue
            self._accept(task, line, batch.rows, batch.lines)
            if len(batch.rows) >= self.batch_size:
                self.bytes_read = self.total_bytes * index // count
                yield batch
                batch = TaskBatch([], [])
        self.bytes_read = self.total_bytes
        if batch.rows:
            yield batch

    def _accept(
        self, task: _TaskDict, line: int, rows: list[db_packs.TaskRow], lines: list[int]
    ) -> None:
        """Checks what pydantic did not, then adds the task to the batch."""
        text = task["text"]
        gold = task.get("gold")
        explanation = task.get("explanation")
        if text.isspace():
            self.errors.add(line, task["id"], "text", "is blank")
            return
        if gold is not None:
            if problem := self._gold_error(gold):
                self.errors.add(line, task["id"], "gold", problem)
                return
        elif explanation is not None:
            self.errors.add(
                line, task["id"], "explanation", 'an explanation goes with a "gold" answer'
            )
            return
        rows.append((task["id"], task_content(text), gold, explanation))
        lines.append(line)

    def _gold_error(self, gold: str) -> str | None:
        if self.header is not None:
            return self.header.gold_error(gold)
        if self._option_ids is not None and gold not in self._option_ids:
            return f'"{gold}" is not one of the options ({", ".join(self._option_ids)})'
        return None

    def _invalid_task(self, line: int, exc: ValidationError, raw: object) -> None:
        errors = exc.errors(include_url=False)
        if errors[0]["type"] == "json_invalid":
            self.errors.add(line, None, None, _json_problem(raw))
            return
        value = raw
        if isinstance(raw, bytes):
            try:
                value = json.loads(raw)
            except ValueError:
                value = None
        task_id = None
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            task_id = value["id"]
        for error in errors:
            if not error["loc"] and error["type"] in ("dict_type", "model_type"):
                message = f"a task must be an object, not {_json_kind(error.get('input'))}"
                self.errors.add(line, task_id, None, message)
                continue
            self.errors.add(
                line, task_id, _field_name(error["loc"]), _describe(error, _TASK_FIELDS)
            )

    def first_lines(self, task_ids: set[str]) -> dict[str, int]:
        """The line where each of these task ids first appears (rereads a JSONL file)."""
        found: dict[str, int] = {}
        if not task_ids:
            return found
        if not self.jsonl:
            elements: Iterator[tuple[int, Any]] = iter(self._elements)
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

    def _jsonl_objects(self) -> Iterator[tuple[int, Any]]:
        with self.source.open("rb") as lines:
            for line, raw in enumerate(lines, 1):
                if line <= (self.header_line or 0):
                    continue
                try:
                    yield line, json.loads(raw)
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


def _json_problem(raw: object) -> str:
    """Why a JSONL line (bytes) is not JSON, with the column; `raw` can be the decode error."""
    exc: Exception
    if isinstance(raw, Exception):
        exc = raw
    else:
        try:
            json.loads(cast(bytes, raw))
        except ValueError as error:
            exc = error
        else:  # json accepts what pydantic's parser refused (a lone surrogate, for one)
            return "invalid JSON: invalid unicode escape"
    if isinstance(exc, json.JSONDecodeError):
        return _decode_error(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start + 1})"
    return f"invalid JSON: {exc}"


def _decode_error(exc: json.JSONDecodeError) -> str:
    message = exc.msg.removesuffix(" at")
    return f"invalid JSON at column {exc.colno}: {message[:1].lower()}{message[1:]}"


def _unencodable(value: object) -> bool:
    """Whether a parsed JSON value holds a lone surrogate (\\ud800), which SQLite cannot store."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _scan_json_pack(text: str) -> tuple[dict[str, Any], dict[str, int], list[tuple[int, Any]]]:
    """Walks a JSON pack document (already known to be valid JSON, an object).

    Returns the top-level fields, the line of each top-level field's value, and each element of
    the "tasks" array with the line it starts on (json.loads gives no positions).
    """
    decoder = json.JSONDecoder()
    skip = _WHITESPACE.match
    position = 0
    line = 1

    def line_at(index: int) -> int:
        nonlocal position, line
        line += text.count("\n", position, index)
        position = index
        return line

    fields: dict[str, Any] = {}
    lines: dict[str, int] = {}
    elements: list[tuple[int, Any]] = []
    i = cast(re.Match[str], skip(text, 0)).end() + 1  # past "{"
    i = cast(re.Match[str], skip(text, i)).end()
    while text[i] != "}":
        key, i = decoder.raw_decode(text, i)
        i = cast(re.Match[str], skip(text, i)).end() + 1  # past ":"
        i = cast(re.Match[str], skip(text, i)).end()
        lines[key] = line_at(i)
        if key == "tasks" and text[i] == "[":
            elements = []
            i = cast(re.Match[str], skip(text, i + 1)).end()
            items: list[Any] = []
            while text[i] != "]":
                start = line_at(i)
                element, i = decoder.raw_decode(text, i)
                elements.append((start, element))
                items.append(None)
                i = cast(re.Match[str], skip(text, i)).end()
                if text[i] == ",":
                    i = cast(re.Match[str], skip(text, i + 1)).end()
            fields[key] = items
            i += 1
        else:
            fields[key], i = decoder.raw_decode(text, i)
        i = cast(re.Match[str], skip(text, i)).end()
        if text[i] == ",":
            i = cast(re.Match[str], skip(text, i + 1)).end()
    return fields, lines, elements


# --------------------------------------------------------------------------------------------
# Use cases
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackCheck:
    """What validate_pack found."""

    header: PackHeader | None
    tasks: int  # valid, distinct tasks
    errors: list[PackError]

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_pack(source: Path) -> PackCheck:
    """Validates a pack file without a database (keeps every task id in memory: for packs up to
    a few hundred thousand tasks; load_pack checks big ones in bounded memory)."""
    with PackReader(source) as reader:
        reader.read_header()
        seen: dict[str, int] = {}
        for batch in reader.batches():
            for row, line in zip(batch.rows, batch.lines, strict=True):
                first = seen.setdefault(row[0], line)
                if first != line:
                    reader.errors.add(line, row[0], "id", _duplicate(first))
        return PackCheck(reader.header, len(seen), reader.errors.as_list())


_PENDING_DUPLICATE = "duplicate task id"


def _duplicate(first_line: int | None) -> str:
    where = f" (first on line {first_line})" if first_line is not None else ""
    return f"duplicate task id{where}"


@dataclass(frozen=True)
class LoadReport:
    """The outcome of load_pack. When not ok, nothing was imported and the counts are 0."""

    pack_id: str
    ok: bool
    created: bool = False
    replaced: bool = False
    tasks_added: int = 0
    tasks_updated: int = 0
    tasks_retired: int = 0
    tasks_total: int = 0  # the tasks of the file, now in service
    errors: list[PackError] = field(default_factory=list)
    budget_micros: int = 0  # tasks_total * overlap * reward
    currency: str = "EUR"
    overlap: int = 0
    reward_micros: int = 0
    tasks_read: int = 0  # task objects read from the file, valid or not
    error_count: int = 0  # all errors found, including those past the MAX_ERRORS listed


class _Refused(Exception):
    """Raised inside the load transaction to roll it back."""


ProgressCallback = Callable[[int, int, int], None]


async def load_pack(
    db: Database,
    source: Path,
    *,
    replace: bool = False,
    clock: Clock,
    on_progress: ProgressCallback | None = None,
) -> LoadReport:
    """Validates and loads a pack file, all or nothing, in one transaction.

    A JSONL pack is streamed (bounded memory); a JSON pack is read whole (keep those small).
    Validation happens while the tasks are written; on any error the transaction is rolled back
    and the report lists every error (MAX_ERRORS at most). An existing pack id is refused unless
    `replace`: then the header is updated, tasks are upserted by id (answers kept), tasks missing
    from the file are retired, and each task's remaining slots are recomputed. A replace cannot
    remove an option that stored answers chose.

    `on_progress(bytes_read, total_bytes, tasks_read)` is called after every batch. The file is
    read with blocking I/O and the database lock is held throughout: meant for the CLI.
    """
    with PackReader(source) as reader:
        header = reader.read_header()
        pack_id = header.id if header else (reader.raw_id or source.stem)
        if not reader.readable:
            return LoadReport(
                pack_id, ok=False, errors=reader.errors.as_list(), error_count=reader.errors.total
            )
        result: LoadReport | None = None
        try:
            async with db.transaction() as tx:
                result = await _load(tx, reader, header, replace, clock, on_progress)
                if reader.errors:
                    raise _Refused
        except _Refused:
            pass
        if result is None or reader.errors:
            return LoadReport(
                pack_id,
                ok=False,
                errors=reader.errors.as_list(),
                error_count=reader.errors.total,
                currency=header.currency if header else "EUR",
                tasks_read=reader.tasks_read,
            )
        return result


async def _load(
    tx: Tx,
    reader: PackReader,
    header: PackHeader | None,
    replace: bool,
    clock: Clock,
    on_progress: ProgressCallback | None,
) -> LoadReport | None:
    now = to_db_time(clock.now())
    errors = reader.errors
    existing = await db_packs.get_pack(tx, header.id) if header else None
    tasks_before = 0
    if header is None:
        pack_pk = await db_packs.insert_scratch_pack(tx, now)
    elif existing is None:
        pack_pk = await db_packs.insert_pack(tx, _pack_values(header), now)
    elif not replace:
        errors.add(
            reader.header_lines.get("id", reader.header_line),
            None,
            "id",
            f'pack "{header.id}" already exists; use --replace to update it'
            " (answers already given are kept)",
        )
        return None
    else:
        pack_pk = existing["pk"]
        await _check_replace(tx, reader, header, existing)
        await db_packs.update_pack(tx, pack_pk, _pack_values(header), now)
        tasks_before = await db_packs.count_tasks(tx, pack_pk)
        await db_packs.mark_tasks_unseen(tx, pack_pk)

    writer = db_packs.TaskWriter(tx, pack_pk, remaining=header.overlap if header else 1)
    tasks_total = 0
    previous_cache = await db_packs.set_cache_size(tx, LOAD_CACHE_KIB)
    try:
        for batch in reader.batches():
            refused = await writer.write(batch.rows)
            tasks_total += len(batch.rows) - len(refused)
            for index in refused:
                errors.add(batch.lines[index], batch.rows[index][0], "id", _PENDING_DUPLICATE)
            if on_progress is not None:
                on_progress(reader.bytes_read, reader.total_bytes, reader.tasks_read)
    finally:
        await db_packs.restore_cache_size(tx, previous_cache)
    pending = {e.task_id for e in errors.items if e.message == _PENDING_DUPLICATE and e.task_id}
    if pending:  # name the first line of each duplicate id (rereads the file: errors only)
        first = reader.first_lines(pending)

        def name_first_line(error: PackError) -> PackError:
            if error.message != _PENDING_DUPLICATE or error.task_id is None:
                return error
            return dataclasses.replace(error, message=_duplicate(first.get(error.task_id)))

        errors.rewrite(name_first_line)
    if errors or header is None:
        return None

    retired = 0
    added = tasks_total
    if existing is not None:
        retired = await db_packs.retire_unseen_tasks(tx, pack_pk)
        await db_packs.recompute_remaining(tx, pack_pk, header.overlap)
        added = await db_packs.count_tasks(tx, pack_pk) - tasks_before
    return LoadReport(
        header.id,
        ok=True,
        created=existing is None,
        replaced=existing is not None,
        tasks_added=added,
        tasks_updated=tasks_total - added,
        tasks_retired=retired,
        tasks_total=tasks_total,
        budget_micros=tasks_total * header.overlap * header.reward_micros,
        currency=header.currency,
        overlap=header.overlap,
        reward_micros=header.reward_micros,
        tasks_read=reader.tasks_read,
    )


async def _check_replace(
    tx: Tx, reader: PackReader, header: PackHeader, existing: sqlite3.Row
) -> None:
    """A replace must keep every option that stored answers chose, and the answer type."""
    used = await db_packs.answers_by_option(tx, existing["pk"])
    if not used:
        return
    line = reader.header_lines.get("options", reader.header_line)
    if existing["type"] != header.type:
        reader.errors.add(
            reader.header_lines.get("type", reader.header_line),
            None,
            "type",
            f'the pack has answers of type "{existing["type"]}"; a replace cannot change it',
        )
        return
    kept = set(header.option_ids)
    removed = {answer: count for answer, count in sorted(used.items()) if answer not in kept}
    if removed:
        listed = ", ".join(f'"{answer}" ({count} answers)' for answer, count in removed.items())
        reader.errors.add(
            line,
            None,
            "options",
            f"a replace cannot remove options that stored answers chose: {listed}",
        )


def _pack_values(header: PackHeader) -> dict[str, Any]:
    return {
        "id": header.id,
        "title": header.title,
        "instructions": header.instructions,
        "type": header.type,
        "options": json.dumps(
            [{"id": option.id, "label": option.label} for option in header.options],
            ensure_ascii=False,
        ),
        "reward_micros": header.reward_micros,
        "currency": header.currency,
        "overlap": header.overlap,
        "lease_seconds": header.lease_seconds,
        "header": header.to_json(),
    }


# --------------------------------------------------------------------------------------------
# Packs in service
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class PackInfo:
    """A loaded pack as the serving code sees it (built from a packs row)."""

    pk: int
    id: str
    title: str
    instructions: str
    type: str
    options: tuple[Option, ...]
    reward_micros: int
    currency: str
    overlap: int
    lease_seconds: int
    status: str
    description: str | None
    header: dict[str, Any] = field(hash=False, compare=False)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> PackInfo:
        header = json.loads(row["header"])
        return cls(
            pk=row["pk"],
            id=row["id"],
            title=row["title"],
            instructions=row["instructions"],
            type=row["type"],
            options=tuple(Option(item["id"], item["label"]) for item in json.loads(row["options"])),
            reward_micros=row["reward_micros"],
            currency=row["currency"],
            overlap=row["overlap"],
            lease_seconds=row["lease_seconds"],
            status=row["status"],
            description=header.get("description"),
            header=header,
        )

    def option_label(self, option_id: str) -> str | None:
        for option in self.options:
            if option.id == option_id:
                return option.label
        return None


@dataclass(frozen=True)
class PackProgress:
    id: str
    title: str
    status: str
    type: str
    tasks: int  # in service (not retired)
    tasks_complete: int  # answers >= overlap
    answers: int
    answers_wanted: int  # tasks * overlap
    open_leases: int
    reward_micros: int
    currency: str
    spent_micros: int  # 'reward' ledger entries of the pack
    percent: float  # answers (up to the overlap per task) / answers wanted


async def pack_progress(db: Database) -> list[PackProgress]:
    """Where every pack stands (one aggregate query per pack)."""
    async with db.read() as tx:
        packs = await db_packs.list_packs(tx)
        leases = await db_packs.open_leases_by_pack(tx)
        spent = await db_packs.rewards_by_pack(tx)
        result = []
        for pack in packs:
            totals = await db_packs.task_totals(tx, pack["pk"], pack["overlap"])
            wanted = totals["tasks"] * pack["overlap"]
            result.append(
                PackProgress(
                    id=pack["id"],
                    title=pack["title"],
                    status=pack["status"],
                    type=pack["type"],
                    tasks=totals["tasks"],
                    tasks_complete=totals["complete"],
                    answers=totals["answers"],
                    answers_wanted=wanted,
                    open_leases=leases.get(pack["pk"], 0),
                    reward_micros=pack["reward_micros"],
                    currency=pack["currency"],
                    spent_micros=spent.get(pack["pk"], 0),
                    percent=100.0 * totals["capped"] / wanted if wanted else 0.0,
                )
            )
        return result


async def set_pack_status(
    db: Database, pack_id: str, status: PackStatus, *, clock: Clock | None = None
) -> bool:
    """Pauses, closes or reopens a pack; False when no pack has this id."""
    if status not in PACK_STATUSES:
        raise ValueError(f"unknown pack status {status!r} (one of {', '.join(PACK_STATUSES)})")
    now = to_db_time((clock or Clock()).now())
    async with db.transaction() as tx:
        return await db_packs.set_pack_status(tx, pack_id, status, now)


__all__ = [
    "MAX_ERRORS",
    "PACK_STATUSES",
    "TYPE_RULES",
    "ErrorList",
    "LoadReport",
    "Option",
    "OptionSpec",
    "PackCheck",
    "PackError",
    "PackHeader",
    "PackInfo",
    "PackProgress",
    "PackReader",
    "PackStatus",
    "QualityBlock",
    "TaskBatch",
    "TaskSpec",
    "TaskType",
    "TypeRules",
    "load_pack",
    "pack_progress",
    "set_pack_status",
    "task_content",
    "validate_pack",
]
