"""The shared access_token row: read freely, refreshed by one process under a lock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AccessToken
from storage.upsert import insert_ignore

_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


class TokenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, appid: str) -> AccessToken | None:
        return await self.session.get(AccessToken, appid, populate_existing=True)

    async def lock(self, appid: str) -> AccessToken:
        """Return the row locked for update, creating an empty one first if needed.

        On PostgreSQL this is a row lock; on SQLite the transaction already holds the
        database's single writer lock (BEGIN IMMEDIATE), which serves the same purpose.
        """
        await insert_ignore(
            self.session, AccessToken, appid=appid, token="", expires_at=_EPOCH, fetched_at=_EPOCH
        )
        stmt = (
            select(AccessToken)
            .where(AccessToken.appid == appid)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one()

    async def store(self, appid: str, *, token: str, expires_at: datetime, now: datetime) -> None:
        await self.session.execute(
            update(AccessToken)
            .where(AccessToken.appid == appid)
            .values(token=token, expires_at=expires_at, fetched_at=now)
        )
