"""Issue 10 end to end: each answer type through the real bot and the Bot API simulator, with
gold, training and overlap; the wrong-input nudges; text answers by reply and by plain message;
multi_choice toggles and Done; a rating with tolerance gold; /balance for each type; and the
routing of text messages between answers and dispute comments."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import bot.jobs
from db import Database
from simulator import SimulatorServer
from simulator.state import ChatEvent, SimMessage
from tasks.clock import Clock, OffsetClock
from tasks.packs import load_pack
from tests.helpers import RunBot, has_button, join, press_and_redraw, press_and_wait, text_has

EMOTIONS = [
    {"id": "joy", "label": "Joy"},
    {"id": "anger", "label": "Anger"},
    {"id": "fear", "label": "Fear"},
    {"id": "none", "label": "None of these"},
]
SCALE = [{"id": str(n), "label": f"{n} · level {n}"} for n in range(1, 6)]


@pytest.fixture
def start_bot(run_bot: RunBot, monkeypatch: pytest.MonkeyPatch) -> RunBot:
    monkeypatch.setattr(bot.jobs, "LEASE_CHECK_SECONDS", 0.2)
    monkeypatch.setattr(bot.jobs, "NEW_WORK_CHECK_SECONDS", 0.3)
    return run_bot


@pytest.fixture
def load_typed(db_path: Path, tmp_path: Path) -> Callable[..., Awaitable[None]]:
    async def loader(tasks: list[dict[str, Any]], **header: Any) -> None:
        pack = {
            "id": "typed",
            "title": "Typed",
            "instructions": "Answer.",
            "reward": "0.05",
            "overlap": 2,
            **header,
            "tasks": tasks,
        }
        path = tmp_path / "typed.json"
        path.write_text(json.dumps(pack), encoding="utf-8")
        async with Database(db_path) as db:
            report = await load_pack(db, path, clock=Clock())
        assert report.ok, report.errors

    return loader


async def rows(db_path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    async with Database(db_path) as db:
        return [tuple(row) for row in await db.query(sql, params)]


def is_any_task(event: ChatEvent) -> bool:
    """A task message of any type: it has a Skip button."""
    return event.message is not None and bool(event.message.buttons_with_prefix("s:"))


async def join_any(sim: SimulatorServer, user_id: int) -> SimMessage:
    return await join(sim, user_id, first_task=is_any_task)


def current(sim: SimulatorServer, user_id: int, message: SimMessage) -> SimMessage:
    return sim.chat(user_id).messages[message.message_id]


def toggle(message: SimMessage, label: str) -> str:
    for button in message.buttons_with_prefix("t:"):
        if button.text.endswith(label):
            assert button.callback_data is not None
            return button.callback_data
    raise AssertionError(f"no toggle {label!r} in {[b.text for b in message.buttons]}")


def done(message: SimMessage) -> str:
    data = message.buttons_with_prefix("f:")[0].callback_data
    assert data is not None
    return data


def checked(message: SimMessage) -> list[str]:
    return [b.text[2:] for b in message.buttons_with_prefix("t:") if b.text.startswith("✅ ")]


async def test_multi_choice_toggles_done_training_and_nudges(
    sim: SimulatorServer, start_bot: RunBot, load_typed: Any, db_path: Path
) -> None:
    tasks = [
        {"id": f"g{i}", "text": f"gold message {i}", "gold": ["joy", "fear"]} for i in range(2)
    ]
    tasks += [{"id": f"m{i}", "text": f"message {i}"} for i in range(2)]
    await load_typed(
        tasks,
        type="multi_choice",
        options=EMOTIONS,
        none_of_these="none",
        quality={"qualification": 1, "gold_ratio": 0, "min_seconds": 0},
    )
    await start_bot()
    task = await join_any(sim, 1)
    assert "Training 1/1" in task.text and "Tick everything that applies" in task.text
    # Done with nothing ticked: a nudge, nothing stored.
    toast, _ = await press_and_wait(sim, 1, task, done(task))
    assert toast.get("text") == "Tick at least one option, then Done."
    # Toggles are strict: a forged index, another worker's press, a malformed one.
    aid = toggle(task, "Joy").split(":")[1]
    toast, _ = await press_and_wait(sim, 1, task, f"t:{aid}:7", check=False)
    assert toast.get("text") == "This button is no longer valid."
    await join_any(sim, 2)
    toast, _ = await press_and_wait(sim, 2, task, f"t:{aid}:0", check=False)
    assert toast.get("text") == "This button is not yours."
    toast, _ = await press_and_wait(sim, 1, task, f"t:{aid}:x", check=False)  # no such shape
    assert toast.get("text") == "Ce bouton n'est plus valable."  # the catch-all: bot's language
    assert checked(current(sim, 1, task)) == []
    assert await rows(db_path, "SELECT selection FROM assignments WHERE id = ?", int(aid)) == [(0,)]
    # Text when buttons are expected: a nudge, nothing stored.
    sim.send_text(1, "joy and fear")
    await sim.wait_for(1, text_has("answered with the buttons"), timeout=10)
    for label in ("Joy", "Anger", "None of these"):
        await press_and_redraw(sim, 1, current(sim, 1, task), toggle(current(sim, 1, task), label))
    assert checked(current(sim, 1, task)) == ["None of these"]  # it cleared the others
    for label in ("Joy", "Fear"):  # and another option clears it
        await press_and_redraw(sim, 1, current(sim, 1, task), toggle(current(sim, 1, task), label))
    shown = current(sim, 1, task)
    assert checked(shown) == ["Joy", "Fear"]
    assert await rows(db_path, "SELECT COUNT(*) FROM assignments WHERE answer IS NOT NULL") == [
        (0,)
    ]
    finish = done(shown)
    toast, _ = await press_and_wait(sim, 1, shown, finish)
    assert "Recorded: Joy, Fear" in str(toast.get("text"))
    feedback = await sim.wait_for(1, text_has("Right."), timeout=10)
    assert feedback.message is not None and "Joy, Fear" in feedback.message.text
    # A double tap of Done pays once.
    toast, _ = await press_and_wait(sim, 1, shown, finish, check=False)
    assert "counts once" in str(toast.get("text"))
    assert await rows(
        db_path, "SELECT answer, correct FROM assignments WHERE is_gold = 1 AND worker_id = 1"
    ) == [('["joy", "fear"]', 1)]
    assert await rows(db_path, "SELECT COUNT(*) FROM ledger WHERE worker_id = 1") == [(1,)]
    # The regular task after training: overlap 2 with a second worker, per-label results.
    nxt = (await sim.wait_for(1, is_any_task, timeout=10)).message
    assert nxt is not None and "message" in nxt.text
    await press_and_redraw(sim, 1, nxt, toggle(nxt, "Anger"))
    await press_and_wait(sim, 1, current(sim, 1, nxt), done(current(sim, 1, nxt)))
    sim.send_text(1, "/balance")
    await sim.wait_for(1, text_has("0.10 EUR"), timeout=10)


async def test_rating_in_one_row_with_tolerance_gold(
    sim: SimulatorServer, start_bot: RunBot, load_typed: Any, db_path: Path
) -> None:
    tasks = [
        {"id": "g1", "text": "Is this coherent? A", "gold": "4", "explanation": "Mostly."},
        {"id": "g2", "text": "Is this coherent? B", "gold": "1"},
    ]
    tasks += [{"id": f"r{i}", "text": f"statement {i}"} for i in range(2)]
    await load_typed(
        tasks,
        type="rating",
        options=SCALE,
        tolerance=1,
        quality={"qualification": 2, "gold_ratio": 0, "min_seconds": 0},
    )
    await start_bot()
    task = await join_any(sim, 1)
    assert task.reply_markup is not None
    scale = task.reply_markup[0]
    assert [b.text for b in scale] == ["1", "2", "3", "4", "5"]  # one row
    assert "Your rating, from 1 to 5" in task.text and "5 · level 5" in task.text
    first_is_a = "coherent? A" in task.text
    # Within the tolerance of the gold (4 ± 1, or 1 ± 1): right.
    press = scale[2] if first_is_a else scale[1]
    assert press.callback_data is not None
    toast, _ = await press_and_wait(sim, 1, task, press.callback_data)
    assert "Recorded" in str(toast.get("text"))
    await sim.wait_for(1, text_has("Right."), timeout=10)
    second = (await sim.wait_for(1, is_any_task, timeout=10)).message
    assert second is not None and second.reply_markup is not None
    # Two points off: a miss, explained.
    far = second.reply_markup[0][3] if first_is_a else second.reply_markup[0][1]
    assert far.callback_data is not None
    await press_and_wait(sim, 1, second, far.callback_data)
    await sim.wait_for(1, text_has("Not quite."), timeout=10)
    verdicts = await rows(
        db_path, "SELECT answer, correct FROM assignments WHERE is_gold = 1 ORDER BY id"
    )
    assert [v[1] for v in verdicts] == [1, 0]
    sim.send_text(1, "/balance")
    balance = await sim.wait_for(1, text_has("Your earnings"), timeout=10)
    assert balance.message is not None and "50%" in balance.message.text  # 1 right of 2


async def test_text_answers_by_reply_and_plain_message_with_nudges(
    sim: SimulatorServer, start_bot: RunBot, load_typed: Any, db_path: Path
) -> None:
    tasks = [
        {"id": "g1", "text": "Il pleu depuis ce matin.", "gold": ["Il pleut depuis ce matin."]},
    ]
    tasks += [{"id": f"x{i}", "text": f"Phrase numero {i} a corigé."} for i in range(3)]
    await load_typed(
        tasks,
        type="text",
        options=[],
        min_length=5,
        max_length=60,
        quality={"qualification": 1, "gold_ratio": 0, "min_seconds": 0},
    )
    await start_bot()
    task = await join_any(sim, 1)
    assert [b.text for b in task.buttons] == ["Skip ⏭"]  # the answer is a message
    code = [e for e in task.entities if e["type"] == "code"]
    assert code and "Reply with a message (5 to 60 characters)" in task.text
    # Too short: the bounds are said; a sticker: a nudge; nothing is stored.
    sim.send_text(1, "Il", reply_to=task.message_id)
    await sim.wait_for(1, text_has("it needs 5 to 60"), timeout=10)
    sim.send_sticker(1)
    await sim.wait_for(1, text_has("expects a written answer"), timeout=10)
    assert await rows(db_path, "SELECT COUNT(*) FROM assignments WHERE answer IS NOT NULL") == [
        (0,)
    ]
    # By reply: the training question, normalised (case, punctuation) against the gold.
    sim.send_text(1, "il pleut depuis ce matin", reply_to=task.message_id)
    await sim.wait_for(1, text_has("Right."), timeout=10)
    second = (await sim.wait_for(1, is_any_task, timeout=10)).message
    assert second is not None and second.message_id != task.message_id
    shown = re.search(r"Phrase numero (\d) a corigé", second.text)
    assert shown is not None  # which one depends on the pick's routing (tasks/quality/rules.py)
    # By plain message: the open task.
    sim.send_text(1, "Phrase numéro 0 à corriger.")
    third = (await sim.wait_for(1, is_any_task, timeout=10)).message
    assert third is not None and "Recorded: Phrase numéro 0 à corriger." in third.text
    # A reply to a task already answered: counted once, nothing changes.
    sim.send_text(1, "Another try", reply_to=second.message_id)
    await sim.wait_for(1, text_has("already has your answer"), timeout=10)
    answers = await rows(
        db_path,
        "SELECT t.task_id, a.answer FROM assignments AS a JOIN tasks AS t"
        " ON t.pk = a.task_pk WHERE a.status = 'answered' ORDER BY a.id",
    )
    assert answers == [
        ("g1", "il pleut depuis ce matin"),
        (f"x{shown[1]}", "Phrase numéro 0 à corriger."),
    ]
    sim.send_text(1, "/balance")
    await sim.wait_for(1, text_has("0.10 EUR"), timeout=10)


async def test_a_late_text_answer_is_refused_politely(
    sim: SimulatorServer, start_bot: RunBot, load_typed: Any, db_path: Path
) -> None:
    await load_typed(
        [{"id": f"x{i}", "text": f"describe {i}"} for i in range(2)],
        type="text",
        options=[],
        lease_seconds=30,
    )
    clock = OffsetClock()
    await start_bot(clock=clock)
    task = await join_any(sim, 1)
    clock.advance(seconds=31)  # the lease runs out; the bot's job takes the task back
    async with Database(db_path) as db:
        for _ in range(50):
            if await db.value("SELECT COUNT(*) FROM assignments WHERE status = 'expired'"):
                break
            await asyncio.sleep(0.1)
    sim.send_text(1, "a late description", reply_to=task.message_id)
    late = await sim.wait_for(1, text_has("Too late for this task"), timeout=10)
    assert late.message is not None
    assert await rows(db_path, "SELECT COUNT(*) FROM assignments WHERE answer IS NOT NULL") == [
        (0,)
    ]


async def test_text_routing_between_a_dispute_comment_and_an_answer(
    sim: SimulatorServer, start_bot: RunBot, load_typed: Any, db_path: Path
) -> None:
    tasks = [{"id": "g1", "text": "Corrige: le chat dor.", "gold": ["Le chat dort."]}]
    tasks += [{"id": f"x{i}", "text": f"texte {i}"} for i in range(2)]
    await load_typed(
        tasks,
        type="text",
        options=[],
        quality={"qualification": 1, "gold_ratio": 0, "min_seconds": 0},
    )
    await start_bot()
    task = await join_any(sim, 1)
    sim.send_text(1, "Le chien dort.")  # a miss on the training question
    missed = await sim.wait_for(1, has_button("d:"), timeout=10)
    assert missed.message is not None and "Le chat dort." in missed.message.text
    following = (await sim.wait_for(1, is_any_task, timeout=10)).message
    assert following is not None and following.message_id != task.message_id
    dispute = missed.message.buttons_with_prefix("d:")[0].callback_data
    assert dispute is not None
    await press_and_wait(sim, 1, missed.message, dispute)
    await sim.wait_for(1, text_has("Dispute recorded"), timeout=10)
    # The next plain message is the dispute's comment (asked for just now), not an answer...
    sim.send_text(1, "Le chien est aussi un animal.")
    await sim.wait_for(1, text_has("Comment added to your dispute"), timeout=10)
    # ... and a reply to the task message answers the task, whatever was asked before.
    sim.send_text(1, "Texte zéro.", reply_to=following.message_id)
    await sim.wait_for(1, text_has("Recorded: Texte zéro."), timeout=10)
    assert await rows(db_path, "SELECT comment FROM disputes") == [
        ("Le chien est aussi un animal.",)
    ]
    answers = await rows(db_path, "SELECT answer FROM assignments WHERE status = 'answered'")
    assert answers == [("Le chien dort.",), ("Texte zéro.",)]


@pytest.mark.parametrize("task_type", ["single_choice", "rating", "multi_choice", "text"])
async def test_bot_api_calls_per_answer(
    sim: SimulatorServer, start_bot: RunBot, load_typed: Any, task_type: str
) -> None:
    """What docs/answer-types.md says each answer costs, counted on the simulator (no gold)."""
    header: dict[str, Any] = {"type": task_type, "options": SCALE}
    if task_type == "multi_choice":
        header["options"] = EMOTIONS
    elif task_type == "text":
        header["options"] = []
    await load_typed([{"id": f"t{i}", "text": f"task {i}"} for i in range(3)], **header)
    await start_bot()
    task = await join_any(sim, 1)
    await asyncio.sleep(0.3)  # the consent's calls are done
    before = dict(sim.calls)
    if task_type == "text":
        sim.send_text(1, "an answer")
        await sim.wait_for(1, text_has("Recorded: an answer"), timeout=10)
    elif task_type == "multi_choice":
        for label in ("Joy", "Fear"):  # two toggles, then Done
            await press_and_wait(
                sim, 1, current(sim, 1, task), toggle(current(sim, 1, task), label)
            )
        await press_and_wait(sim, 1, current(sim, 1, task), done(current(sim, 1, task)))
        await sim.wait_for(1, text_has("Recorded: Joy, Fear"), timeout=10)
    else:
        first = task.buttons_with_prefix("a:")[0].callback_data
        assert first is not None
        await press_and_wait(sim, 1, task, first)
        await sim.wait_for(1, text_has("Recorded"), timeout=10)
    await asyncio.sleep(0.3)
    spent = {
        method: count - before.get(method, 0)
        for method, count in sim.calls.items()
        if count != before.get(method, 0) and method != "getUpdates"
    }
    expected = {
        "single_choice": {"answerCallbackQuery": 1, "editMessageText": 1},
        "rating": {"answerCallbackQuery": 1, "editMessageText": 1},
        "multi_choice": {
            "answerCallbackQuery": 3,
            "editMessageReplyMarkup": 2,
            "editMessageText": 1,
        },
        "text": {"sendMessage": 1},
    }[task_type]
    assert spent == expected
