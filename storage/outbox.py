"""Outbound pushes (customer-service messages): recorded first, then claimed, sent and marked.

A row is *live* (``pending`` or ``failed``) while it may still be sent; ``next_attempt_at`` says
when the retry pass may take it. Whoever sends a row first claims it with a conditional UPDATE
that moves ``next_attempt_at`` past the send and counts the attempt, so two processes never
send one row at once. Once a push is sent, shown, dropped or dead its payload is emptied: the
text often holds a tip code next to the openid and must not stay in the store.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import to_the_hour
from storage.models import OutboundMessage, User

#: Statuses the retry pass may still send.
LIVE = ("pending", "failed")
#: Statuses after which the text is no longer needed.
FINAL = frozenset({"sent", "shown", "dropped", "dead"})
#: A fresh push is sent right after its commit; the retry pass only takes it after this long
#: (its process died in between).
ABANDONED_AFTER = timedelta(minutes=1)


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, openid: str | None, *, kind: str, payload: dict[str, Any], now: datetime
    ) -> OutboundMessage:
        row = OutboundMessage(
            openid=openid,
            kind=kind,
            payload=payload,
            status="pending",
            attempts=0,
            next_attempt_at=now + ABANDONED_AFTER,  # cleared once sent, held or given up
            created_at=to_the_hour(now),
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def mark(
        self,
        message_id: int,
        *,
        status: str,
        errcode: int | None,
        now: datetime | None,
        attempt: int | None = None,
    ) -> bool:
        """Record an outcome; ``attempt`` (the claim's count) ignores a claimer whose lease ran
        out and whose row someone else took meanwhile. True when the row was updated."""
        values: dict[str, Any] = {
            "status": status,
            "errcode": errcode,
            "sent_at": now,
            "next_attempt_at": None,
        }
        if status in FINAL:
            # Nothing is left to send: keep neither the text nor whom it went to. A row holding
            # the openid at the time an anonymous tip changed would name its reporter.
            values["payload"] = {}
            values["openid"] = None
        stmt = update(OutboundMessage).where(OutboundMessage.id == message_id)
        if attempt is not None:
            stmt = stmt.where(OutboundMessage.attempts == attempt)
        result = await self.session.execute(stmt.values(**values))
        return bool(getattr(result, "rowcount", 0))

    async def fail(
        self, message_id: int, *, errcode: int | None, attempt: int, retry_at: datetime
    ) -> bool:
        """A transient failure: keep the text, try again at ``retry_at``."""
        result = await self.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id, OutboundMessage.attempts == attempt)
            .values(status="failed", errcode=errcode, next_attempt_at=retry_at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def hold(
        self, message_id: int, *, openid: str, errcode: int, attempt: int | None = None
    ) -> bool:
        """WeChat refused the push (window closed): keep it for the user's next message."""
        held = await self.mark(
            message_id, status="held", errcode=errcode, now=None, attempt=attempt
        )
        if held:
            await self.session.execute(
                update(User).where(User.openid == openid).values(held_pushes=User.held_pushes + 1)
            )
        return held

    async def due(self, now: datetime, *, limit: int) -> list[int]:
        """Live rows whose time has come, soonest first: a row that keeps failing moves back
        in the queue, so neither it nor a backlog of old failures holds up the others."""
        stmt = (
            select(OutboundMessage.id)
            .where(OutboundMessage.next_attempt_at <= now, OutboundMessage.status.in_(LIVE))
            .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def claim(
        self, message_id: int, *, now: datetime, until: datetime
    ) -> OutboundMessage | None:
        """Take a row nobody holds (never tried yet, or due) to send it: counts the attempt and
        moves ``next_attempt_at`` to ``until``, past the send, so another claim matches nothing
        until then (on PostgreSQL a concurrent claim waits for the row lock, then re-checks).
        None when the row is not there to take."""
        stmt = (
            update(OutboundMessage)
            .where(
                OutboundMessage.id == message_id,
                OutboundMessage.status.in_(LIVE),
                or_(OutboundMessage.attempts == 0, OutboundMessage.next_attempt_at <= now),
            )
            .values(attempts=OutboundMessage.attempts + 1, next_attempt_at=until)
            .returning(OutboundMessage)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def held_for(self, openid: str) -> list[OutboundMessage]:
        stmt = (
            select(OutboundMessage)
            .where(OutboundMessage.openid == openid, OutboundMessage.status == "held")
            .order_by(OutboundMessage.id)
        )
        return list((await self.session.execute(stmt)).scalars())
