"""A simulated crowd of workers answering the bot from their phones.

Each agent is an asyncio task that only knows what a person sees: the messages and inline
buttons in its chat. It relies on these callback_data shapes of Petites Mains and nothing else
(they are the bot's protocol, not an import of its code):

* ``consent...``  a consent button: press it;
* ``a:...``       an answer option of a task (the button's label is the option);
* ``s:...``       skip the task;
* ``go...``       "new work available": press it to get work;
* ``d:...``       dispute a check question: a worker who ``disputes`` presses it when the
                  answer it gave is the truth (the check's expected answer is wrong);
* ``t:...`` / ``f:...``  a multi_choice toggle (its label after the check mark) and Done;
* a task message with a Skip button and no answer buttons is a text task: the worker replies
  with a message (as a reply to the task or a plain message, at random).

The oracle gives the truth of a task: a label (single choice, a rating's button), a list of
labels (multi_choice) or the expected text (text). Careless workers err: another label, a set
with one option flipped, a text with typos; spammers answer at random (or the first button,
the text left as it is).

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
from typing import Any

from .profiles import AgentProfile, AgentStats, Oracle
from .server import SimulatorServer
from .state import Button, ChatEvent, SimMessage

__all__ = ["Crowd"]

log = logging.getLogger(__name__)

CONSENT_PREFIX = "consent"
ANSWER_PREFIX = "a:"
SKIP_PREFIX = "s:"
GO_PREFIX = "go"
DISPUTE_PREFIX = "d:"
TOGGLE_PREFIX = "t:"
DONE_PREFIX = "f:"
CHECKED = "✅ "  # a toggled option's label starts with it
UNCHECKED = "▫️ "


def _key(msg: SimMessage) -> tuple[int, str, tuple[str | None, ...]]:
    """What identifies a version of a task for the person seeing it."""
    return (msg.message_id, msg.text, tuple(b.callback_data for b in msg.buttons))


def _task_kind(msg: SimMessage) -> str | None:
    """What a message asks, from its buttons: "choice", "multi", "text", or None."""
    if msg.buttons_with_prefix(ANSWER_PREFIX):
        return "choice"
    if msg.buttons_with_prefix(TOGGLE_PREFIX):
        return "multi"
    if msg.buttons_with_prefix(SKIP_PREFIX):
        return "text"
    return None


def _unchecked(label: str) -> str:
    for mark in (CHECKED, UNCHECKED):
        if label.startswith(mark):
            return label[len(mark) :]
    return label


def _code_text(msg: SimMessage) -> str:
    """The text a text task shows in its <code> block (what a person copies)."""
    for entity in msg.entities:
        if entity.get("type") == "code":
            data = msg.text.encode("utf-16-le")
            start, length = 2 * entity["offset"], 2 * entity["length"]
            return data[start : start + length].decode("utf-16-le")
    return msg.text


def _typos(rng: random.Random, text: str, count: int) -> str:
    """`text` with `count` characters replaced, dropped or doubled (a careless typist)."""
    chars = list(text)
    for _ in range(count):
        if not chars:
            break
        i = rng.randrange(len(chars))
        action = rng.choice(("swap", "drop", "double"))
        if action == "swap":
            chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyzé")
        elif action == "drop":
            del chars[i]
        else:
            chars.insert(i, chars[i])
    return "".join(chars)


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
        self.targets: dict[int, set[str]] = {}  # multi_choice: message_id -> the set to give
        self.truths: dict[int, list[str] | None] = {}
        self.taps: dict[int, int] = {}  # multi_choice: message_id -> taps on its toggles

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
        # 3. the latest task (a multi_choice task comes back after each toggle)
        tasks = [m for m in fresh if _task_kind(m) is not None]
        if tasks:
            msg = tasks[-1]
            kind = _task_kind(msg)
            if kind == "multi":
                await self._toggle_or_done(msg)
            elif kind == "text":
                await self._reply(msg)
            else:
                await self._answer(msg)
            return
        # 4. "new work available"
        for msg in reversed(fresh):
            go = msg.buttons_with_prefix(GO_PREFIX)
            if go and go[0].callback_data is not None:
                if self._press(msg, go[0].callback_data):
                    self.stats.go_presses += 1
                return

    async def _answer(self, msg: SimMessage) -> None:
        if not await self._think(msg):
            return  # it changed under the thumb: the edit event will bring it back
        if self._maybe_skip(msg):
            return
        options = msg.buttons_with_prefix(ANSWER_PREFIX)
        labels = [b.text for b in options]
        found = self.crowd.truth(msg, labels)
        truth = found if isinstance(found, str) and found in labels else None
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

    async def _think(self, msg: SimMessage) -> bool:
        """Time to read the task; False if it changed meanwhile (the edit brings it back)."""
        seen = _key(msg)
        low, high = self.profile.think
        if high > 0:
            await asyncio.sleep(self.rng.uniform(low, high))
            current = self._current(msg.message_id)
            if current is None or _key(current) != seen:
                return False
        return True

    def _maybe_skip(self, msg: SimMessage) -> bool:
        skip = msg.buttons_with_prefix(SKIP_PREFIX)
        if skip and self.profile.skip_rate > 0 and self.rng.random() < self.profile.skip_rate:
            data = skip[0].callback_data
            assert data is not None
            if self._press(msg, data):
                self.stats.skips += 1
                self.last_task = (msg.message_id, data)
            return True
        return False

    def _count(self, message_id: int, given: str, truth: object, right: bool) -> None:
        self.stats.answers += 1
        self.stats.answers_by_label[given] += 1
        self.chosen[message_id] = given
        if truth is None:
            self.stats.unknown += 1
        elif right:
            self.stats.correct += 1
        else:
            self.stats.wrong += 1

    async def _toggle_or_done(self, msg: SimMessage) -> None:
        """multi_choice: decide the set once per task, then one tap per screen: the next
        option to flip, or Done when the check marks show the set."""
        toggles = msg.buttons_with_prefix(TOGGLE_PREFIX)
        labels = [_unchecked(b.text) for b in toggles]
        target = self.targets.get(msg.message_id)
        if target is None:
            if not await self._think(msg):
                return
            if self._maybe_skip(msg):
                return
            truth = self.crowd.truth(msg, labels)
            wanted = (
                [label for label in truth if label in labels] if isinstance(truth, list) else None
            )
            target = self.targets[msg.message_id] = self._choose_set(labels, wanted)
            self.truths[msg.message_id] = wanted
        checked = {_unchecked(b.text) for b in toggles if b.text.startswith(CHECKED)}
        taps = self.taps[msg.message_id] = self.taps.get(msg.message_id, 0) + 1
        if taps > len(toggles) + 2:  # the set cannot be reached (none of these clears it)
            target = self.targets[msg.message_id] = checked or target
        differing = [
            b for b in toggles if (_unchecked(b.text) in target) != (_unchecked(b.text) in checked)
        ]
        if differing:
            data = differing[0].callback_data
            assert data is not None
            self._press(msg, data)
            return
        done = msg.buttons_with_prefix(DONE_PREFIX)
        if not done or done[0].callback_data is None:
            return
        if self._press(msg, done[0].callback_data):
            wanted = self.truths.get(msg.message_id)
            given = " + ".join(sorted(target))
            self._count(msg.message_id, given, wanted, wanted is not None and set(wanted) == target)
            self.last_task = (msg.message_id, done[0].callback_data)
            self.targets.pop(msg.message_id, None)
            self.taps.pop(msg.message_id, None)

    def _choose_set(self, labels: list[str], truth: list[str] | None) -> set[str]:
        kind = self.profile.kind
        if kind == "spammer_first":
            return {labels[0]}
        if kind == "spammer_random" or not truth:
            size = self.rng.randint(1, max(1, min(3, len(labels) - 1)))
            return set(self.rng.sample(labels[:-1] or labels, size))
        chosen = set(truth)
        if self.rng.random() >= self.profile.accuracy:
            flip = self.rng.choice(labels[:-1] or labels)  # the last is "none of these"
            chosen ^= {flip}
            if len(chosen) > 1:
                chosen.discard(labels[-1])  # another option clears "none of these"
            if not chosen:
                chosen = {flip}
        return chosen

    async def _reply(self, msg: SimMessage) -> None:
        """A text task: the answer as a message, a reply to the task half the time."""
        if not await self._think(msg):
            return
        if self._maybe_skip(msg):
            return
        source = _code_text(msg)
        truth = self.crowd.truth(msg, [])
        expected = truth if isinstance(truth, str) else None
        kind = self.profile.kind
        if kind == "spammer_random":
            answer = self.rng.choice(["je sais pas", "bonne réponse", "pas de faute", source])
        elif kind == "spammer_first" or expected is None:
            answer = source  # sent back as it came
        elif self.rng.random() < self.profile.accuracy:
            answer = expected
        else:
            answer = _typos(self.rng, expected, 1 if kind == "careful" else 2)
        reply_to = msg.message_id if self.rng.random() < 0.5 else None
        try:
            self.sim.send_text(self.user_id, answer, reply_to=reply_to)
        except (ValueError, KeyError):
            self.stats.press_errors += 1
            return
        self.pressed.add(_key(msg))
        self.crowd.total_presses += 1
        self._count(msg.message_id, answer, expected, answer == expected)

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
        if all(b.text.isdigit() for b in options):  # a rating scale: off by a point or two
            at = options.index(right)
            wrong = [b for i, b in enumerate(options) if 1 <= abs(i - at) <= 2]
        return self.rng.choice(wrong) if wrong else right

    def _maybe_dispute(self, msg: SimMessage) -> None:
        buttons = msg.buttons_with_prefix(DISPUTE_PREFIX)
        if not buttons or buttons[0].callback_data is None:
            return
        truth = self.crowd.truth(msg, [])
        if isinstance(truth, list):
            truth = " + ".join(sorted(truth))
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

    ``oracle(message_plain_text, option_labels)`` returns the right answer (a label, a list of
    labels for multi_choice, the expected text for a text task) or None if it does not know;
    ``media_truth`` (SHA-256 of a file's bytes -> label) answers for media messages.
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

    def truth(self, msg: SimMessage, labels: list[str]) -> str | list[str] | None:
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
