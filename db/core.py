"""One SQLite database, one writer connection, one transaction per unit of work.

aiosqlite runs every call of a connection on one thread, but coroutines sharing the connection
would interleave their statements inside each other's transactions; a lock around each
BEGIN IMMEDIATE .. COMMIT keeps units of work whole.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from importlib import resources
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import aiosqlite

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
P = ParamSpec("P")
T = TypeVar("T")


def to_db_time(moment: datetime) -> str:
    """An aware datetime as the fixed-width UTC text stored in every time column."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the domain works in aware UTC datetimes")
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def from_db_time(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


class DatabaseUnavailable(Exception):
    """The database cannot be opened at its path (a folder, not SQLite, read-only, ...)."""


def _prepare_folder(path: Path) -> None:
    if path.is_dir():
        raise DatabaseUnavailable(f"{path} is a folder, not a database file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise DatabaseUnavailable(f"{path}: {exc.filename or path.parent} is not a folder") from exc
    except OSError as exc:
        raise DatabaseUnavailable(f"{path}: cannot create its folder ({exc.strerror})") from exc


def _probe(path: str) -> None:
    """Opens and reads the file once on this thread, so that a path that cannot hold a database
    fails here, before a connection thread exists to be left behind."""
    try:
        probe = sqlite3.connect(path)
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"{path}: cannot open it ({exc})") from exc
    try:
        probe.execute("PRAGMA schema_version").fetchone()
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"{path}: {_reason(exc)}") from exc
    finally:
        probe.close()


