"""The pack format: the header and task fields an operator writes, as pydantic models.

Validation messages are worded for operators (tasks/packs/errors.py turns pydantic's errors into
them). Adding an answer type: add it to TaskType, give it a TypeRules entry in TYPE_RULES and
a module in tasks/answer_types/ (its gold shape, scoring, aggregation).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
    with_config,
)
from typing_extensions import TypedDict

from tasks import answer_types
from tasks.money import CURRENCY_PATTERN, MoneyError, parse_amount, to_micros
from tasks.telegram_limits import utf16_units

MAX_REWARD = Decimal(1000)

TaskType = Literal["single_choice", "multi_choice", "rating", "text"]


@dataclass(frozen=True)
class TypeRules:
    """What a task type asks of a pack header."""

    min_options: int
    max_options: int
    gold_is_option: bool = True  # gold names one option id
    fields: tuple[str, ...] = ()  # the header fields of this type only (TYPE_FIELDS)


TYPE_RULES: dict[str, TypeRules] = {
    "single_choice": TypeRules(min_options=2, max_options=8),
    "multi_choice": TypeRules(2, 10, gold_is_option=False, fields=("none_of_these",)),
    "rating": TypeRules(2, 10, fields=("tolerance",)),
    "text": TypeRules(
        0, 0, gold_is_option=False, fields=("min_length", "max_length", "max_cer", "accents")
    ),
}
# Header fields that belong to one answer type (docs/answer-types.md); left out of the stored
# header when not set.
TYPE_FIELDS = ("none_of_these", "tolerance", "min_length", "max_length", "max_cer", "accents")


def _not_blank(value: str) -> str:
    if value.isspace():
        raise ValueError("is blank")
    return value


# Telegram measures texts in UTF-16 code units (tasks/telegram_limits.py): an emoji, like any
# character beyond U+FFFF, is two. The limits below are in those units, so that what passes here
# can always be sent (a 3,500-emoji text is 7,000 units, past a message's 4,096). Python counts
# code points; pydantic's max_length (in code points) is a quick first check, since units are
# never fewer.
MAX_TEXT_UNITS = 3500
MAX_EXPLANATION_UNITS = 1000


def too_many_units(text: str, limit: int) -> str | None:
    """Why `text` is too long in Telegram's units, or None when it fits."""
    if len(text) * 2 <= limit:  # cannot pass the limit: no need to count
        return None
    units = utf16_units(text)
    if units <= limit:
        return None
    return (
        f"has {len(text):,} characters but {units:,} UTF-16 units, at most {limit:,} (Telegram"
        " counts each emoji, like any character beyond U+FFFF, as 2)"
    )


def _units_at_most(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if problem := too_many_units(value, limit):
            raise ValueError(problem)
        return value

    return AfterValidator(check)


Slug = Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
OptionId = Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
OptionLabel = Annotated[
    str,
    Strict(),
    StringConstraints(min_length=1, max_length=40),
    AfterValidator(_not_blank),
    _units_at_most(40),
]
Title = Annotated[
    str,
    Strict(),
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_not_blank),
    _units_at_most(200),
]
Instructions = Annotated[
    str,
    Strict(),
    StringConstraints(min_length=1, max_length=2000),
    AfterValidator(_not_blank),
    _units_at_most(2000),
]
Description = Annotated[
    str,
    Strict(),
    StringConstraints(min_length=1, max_length=1000),
    AfterValidator(_not_blank),
    _units_at_most(1000),
]
Currency = Annotated[str, Strict(), StringConstraints(pattern=CURRENCY_PATTERN)]
# Task fields. The blank-text and UTF-16 checks are done by the reader, outside pydantic, for
# speed (only a text of more than half the limit in code points needs counting).
TaskId = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=128)]
TaskText = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=MAX_TEXT_UNITS)]
# A gold answer: an option id (single_choice, rating); a list of option ids (multi_choice, one
# id alone also accepted); a list of accepted answers (text, one string alone also accepted).
Gold = Annotated[str, Strict()] | Annotated[list[Annotated[str, Strict()]], Field(max_length=20)]
Explanation = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=MAX_EXPLANATION_UNITS)
]
MediaRef = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=2048)]


