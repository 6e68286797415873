"""The delivery ledger: one row per WeChat webhook delivery, the cross-process dedup.

A row is claimed by one process (``owner``) and finished by it, or taken over by another
process once the owner is gone; every finish is conditional on still owning the row, so a
message's effects commit once even when two processes ran its handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, WebhookNonce
from storage.upsert import insert_ignore


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    status: str
    reply: str | None
    owner: str | None


@dataclass(frozen=True, slots=True)
class Orphan:
    """A delivery still "processing" under an owner that may be gone."""

    id: int
    dedup_key: str
    owner: str | None


class NonceReused(Exception):
    """A nonce already seen with another body: a forged or replayed call."""


class LostOwnership(Exception):
    """Another process took the delivery over: this handler's effects must not commit."""


class DeliveryRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def use_nonce(self, nonce_key: str, body_hash: str, now: datetime) -> None:
        """Remember a (timestamp, nonce) pair with its body; the same body may come again."""
        if await insert_ignore(
            self.session, WebhookNonce, nonce_key=nonce_key, body_hash=body_hash, seen_at=now
        ):
            return
        seen = await self.session.scalar(
            select(WebhookNonce.body_hash).where(WebhookNonce.nonce_key == nonce_key)
        )
        if seen != body_hash:
            raise NonceReused

    async def claim(
        self,
        *,
        dedup_key: str,
        user_key: str | None,
        owner: str,
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
            user_key=user_key,
            owner=owner,
            msg_type=msg_type,
            event=event,
            payload=payload,
            status="processing",
            received_at=now,
        )

    async def take_over(self, dedup_key: str, *, old: str | None, owner: str) -> str | None:
        """Become the owner of a delivery whose owner is gone; returns its payload if won."""
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.dedup_key == dedup_key,
                Delivery.status == "processing",
                Delivery.owner.is_(None) if old is None else Delivery.owner == old,
            )
            .values(owner=owner)
        )
        if not getattr(result, "rowcount", 0):
            return None
        payload: str | None = await self.session.scalar(
            select(Delivery.payload).where(Delivery.dedup_key == dedup_key)
        )
        return payload

    async def finish(
        self, dedup_key: str, *, owner: str, status: str, reply: str, payload: str, now: datetime
    ) -> None:
        """Close a delivery this process owns, in the transaction of the handler's effects."""
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.dedup_key == dedup_key,
                Delivery.owner == owner,
                Delivery.status == "processing",
            )
            .values(
                status=status,
                reply=reply,
                payload=payload,
                finished_at=now,
            )
        )
        if not getattr(result, "rowcount", 0):
            raise LostOwnership(dedup_key)

    async def outcome(self, dedup_key: str) -> DeliveryOutcome | None:
        row = (
            await self.session.execute(
                select(Delivery.status, Delivery.reply, Delivery.owner).where(
                    Delivery.dedup_key == dedup_key
                )
            )
        ).one_or_none()
        if row is None:
            return None
        return DeliveryOutcome(status=row.status, reply=row.reply, owner=row.owner)

    async def earlier_pending(self, user_key: str, dedup_key: str, owner: str) -> int:
        """Deliveries of the same user, claimed before this one, another process still handles."""
        mine = select(Delivery.id).where(Delivery.dedup_key == dedup_key).scalar_subquery()
        stmt = select(func.count()).where(
            Delivery.user_key == user_key,
            Delivery.status == "processing",
            Delivery.id < mine,
            Delivery.owner != owner,
        )
        return int(await self.session.scalar(stmt) or 0)

    async def orphans(self, after_id: int = 0, limit: int = 500) -> list[Orphan]:
        """Deliveries still "processing", oldest first: the caller tells which are orphaned."""
        stmt = (
            select(Delivery.id, Delivery.dedup_key, Delivery.owner)
            .where(Delivery.status == "processing", Delivery.id > after_id)
            .order_by(Delivery.id)
            .limit(limit)
        )
        rows = await self.session.execute(stmt)
        return [Orphan(id=row.id, dedup_key=row.dedup_key, owner=row.owner) for row in rows]

    async def prune(self, *, replies_before: datetime, nonces_before: datetime) -> None:
        """Drop what only retries needed: old replies (they name the user) and nonces."""
        await self.session.execute(
            update(Delivery)
            .where(Delivery.reply.is_not(None), Delivery.finished_at < replies_before)
            .values(reply=None)
        )
        # A handled row needs no sender any more: a trail of one person's messages over time
        # could be matched to the times of their anonymous tips. Rows kept sealed (failed,
        # over the limit) keep it, so that unfollowing can still empty them.
        await self.session.execute(
            update(Delivery)
            .where(
                Delivery.status == "done",
                Delivery.user_key.is_not(None),
                Delivery.finished_at < replies_before,
            )
            .values(user_key=None)
        )
        await self.session.execute(
            delete(WebhookNonce).where(WebhookNonce.seen_at < nonces_before)
        )

    async def forget_user(self, user_key: str) -> None:
        """Unsubscribe: keep the dedup rows, drop what ties them to the person."""
        await self.session.execute(
            update(Delivery)
            .where(Delivery.user_key == user_key, Delivery.status != "processing")
            .values(payload="", reply=None)
        )
        # In-flight rows (this very unsubscribe) keep their payload for recovery, not the link.
        await self.session.execute(
            update(Delivery).where(Delivery.user_key == user_key).values(user_key=None)
        )
