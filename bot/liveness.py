"""Which processes are alive: a delivery left "processing" by a dead one is taken over at once.

Each serving process holds a lock for as long as it lives, and the operating system or the
database frees it the instant the process dies (kill -9 included), so no heartbeat, clock or
timeout decides that a process is gone:

* PostgreSQL: a session-level advisory lock on a connection of its own; ``pg_locks`` lists
  the holders, whichever server process asks.
* SQLite: ``flock`` on a file of its own next to the database (one host by definition).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("pingan.liveness")

#: First half of the two-int advisory lock key: "pa" + 1, so other users of advisory locks
#: (the scheduler election, the token refresh) never collide with owner locks.
_PG_CLASS = 0x7061_0001


class Liveness(Protocol):
    #: This process's name in ``deliveries.owner``.
    instance: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ensure(self) -> None:
        """Hold the lock again if it was lost (the database restarted under us)."""
        ...

    async def dead(self, owners: set[str]) -> set[str]:
        """The owners among ``owners`` that are gone."""
        ...


class PostgresLiveness:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self.instance = ""

    async def _lock(self, number: int) -> AsyncConnection | None:
        conn = await self._engine.connect()
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        taken = await conn.scalar(
            text("SELECT pg_try_advisory_lock(:c, :n)"), {"c": _PG_CLASS, "n": number}
        )
        if taken:
            return conn
        await conn.close()
        return None

    async def start(self) -> None:
        while self._conn is None:
            number = secrets.randbelow(2**31 - 1) + 1
            self._conn = await self._lock(number)
        self.instance = str(number)

    async def ensure(self) -> None:
        try:
            assert self._conn is not None
            await self._conn.scalar(text("SELECT 1"))
        except Exception:
            # Until now other processes saw us as dead and may have taken deliveries over;
            # our finishes of those fail (the ledger checks ownership), so nothing doubles.
            log.warning("liveness lock lost; taking it again")
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await self._conn.close()
            self._conn = await self._lock(int(self.instance))

    async def stop(self) -> None:
        if self._conn is not None:
            await self._conn.close()  # closing the session releases the lock
            self._conn = None

    async def dead(self, owners: set[str]) -> set[str]:
        if not owners:
            return set()
        async with self._engine.connect() as conn:
            alive = {
                str(row[0])
                for row in await conn.execute(
                    text(
                        "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' "
                        "AND classid::bigint = :c AND objsubid = 2 AND granted"
                    ),
                    {"c": _PG_CLASS},
                )
            }
        return owners - alive


class SqliteLiveness:
    def __init__(self, database: Path) -> None:
        self._dir = database.with_name(database.name + ".owners")
        self._fd: int | None = None
        self.instance = secrets.token_hex(8)

    async def ensure(self) -> None:
        return None  # the lock file stays locked for as long as this process lives

    def _path(self, owner: str) -> Path:
        return self._dir / f"{owner}.lock"

    async def start(self) -> None:
        self._dir.mkdir(exist_ok=True)
        fd = os.open(self._path(self.instance), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fd = fd

    async def stop(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            with contextlib.suppress(FileNotFoundError):
                self._path(self.instance).unlink()

    def _gone(self, owner: str) -> bool:
        if owner == self.instance:
            return False
        path = self._path(owner)
        if not owner.isalnum():
            return True
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its process still holds it
        finally:
            os.close(fd)  # also drops the lock we may have taken
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return True

    async def dead(self, owners: set[str]) -> set[str]:
        return await asyncio.to_thread(lambda: {o for o in owners if self._gone(o)})


def liveness_for(engine: AsyncEngine) -> Liveness:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        database = make_url(url).database or ""
        return SqliteLiveness(Path(database).resolve())
    return PostgresLiveness(engine)
