"""Disputes, operators' reviews and /score in Telegram: the real bot through the simulator.

Every task handed out here is a check question, in pack order (g00, g01, ...): the bot's gold
draw is pinned, so each story is the same on every run and the workers are driven explicitly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import bot.jobs
from db import Database
from handlers.deps import KEY
from simulator import ChatEvent, SimMessage, SimulatorServer
from tasks.clock import Clock
from tasks.packs import load_pack
from tests.helpers import OPTIONS, RunBot, has_button, is_task, join, press_and_wait, text_has

OPERATOR = 900
IDS = [option["id"] for option in OPTIONS]
LABELS = [option["label"] for option in OPTIONS]
TITLE = "Checked <reviews> & co"
# The first check question, its key and its explanation hold characters HTML would eat.
G00_TEXT = "Is 2 < 3 & 5 > 4? <b>not bold</b>"
G00_WHY = "Both <comparisons> hold & that is Positive"

StartBot = RunBot


def checked_pack(folder: Path, **quality: Any) -> Path:
    """Eight check questions (g00 expects Positive, g01 Negative, ...) and a few plain tasks."""
    tasks: list[dict[str, Any]] = [
        {"id": "g00", "text": G00_TEXT, "gold": "pos", "explanation": G00_WHY}
    ]
    tasks += [
        {"id": f"g{i:02d}", "text": f"Check review {i}", "gold": IDS[i % 3], "explanation": "So."}
        for i in range(1, 8)
    ]
    tasks += [{"id": f"t{i:03d}", "text": f"Review {i}"} for i in range(4)]
    pack = {
        "id": "checked",
        "title": TITLE,
        "instructions": "Pick the sentiment.",
        "type": "single_choice",
        "options": OPTIONS,
        "reward": "0.02",
        "currency": "EUR",
        "overlap": 3,
        "quality": {"qualification": 0, "min_seconds": 0, **quality},
        "tasks": tasks,
    }
    path = folder / "checked.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    return path


@pytest.fixture
def start_bot(
    run_bot: RunBot, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> StartBot:
    """Loads the checked pack and starts the bot with OPERATOR_IDS (900 unless told)."""
    monkeypatch.setattr(bot.jobs, "LEASE_CHECK_SECONDS", 0.2)

    def always_check(app: Any) -> None:
        # The draw that decides "a check question now?" (a secret, seeded hash) always says
        # yes, and picks the gold in pack order.
        monkeypatch.setattr(app.bot_data[KEY].work.quality.picker, "draw", lambda *_: 0.0)

    async def start(operators: str = str(OPERATOR), **quality: Any) -> Any:
        async with Database(db_path) as db:
            report = await load_pack(db, checked_pack(tmp_path, **quality), clock=Clock())
        assert report.ok, report.errors
        # No quiet hours: these stories run on the wall clock, at any hour.
        return await run_bot(before_start=always_check, operator_ids=operators, quiet_hours="off")

    return start


async def rows(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    async with Database(db_path) as db:
        return [dict(row) for row in await db.query(sql, params)]


async def gold_of(db_path: Path, task_id: str) -> dict[str, Any]:
    found = await rows(
        db_path, "SELECT gold, retired, review FROM tasks WHERE task_id = ?", (task_id,)
    )
    return found[0]


async def standing(db_path: Path, worker_id: int) -> dict[str, Any]:
    return (await rows(db_path, "SELECT * FROM worker_quality WHERE worker_id = ?", (worker_id,)))[
        0
    ]


def edited_with_dispute(event: ChatEvent) -> bool:
    return event.kind == "edit" and has_button("d:")(event)


async def answer(sim: SimulatorServer, user: int, task: SimMessage, key: str, right: bool) -> None:
    """The worker presses the expected option (or the one after it) and waits for the result."""
    index = IDS.index(key) if right else (IDS.index(key) + 1) % 3
    data = task.buttons_with_prefix("a:")[index].callback_data
    assert data is not None
    since = sim.chat(user).event_count
    await press_and_wait(sim, user, task, data)
    await sim.wait_for(user, lambda e: e.kind == "edit", timeout=10, since=since)


async def next_task(sim: SimulatorServer, user: int, since: int) -> SimMessage:
    """The task sent as a new message below a feedback (after a missed check question)."""
    event = await sim.wait_for(user, lambda e: e.kind == "message" and is_task(e), since=since)
    assert event.message is not None
    return event.message


async def current_task(
    sim: SimulatorServer, user: int, answered: SimMessage, since: int
) -> SimMessage:
    """After an answer: the same message edited into the next task, or a new one below the
    feedback that took its place."""
    edited = sim.chat(user).messages[answered.message_id]
    return edited if edited.buttons_with_prefix("a:") else await next_task(sim, user, since)


async def dispute(sim: SimulatorServer, user: int, feedback: SimMessage) -> None:
    """One tap on Dispute under the missed check question."""
    data = feedback.buttons_with_prefix("d:")[0].callback_data
    assert data is not None
    toast, _ = await press_and_wait(sim, user, feedback, data)
    assert toast.get("text") == "Dispute recorded"
    await sim.wait_for(user, text_has("To add a comment, write it as your next message"))


async def miss_g00_and_dispute(sim: SimulatorServer, user: int, comment: str | None) -> None:
    """A new worker misses the first check question, disputes it and, maybe, comments."""
    task = await join(sim, user)
    await answer(sim, user, task, "pos", right=False)
    feedback = sim.chat(user).messages[task.message_id]
    await dispute(sim, user, feedback)
    if comment is not None:
        sim.send_text(user, comment)
        await sim.wait_for(user, text_has("Comment added to your dispute"), timeout=10)


async def open_disputes(sim: SimulatorServer, operator: int = OPERATOR) -> list[SimMessage]:
    """The operator sends /disputes; returns the dispute screens (the ones with buttons)."""
    since = sim.chat(operator).event_count
    sim.send_text(operator, "/disputes")
    await sim.wait_for(operator, text_has("open dispute(s)"), timeout=10, since=since)
    screen = await sim.wait_for(operator, has_button("op:"), timeout=10, since=since)
    assert screen.message is not None
    return [m for m in sim.chat(operator).bot_messages if m.buttons_with_prefix("op:")]


def add_operator(sim: SimulatorServer, operator: int = OPERATOR) -> None:
    sim.add_user(operator, "Olga", language_code="en")
    sim.send_text(operator, "/start")


async def test_a_missed_check_shows_the_answer_and_why_and_can_be_disputed_with_a_comment(
    sim: SimulatorServer, start_bot: StartBot, db_path: Path
) -> None:
    await start_bot()
    task = await join(sim, 1)
    assert G00_TEXT in task.text  # a check question looks like any task
    since = sim.chat(1).event_count
    await answer(sim, 1, task, "pos", right=False)

    feedback = sim.chat(1).messages[task.message_id]  # the task became the feedback
    assert f"That was a check question ({TITLE})" in feedback.text
    assert "You answered Negative; the expected answer is Positive" in feedback.text
    assert G00_TEXT in feedback.text
    assert f"Why: {G00_WHY}" in feedback.text  # shown as written: escaped, not markup
    assert "&lt;comparisons&gt; hold &amp; that" in feedback.html
    assert [b.text for b in feedback.buttons] == ["⚖️ Dispute"]
    assert "Check review 1" in (await next_task(sim, 1, since)).text  # the next one, below

    data = feedback.buttons_with_prefix("d:")[0].callback_data
    assert data is not None
    await dispute(sim, 1, feedback)
    assert sim.chat(1).messages[feedback.message_id].buttons == []  # one tap: the button goes
    comment = "Irony <here> & there: it is Negative"
    sim.send_text(1, comment)
    await sim.wait_for(1, text_has("Comment added to your dispute"), timeout=10)

    stored = await rows(db_path, "SELECT * FROM disputes")
    assert len(stored) == 1
    assert stored[0]["worker_id"] == 1 and stored[0]["status"] == "open"
    assert (stored[0]["answer"], stored[0]["expected"]) == ("neg", "pos")
    assert stored[0]["comment"] == comment

    # A second tap on the same dispute (a forged replay) is told it was already sent.
    toast, _ = await press_and_wait(sim, 1, feedback, data, check=False)
    assert "Already disputed" in str(toast.get("text"))
    assert len(await rows(db_path, "SELECT id FROM disputes")) == 1


async def test_an_operator_corrects_the_gold_and_the_worker_is_told_and_rescored(
    sim: SimulatorServer, start_bot: StartBot, db_path: Path
) -> None:
    await start_bot()
    add_operator(sim)
    await miss_g00_and_dispute(sim, 1, comment="Clearly <Negative> & sad")
    assert (await standing(db_path, 1))["accuracy"] == 0.25  # (0.5 + 0) / (1 + 1)
    await sim.wait_for(OPERATOR, text_has("New dispute #1 (checked): /disputes"), timeout=10)

    [screen] = await open_disputes(sim)
    assert "#1 · checked · task g00" in screen.text
    assert G00_TEXT in screen.text and f"Explanation: {G00_WHY}" in screen.text
    assert "Expected: Positive · worker's answer: Negative" in screen.text
    assert "Comment: Clearly <Negative> & sad" in screen.text
    assert [b.text for b in screen.buttons] == [
        "✅ Correct to “Negative”",
        "🗑 Retire the item",
        "❌ Reject",
    ]

    await press_and_wait(sim, OPERATOR, screen, "op:1:fix")
    done = await sim.wait_for(OPERATOR, text_has("Done: gold of g00 corrected to 'neg'"))
    assert done.message is not None and "1 dispute(s) closed" in done.message.text
    assert sim.chat(OPERATOR).messages[screen.message_id].buttons == []

    told = await sim.wait_for(1, text_has("was accepted"), timeout=10)
    assert told.message is not None
    assert f"Your dispute on “{G00_TEXT}” ({TITLE}) was accepted" in told.message.text
    assert await gold_of(db_path, "g00") == {"gold": "neg", "retired": 0, "review": 0}
    [closed] = await rows(db_path, "SELECT status, resolution FROM disputes")
    assert closed == {"status": "accepted", "resolution": "corrected"}
    after = await standing(db_path, 1)
    # Rescored: now right, -5 points (8 per miss, 5 off per right answer); trust 0.75.
    assert (after["points"], after["score_sum"], after["accuracy"]) == (-5, 1.0, 0.75)

    sim.send_text(1, "/score")
    score = await sim.wait_for(1, text_has("Your score"), timeout=10)
    assert score.message is not None
    assert "−5 points, 36 from the pause; 1 right of 1 check questions" in score.message.text

    # Pressing the same decision again changes nothing and says why.
    await press_and_wait(sim, OPERATOR, screen, "op:1:fix", check=False)
    await sim.wait_for(OPERATOR, text_has("Not possible: dispute #1 is already accepted"))


async def test_a_correction_lifts_a_suspension_that_no_longer_holds(
    sim: SimulatorServer, start_bot: StartBot, db_path: Path
) -> None:
    """A strict test (good_accuracy 0.95, false_suspension 0.02: +5 per miss, -2 per right
    answer, paused at 8): two misses suspend; one of them was the key's fault."""
    await start_bot(good_accuracy=0.95, false_suspension=0.02)
    add_operator(sim)
    task = await join(sim, 1)
    keys = ["pos", "neg"]  # g00, g01
    for number, key in enumerate(keys):
        since = sim.chat(1).event_count
        await answer(sim, 1, task, key, right=False)
        if number < len(keys) - 1:
            task = await current_task(sim, 1, task, since)
    paused = sim.chat(1).messages[task.message_id].text  # the last answer's screen
    assert "Paused on" in paused
    assert "Your check-question points reached 10; the pause is at 8" in paused
    assert "+5 per miss, −2 per right answer, never below −6, paused at 8" in paused
    assert "Of your 2 check questions this attempt, 0 were right" in paused
    assert (await standing(db_path, 1))["state"] == "suspended"

    g00 = next(m for m in sim.chat(1).bot_messages if G00_TEXT in m.text)
    await dispute(sim, 1, g00)
    [screen] = await open_disputes(sim)
    await press_and_wait(sim, OPERATOR, screen, "op:1:fix")
    await sim.wait_for(OPERATOR, text_has("1 suspension(s) lifted"), timeout=10)

    await sim.wait_for(1, text_has("your pause is lifted"), timeout=10)
    after = await standing(db_path, 1)
    assert after["state"] == "qualified" and after["retry_at"] is None
    assert (after["points"], after["gold_total"]) == (3, 2)  # -2, then +5
    sim.send_text(1, "/score")
    score = await sim.wait_for(1, text_has("Your score"), timeout=10)
    assert score.message is not None
    assert "3 points, 5 from the pause; 1 right of 2 check questions" in score.message.text


