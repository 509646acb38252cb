"""An operator loads packs by sending files in Telegram: the real bot through the simulator.

Good packs come back as a summary (tasks, gold, budget, fair pay); broken ones as every error with
its line, and nothing of them reaches the database; an existing pack id asks before replacing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from db import Database
from simulator import SimMessage, SimulatorServer
from tests.helpers import OPTIONS, PACK_HEADER, RunBot, join, table

OPERATOR = 900
LIMIT_MB = 0.05  # MAX_PACK_UPLOAD_MB for these tests: 52,428 bytes
CAPTION = (
    "id=csvpack\n"
    "title=Reviews from a spreadsheet\n"
    "instructions=Pick the sentiment.\n"
    "type=single_choice\n"
    "options=pos:Positive|neg:Negative|neu:Neutral\n"
    "reward=0.05\n"
    "overlap=2\n"
    "quality.qualification=0"
)


def jsonl(tasks: list[Any], **header: Any) -> bytes:
    lines = [json.dumps({**PACK_HEADER, **header})]
    lines += [task if isinstance(task, str) else json.dumps(task) for task in tasks]
    return ("\n".join(lines) + "\n").encode()


def good_json(pack_id: str = "reviews", tasks: int = 6, reward: str = "0.02") -> bytes:
    pack = {
        **PACK_HEADER,
        "id": pack_id,
        "reward": reward,
        "overlap": 3,
        "quality": {"qualification": 1},
        "tasks": [{"id": f"t{i}", "text": f"Review {i} <ok> & fine"} for i in range(tasks)]
        + [{"id": "g1", "text": "Great!", "gold": "pos", "explanation": "Clearly."}],
    }
    return json.dumps(pack, indent=1).encode()


@pytest.fixture
async def operator(sim: SimulatorServer, run_bot: RunBot) -> int:
    await run_bot(operator_ids=str(OPERATOR), quiet_hours="off", max_pack_upload_mb=LIMIT_MB)
    sim.add_user(OPERATOR, "Olga", language_code="en")
    sim.send_text(OPERATOR, "/help")
    await sim.wait_for_text(OPERATOR, "Operator", timeout=10)
    return OPERATOR


async def upload(
    sim: SimulatorServer, data: bytes, name: str, expect: str, caption: str | None = None
) -> SimMessage:
    sim.send_document(OPERATOR, data, name, caption=caption)
    return await sim.wait_for_text(OPERATOR, expect, timeout=15)


async def packs(db_path: Path) -> list[str]:
    async with Database(db_path) as db:
        return [row[0] for row in await table(db, "SELECT id FROM packs ORDER BY pk")]


async def test_a_good_pack_is_loaded_and_summarised(
    sim: SimulatorServer, operator: int, db_path: Path
) -> None:
    reply = await upload(sim, good_json(), "reviews.json", "loaded")
    text = reply.text
    assert "Pack reviews loaded." in text
    assert "Tasks: 6 · check questions: 1 · overlap: 3" in text
    # 18 answers + 2 check answers (gold ratio 10%: 18 x 0.1 / 0.9 = 2), each at €0.02
    assert "Budget: 0.40 EUR (18 answers + 2 check answers" in text
    assert "Estimated hours of work: known after the first answers" in text
    # 0.02 per task pays MIN_HOURLY_RATE 12.00 only if a task takes at most 6 seconds
    assert "Above 6.0 s per task, the pay falls below MIN_HOURLY_RATE 12.00 EUR/h" in text
    assert await packs(db_path) == ["reviews"]


async def test_a_csv_pack_takes_its_settings_from_the_caption(
    sim: SimulatorServer, operator: int, db_path: Path
) -> None:
    csv_text = (
        'id,text,gold,explanation\nc1,"Fine, ""really""",,\nc2,"Two\nlines",neg,Sad.\nc3,Meh,,\n'
    )
    reply = await upload(sim, csv_text.encode(), "reviews.csv", "loaded", caption=CAPTION)
    assert "Pack csvpack loaded." in reply.text
    assert "Tasks: 2 · check questions: 1 · overlap: 2" in reply.text
    async with Database(db_path) as db:
        rows = await table(db, "SELECT task_id, content, gold FROM tasks ORDER BY pk")
    assert rows == [
        ("c1", '{"text": "Fine, \\"really\\""}', None),
        ("c2", '{"text": "Two\\nlines"}', "neg"),
        ("c3", '{"text": "Meh"}', None),
    ]


