"""The delivery ledger: one row per WeChat webhook delivery, the cross-process dedup.

A row is claimed by one process (``owner``) and finished by it, or taken over by another
process once the owner is gone; every finish is conditional on still owning the row, so a
message's effects commit once even when two processes ran its handler.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Column, bindparam, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import Executable

from storage.models import LINKED, PROCESSING, REPLIED, Base, Delivery, WebhookNonce
from storage.upsert import insert_for, table_of

#: A plain-mode call's keyed (timestamp, nonce) digest and its body's.
Nonce = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery to record: its keyed dedup key and sender, and the inbound payload."""

    dedup_key: str
    user_key: str | None
    msg_type: str
    event: str | None
    payload: str


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


# The hot path's statements, built once: their SQL is compiled and their cache key computed
# once per process rather than per batch.


@cache
def _insert_new(dialect: str, model: type[Base], key: str) -> Executable:
    table = table_of(model)
    return insert_for(dialect, table).on_conflict_do_nothing().returning(table.c[key])


def _turns() -> Executable:
    table = table_of(Delivery)
    earlier = table.alias("earlier")
    waiting = (
        select(earlier.c.id)
        .where(
            earlier.c.user_key == table.c.user_key,
            earlier.c.status == "processing",
            earlier.c.id < table.c.id,
            earlier.c.owner != bindparam("owner"),
        )
        .exists()
    )
    return (
        select(table.c.dedup_key, waiting.label("waiting"))
        .where(
            table.c.dedup_key.in_(bindparam("keys", expanding=True)),
            table.c.owner == bindparam("owner"),
            table.c.status == "processing",
        )
        .order_by(table.c.dedup_key)  # every process locks in one order: no deadlock
        .with_for_update(of=table)
    )


def _finish() -> Executable:
    table = table_of(Delivery)
    return (
        update(table)
        .where(
            table.c.dedup_key == bindparam("key"),
            table.c.owner == bindparam("by"),
            table.c.status == "processing",
        )
        .values(status="done", reply=bindparam("xml"), payload="", finished_at=bindparam("now"))
    )


_TURNS = _turns()
_FINISH = _finish()


def sender_lock_id(user_key: str) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock (the user key is already a keyed hash)."""
    return int.from_bytes(bytes.fromhex(user_key[:16]), "big", signed=True)


class DeliveryRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def use_nonces(self, nonces: Sequence[Nonce], now: datetime) -> list[bool]:
        """Remember each (timestamp, nonce) digest with its body's; for each, whether it was
        seen before with another body (a forged or replayed call). One statement when every
        nonce is new, which is the rule."""
        first: dict[str, str] = {}
        for key, body in nonces:
            first.setdefault(key, body)
        rows = [{"nonce_key": k, "body_hash": b, "seen_at": now} for k, b in first.items()]
        new = set(await self._insert_new(WebhookNonce, table_of(WebhookNonce).c.nonce_key, rows))
        stored = dict(first)
        if old := [k for k in first if k not in new]:
            stmt = select(WebhookNonce.nonce_key, WebhookNonce.body_hash).where(
                WebhookNonce.nonce_key.in_(old)
            )
            stored.update(
                {row.nonce_key: row.body_hash for row in await self.session.execute(stmt)}
            )
        return [stored[key] != body for key, body in nonces]

    async def claim_many(
        self, claims: Sequence[Claim], *, owner: str, now: datetime
    ) -> list[bool]:
        """Record deliveries in one statement, in the given order (ledger ids follow it); for
        each, whether it was recorded now (False: a copy of one recorded before, or of one
        earlier in the list)."""
        rows = {
            c.dedup_key: {
                "dedup_key": c.dedup_key,
                "user_key": c.user_key,
                "owner": owner,
                "msg_type": c.msg_type,
                "event": c.event,
                "payload": c.payload,
                "status": "processing",
                "received_at": now,
            }
            for c in reversed(claims)  # the first copy's row wins
        }
        ordered = [rows[key] for key in dict.fromkeys(c.dedup_key for c in claims)]
        new = set(await self._insert_new(Delivery, table_of(Delivery).c.dedup_key, ordered))
        won = []
        for claim in claims:
            won.append(claim.dedup_key in new)
            new.discard(claim.dedup_key)
        return won

    async def _insert_new(
        self, model: type[Base], key: Column[Any], rows: list[dict[str, Any]]
    ) -> list[str]:
        """INSERT … ON CONFLICT DO NOTHING RETURNING key: the keys inserted now. Run as an
        executemany, which SQLAlchemy sends as multi-row VALUES ("insertmanyvalues") from one
        compiled statement, whatever the number of rows."""
        if not rows:
            return []
        stmt = _insert_new(self.session.get_bind().dialect.name, model, key.name)
        connection = await self.session.connection()
        return list((await connection.execute(stmt, rows)).scalars().all())

    async def lock_senders(self, user_keys: Iterable[str]) -> None:
        """PostgreSQL: hold these senders until the transaction ends, taken in one order in
        every process so that two batches never wait for each other."""
        ids = sorted(sender_lock_id(key) for key in user_keys)
        stmt = text(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(CAST(:ids AS bigint[])) AS k"
            " ORDER BY k) AS ordered"
        )
        await self.session.execute(stmt, {"ids": ids})

    async def turns(self, keys: Sequence[str], owner: str) -> tuple[set[str], set[str]]:
        """Of these deliveries: those this process still owns unfinished, locked until the
        transaction ends (on PostgreSQL a takeover waits for it, then finds them finished;
        SQLite's single writer holds them anyway), and among them those whose sender has
        an earlier one another process still handles (that one goes first). One statement."""
        connection = await self.session.connection()
        rows = (await connection.execute(_TURNS, {"keys": list(keys), "owner": owner})).all()
        return {row.dedup_key for row in rows}, {row.dedup_key for row in rows if row.waiting}

    async def finish_done(
        self, replies: Sequence[tuple[str, str]], *, owner: str, now: datetime
    ) -> None:
        """Close handled deliveries (key, reply XML) that ``owned`` locked for this
        transaction, in one executemany; their payload is no longer needed."""
        if not replies:
            return
        rows = [{"key": k, "xml": xml, "by": owner, "now": now} for k, xml in replies]
        await (await self.session.connection()).execute(_FINISH, rows)

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

    async def orphans(self, after_id: int = 0, limit: int = 500) -> list[Orphan]:
        """Deliveries still "processing", oldest first: the caller tells which are orphaned."""
        stmt = (
            select(Delivery.id, Delivery.dedup_key, Delivery.owner)
            .where(text(PROCESSING), Delivery.id > after_id)
            .order_by(Delivery.id)
            .limit(limit)
        )
        rows = await self.session.execute(stmt)
        return [Orphan(id=row.id, dedup_key=row.dedup_key, owner=row.owner) for row in rows]

    async def prune(self, *, replies_before: datetime, nonces_before: datetime) -> None:
        """Drop what only retries needed: old replies (they name the user) and nonces."""
        table = table_of(Delivery)
        connection = await self.session.connection()
        await connection.execute(
            update(table)
            .where(text(REPLIED), table.c.finished_at < replies_before)
            .values(reply=None)
        )
        # A handled row needs no sender any more: a trail of one person's messages over time
        # could be matched to the times of their anonymous tips. Rows kept sealed (failed,
        # over the limit) keep it, so that unfollowing can still empty them.
        await connection.execute(
            update(table)
            .where(text(LINKED), table.c.finished_at < replies_before)
            .values(user_key=None)
        )
        await connection.execute(delete(WebhookNonce).where(WebhookNonce.seen_at < nonces_before))

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