async def test_an_operator_rejects_a_dispute_with_a_reason_the_worker_receives(
    sim: SimulatorServer, start_bot: StartBot, db_path: Path
) -> None:
    # A second operator (901) never opened the bot: their alerts fail, the rest still goes.
    await start_bot(operators=f"{OPERATOR},901")
    add_operator(sim)
    await miss_g00_and_dispute(sim, 1, comment=None)
    [screen] = await open_disputes(sim)
    assert "Comment: -" in screen.text

    await press_and_wait(sim, OPERATOR, screen, "op:1:reject")
    await sim.wait_for(OPERATOR, text_has("Dispute #1: send the reason for rejecting it"))
    assert (await rows(db_path, "SELECT status FROM disputes")) == [{"status": "open"}]
    reason = "Comparisons <are> true & it reads Positive"
    sim.send_text(OPERATOR, reason)
    await sim.wait_for(OPERATOR, text_has("Done: dispute #1 rejected; worker 1 told"), timeout=10)

    told = await sim.wait_for(1, text_has("the expected answer stands"), timeout=10)
    assert told.message is not None and f"Reason: {reason}" in told.message.text
    [closed] = await rows(db_path, "SELECT status, resolution FROM disputes")
    assert closed == {"status": "rejected", "resolution": reason}
    assert await gold_of(db_path, "g00") == {"gold": "pos", "retired": 0, "review": 0}
    # Operator alerts are in the operator's own language (English here; the default is French).
    alerts = [m for m in sim.chat(OPERATOR).bot_messages if "New dispute #1" in m.text]
    assert len(alerts) == 1  # sent once, not again each time the other operator's fails

    # The operator's next message is an ordinary message again.
    sim.send_text(OPERATOR, "and another thing")
    await sim.wait_for(OPERATOR, text_has("I did not understand"), timeout=10)


