"""What the presenter remembers of each worker's chat, in memory.

Kept in this process and bounded: after a restart a tap on an old message may show its task once
more, and a pack's whole instructions come once more, no worse. (Several bot processes would need
it shared: a later issue moves shared state to the database.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tasks.clock import Clock


class InstructionsOnce:
    """Whether a worker should see a pack's whole instructions in their own message: once per
    session (the first media task of the pack since the bot started, or after SESSION_GAP
    without one). Kept in memory, bounded: a restart only shows them once more."""

    SESSION_GAP = timedelta(hours=6)
    MAX_KEPT = 50_000

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._last: dict[tuple[int, int], datetime] = {}

    def due(self, worker_id: int, pack_pk: int) -> bool:
        """True (and noted) when the instructions should be shown now."""
        now = self.clock.now()
        name = (worker_id, pack_pk)
        last = self._last.pop(name, None)
        self._last[name] = now  # most recent last: the oldest go first when full
        if len(self._last) > self.MAX_KEPT:
            del self._last[next(iter(self._last))]
        return last is None or now - last > self.SESSION_GAP


class ShownTasks:
    """Which message of a worker's chat shows their task now, with its buttons' data: a late
    or double tap on an older message (deleted, or stripped of its buttons, as a voice note's
    is) must not bring the same task a second time. In memory, bounded: after a restart a tap
    on an old message may show the task once more, no worse."""

    MAX_KEPT = 100_000

    def __init__(self) -> None:
        self._shown: dict[int, tuple[int, tuple[str, ...]]] = {}

    def get(self, worker_id: int) -> tuple[int, tuple[str, ...]] | None:
        return self._shown.get(worker_id)

    def set(self, worker_id: int, message_id: int, buttons: tuple[str, ...]) -> None:
        self._shown.pop(worker_id, None)
        self._shown[worker_id] = (message_id, buttons)
        if len(self._shown) > self.MAX_KEPT:
            del self._shown[next(iter(self._shown))]

    def forget(self, worker_id: int, message_id: int) -> None:
        """The message no longer shows a task (it became feedback, or went)."""
        found = self._shown.get(worker_id)
        if found is not None and found[0] == message_id:
            del self._shown[worker_id]
