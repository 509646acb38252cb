"""Updates of different users run concurrently; one user's updates run in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerUserUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user_id = 0
        if isinstance(update, Update) and update.effective_user is not None:
            user_id = update.effective_user.id
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        self._users[user_id] = self._users.get(user_id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            left = self._users[user_id] - 1
            if left:
                self._users[user_id] = left
            else:
                del self._users[user_id]
                self._locks.pop(user_id, None)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
