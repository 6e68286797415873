"""Outbound pushes (customer-service messages): recorded first, then sent, then marked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboundMessage, User


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, openid: str, *, kind: str, payload: dict[str, Any], now: datetime
    ) -> OutboundMessage:
        row = OutboundMessage(
            openid=openid, kind=kind, payload=payload, status="pending", created_at=now
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def mark(
        self, message_id: int, *, status: str, errcode: int | None, now: datetime | None
    ) -> None:
        await self.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id)
            .values(status=status, errcode=errcode, sent_at=now)
        )

    async def hold(self, message_id: int, *, openid: str, errcode: int) -> None:
        """WeChat refused the push (window closed): keep it for the user's next message."""
        await self.mark(message_id, status="held", errcode=errcode, now=None)
        await self.session.execute(
            update(User).where(User.openid == openid).values(held_pushes=User.held_pushes + 1)
        )

    async def pending(self, ids: Sequence[int]) -> list[OutboundMessage]:
        stmt = (
            select(OutboundMessage)
            .where(OutboundMessage.id.in_(ids), OutboundMessage.status == "pending")
            .order_by(OutboundMessage.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def stale(self, before: datetime, limit: int = 100) -> list[int]:
        """Pushes recorded but never sent (the process stopped in between), or that failed on
        the way (timeouts, 5xx: errcode -2, WeChat busy: -1) and are worth another try."""
        stmt = (
            select(OutboundMessage.id)
            .where(
                OutboundMessage.created_at < before,
                (OutboundMessage.status == "pending")
                | ((OutboundMessage.status == "failed") & OutboundMessage.errcode.in_((-1, -2))),
            )
            .order_by(OutboundMessage.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def retry(self, ids: Sequence[int]) -> None:
        if ids:
            await self.session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id.in_(ids), OutboundMessage.status == "failed")
                .values(status="pending", errcode=None)
            )

    async def held_for(self, openid: str) -> list[OutboundMessage]:
        stmt = (
            select(OutboundMessage)
            .where(OutboundMessage.openid == openid, OutboundMessage.status == "held")
            .order_by(OutboundMessage.id)
        )
        return list((await self.session.execute(stmt)).scalars())