class OptionSpec(BaseModel):
    """One answer button: `id` is stored as the answer, `label` is the button text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: OptionId
    label: OptionLabel


class QualityBlock(BaseModel):
    """The `quality` block of a pack header: gold, qualification, trust and overlap settings.

    Every field is optional (the defaults are in tasks/quality.py's QualitySettings); the stored
    header keeps what the operator wrote. docs/quality.md says what each one does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gold_ratio: Annotated[float, Field(ge=0, le=1)] = 0.1
    qualification: Annotated[int, Strict(), Field(ge=0, le=50)] = 5
    good_accuracy: Annotated[float, Field(ge=0.5, le=0.99)] = 0.85
    false_suspension: Annotated[float, Field(ge=0.0001, le=0.1)] = 0.003
    missed_detection: Annotated[float, Field(ge=0.001, le=0.5)] = 0.05
    min_gold_answers: Annotated[int, Strict(), Field(ge=2, le=500)] = 5
    # The window rule's fields: superseded by the sequential test, accepted so that packs
    # written for it still load (the load says they are no longer used).
    pass_mark: Annotated[float, Field(ge=0, le=1)] = 0.8
    min_accuracy: Annotated[float, Field(ge=0, le=1)] = 0.7
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
        "good_accuracy",
        "false_suspension",
        "missed_detection",
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
            raise ValueError(f"must be a number, not {json_kind(value)}")
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
    # Answer-type fields (TYPE_FIELDS): each one is refused on a pack of another type.
    none_of_these: OptionId | None = None  # multi_choice: the option that clears the others
    tolerance: Annotated[int, Strict(), Field(ge=0, le=9)] | None = None  # rating: gold ± n
    min_length: Annotated[int, Strict(), Field(ge=1, le=4000)] | None = None  # text
    max_length: Annotated[int, Strict(), Field(ge=1, le=4000)] | None = None  # text
    max_cer: Annotated[float, Field(ge=0, le=1)] | None = None  # text: character error rate
    accents: Annotated[bool, Strict()] | None = None  # text: false = accents not significant

    @field_validator("max_cer", mode="before")
    @classmethod
    def _cer_number(cls, value: object) -> object:
        if isinstance(value, bool) or (value is not None and not isinstance(value, int | float)):
            raise ValueError(f"must be a number, not {json_kind(value)}")
        return value

    @model_validator(mode="after")
    def _type_fields(self) -> PackHeader:
        rules = TYPE_RULES[self.type]
        for name in TYPE_FIELDS:
            if getattr(self, name) is not None and name not in rules.fields:
                owner = next(kind for kind, r in TYPE_RULES.items() if name in r.fields)
                raise ValueError(f'"{name}" belongs to {owner} packs, not to a {self.type} pack')
        if self.none_of_these is not None and self.none_of_these not in self.option_ids:
            raise ValueError(
                f'none_of_these "{self.none_of_these}" is not one of the options'
                f" ({', '.join(self.option_ids)})"
            )
        if self.tolerance is not None and self.tolerance >= len(self.options):
            raise ValueError(
                f"a tolerance of {self.tolerance} on a {len(self.options)}-point scale accepts"
                " every answer"
            )
        low, high = self.min_length or 1, self.max_length or 1000
        if low > high:
            raise ValueError(f"min_length ({low}) is more than max_length ({high})")
        return self

    @field_serializer("quality")
    def _quality_as_written(self, quality: QualityBlock | None) -> dict[str, Any] | None:
        return None if quality is None else quality.model_dump(mode="json", exclude_unset=True)

    @field_validator("reward", mode="before")
    @classmethod
    def _reward(cls, value: object) -> Decimal:
        if not isinstance(value, str):
            raise ValueError('write the reward as a string, e.g. "0.02"')
        try:
            amount = parse_amount(value, maximum=MAX_REWARD)
        except MoneyError as exc:
            if str(exc).startswith("too large"):  # 5000 or 1e30 alike
                raise ValueError(
                    f"a reward of {value} per answer is above {MAX_REWARD}: a typo?"
                ) from None
            raise
        if amount <= 0:
            raise ValueError(f"the reward must be more than 0 (got {value!r})")
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

    def gold_error(self, gold: str | list[str]) -> str | None:
        """Why `gold` is not a valid correct answer for this pack's tasks, or None."""
        try:
            self.gold_value(gold)
        except ValueError as exc:
            return str(exc)
        return None

    def gold_value(self, gold: str | list[str]) -> str:
        """The gold as stored in tasks.gold (a multi_choice set or a text's accepted answers
        as a JSON list); ValueError says what is wrong with it."""
        return answer_types.canonical_gold(self.type, self.option_ids, gold, self.none_of_these)

    def to_json(self) -> str:
        """The whole header as stored in packs.header (reward as a decimal string)."""
        data = self.model_dump(mode="json")
        for name in TYPE_FIELDS:
            if data.get(name) is None:
                data.pop(name, None)
        return json.dumps(data, ensure_ascii=False)


class TaskSpec(BaseModel):
    """One task of a pack. Loading validates task lines as TaskDict (same fields, faster)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: TaskId
    text: TaskText | None = None  # required unless the task has media (the reader checks)
    gold: Gold | None = None
    explanation: Explanation | None = None
    # Media (tasks/media.py): at most one; an https URL, a path relative to the pack, a file_id.
    image: MediaRef | None = None
    audio: MediaRef | None = None
    voice: MediaRef | None = None


@with_config(ConfigDict(extra="forbid"))
class TaskDict(TypedDict):
    """TaskSpec as a TypedDict: pydantic validates it 2-3 times faster than a model (the reader
    validates task lines with TASK, below)."""

    id: TaskId
    text: NotRequired[TaskText]
    gold: NotRequired[Gold | None]
    explanation: NotRequired[Explanation | None]
    image: NotRequired[MediaRef]
    audio: NotRequired[MediaRef]
    voice: NotRequired[MediaRef]


TASK = TypeAdapter(TaskDict)
HEADER_FIELDS = tuple(PackHeader.model_fields)
TASK_FIELDS = tuple(TaskSpec.model_fields)


def task_content(text: str) -> str:
    """The tasks.content JSON of a text task: json.dumps({"text": text}, ensure_ascii=False)."""
    return '{"text": ' + encode_basestring(text) + "}"


def media_task_content(text: str, kind: str, written: str) -> str:
    """The tasks.content JSON of a task with media: its text and the media as the pack wrote
    it (what is sent is in task_media: db/media.py)."""
    return json.dumps({"text": text, kind: written}, ensure_ascii=False)


def json_kind(value: object) -> str:
    """A JSON value as an operator would name it: "the number 3", "an array"..."""
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
