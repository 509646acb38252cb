"""The packs as the answer path needs them, read once and shared by every service.

A pack row changes only when it is loaded, replaced, paused, resumed or closed; the cached
PackInfo is kept while the pack reads the same. The list of active packs is read at most once a
second, so a pack loaded or paused from the CLI (another process) is seen within that second and
a press saves a query."""

from __future__ import annotations

import time

from db import Tx
from db import packs as packs_db
from tasks.packs import PackInfo

ACTIVE_PACKS_TTL = 1.0  # seconds


class PackCache:
    def __init__(self, ttl: float = ACTIVE_PACKS_TTL) -> None:
        self.ttl = ttl
        self._packs: dict[int, PackInfo] = {}
        self._active: tuple[float, list[PackInfo]] | None = None

    def _cached(self, pack: PackInfo) -> PackInfo:
        # The same object while the pack is the same (header included): QualityRules keeps its
        # settings by it.
        cached = self._packs.get(pack.pk)
        if cached is None or cached != pack:
            self._packs[pack.pk] = cached = pack
        return cached

    def forget(self) -> None:
        """Packs changed (loaded, paused, closed): read them again at the next pick."""
        self._active = None

    def active(self, tx: Tx) -> list[PackInfo]:
        """The packs open for work, in the order they are offered."""
        now = time.monotonic()
        if self._active is None or now - self._active[0] >= self.ttl:
            self._active = (now, [self._cached(pack) for pack in packs_db.active_packs(tx)])
        return self._active[1]

    def get(self, tx: Tx, pack_pk: int) -> PackInfo:
        """Any pack by its key (a paused or closed pack still has answers to judge)."""
        cached = self._packs.get(pack_pk)
        if cached is not None:
            return cached
        pack = packs_db.pack_by_pk(tx, pack_pk)
        if pack is None:
            raise LookupError(f"no pack with key {pack_pk}")
        return self._cached(pack)
