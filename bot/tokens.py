"""The access_token: one per appid, shared by every process through the store.

A process keeps a copy in memory. When it is missing, near expiry, or rejected by WeChat,
the process re-reads the shared row, and only if that is no better it takes the refresh lock
and reads again; whoever waited on the lock then finds the fresh token and fetches nothing
(WeChat allows 2 000 fetches a day, and a fetch invalidates the old token in 5 min).

The fetch happens outside any write transaction: on SQLite a transaction holding the one
writer connection across an 8 s token endpoint froze every user's reply. The lock is an
asyncio lock per appid shared by the process, plus on PostgreSQL an advisory lock across
processes (``storage.tokens.refresh_lock``); the new token is stored in a short write after.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.clock import Clock, utc
from storage.models import AccessToken
from storage.tokens import TokenRepo, refresh_lock

log = logging.getLogger("pingan.api")

#: Refresh this long before the token's stated expiry.
REFRESH_MARGIN = timedelta(minutes=5)

Fetch = Callable[[], Awaitable[tuple[str, int]]]

#: Per event loop and appid: every manager of the process (the demo and tests run several
#: apps in one) waits for the one refreshing. Locks belong to a loop, hence the outer key.
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _process_lock(appid: str) -> asyncio.Lock:
    locks = _LOCKS.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(appid, asyncio.Lock())


class TokenManager:
    def __init__(
        self,
        *,
        appid: str,
        fetch: Fetch,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
    ) -> None:
        self.appid = appid
        self._fetch = fetch
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._token = ""
        self._expires_at = datetime.min.replace(tzinfo=UTC)
        self.fetches = 0

    def _usable(self, token: str, expires_at: datetime, stale: str | None) -> bool:
        return bool(token) and token != stale and expires_at - REFRESH_MARGIN > utc(self._clock)

    def _keep(self, token: str, expires_at: datetime) -> str:
        self._token, self._expires_at = token, expires_at
        return token

    async def _shared(self, stale: str | None) -> str | None:
        """The store's token if it is usable (a short read, no transaction left open)."""
        async with self._sessionmaker() as session:
            row: AccessToken | None = await TokenRepo(session).get(self.appid)
        if row is not None and self._usable(row.token, row.expires_at, stale):
            return self._keep(row.token, row.expires_at)
        return None

    async def get(self, *, stale: str | None = None) -> str:
        """A valid token; ``stale`` is one WeChat just rejected, which must not come back."""
        if self._usable(self._token, self._expires_at, stale):
            return self._token
        async with _process_lock(self.appid):
            if self._usable(self._token, self._expires_at, stale):
                return self._token
            if token := await self._shared(stale):
                return token
            async with refresh_lock(self._sessionmaker, self.appid):
                # Another process may have refreshed while this one waited for the lock.
                if token := await self._shared(stale):
                    return token
                token, expires_in = await self._fetch()
                self.fetches += 1
                now = utc(self._clock)
                expires_at = now + timedelta(seconds=expires_in)
                async with self._sessionmaker.begin() as session:
                    await TokenRepo(session).store(
                        self.appid, token=token, expires_at=expires_at, now=now
                    )
            log.info("access_token refreshed appid=%s expires_in=%s", self.appid, expires_in)
            return self._keep(token, expires_at)
