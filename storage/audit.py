"""The audit log: who did or saw what, appended and never changed (see migration 0005)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(
        self,
        *,
        officer_id: int | None,
        action: str,
        subject: str | None,
        now: datetime,
        detail: str | None = None,
    ) -> None:
        self.session.add(
            AuditEntry(
                at=now, officer_id=officer_id, action=action, subject=subject, detail=detail
            )
        )

    async def latest(self, limit: int = 50) -> list[AuditEntry]:
        stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())