async def test_a_worker_cannot_see_or_decide_disputes(
    sim: SimulatorServer, start_bot: StartBot, db_path: Path
) -> None:
    await start_bot()
    await miss_g00_and_dispute(sim, 1, comment="mine")
    await join(sim, 2)
    since = sim.chat(2).event_count
    sim.send_text(2, "/disputes")
    # Like every operator command: the worker's help instead (issue 11).
    reply = await sim.wait_for(2, text_has("how it works"), timeout=10, since=since)
    assert reply.message is not None
    shown = " ".join(e.message.text for e in sim.chat(2).events[since:] if e.message is not None)
    assert "#1" not in shown and "g00" not in shown and "mine" not in shown

    target = sim.chat(2).bot_messages[-1]
    for data in ("op:1:fix", "op:1:retire", "op:1:reject"):
        toast, _ = await press_and_wait(sim, 2, target, data, check=False)
        assert toast.get("text"), f"{data} got no notice"
    # Nor may worker 2 dispute worker 1's answer.
    [assignment] = await rows(db_path, "SELECT assignment_id FROM disputes")
    toast, _ = await press_and_wait(sim, 2, target, f"d:{assignment['assignment_id']}", check=False)
    assert toast.get("text") == "This answer cannot be disputed."

    assert await gold_of(db_path, "g00") == {"gold": "pos", "retired": 0, "review": 0}
    assert await rows(db_path, "SELECT status, comment FROM disputes") == [
        {"status": "open", "comment": "mine"}
    ]
    assert await rows(db_path, "SELECT * FROM awaited_replies WHERE user_id = 2") == []
    sim.send_text(2, "a reason?")  # no rejection was opened by the forged press
    # ... so the text meets the open task, which is answered with buttons (issue 10's nudge)
    await sim.wait_for(2, text_has("answered with the buttons"), timeout=10)
    assert (await rows(db_path, "SELECT status FROM disputes")) == [{"status": "open"}]


async def test_score_shows_the_score_and_threshold_in_the_workers_language(
    sim: SimulatorServer, start_bot: StartBot
) -> None:
    await start_bot()
    for user, language in ((1, "fr"), (2, "en")):
        task = await join(sim, user, language=language)
        await answer(sim, user, task, "pos", right=True)  # g00, right: nothing is revealed
        sim.send_text(user, "/score")
    fr = await sim.wait_for(1, text_has("Votre score"), timeout=10)
    en = await sim.wait_for(2, text_has("Your score"), timeout=10)
    assert fr.message is not None and en.message is not None
    # One right answer: -5 points, 36 from the pause (31).
    assert "−5 points, à 36 de la pause ; 1 justes sur 1 questions de contrôle" in (fr.message.text)
    assert "+8 par erreur, −5 par réponse juste, jamais sous −16, pause à 31" in fr.message.text
    assert "0,07 % des cas sur 200 questions" in fr.message.text
    assert "−5 points, 36 from the pause; 1 right of 1 check questions" in en.message.text
    assert "+8 per miss, −5 per right answer, never below −16, paused at 31" in en.message.text
    assert "only 0.07% of cases over 200 questions" in en.message.text
    assert TITLE in en.message.text
