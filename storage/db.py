"""The database: engines and session factories for SQLite (embedded) and PostgreSQL.

SQLite allows one writer at a time. Rather than let connections fight over its lock (the
driver's busy handler sleeps up to 100 ms a try), writes go through a pool of exactly one
connection, so writers queue for it in the pool, in arrival order (``storage.fair_pool``).
That connection runs inline in the event loop's thread (``storage.sqlite_inline``: no driver
thread to hop to and back). Reads use a second pool, on aiosqlite's threads so that a heavy
read never stalls the loop, and WAL lets them run beside the writer. A write session must
therefore never open a second write session while it is open (it would wait for itself):
API calls happen outside transactions.
PostgreSQL gets one ordinary pool for both.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Self, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.asyncio.session import _AsyncSessionContextManager

from storage import sqlite_inline
from storage.fair_pool import FairAsyncQueuePool

#: PRAGMA synchronous on SQLite. In WAL mode NORMAL syncs to disk only at checkpoints: a
#: committed transaction survives the process dying, but the last ones may be lost if the
#: machine loses power. FULL also syncs the WAL at every commit, so what WeChat was told is
#: stored survives a power cut too. Commits are grouped (``bot.batcher``), so the extra sync
#: is paid once per batch: bench/webhook.py showed no difference beyond its run-to-run noise
#: (FULL 1.12–1.14 ms CPU per message, NORMAL 1.19–1.25, alternated); bench/sqlite_sync.py
#: measures a commit alone (about 0.2–0.4 ms more, in the event loop's thread).
SYNCHRONOUS = "FULL"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    # Parameters hold openids, message text and sealed identities: they must never reach
    # logs or exception messages (an IntegrityError's text would otherwise carry them).
    kwargs["hide_parameters"] = True
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "handle_error")
    def _hide_detail(context: ExceptionContext) -> None:
        # PostgreSQL's DETAIL repeats values too ("Key (openid)=(…) already exists", "Failing
        # row contains (…)"), and asyncpg's error, chained under ours, prints it in tracebacks.
        exc: BaseException | None = context.original_exception
        for _ in range(8):  # the chain is short; never loop on a cycle
            if exc is None:
                break
            if getattr(exc, "detail", None):
                with suppress(AttributeError):  # a read-only detail must not hide the error
                    exc.detail = None  # type: ignore[attr-defined]
            exc = exc.__cause__ or exc.__context__

    return engine


def _sqlite_engine(url: str | URL, *, immediate: bool, **kwargs: Any) -> AsyncEngine:
    # Seconds a statement waits for another connection's write lock. aiosqlite (reads) waits
    # in SQLite's busy handler, in its thread; the inline writer never does (that would block
    # the loop): it waits in asyncio.sleep between tries, and SQLite's own handler is off.
    kwargs.setdefault("connect_args", {"timeout": 30})
    inline = make_url(url).get_driver_name() == sqlite_inline.DRIVER
    busy_timeout_ms = 0 if inline else 30_000
    engine = _engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy (not the driver) decide where transactions begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so a transaction that read and then
        # writes can never fail on a snapshot another connection has moved past.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """The engine for writes (and, on PostgreSQL, reads too)."""
    if not is_sqlite(url):
        # No pre-ping: it costs a round trip per checkout. A connection the server dropped
        # fails its first statement instead; SQLAlchemy then invalidates the pool, and the
        # webhook's callers retry (WeChat resends an unclaimed message, a failed batch runs
        # again message by message).
        return _engine(url, **kwargs)
    kwargs.setdefault("pool_size", 1)
    kwargs.setdefault("max_overflow", 0)
    kwargs.setdefault("pool_timeout", 60)
    kwargs.setdefault("poolclass", FairAsyncQueuePool)
    return _sqlite_engine(sqlite_inline.inline_url(url), immediate=True, **kwargs)


class InlineWriteSession(AsyncSession):
    """A session on the inline SQLite writer, closed where it is left.

    AsyncSession (and ``sessionmaker.begin()``) commit and close on exit in a task of their
    own, shielded, so that a cancellation cannot abandon the close halfway through its I/O.
    That task starts a turn of the loop later, and all the while the one write connection
    stays checked out: every other coroutine ready to run ran first, so each write session
    held the writer for a whole turn (in bench/webhook.py about 75 % of the time). On the
    inline writer COMMIT, ROLLBACK and returning the connection do not suspend (only a busy
    retry does, and the lock holder's COMMIT or ROLLBACK in WAL mode is never busy), so no
    cancellation can land halfway and they are done right here.
    """

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        await self.close()

    def _maker_context_manager(self) -> _AsyncSessionContextManager[Self]:
        return _InlineBegin(self)


_S = TypeVar("_S", bound=AsyncSession)


class _InlineBegin(_AsyncSessionContextManager[_S]):
    __slots__ = ()

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        try:
            await self.trans.__aexit__(type_, value, traceback)
        finally:  # a commit that fails must still give the one writer back
            await self.async_session.__aexit__(type_, value, traceback)


@dataclass
class Database:
    engine: AsyncEngine
    read_engine: AsyncEngine
    #: Sessions that write; on SQLite they queue for the single writer connection.
    sessionmaker: async_sessionmaker[AsyncSession]
    #: Sessions that only read; on SQLite they never wait for the writer.
    reader: async_sessionmaker[AsyncSession]

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


def open_database(url: str) -> Database:
    engine = create_engine(url)
    read_engine = (
        _sqlite_engine(url, immediate=False, pool_size=4, max_overflow=4)
        if is_sqlite(url)
        else engine
    )
    return Database(
        engine=engine,
        read_engine=read_engine,
        sessionmaker=async_sessionmaker(
            engine,
            expire_on_commit=False,
            class_=InlineWriteSession if is_sqlite(url) else AsyncSession,
        ),
        reader=async_sessionmaker(read_engine, expire_on_commit=False),
    )
