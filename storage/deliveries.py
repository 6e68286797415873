"""The delivery ledger: one row per WeChat webhook delivery, the cross-process dedup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery
from storage.upsert import insert_ignore


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    status: str
    reply: str | None


class DeliveryRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self,
        *,
        dedup_key: str,
        openid: str | None,
        msg_type: str,
        event: str | None,
        payload: str,
        now: datetime,
    ) -> bool:
        """Record a delivery; False when the same delivery was recorded before (a retry)."""
        return await insert_ignore(
            self.session,
            Delivery,
            dedup_key=dedup_key,
            openid=openid,
            msg_type=msg_type,
            event=event,
            payload=payload,
            status="processing",
            received_at=now,
        )

    async def finish(self, dedup_key: str, *, status: str, reply: str, now: datetime) -> None:
        await self.session.execute(
            update(Delivery)
            .where(Delivery.dedup_key == dedup_key)
            .values(status=status, reply=reply, finished_at=now)
        )

    async def outcome(self, dedup_key: str) -> DeliveryOutcome | None:
        row = (
            await self.session.execute(
                select(Delivery.status, Delivery.reply).where(Delivery.dedup_key == dedup_key)
            )
        ).one_or_none()
        return None if row is None else DeliveryOutcome(status=row.status, reply=row.reply)

    async def stale(self, before: datetime, limit: int = 100) -> list[tuple[str, str]]:
        """Deliveries still "processing" since before ``before``: their process died."""
        stmt = (
            select(Delivery.dedup_key, Delivery.payload)
            .where(Delivery.status == "processing", Delivery.received_at < before)
            .order_by(Delivery.id)
            .limit(limit)
        )
        return [(row.dedup_key, row.payload) for row in await self.session.execute(stmt)]

    async def reclaim(self, dedup_key: str, *, before: datetime, now: datetime) -> bool:
        """Take over a stale delivery; the condition lets only one process win."""
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.dedup_key == dedup_key,
                Delivery.status == "processing",
                Delivery.received_at < before,
            )
            .values(received_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def forget_user(self, openid: str) -> None:
        """Unsubscribe: keep the dedup rows, drop what ties them to the person."""
        await self.session.execute(
            update(Delivery).where(Delivery.openid == openid).values(openid=None, payload="")
        )
