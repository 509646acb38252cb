"""Pack format and validation, without a database: what the reader accepts, and every error it
reports with its line, task and field. Duplicate ids are found by a load (test_pack_loading)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tasks.packs import MAX_ERRORS, PackError, PackHeader, TaskSpec, task_content
from tasks.packs.format import TaskDict
from tests.helpers import (
    PACK_HEADER,
    check_pack,
    json_task_line,
    make_tasks,
    write_pack_file,
)

SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "samples"


def write_json(tmp_path: Path, tasks: list[Any], name: str = "pack.json", **header: Any) -> Path:
    return write_pack_file(tmp_path / name, tasks, jsonl=False, **header)


def write_jsonl(tmp_path: Path, tasks: list[Any], name: str = "pack.jsonl", **header: Any) -> Path:
    return write_pack_file(tmp_path / name, tasks, jsonl=True, **header)


def messages(path: Path) -> list[str]:
    return [str(error) for error in check_pack(path).errors]


# -- the happy path ------------------------------------------------------------------------


def test_valid_json_pack(tmp_path: Path) -> None:
    path = write_json(tmp_path, [*make_tasks(3), {"id": "g", "text": "gold", "gold": "neu"}])
    check = check_pack(path)
    assert check.ok, check.errors
    assert check.tasks == 4
    header = check.header
    assert header is not None
    assert (header.currency, header.overlap, header.lease_seconds) == ("EUR", 3, 300)
    assert header.top_up is False and header.quality is None and header.description is None
    assert header.reward_micros == 20_000
    assert header.option_ids == ("pos", "neg", "neu")


def test_header_json_keeps_reward_as_string(tmp_path: Path) -> None:
    header = PackHeader.model_validate(
        {**PACK_HEADER, "reward": "0.005", "quality": {"gold_ratio": 1}}
    )
    stored = json.loads(header.to_json())
    assert stored["reward"] == "0.005"
    assert stored["quality"] == {"gold_ratio": 1}
    assert stored["options"][0] == {"id": "pos", "label": "Positive"}
    assert header.reward_micros == 5_000


def test_sample_pack_is_valid_and_truth_covers_it() -> None:
    check = check_pack(SAMPLES / "demo-reviews.json")
    assert check.ok, check.errors
    assert check.header is not None and check.header.id == "demo-reviews"
    assert 100 <= check.tasks <= 200
    pack = json.loads((SAMPLES / "demo-reviews.json").read_text(encoding="utf-8"))
    truth = json.loads((SAMPLES / "demo-reviews.truth.json").read_text(encoding="utf-8"))
    labels = {option["label"]: option["id"] for option in pack["options"]}
    assert all(len(label) <= 40 for label in labels)
    assert set(truth) == {task["text"] for task in pack["tasks"]}
    assert set(truth.values()) <= set(labels)
    golds = [task for task in pack["tasks"] if "gold" in task]
    assert 0.05 <= len(golds) / len(pack["tasks"]) <= 0.15
    assert all(labels[truth[task["text"]]] == task["gold"] for task in golds)
    assert any(c in task["text"] for task in pack["tasks"] for c in "<>&")


def test_task_content_is_the_json_of_the_text() -> None:
    for text in ['Prix < 10€ & "livraison" rapide', "a\nb\\c\u2028", "emoji 🎉"]:
        assert task_content(text) == json.dumps({"text": text}, ensure_ascii=False)


def test_task_spec_and_fast_path_agree() -> None:
    assert set(TaskSpec.model_fields) == set(TaskDict.__annotations__)


# -- errors ---------------------------------------------------------------------------------


def test_pack_error_text() -> None:
    error = PackError(12, "t-0042", "gold", '"maybe" is not one of the options (pos, neg, neu)')
    assert str(error) == (
        'line 12, task "t-0042", field "gold": "maybe" is not one of the options (pos, neg, neu)'
    )
    assert str(PackError(None, None, None, "the file is empty")) == "the file is empty"


def test_every_error_is_reported_with_line_and_task(tmp_path: Path) -> None:
    pack = [
        {"id": "a", "text": "fine"},
        {"id": "b", "text": "fine", "gold": "maybe"},
        {"id": "c", "text": "x" * 3501},
        {"id": "d", "text": "fine", "colour": "red"},
        {"id": "e", "text": "fine"},
        {"id": "f", "text": "fine", "explanation": "no gold"},
    ]
    path = write_json(tmp_path, pack)
    check = check_pack(path)
    assert not check.ok
    found = {(error.line, error.task_id, error.field) for error in check.errors}
    assert found == {
        (json_task_line(1), "b", "gold"),
        (json_task_line(2), "c", "text"),
        (json_task_line(3), "d", "colour"),
        (json_task_line(5), "f", "explanation"),
    }
    assert check.tasks == 2  # a and e


def test_gold_not_an_option(tmp_path: Path) -> None:
    path = write_json(tmp_path, [*make_tasks(1), {"id": "t-0042", "text": "hmm", "gold": "maybe"}])
    assert messages(path) == [
        f'line {json_task_line(1)}, task "t-0042", field "gold":'
        ' "maybe" is not one of the options (pos, neg, neu)'
    ]


def test_reward_as_a_number_is_refused(tmp_path: Path) -> None:
    path = write_json(tmp_path, make_tasks(1), reward=0.02)
    (error,) = check_pack(path).errors
    assert error.field == "reward"
    assert error.message == 'write the reward as a string, e.g. "0.02"'
    assert error.line == 7  # the "reward" line


@pytest.mark.parametrize(
    ("reward", "expected"),
    [("0", "more than 0"), ("-1", "more than 0"), ("0.0000001", "6 decimal"), ("abc", "decimal")],
)
def test_bad_rewards(tmp_path: Path, reward: str, expected: str) -> None:
    (error,) = check_pack(write_json(tmp_path, make_tasks(1), reward=reward)).errors
    assert error.field == "reward" and expected in error.message


def test_sub_cent_reward_is_fine(tmp_path: Path) -> None:
    check = check_pack(write_json(tmp_path, make_tasks(1), reward="0.005"))
    assert check.ok and check.header is not None and check.header.reward_micros == 5_000


def test_too_long_text(tmp_path: Path) -> None:
    (error,) = check_pack(write_json(tmp_path, [{"id": "long", "text": "é" * 3600}])).errors
    assert (error.task_id, error.field) == ("long", "text")
    assert error.message == "has 3600 characters, at most 3500"


def test_unknown_fields(tmp_path: Path) -> None:
    path = write_json(tmp_path, [{"id": "a", "text": "b", "glod": "pos"}], overlapp=3)
    errors = check_pack(path).errors
    assert [(error.task_id, error.field) for error in errors] == [(None, "overlapp"), ("a", "glod")]
    assert 'unknown field "overlapp"' in errors[0].message
    assert 'unknown field "glod"' in errors[1].message


def test_header_field_errors(tmp_path: Path) -> None:
    path = write_json(
        tmp_path,
        make_tasks(1),
        id="Not A Slug",
        currency="eur",
        lease_seconds=10,
        type="ranking",
        title="",
    )
    fields = {error.field: error.message for error in check_pack(path).errors}
    assert set(fields) == {"id", "currency", "lease_seconds", "type", "title"}
    assert "not a valid id" in fields["id"]
    assert "ISO 4217" in fields["currency"]
    assert fields["lease_seconds"] == "must be between 30 and 86400 (got 10)"
    assert (
        fields["type"]
        == 'unknown type "ranking" (supported: single_choice, multi_choice, rating, text)'
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([{"id": "a", "label": "A"}], "2 to 8 options, not 1"),
        ([{"id": f"o{n}", "label": "x"} for n in range(9)], "2 to 8 options, not 9"),
        ([{"id": "a", "label": "A"}, {"id": "a", "label": "B"}], 'option id "a" appears twice'),
    ],
)
def test_option_rules(tmp_path: Path, options: list[dict[str, str]], expected: str) -> None:
    (error,) = check_pack(write_json(tmp_path, make_tasks(1), options=options)).errors
    assert error.field == "options" and expected in error.message


def test_option_label_too_long(tmp_path: Path) -> None:
    options = [{"id": "a", "label": "A" * 41}, {"id": "b", "label": "B"}]
    (error,) = check_pack(write_json(tmp_path, make_tasks(1), options=options)).errors
    assert error.field == "options[0].label"


def test_quality_must_be_an_object(tmp_path: Path) -> None:
    (error,) = check_pack(write_json(tmp_path, make_tasks(1), quality=[1])).errors
    assert error.field == "quality" and "object" in error.message


def test_task_id_must_be_a_string(tmp_path: Path) -> None:
    (error,) = check_pack(write_json(tmp_path, [{"id": 42, "text": "x"}])).errors
    assert error.field == "id" and error.message == 'write the id as a string: "42"'


def test_no_tasks(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({**PACK_HEADER, "tasks": []}), encoding="utf-8")
    assert [e.message for e in check_pack(path).errors] == ["the pack has no tasks"]
    path.write_text(json.dumps(PACK_HEADER), encoding="utf-8")
    assert [e.field for e in check_pack(path).errors] == ["tasks"]
    assert [e.message for e in check_pack(write_jsonl(tmp_path, [])).errors] == [
        "the pack has no tasks"
    ]


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "id": "x",\n  "title": oops\n}\n', encoding="utf-8")
    (error,) = check_pack(path).errors
    assert error.line == 3 and "column 12" in error.message


def test_jsonl_content_in_a_json_file_gets_a_hint(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path, make_tasks(2), name="pack.json")
    (error,) = check_pack(path).errors
    assert error.line == 2 and ".jsonl extension" in error.message


def test_json_lines_of_tasks_on_shared_lines(tmp_path: Path) -> None:
    text = json.dumps({**PACK_HEADER, "tasks": []})[:-3]  # a compact header, then tasks
    text += '[\n{"id": "a", "text": "x"}, {"id": "b", "text": "y", "gold": "no"},\n\n'
    text += '  {"id": "c",\n   "text": ""}]}'
    path = tmp_path / "compact.json"
    path.write_text(text, encoding="utf-8")
    errors = check_pack(path).errors
    assert [(e.line, e.task_id, e.field) for e in errors] == [(2, "b", "gold"), (4, "c", "text")]


def test_jsonl_bad_lines_do_not_stop_validation(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path,
        [
            {"id": "a", "text": "fine"},
            '{"id": "b", "text": "broken',
            "",
            "[1, 2]",
            {"id": "c", "text": "fine", "gold": "nope"},
            {"id": "d", "text": "fine"},
        ],
    )
    check = check_pack(path)
    assert check.tasks == 2
    found = [(error.line, error.task_id, error.field) for error in check.errors]
    assert found == [(3, None, None), (5, None, None), (6, "c", "gold")]
    assert "invalid JSON" in check.errors[0].message
    assert "must be an object" in check.errors[1].message


def test_jsonl_header_errors_and_tasks_still_checked(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path, [{"id": "a", "text": "x", "gold": "maybe"}], reward=1)
    found = [(error.line, error.field) for error in check_pack(path).errors]
    assert found == [(1, "reward"), (2, "gold")]


def test_a_file_with_more_errors_than_listed_stops_reading_and_says_where(tmp_path: Path) -> None:
    tasks = [{"id": f"t{n}", "text": ""} for n in range(MAX_ERRORS * 50)]
    errors = check_pack(write_jsonl(tmp_path, tasks)).errors
    assert len(errors) == MAX_ERRORS + 1
    # The header is line 1: the first MAX_ERRORS errors are lines 2 to MAX_ERRORS + 1, and
    # reading stopped on the error after them, not at the end of the file.
    assert [error.line for error in errors[:-1]] == list(range(2, MAX_ERRORS + 2))
    assert str(errors[-1]) == (
        f"... reading stopped at line {MAX_ERRORS + 2:,}, after more than {MAX_ERRORS} errors:"
        " fix these and load the pack again"
    )


def test_unreadable_file(tmp_path: Path) -> None:
    (error,) = check_pack(tmp_path / "missing.jsonl").errors
    assert error.message == f"no such file: {tmp_path / 'missing.jsonl'}"
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    (error,) = check_pack(fifo).errors  # never opened: opening a FIFO waits for a writer
    assert error.message.endswith(
        "is not a regular file (a FIFO): give a .json, .jsonl or .csv pack file"
    )


def test_bom_and_ndjson(tmp_path: Path) -> None:
    path = tmp_path / "pack.ndjson"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + json.dumps(PACK_HEADER).encode()
        + b"\r\n"
        + b'{"id": "a", "text": "x"}\r\n'
    )
    check = check_pack(path)
    assert check.ok and check.tasks == 1
