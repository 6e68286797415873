"""The access_token: one per appid, shared by every process through the store.

A process keeps a copy in memory. When it is missing, near expiry, or rejected by WeChat,
the process re-reads the shared row, and only if that is no better it takes the row's lock
and fetches a new one; whoever waited on the lock then finds the fresh token and fetches
nothing (WeChat allows 2 000 fetches a day, and a fetch invalidates the old token in 5 min).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.clock import Clock, utc
from storage.models import AccessToken
from storage.tokens import TokenRepo

log = logging.getLogger("pingan.api")

#: Refresh this long before the token's stated expiry.
REFRESH_MARGIN = timedelta(minutes=5)

Fetch = Callable[[], Awaitable[tuple[str, int]]]


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
        self._lock = asyncio.Lock()
        self.fetches = 0

    def _usable(self, token: str, expires_at: datetime, stale: str | None) -> bool:
        return bool(token) and token != stale and expires_at - REFRESH_MARGIN > utc(self._clock)

    def _keep(self, row: AccessToken) -> str:
        self._token, self._expires_at = row.token, row.expires_at
        return row.token

    async def get(self, *, stale: str | None = None) -> str:
        """A valid token; ``stale`` is one WeChat just rejected, which must not come back."""
        if self._usable(self._token, self._expires_at, stale):
            return self._token
        async with self._lock:
            if self._usable(self._token, self._expires_at, stale):
                return self._token
            async with self._sessionmaker() as session:
                row = await TokenRepo(session).get(self.appid)
            if row is not None and self._usable(row.token, row.expires_at, stale):
                return self._keep(row)
            async with self._sessionmaker.begin() as session:
                repo = TokenRepo(session)
                row = await repo.lock(self.appid)
                if self._usable(row.token, row.expires_at, stale):
                    return self._keep(row)
                token, expires_in = await self._fetch()
                self.fetches += 1
                now = utc(self._clock)
                await repo.store(
                    self.appid,
                    token=token,
                    expires_at=now + timedelta(seconds=expires_in),
                    now=now,
                )
            log.info("access_token refreshed appid=%s expires_in=%s", self.appid, expires_in)
            self._token, self._expires_at = token, now + timedelta(seconds=expires_in)
            return token
