"""Officer alerts: raised inside an update, delivered and escalated by the officers feature."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Handoff, OfficerAlert, Tip

#: ``session.info`` key: alerts raised in this transaction, for whoever delivers them.
RAISED = "raised_alerts"


def raise_alert(session: AsyncSession, alert: OfficerAlert) -> OfficerAlert:
    """Add an alert and note it on the session, so the update that raised it sends it."""
    session.add(alert)
    session.info.setdefault(RAISED, []).append(alert)
    return alert


def raised(session: AsyncSession) -> list[OfficerAlert]:
    alerts: list[OfficerAlert] = session.info.pop(RAISED, [])
    return alerts


class AlertRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def due(self, now: datetime, limit: int = 50) -> list[OfficerAlert]:
        """Unacknowledged alerts whose time to escalate has come."""
        stmt = (
            select(OfficerAlert)
            .where(
                OfficerAlert.acked_at.is_(None),
                OfficerAlert.next_escalation_at <= now,
            )
            .order_by(OfficerAlert.next_escalation_at)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def subject(self, alert: OfficerAlert) -> Tip | Handoff | None:
        if alert.tip_id is not None:
            return await self.session.get(Tip, alert.tip_id)
        if alert.handoff_id is not None:
            return await self.session.get(Handoff, alert.handoff_id)
        return None

    async def acknowledge(
        self, *, tip_id: int | None, handoff_id: int | None, officer_id: int, now: datetime
    ) -> int:
        """Acknowledge every open alert about a tip or hand-off; returns how many."""
        result = await self.session.execute(
            update(OfficerAlert)
            .where(
                OfficerAlert.acked_at.is_(None),
                OfficerAlert.tip_id == tip_id
                if tip_id is not None
                else OfficerAlert.handoff_id == handoff_id,
            )
            .values(acked_at=now, acked_by=officer_id, next_escalation_at=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)