BROKEN: list[tuple[str, bytes, str | None, list[str]]] = [
    (
        "invalid.json",
        b'{\n  "id": "broken",\n  "title": "T",,\n  "tasks": []\n}\n',
        None,
        ["Pack invalid not imported", "• line 3:"],
    ),
    (
        "dups.jsonl",
        jsonl([{"id": "t1", "text": "a"}, {"id": "t2", "text": "b"}, {"id": "t1", "text": "c"}]),
        None,
        ['• line 4, task "t1", field "id": duplicate task id (first on line 2)'],
    ),
    (
        "gold.jsonl",
        jsonl([{"id": "t1", "text": "a"}, {"id": "t2", "text": "b", "gold": "maybe"}]),
        None,
        ['• line 3, task "t2", field "gold": "maybe" is not one of the options (pos, neg, neu)'],
    ),
    (
        "long.jsonl",
        jsonl([{"id": "t1", "text": "x" * 3501}]),
        None,
        ['• line 2, task "t1", field "text": has 3501 characters, at most 3500'],
    ),
    (
        "missing.csv",
        b"id,gold\nt1,pos\n",
        CAPTION,
        ['• line 1: missing column "text": the first row must name the columns id,text'],
    ),
]


@pytest.mark.parametrize(("name", "data", "caption", "expected"), BROKEN)
async def test_a_broken_pack_gets_every_error_with_its_line_and_nothing_is_imported(
    sim: SimulatorServer,
    operator: int,
    db_path: Path,
    name: str,
    data: bytes,
    caption: str | None,
    expected: list[str],
) -> None:
    reply = await upload(sim, data, name, "not imported", caption=caption)
    for fragment in expected:
        assert fragment in reply.text, reply.text
    assert "Nothing was imported." in reply.text
    assert await packs(db_path) == []


async def test_a_pack_loaded_in_the_chat_is_offered_to_the_next_worker_at_once(
    sim: SimulatorServer, operator: int
) -> None:
    """The pack was hidden while it loaded: a list of active packs read meanwhile (a worker
    who came too early) must not hide it for a second more."""
    sim.add_user(1, "Early", language_code="en")
    sim.send_text(1, "/start")
    await sim.wait_for_text(1, "No open work right now", timeout=10)
    await upload(sim, good_json(), "reviews.json", "loaded")
    task = await join(
        sim, 2, first_task=lambda e: e.message is not None and "Training" in e.message.text
    )
    assert "Training 1/" in task.text


async def test_hostile_json_sent_in_the_chat_is_one_error_with_its_line_never_an_exception(
    sim: SimulatorServer, operator: int, db_path: Path
) -> None:
    """Nesting deeper than json's recursion and a number of 5,000 digits, in a JSON pack, a
    JSONL pack and a CSV caption: the usual errors message, never "RecursionError"."""
    head = json.dumps(PACK_HEADER)[:-1]
    deep = "[" * 5000 + "]" * 5000
    nested = (head + ',\n"tasks": [\n{"id": "t1", "text": "a", "n": ' + deep + "}]}").encode()
    number = jsonl(
        [{"id": "t1", "text": "a"}, '{"id": "t2", "text": "b", "n": ' + "9" * 5000 + "}"]
    )
    cases = [
        (nested, "deep.json", None, "• line 3: nested too deeply (more than 32 levels)"),
        (
            number,
            "number.jsonl",
            None,
            "• line 3: a number has 5,000 digits, more than the 4,300 a number may have",
        ),
        (
            b"id,text\nc1,a\n",
            "deep.csv",
            CAPTION + "\nquality.gold_ratio=" + deep,
            '• field "quality.gold_ratio": caption line 9: nested too deeply',
        ),
    ]
    for data, name, caption, said in cases:
        reply = await upload(sim, data, name, "not imported", caption=caption)
        assert said in reply.text, reply.text
        assert "Error" not in reply.text and "failed" not in reply.text
    assert await packs(db_path) == []


