"""A simulated crowd of workers answering the bot from their phones.

Each agent is an asyncio task that only knows what a person sees: the messages and inline
buttons in its chat. It relies on four callback_data prefixes of our bot and nothing else:

* ``consent...``  a consent button: press it;
* ``a:...``       an answer option of a task (the button's label is the option);
* ``s:...``       skip the task;
* ``go...``       "new work available": press it to get work;
* ``d:...``       dispute a check question: a worker who ``disputes`` presses it when the
                  answer it gave is the truth (the check's expected answer is wrong).

A task may come as a media message (a photo, audio or voice note with the buttons under its
caption): the agent answers it the same way; it "sees" the media through the file Telegram
holds for it, and ``media_truth`` (the SHA-256 of a file's bytes -> the right label) is what a
careful person would hear or see in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .server import SimulatorServer
from .state import Button, ChatEvent, SimMessage

__all__ = [
    "CAREFUL",
    "CARELESS",
    "PROFILES",
    "SPAMMER_FIRST",
    "SPAMMER_RANDOM",
    "AgentProfile",
    "AgentStats",
    "Crowd",
    "Oracle",
    "truth_oracle",
]

log = logging.getLogger(__name__)

Oracle = Callable[[str, list[str]], str | None]

CONSENT_PREFIX = "consent"
ANSWER_PREFIX = "a:"
SKIP_PREFIX = "s:"
GO_PREFIX = "go"
DISPUTE_PREFIX = "d:"


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """How a simulated worker behaves.

    kind: "careful" | "careless" (right with probability ``accuracy``), "spammer_random"
    (uniform choice), "spammer_first" (always the first option). ``think`` is the range of
    seconds spent on a task before pressing.
    """

    kind: str
    accuracy: float
    skip_rate: float = 0.02
    think: tuple[float, float] = (0.0, 0.0)
    language_code: str = "fr"
    disputes: bool = False  # disputes a check it answered truly and was told was wrong


CAREFUL = AgentProfile("careful", 0.9, disputes=True)
CARELESS = AgentProfile("careless", 0.7)
SPAMMER_RANDOM = AgentProfile("spammer_random", 0.0, skip_rate=0.0)
SPAMMER_FIRST = AgentProfile("spammer_first", 0.0, skip_rate=0.0)
PROFILES: dict[str, AgentProfile] = {
    p.kind: p for p in (CAREFUL, CARELESS, SPAMMER_RANDOM, SPAMMER_FIRST)
}


@dataclass(slots=True)
class AgentStats:
    user_id: int
    name: str
    kind: str
    presses: int = 0  # every button press
    answers: int = 0  # option presses
    skips: int = 0
    consent_presses: int = 0
    go_presses: int = 0
    correct: int = 0  # option presses matching the oracle
    wrong: int = 0  # option presses contradicting the oracle
    unknown: int = 0  # option presses on tasks the oracle does not know
    press_errors: int = 0  # presses refused (message vanished meanwhile)
    represses: int = 0  # presses repeated after ``repress_after`` seconds of silence
    disputes: int = 0  # Dispute buttons pressed
    answers_by_label: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "kind": self.kind,
            "presses": self.presses,
            "answers": self.answers,
            "skips": self.skips,
            "consent_presses": self.consent_presses,
            "go_presses": self.go_presses,
            "correct": self.correct,
            "wrong": self.wrong,
            "unknown": self.unknown,
            "press_errors": self.press_errors,
            "represses": self.represses,
            "disputes": self.disputes,
            "answers_by_label": dict(self.answers_by_label),
        }


def truth_oracle(truth: dict[str, str]) -> Oracle:
    """An oracle from {task text: correct label}: the task text is a line of the message."""

    quotes = "\"'«»“”‘’ \u00a0"

    def oracle(text: str, labels: list[str]) -> str | None:
        found = truth.get(text.strip())
        if found is not None:
            return found
        for line in text.split("\n"):
            key = line.strip()
            if not key:
                continue
            found = truth.get(key)
            if found is None:
                found = truth.get(key.strip(quotes))
            if found is not None:
                return found
        return None

    return oracle


def _key(msg: SimMessage) -> tuple[int, str, tuple[str | None, ...]]:
    """What identifies a version of a task for the person seeing it."""
    return (msg.message_id, msg.text, tuple(b.callback_data for b in msg.buttons))


class _Agent:
    def __init__(
        self,
        crowd: Crowd,
        user_id: int,
        profile: AgentProfile,
        stats: AgentStats,
        max_answers: int | None,
    ) -> None:
        self.crowd = crowd
        self.sim = crowd.sim
        self.user_id = user_id
        self.profile = profile
        self.stats = stats
        self.max_answers = max_answers
        self.rng = random.Random(crowd.seed * 1_000_003 + user_id)
        self.pressed: set[tuple[int, str, tuple[str | None, ...]]] = set()
        self.last_task: tuple[int, str] | None = None  # (message_id, callback_data) pressed
        self.chosen: dict[int, str] = {}  # message_id -> label last pressed on it

    @property
    def done(self) -> bool:
        return self.max_answers is not None and self.stats.answers + self.stats.skips >= (
            self.max_answers
        )

    async def run(self) -> None:
        queue = self.sim.subscribe(self.user_id)
        try:
            self.sim.send_text(self.user_id, "/start")
            while not self.done:
                try:
                    if self.crowd.repress_after is None:
                        event = await queue.get()
                    else:
                        async with asyncio.timeout(self.crowd.repress_after):
                            event = await queue.get()
                except TimeoutError:
                    self._repress()
                    continue
                touched = self._touched([event])
                while not queue.empty():
                    touched |= self._touched([queue.get_nowait()])
                try:
                    await self._react(touched)
                except Exception:  # an agent survives anything and keeps listening
                    log.exception("agent %s failed to react", self.user_id)
        finally:
            self.sim.unsubscribe(self.user_id, queue)

    @staticmethod
    def _touched(events: list[ChatEvent]) -> set[int]:
        return {
            e.message.message_id
            for e in events
            if e.kind in ("message", "edit") and e.message is not None
        }

    def _current(self, message_id: int) -> SimMessage | None:
        return self.sim.chat(self.user_id).messages.get(message_id)

    def _press(self, msg: SimMessage, data: str) -> bool:
        try:
            self.sim.press(self.user_id, msg.message_id, data)
        except (ValueError, KeyError):
            self.stats.press_errors += 1
            return False
        self.stats.presses += 1
        self.crowd.total_presses += 1
        self.pressed.add(_key(msg))
        return True

    async def _react(self, touched: set[int]) -> None:
        messages = [m for mid in sorted(touched) if (m := self._current(mid)) is not None]
        fresh = [m for m in messages if _key(m) not in self.pressed]
        # 1. consent
        for msg in fresh:
            consent = msg.buttons_with_prefix(CONSENT_PREFIX)
            if consent and consent[0].callback_data is not None:
                if self._press(msg, consent[0].callback_data):
                    self.stats.consent_presses += 1
        # 2. a check question it answered truly but was told was wrong: dispute it
        if self.profile.disputes:
            for msg in fresh:
                self._maybe_dispute(msg)
        # 3. the latest task
        tasks = [m for m in fresh if m.buttons_with_prefix(ANSWER_PREFIX)]
        if tasks:
            await self._answer(tasks[-1])
            return
        # 4. "new work available"
        for msg in reversed(fresh):
            go = msg.buttons_with_prefix(GO_PREFIX)
            if go and go[0].callback_data is not None:
                if self._press(msg, go[0].callback_data):
                    self.stats.go_presses += 1
                return

    async def _answer(self, msg: SimMessage) -> None:
        seen = _key(msg)
        low, high = self.profile.think
        if high > 0:
            await asyncio.sleep(self.rng.uniform(low, high))
            current = self._current(msg.message_id)
            if current is None or _key(current) != seen:
                return  # it changed under the thumb: the edit event will bring it back
        skip = msg.buttons_with_prefix(SKIP_PREFIX)
        if skip and self.profile.skip_rate > 0 and self.rng.random() < self.profile.skip_rate:
            data = skip[0].callback_data
            assert data is not None
            if self._press(msg, data):
                self.stats.skips += 1
                self.last_task = (msg.message_id, data)
            return
        options = msg.buttons_with_prefix(ANSWER_PREFIX)
        labels = [b.text for b in options]
        truth = self.crowd.truth(msg, labels)
        if truth not in labels:
            truth = None
        choice = self._choose(options, truth)
        assert choice.callback_data is not None
        if self._press(msg, choice.callback_data):
            self.stats.answers += 1
            self.stats.answers_by_label[choice.text] += 1
            self.chosen[msg.message_id] = choice.text
            if truth is None:
                self.stats.unknown += 1
            elif choice.text == truth:
                self.stats.correct += 1
            else:
                self.stats.wrong += 1
            self.last_task = (msg.message_id, choice.callback_data)

    def _choose(self, options: list[Button], truth: str | None) -> Button:
        kind = self.profile.kind
        if kind == "spammer_first":
            return options[0]
        if kind == "spammer_random" or truth is None:
            return self.rng.choice(options)
        right = next(b for b in options if b.text == truth)
        if self.rng.random() < self.profile.accuracy:
            return right
        wrong = [b for b in options if b.text != truth]
        return self.rng.choice(wrong) if wrong else right

    def _maybe_dispute(self, msg: SimMessage) -> None:
        buttons = msg.buttons_with_prefix(DISPUTE_PREFIX)
        if not buttons or buttons[0].callback_data is None:
            return
        truth = self.crowd.truth(msg, [])
        if truth is not None and truth == self.chosen.get(msg.message_id):
            if self._press(msg, buttons[0].callback_data):
                self.stats.disputes += 1

    def _repress(self) -> None:
        """Nothing happened for a while after a press: tap the same button again."""
        if self.last_task is None:
            return
        message_id, data = self.last_task
        msg = self._current(message_id)
        if msg is None or msg.button(data) is None:
            return
        if self._press(msg, data):
            self.stats.represses += 1


class Crowd:
    """A set of simulated workers driving a SimulatorServer.

    ``oracle(message_plain_text, option_labels)`` returns the correct label or None.
    ``max_answers`` stops each agent after that many task presses (answers + skips).
    ``repress_after`` (seconds) makes an agent tap its last button again when nothing
    arrives for that long (a person tapping again on a slow bot); None disables it.
    """

    def __init__(
        self,
        sim: SimulatorServer,
        oracle: Oracle | None = None,
        *,
        seed: int = 0,
        first_user_id: int = 1000,
        max_answers: int | None = None,
        repress_after: float | None = None,
        media_truth: dict[str, str] | None = None,
    ) -> None:
        self.sim = sim
        self.oracle = oracle
        self.media_truth = media_truth or {}
        self.seed = seed
        self.max_answers = max_answers
        self.repress_after = repress_after
        self._next_user_id = first_user_id
        self._agents: dict[int, _Agent] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.total_presses = 0
        self.running = False

    def truth(self, msg: SimMessage, labels: list[str]) -> str | None:
        """The right label of what `msg` shows: its media's, else the oracle's for its text."""
        if msg.file_id is not None and self.media_truth:
            stored = self.sim.files.by_id.get(msg.file_id)
            if stored is not None:
                found = self.media_truth.get(hashlib.sha256(stored.data).hexdigest())
                if found is not None:
                    return found
        return self.oracle(msg.text, labels) if self.oracle else None

    @property
    def user_ids(self) -> list[int]:
        return list(self._agents)

    @property
    def stats(self) -> dict[int, AgentStats]:
        return {uid: agent.stats for uid, agent in self._agents.items()}

    def add(
        self,
        profile: AgentProfile,
        count: int,
        name_prefix: str | None = None,
        *,
        max_answers: int | None = None,
    ) -> list[int]:
        """Create ``count`` workers (simulated users) with that profile; returns their ids."""
        prefix = name_prefix or profile.kind
        ids: list[int] = []
        for _ in range(count):
            uid = self._next_user_id
            self._next_user_id += 1
            while uid in self.sim.users:
                uid = self._next_user_id
                self._next_user_id += 1
            name = f"{prefix}{len(ids) + 1}"
            self.sim.add_user(uid, name, profile.language_code, f"{prefix}_{uid}")
            stats = AgentStats(user_id=uid, name=name, kind=profile.kind)
            limit = max_answers if max_answers is not None else self.max_answers
            self._agents[uid] = _Agent(self, uid, profile, stats, limit)
            ids.append(uid)
            if self.running:
                self._spawn(uid)
        return ids

    def _spawn(self, uid: int) -> None:
        task = self._tasks.get(uid)
        if task is None or task.done():
            self._tasks[uid] = asyncio.create_task(self._agents[uid].run(), name=f"sim-agent-{uid}")

    async def start(self) -> None:
        """Every agent sends /start, then reacts to what the bot shows it."""
        self.running = True
        for uid in self._agents:
            self._spawn(uid)
        await asyncio.sleep(0)  # let every agent subscribe and send /start

    async def stop(self) -> None:
        self.running = False
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_presses(self, total: int, timeout: float = 10.0) -> None:
        """Wait until the crowd has pressed ``total`` buttons in all."""
        async with asyncio.timeout(timeout):
            while self.total_presses < total:
                await asyncio.sleep(0.01)

    async def wait_done(self, timeout: float = 10.0) -> None:
        """Wait until every agent has stopped by itself (``max_answers`` reached)."""
        async with asyncio.timeout(timeout):
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def summary(self) -> dict[str, Any]:
        """Totals per kind of worker."""
        by_kind: dict[str, dict[str, int]] = {}
        for st in self.stats.values():
            k = by_kind.setdefault(
                st.kind,
                {
                    "workers": 0,
                    "presses": 0,
                    "answers": 0,
                    "skips": 0,
                    "consent_presses": 0,
                    "go_presses": 0,
                    "correct": 0,
                    "wrong": 0,
                    "unknown": 0,
                },
            )
            k["workers"] += 1
            k["presses"] += st.presses
            k["answers"] += st.answers
            k["skips"] += st.skips
            k["consent_presses"] += st.consent_presses
            k["go_presses"] += st.go_presses
            k["correct"] += st.correct
            k["wrong"] += st.wrong
            k["unknown"] += st.unknown
        return {"presses_total": self.total_presses, "by_kind": by_kind}
