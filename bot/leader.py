"""Which process runs the clock: one leader among all the processes on one store.

Like ``bot.liveness``, leadership is a lock the database or the kernel frees the instant its
holder dies, so no heartbeat or timeout decides that a leader is gone:

* PostgreSQL: a session-level advisory lock on a connection held only for this (never
  returned to the pool: a pooled connection would keep its session, and the lock, alive).
* SQLite: an exclusive non-blocking ``flock`` on a file next to the database. ``flock`` locks
  belong to the open file, so two schedulers in one process exclude each other too.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

#: The two-int advisory key: "pa" + 2 (``bot.liveness`` uses "pa" + 1 for its owner locks;
#: the single-bigint locks of tokens and deliveries live in another key space).
_PG_CLASS = 0x7061_0002
_PG_SCHEDULER = 1


class Leadership(Protocol):
    async def acquire(self) -> bool:
        """Take the lock if it is free; True while this instance holds it."""
        ...

    async def held(self) -> bool:
        """Still the leader? False once the lock has gone (the connection died)."""
        ...

    async def release(self) -> None: ...


class PostgresLeadership:
    def __init__(self, engine: AsyncEngine, *, timeout: float = 5.0) -> None:
        self._engine = engine
        # A store that stops answering (a network cut) must not keep us "leading" forever:
        # past this many seconds the connection is dropped and we stand by.
        self._timeout = timeout
        self._conn: AsyncConnection | None = None  # open while trying or holding
        self._holding = False

    async def acquire(self) -> bool:
        if self._holding:
            return True
        try:
            async with asyncio.timeout(self._timeout):
                if self._conn is None:
                    self._conn = await self._engine.connect()
                    await self._conn.execution_options(isolation_level="AUTOCOMMIT")
                taken = await self._conn.scalar(
                    text("SELECT pg_try_advisory_lock(:c, :n)"),
                    {"c": _PG_CLASS, "n": _PG_SCHEDULER},
                )
        except Exception:
            await self._drop()  # the store is away: try again with a new connection later
            raise
        self._holding = bool(taken)
        return self._holding

    async def held(self) -> bool:
        if not self._holding or self._conn is None:
            return False
        try:
            async with asyncio.timeout(self._timeout):
                await self._conn.scalar(text("SELECT 1"))
        except Exception:
            await self._drop()  # the session, and with it the lock, is gone
            return False
        return True

    async def release(self) -> None:
        await self._drop()

    async def _drop(self) -> None:
        self._holding = False
        conn, self._conn = self._conn, None
        if conn is not None:
            # Invalidate closes the session itself: the lock goes with it, and the pool never
            # hands this connection, lock and all, to someone else.
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()


class SqliteLeadership:
    def __init__(self, database: Path | None) -> None:
        # No file (an in-memory database) means one process by definition.
        self._path = None if database is None else database.with_name(database.name + ".clock")
        self._fd: int | None = None
        self._alone = database is None

    def _try(self) -> bool:
        assert self._path is not None
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def acquire(self) -> bool:
        if self._alone or self._fd is not None:
            return True
        return await asyncio.to_thread(self._try)

    async def held(self) -> bool:
        return self._alone or self._fd is not None  # the kernel keeps it while we live

    async def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # never unlinked: a waiter may have the file open already
            self._fd = None


def leadership_for(engine: AsyncEngine) -> Leadership:
    url = make_url(engine.url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        memory = database in ("", ":memory:") or database.startswith("file::memory:")
        return SqliteLeadership(None if memory else Path(database).resolve())
    return PostgresLeadership(engine)
