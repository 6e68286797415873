"""The shared access_token row: read freely, stored in a short write, refreshed by one process.

The fetch is an HTTP call and never happens inside a write transaction: on SQLite that would
hold the service's one writer connection (every user's update) for as long as WeChat takes.
Across processes on PostgreSQL a transaction-level advisory lock, in a transaction that does
nothing else, picks the one process that fetches; it is released when that transaction ends,
even if the connection goes back to the pool after a cancellation or dies with its process.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AccessToken
from storage.upsert import insert_ignore

_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def _lock_key(appid: str) -> int:
    """A stable signed 64-bit key per appid (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.sha256(b"pingan:access_token:" + appid.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class TokenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, appid: str) -> AccessToken | None:
        return await self.session.get(AccessToken, appid, populate_existing=True)

    async def store(self, appid: str, *, token: str, expires_at: datetime, now: datetime) -> None:
        """Insert or replace the row (the first fetch finds none)."""
        inserted = await insert_ignore(
            self.session,
            AccessToken,
            appid=appid,
            token=token,
            expires_at=expires_at,
            fetched_at=now,
        )
        if not inserted:
            await self.session.execute(
                update(AccessToken)
                .where(AccessToken.appid == appid)
                .values(token=token, expires_at=expires_at, fetched_at=now)
            )


@asynccontextmanager
async def refresh_lock(
    sessionmaker: async_sessionmaker[AsyncSession], appid: str
) -> AsyncIterator[None]:
    """Hold the right to refresh ``appid``'s token across processes.

    PostgreSQL: ``pg_advisory_xact_lock`` in a transaction of its own that writes nothing, so
    waiting or holding it blocks no other work; the token is stored by a separate short
    transaction before this one ends. SQLite: one process serves the store and serialises
    refreshes with its in-process lock, so nothing is taken here.
    """
    if sessionmaker.kw["bind"].dialect.name != "postgresql":
        yield
        return
    async with sessionmaker() as session:
        await session.execute(select(func.pg_advisory_xact_lock(_lock_key(appid))))
        try:
            yield
        finally:
            await session.rollback()  # ends the transaction: releases the lock
