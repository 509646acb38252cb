"""What is wrong with a pack file, said so that an operator can fix it.

Every error carries its line, task id and field (PackError); the first MAX_ERRORS by line are
kept (ErrorList), and reading stops at the error after them: a file that bad is fixed from the
first errors, and reading the rest would only cost time. describe() turns pydantic's errors into
those messages.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from tasks.packs.format import TYPE_RULES, PackHeader, QualityBlock, json_kind

MAX_ERRORS = 100

_SLUG_HELP = 'lowercase letters, digits, "-" and "_", starting with a letter or digit'


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
    """The errors of a pack: the MAX_ERRORS with the lowest lines are kept, all are counted."""

    def __init__(self) -> None:
        self.cap = MAX_ERRORS
        self.total = 0
        # The last line read when reading stopped, with more than `cap` errors (None: it did not).
        self.stopped_at: int | None = None
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

    def as_list(self) -> list[PackError]:
        """The kept errors by line, then where reading stopped, or '... and N more errors'
        when some were dropped."""
        errors = self.items
        if self.stopped_at is not None:
            errors.append(
                PackError(
                    None,
                    None,
                    None,
                    f"... reading stopped at line {self.stopped_at:,}, after more than"
                    f" {self.cap} errors: fix these and load the pack again",
                )
            )
        elif self.total > len(errors):
            errors.append(
                PackError(None, None, None, f"... and {self.total - len(errors)} more errors")
            )
        return errors


def field_name(loc: tuple[int | str, ...]) -> str | None:
    """A pydantic error location as the operator wrote it: options[0].label."""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or None


def describe(error: ErrorDetails, allowed: Sequence[str]) -> str:
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
        return f"must be a string, not {json_kind(value)}"
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
        return f"must be a whole number, not {json_kind(value)}"
    if kind == "bool_type":
        return f"must be true or false, not {json_kind(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be an object, not {json_kind(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"must be an array, not {json_kind(value)}"
    if kind in ("greater_than_equal", "less_than_equal"):
        low, high = _bounds(error["loc"])
        if low is not None and high is not None:
            return f"must be between {low} and {high} (got {value})"
        if kind == "greater_than_equal":
            return f"must be at least {ctx.get('ge')} (got {value})"
        return f"must be at most {ctx.get('le')} (got {value})"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, not {json_kind(value)}"
    return str(error["msg"])


def _bounds(loc: tuple[int | str, ...]) -> tuple[object, object]:
    """A numeric field's (ge, le) bounds, also when the field is optional (`Annotated[...] |
    None` keeps them inside the union's member)."""
    model: type[BaseModel] = QualityBlock if loc[:1] == ("quality",) else PackHeader
    info = model.model_fields.get(str(loc[-1]) if loc else "")
    if info is None:
        return None, None
    metadata: list[object] = list(info.metadata)
    for member in get_args(info.annotation):
        for meta in getattr(member, "__metadata__", ()):
            metadata.extend(meta.metadata if isinstance(meta, FieldInfo) else (meta,))
    low = high = None
    for meta in metadata:
        low = getattr(meta, "ge", low)
        high = getattr(meta, "le", high)
    return low, high