def _reason(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "not a database" in text:
        return "not an SQLite database (file is not a database)"
    if "readonly" in text or "read-only" in text:
        return "read-only: the bot needs to write there"
    return text


class Tx:
    """The one transaction type: a unit of work run whole on the database thread, as plain
    sqlite3 calls, no hop per query (`Database.run`, `unit_of_work`).

    The hot units of work (an answer press: check, store, credit, lease the next task) are
    written against this: one trip to the database thread instead of one per statement, which
    was a quarter of the bot's CPU per answer."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Runs one statement; returns the number of rows it changed."""
        return self.conn.execute(sql, params).rowcount

    def insert(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Runs an INSERT; returns the new rowid."""
        rowid = self.conn.execute(sql, params).lastrowid
        assert rowid is not None
        return rowid

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def value(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]


class _Turns:
    """The lock around each transaction, where an urgent unit of work goes before those
    waiting (and never before the one running): storing what Telegram just gave the bot
    (bot/transport/inbox.py) does not wait behind 64 handlers' transactions, or the next
    getUpdates, which confirms it, would."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()

    async def acquire(self, urgent: bool = False) -> None:
        if not self._held and not self._urgent and not self._others:
            self._held = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._others).append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # given the turn as it was cancelled
                self.release()
            raise

    def release(self) -> None:
        """Hands the turn to the next waiter still waiting (urgent ones first), else frees it."""
        for waiting in (self._urgent, self._others):
            while waiting:
                turn = waiting.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._held = False


class Database:
    """The embedded SQLite database (WAL) behind one connection and one lock."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        self.path = str(path)
        self.synchronous = synchronous
        self._conn: aiosqlite.Connection | None = None
        self._turns = _Turns()

    async def open(self) -> Database:
        """Opens (creating it and its folder if needed) and migrates the database. Raises
        DatabaseUnavailable, with a reason a person can act on, when the path cannot hold one;
        nothing is left running then (an open connection's thread would keep the process)."""
        if self.path != ":memory:":
            _prepare_folder(Path(self.path))
            _probe(self.path)
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a commit survives a crash of the process (kill -9); only a
            # power loss can take back the last transactions.
            await conn.execute(f"PRAGMA synchronous={self.synchronous}")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=10000")
            self._conn = conn
            await self.migrate()
        except BaseException as exc:
            self._conn = None
            await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise DatabaseUnavailable(f"{self.path}: {_reason(exc)}") from exc
            raise
        return self

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def run(
        self, unit: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Runs `unit(tx, ...)` as one transaction (BEGIN IMMEDIATE .. COMMIT, ROLLBACK on any
        exception) in a single trip to the database thread, and returns what it returns."""
        return await self._run(False, "BEGIN IMMEDIATE", unit, args, kwargs)

    async def run_first(
        self, unit: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`run`, ahead of the units of work waiting for their turn (not of the one running)."""
        return await self._run(True, "BEGIN IMMEDIATE", unit, args, kwargs)

    async def _run(
        self,
        urgent: bool,
        begin: str,
        unit: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        await self._turns.acquire(urgent)
        try:
            # aiosqlite 0.22 has no public way to run a callable on its thread; `_execute` is
            # the method its own public calls use (pinned in pyproject.toml, checked by tests).
            result: T = await self.conn._execute(  # type: ignore[no-untyped-call]
                _in_transaction, self.conn._conn, unit, args, kwargs, begin
            )
            return result
        finally:
            self._turns.release()

    async def run_read(
        self, unit: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Like `run`, for units that only read (a deferred transaction: no write lock)."""
        return await self._run(False, "BEGIN", unit, args, kwargs)

    async def query(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> list[sqlite3.Row]:
        """The rows of one read-only statement, in a transaction of its own (tests, tools)."""
        return await self.run_read(_all, sql, params)

    async def value(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        """The first column of the first row of one read-only statement (tests, tools)."""
        rows = await self.query(sql, params)
        return rows[0][0] if rows else None

    async def migrate(self) -> list[int]:
        """Applies the numbered migrations not yet recorded; returns the versions applied."""
        conn = self.conn
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        cursor = await conn.execute("SELECT version FROM schema_migrations")
        done = {row[0] for row in await cursor.fetchall()}
        applied: list[int] = []
        for version, name, sql in available_migrations():
            if version in done:
                continue
            await conn.executescript(
                "BEGIN IMMEDIATE;\n"
                + sql
                + f"\nINSERT INTO schema_migrations VALUES ({version}, '{name}',"
                f" '{to_db_time(datetime.now(UTC))}');\nCOMMIT;"
            )
            applied.append(version)
        return applied


def _in_transaction(
    conn: sqlite3.Connection,
    unit: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    begin: str = "BEGIN IMMEDIATE",
) -> T:
    conn.execute(begin)
    try:
        result = unit(Tx(conn), *args, **kwargs)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def _all(tx: Tx, sql: str, params: Sequence[Any] | dict[str, Any]) -> list[sqlite3.Row]:
    return tx.all(sql, params)


def available_migrations() -> list[tuple[int, str, str]]:
    """The migrations shipped in db/migrations, as (version, name, sql), in order."""
    found = []
    for entry in resources.files("db").joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name[:-4], entry.read_text(encoding="utf-8")))
    return sorted(found)


class HasDatabase(Protocol):
    db: Database


S = TypeVar("S", bound=HasDatabase)


def unit_of_work(
    body: Callable[Concatenate[S, Tx, P], T],
) -> Callable[Concatenate[S, P], Awaitable[T]]:
    """The one way a service runs a use case: `body(self, tx, ...)` is written as plain sqlite3
    calls and runs whole, as one transaction, in one trip to the database thread.

        @unit_of_work
        def pause(self, tx: Tx, worker_id: int) -> Worker | None: ...

        await service.pause(worker_id)      # BEGIN IMMEDIATE .. COMMIT, ROLLBACK on error

    A body that needs another use case's work calls a plain helper taking `tx`, never another
    decorated method (that would be a second transaction).

    Run while a Telegram update is handled (`current_update`), the unit of work also marks that
    update processed in its transaction: every handler gets it without doing anything."""

    async def run(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        handling = current_update.get()
        if handling is None or handling.processed:
            return await self.db.run(_bound, body, self, *args, **kwargs)
        result = await self.db.run(_bound_marking, handling.update_id, body, self, *args, **kwargs)
        handling.processed = True
        return result

    return wraps(body)(run)  # type: ignore[return-value]


def read_only(
    body: Callable[Concatenate[S, Tx, P], T],
) -> Callable[Concatenate[S, P], Awaitable[T]]:
    """`unit_of_work` for bodies that only read (a deferred transaction: no write lock)."""

    async def run(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.db.run_read(_bound, body, self, *args, **kwargs)

    return wraps(body)(run)  # type: ignore[return-value]


def _bound(tx: Tx, body: Callable[..., T], owner: Any, /, *args: Any, **kwargs: Any) -> T:
    return body(owner, tx, *args, **kwargs)


@dataclass
class HandlingUpdate:
    """The Telegram update whose handler runs in this context (set by the update processor,
    bot/transport/processor.py): its units of work mark it processed in their own transaction."""

    update_id: int
    processed: bool = False  # a unit of work of this run has committed the mark
    error: BaseException | None = None  # what made its handler fail, if it did


#: The update being handled in this context, if any (None in jobs, the CLI, tests).
current_update: ContextVar[HandlingUpdate | None] = ContextVar("current_update", default=None)


def _bound_marking(
    tx: Tx,
    update_id: int,
    body: Callable[..., T],
    owner: Any,
    /,
    *args: Any,
    **kwargs: Any,
) -> T:
    """`_bound`, and the update marked processed in the same transaction as the body's
    effects: both commit, or neither (the inbox, db/updates.py, db/migrations/008_inbox.sql)."""
    result = body(owner, tx, *args, **kwargs)
    tx.execute(
        "UPDATE inbox SET processed_at = ? WHERE update_id = ? AND processed_at IS NULL",
        (to_db_time(datetime.now(UTC)), update_id),
    )
    return result
