"""The packs as the answer path needs them, read once and shared by every service.

A pack row changes only when it is loaded, replaced, paused, resumed or closed; PackInfo is
rebuilt only then. The list of active packs is read at most once a second, so a pack loaded or
paused from the CLI (another process) is seen within that second and a press saves a query."""

from __future__ import annotations

import sqlite3
import time

from db import SyncTx
from db import packs as packs_db
from tasks.packs import PackInfo

ACTIVE_PACKS_TTL = 1.0  # seconds


class PackCache:
    def __init__(self, ttl: float = ACTIVE_PACKS_TTL) -> None:
        self.ttl = ttl
        self._packs: dict[int, tuple[str, PackInfo]] = {}
        self._active: tuple[float, list[PackInfo]] | None = None

    def _from_row(self, row: sqlite3.Row) -> PackInfo:
        pk = row["pk"]
        # updated_at alone could repeat within one clock tick; the header says what changed.
        version = row["updated_at"] + row["status"] + row["header"]
        cached = self._packs.get(pk)
        if cached is None or cached[0] != version:
            cached = (version, PackInfo.from_row(row))
            self._packs[pk] = cached
        return cached[1]

    def forget(self) -> None:
        """Packs changed (loaded, paused, closed): read them again at the next pick."""
        self._active = None

    def active(self, tx: SyncTx) -> list[PackInfo]:
        """The packs open for work, in the order they are offered."""
        now = time.monotonic()
        if self._active is None or now - self._active[0] >= self.ttl:
            self._active = (now, [self._from_row(row) for row in packs_db.active_packs(tx)])
        return self._active[1]

    def get(self, tx: SyncTx, pack_pk: int) -> PackInfo:
        """Any pack by its key (a paused or closed pack still has answers to judge)."""
        cached = self._packs.get(pack_pk)
        if cached is not None:
            return cached[1]
        row = packs_db.get_pack_by_pk(tx, pack_pk)
        if row is None:
            raise LookupError(f"no pack with key {pack_pk}")
        return self._from_row(row)
