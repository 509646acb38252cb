"""A pack's gold must let its workers work: a pack whose gold cannot fill its training is refused
with the numbers, a thin one loads with a warning, and the documented example works
(docs/pack-format.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bot.cli.progress import format_load_report
from db import Database
from tasks.clock import FakeClock
from tasks.packs import load_pack
from tasks.work import WorkService
from tasks.work_results import AnswerResult, Outcome, TaskCard
from tests.helpers import make_tasks, newcomer, write_pack_file

PACK_FORMAT = Path(__file__).resolve().parents[2] / "docs" / "pack-format.md"


def documented_example() -> dict[str, Any]:
    """The complete example of docs/pack-format.md ("A complete example"), exactly as written."""
    section = PACK_FORMAT.read_text(encoding="utf-8").split("## A complete example", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block is not None
    example: dict[str, Any] = json.loads(block.group(1))
    return example


def gold_tasks(count: int) -> list[dict[str, str]]:
    return [{"id": f"g{n}", "text": f"gold {n}", "gold": "pos"} for n in range(count)]


async def test_the_documented_example_loads_and_a_worker_gets_every_task(
    db: Database, work: WorkService, clock: FakeClock, tmp_path: Path
) -> None:
    example = documented_example()
    path = tmp_path / "example.json"
    path.write_text(json.dumps(example, ensure_ascii=False), encoding="utf-8")
    report = await load_pack(db, path, clock=clock)
    assert report.ok and report.warnings == [], report

    truth = {task["text"]: task.get("gold", "pos") for task in example["tasks"]}
    options = [option["id"] for option in example["options"]]
    card = await newcomer(work, 1)
    served = []
    while isinstance(card, TaskCard):
        served.append(card.text)
        clock.advance(seconds=5)
        result: AnswerResult = await work.answer(
            worker_id=1, assignment_id=card.assignment_id, choice=options.index(truth[card.text])
        )
        assert result.outcome is Outcome.RECORDED
        assert result.next is not None
        card = result.next
    assert sorted(served) == sorted(truth)  # more than one task: all three


async def test_a_pack_with_less_gold_than_its_training_is_refused_with_the_numbers(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    path = write_pack_file(tmp_path / "p.json", [*make_tasks(3), *gold_tasks(1)])  # default 5
    report = await load_pack(db, path, clock=clock)
    assert not report.ok
    (error,) = report.errors
    assert error.field == "quality.qualification"
    assert error.message.startswith(
        "the pack has 1 gold task, fewer than its qualification (5, the gold tasks served first"
        " as training): no worker could finish training and every one would stop after 1."
        " Add 4 gold tasks, or set quality.qualification to 1 or less"
    )
    assert await db.value("SELECT COUNT(*) FROM packs") == 0


async def test_a_pack_with_too_little_gold_for_checks_loads_with_a_warning(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    path = write_pack_file(
        tmp_path / "p.jsonl", [*make_tasks(20), *gold_tasks(6)], quality={"qualification": 5}
    )
    report = await load_pack(db, path, clock=clock)
    assert report.ok
    (warning,) = report.warnings
    assert warning.startswith("6 gold tasks, 5 of them for training, leave 1 for checks")
    assert "15 gold tasks or more avoid it" in warning
    assert format_load_report(report).splitlines()[1] == f"warning: {warning}"  # the CLI says it

    enough = write_pack_file(tmp_path / "q.jsonl", [*make_tasks(20), *gold_tasks(15)], id="enough")
    assert (await load_pack(db, enough, clock=clock)).warnings == []
    plain = write_pack_file(tmp_path / "r.jsonl", make_tasks(3), id="plain")
    assert (await load_pack(db, plain, clock=clock)).warnings == []
