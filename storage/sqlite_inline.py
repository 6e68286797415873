"""SQLite driven inline in the event loop's thread, for the write engine.

aiosqlite runs each connection in a thread of its own and hands every call over to it and
back (a future, a self-pipe write, a GIL hand-off): about 2 ms of CPU per message, for
statements that take microseconds in SQLite itself. Here the stdlib ``sqlite3`` connection is
called directly from the coroutines SQLAlchemy awaits, so ``await_`` never leaves the thread.

It plugs in as a dialect: a subclass of SQLAlchemy's ``sqlite+aiosqlite`` dialect, registered
as ``sqlite+pingan_inline``, whose DBAPI module is an adapter over ``sqlite3`` built from
SQLAlchemy's generic asyncio adapters (``connectors/asyncio.py``); nothing of aiosqlite's is
used. ``storage.db`` swaps the driver name in the configured URL for the write engine only.

The price is that a statement blocks the loop for as long as SQLite takes, so this is for the
write connection, whose transactions are short by design. The read engine stays on aiosqlite:
a heavy read (statistics, exports) must run in a thread, not stall every request.

Another process holding the write lock must not stall the loop either, so SQLite's busy handler
is off (``timeout=0``; ``storage.db`` sets ``busy_timeout=0``) and a statement SQLite refuses
with SQLITE_BUSY is tried again after an ``asyncio.sleep`` (1 ms doubling to 20 ms), up to the
connection's ``timeout`` (30 s in ``storage.db``), after which the error reaches the caller.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection, AsyncAdapt_dbapi_module
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.util import VersionInfo

log = logging.getLogger("pingan.db")

DRIVER = "pingan_inline"
#: SQLITE_BUSY and SQLITE_BUSY_RECOVERY. Not SQLITE_BUSY_SNAPSHOT: a read transaction that
#: another writer has moved past can never write, however long it waits.
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_BUSY_RECOVERY})
_FIRST_PAUSE, _LONGEST_PAUSE = 0.001, 0.02
#: A write that waited this long for the lock says so in the log.
SLOW_WAIT = 1.0

T = TypeVar("T")


def inline_url(url: str | URL) -> URL:
    """The same SQLite database, through this module's driver."""
    return make_url(url).set(drivername=f"sqlite+{DRIVER}")


class InlineConnection:
    """A ``sqlite3`` connection behind the coroutine methods SQLAlchemy's adapter awaits."""

    def __init__(self, raw: sqlite3.Connection, patience: float) -> None:
        self.raw = raw
        self.patience = patience

    async def run(
        self, fn: Callable[..., T], *args: Any, repeatable: Callable[[], bool] | None = None
    ) -> T:
        """``fn(*args)`` now; while the database is busy, again after a pause."""
        began: float | None = None
        pause = _FIRST_PAUSE
        while True:
            try:
                result = fn(*args)
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode not in _BUSY or (repeatable and not repeatable()):
                    raise
                now = time.monotonic()
                if began is None:
                    began = now
                if now - began >= self.patience:
                    log.warning(
                        "gave up on a write after %.1f s: the database stayed locked", now - began
                    )
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE)
                continue
            if began is not None and (waited := time.monotonic() - began) >= SLOW_WAIT:
                log.warning("a write waited %.1f s for another connection's lock", waited)
            return result

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def commit(self) -> None:
        await self.run(self.raw.commit)

    async def rollback(self) -> None:
        await self.run(self.raw.rollback)

    async def close(self) -> None:
        self.raw.close()


class InlineCursor:
    """A ``sqlite3`` cursor whose coroutines finish without suspending unless SQLite is busy."""

    def __init__(self, conn: InlineConnection) -> None:
        self._conn = conn
        self._cursor = conn.raw.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, operation: str, parameters: Any = ()) -> InlineCursor:
        # A statement refused with SQLITE_BUSY did nothing, so running it again is safe.
        await self._conn.run(self._cursor.execute, operation, parameters)
        return self

    async def executemany(self, operation: str, seq_of_parameters: Any) -> InlineCursor:
        # Outside a transaction each row commits on its own: once one has, do not repeat them.
        raw = self._conn.raw
        before = raw.total_changes
        repeatable = lambda: raw.total_changes == before  # noqa: E731
        await self._conn.run(
            self._cursor.executemany, operation, seq_of_parameters, repeatable=repeatable
        )
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    async def __aiter__(self) -> AsyncIterator[Any]:
        for row in self._cursor:
            yield row


class AsyncAdapt_inline_connection(AsyncAdapt_dbapi_connection):
    """SQLAlchemy's adapter; what needs no awaiting is done directly."""

    __slots__ = ()
    _connection: InlineConnection  # type: ignore[assignment]

    @property
    def isolation_level(self) -> str | None:
        return self._connection.raw.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._connection.raw.isolation_level = value

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._connection.raw.create_function(*args, **kwargs)

    def close(self) -> None:
        self._connection.raw.close()  # no await: works from the pool's gc cleanup too

    def terminate(self) -> None:
        self._connection.raw.close()


class InlineDBAPI(AsyncAdapt_dbapi_module):
    paramstyle = "qmark"
    #: Read by SQLiteDialect_aiosqlite: ``terminate()`` is supported.
    has_stop = True

    def __init__(self) -> None:
        super().__init__(sqlite3, dbapi_module=sqlite3)
        self.sqlite = sqlite3
        for name in (
            *("DatabaseError", "Error", "IntegrityError", "InterfaceError", "NotSupportedError"),
            *("OperationalError", "ProgrammingError", "sqlite_version", "sqlite_version_info"),
            *("PARSE_COLNAMES", "PARSE_DECLTYPES", "Binary"),
        ):
            setattr(self, name, getattr(sqlite3, name))

    def connect(self, database: str, timeout: float = 30.0, **kwargs: Any) -> Any:
        # The loop's thread opens and uses the connection; the pool may close it from another
        # (gc cleanup), which sqlite3 permits only with check_same_thread=False.
        kwargs.setdefault("check_same_thread", False)
        raw = sqlite3.connect(database, timeout=0, **kwargs)
        return AsyncAdapt_inline_connection(self, InlineConnection(raw, patience=timeout))  # type: ignore[arg-type]


class SQLiteDialect_inline(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> InlineDBAPI:  # type: ignore[override]
        return InlineDBAPI()

    def retrieve_dbapi_version(self, dbapi: Any) -> VersionInfo:
        return SQLiteDialect_pysqlite.retrieve_dbapi_version(self, dbapi)


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_inline")
