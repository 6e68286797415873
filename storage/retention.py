"""How long the service keeps what it only needed for a while, and the purge past that.

The delivery ledger needs a row for WeChat's retries (seconds) and the staff for a look at
what failed (days); a finished push needs nothing once it arrived. Both name a moment of
somebody's contact with the station, so past the retention they are deleted. Tips, their
events, audit entries and points are the station's records and are not touched here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, OutboundMessage
from storage.outbox import FINAL

#: Rows deleted per statement: short transactions, so a purge never holds SQLite's single
#: writer (and the webhook behind it) for long.
CHUNK = 2000


@dataclass(frozen=True)
class Expired:
    """What a purge removes: per kind of row, how many."""

    deliveries: int
    pushes: int

    @property
    def total(self) -> int:
        return self.deliveries + self.pushes


def _deliveries(before: datetime) -> ColumnElement[bool]:
    return (Delivery.status != "processing") & (Delivery.finished_at < before)


def _pushes(before: datetime) -> ColumnElement[bool]:
    return OutboundMessage.status.in_(FINAL) & (OutboundMessage.created_at < before)


async def count_expired(session: AsyncSession, before: datetime) -> Expired:
    """What ``purge_chunk`` would delete, without deleting it (``pingan purge --dry-run``)."""
    deliveries = await session.scalar(select(func.count()).where(_deliveries(before)))
    pushes = await session.scalar(select(func.count()).where(_pushes(before)))
    return Expired(deliveries=int(deliveries or 0), pushes=int(pushes or 0))


async def purge_chunk(session: AsyncSession, before: datetime) -> Expired:
    """Delete up to ``CHUNK`` expired rows of each kind; call again until it returns 0."""
    counts = []
    for model, expired in ((Delivery, _deliveries), (OutboundMessage, _pushes)):
        ids = select(model.id).where(expired(before)).order_by(model.id).limit(CHUNK)
        result = await session.execute(delete(model).where(model.id.in_(ids.scalar_subquery())))
        counts.append(int(getattr(result, "rowcount", 0) or 0))
    return Expired(deliveries=counts[0], pushes=counts[1])