async def test_files_that_cannot_be_packs_get_a_clear_answer(
    sim: SimulatorServer, operator: int, db_path: Path
) -> None:
    not_utf8 = jsonl([{"id": "t1", "text": "ok"}]) + b'{"id": "t2", "text": "caf\xe9"}\n'
    reply = await upload(sim, not_utf8, "latin1.jsonl", "not UTF-8")
    assert "The file is not UTF-8 text (line 3)." in reply.text
    too_big = jsonl([{"id": f"t{i}", "text": "y" * 500} for i in range(120)])
    assert len(too_big) > LIMIT_MB * 1024 * 1024
    reply = await upload(sim, too_big, "big.jsonl", "too big")
    assert "File too big: 62 KB, at most 51 KB through Telegram" in reply.text
    reply = await upload(sim, b"", "empty.json", "empty")
    assert reply.text == "The file is empty: nothing to load."
    reply = await upload(sim, b"hello", "notes.txt", "not a pack")
    assert "send a .json, .jsonl or .csv file" in reply.text
    assert await packs(db_path) == []


async def test_an_existing_pack_is_replaced_only_after_a_confirmation(
    sim: SimulatorServer, operator: int, db_path: Path
) -> None:
    await upload(sim, good_json(tasks=6), "reviews.json", "loaded")
    question = await upload(sim, good_json(tasks=8, reward="0.03"), "reviews.json", "already")
    assert "Tasks: 8 · check questions: 1" in question.text
    async with Database(db_path) as db:  # nothing changed before the confirmation
        assert await table(db, "SELECT reward_micros FROM packs") == [(20_000,)]
    replace, cancel = question.buttons
    assert replace.text == "Replace" and cancel.text == "Cancel"
    assert replace.callback_data is not None
    sim.press(OPERATOR, question.message_id, replace.callback_data)
    reply = await sim.wait_for_text(OPERATOR, "replaced", timeout=15)
    assert "Pack reviews replaced (2 added, 7 updated, 0 retired; answers kept)." in reply.text
    async with Database(db_path) as db:
        assert await table(db, "SELECT reward_micros FROM packs") == [(30_000,)]
    # The Replace button works once.
    query = sim.press(OPERATOR, question.message_id, replace.callback_data, check=False)
    answer = await sim.wait_callback_answer(query, timeout=10)
    assert answer["params"].get("text") == "This button has expired: run the command again."


async def test_a_cancelled_replace_changes_nothing(
    sim: SimulatorServer, operator: int, db_path: Path
) -> None:
    await upload(sim, good_json(tasks=6), "reviews.json", "loaded")
    question = await upload(sim, good_json(tasks=2), "reviews.json", "already")
    cancel = question.buttons[1]
    assert cancel.callback_data is not None
    sim.press(OPERATOR, question.message_id, cancel.callback_data)
    await sim.wait_for_text(OPERATOR, "Nothing was changed.", timeout=10)
    async with Database(db_path) as db:
        assert await table(db, "SELECT COUNT(*) FROM tasks WHERE retired = 0") == [(7,)]


def test_options_in_a_caption_are_id_label_pairs() -> None:
    from tasks.packs.csvpack import parse_settings

    header, errors = parse_settings(CAPTION)
    assert errors == []
    assert header["options"] == OPTIONS
    assert header["overlap"] == 2 and header["reward"] == "0.05"
    _, errors = parse_settings("options=pos\nnot a setting")
    assert [str(error) for error in errors] == [
        'field "options": caption line 1: "pos" is not an option: id:label pairs separated by |,'
        " e.g. pos:Positive|neg:Negative",
        'caption line 2: expected key=value, got "not a setting"',
    ]
