"""The seal key against the store: a start with the wrong key stops, rotation re-seals.

A canary sealed at the first start sits in ``key_checks``; a later start whose keys cannot
read it would seal new values the old ones cannot be found beside, and could reach none of the
reporters already sealed, so it stops with :class:`KeyMismatch` instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute

from storage.models import Delivery, KeyCheck, Tip, User
from storage.upsert import insert_ignore

log = logging.getLogger(__name__)

CANARY = "seal"
CANARY_TEXT = "pingan seal key check"


class KeyMismatch(Exception):
    """The configured keys cannot read what the store was sealed with."""

    def __init__(self) -> None:
        super().__init__(
            "PINGAN_SEAL_KEY cannot read this store: it was sealed with another key. "
            "To change keys, list the new key first and the old one after it "
            "(PINGAN_SEAL_KEY=NEW,OLD), run `pingan keys rotate`, then drop the old key; "
            "otherwise restore the key this store was made with."
        )


class Sealing(Protocol):
    """What this module needs of bot.keys.Keys (storage does not import bot)."""

    def seal(self, text: str) -> str: ...
    def unseal(self, token: str) -> str | None: ...
    def newest_seals(self, token: str) -> bool: ...
    def rotate(self, token: str) -> str: ...


@dataclass(frozen=True)
class _Column:
    """A column of sealed values, the rows' primary key, and which rows hold sealed values."""

    name: str
    model: type[DeclarativeBase]
    pk: InstrumentedAttribute[Any]
    value: InstrumentedAttribute[Any]
    where: tuple[ColumnElement[bool], ...] = ()


SEALED: Sequence[_Column] = (
    _Column("key check", KeyCheck, KeyCheck.name, KeyCheck.sealed),
    _Column("tips.reporter_sealed", Tip, Tip.id, Tip.reporter_sealed),
    _Column("users.tips_sealed", User, User.openid, User.tips_sealed),
    # Payloads are sealed once a delivery failed or was over the rate limit; plain before.
    _Column(
        "deliveries.payload",
        Delivery,
        Delivery.id,
        Delivery.payload,
        (Delivery.status.in_(("failed", "limited")),),
    ),
)


async def _first_sealed(session: AsyncSession, column: _Column) -> str | None:
    stmt = select(column.value).where(column.value.is_not(None), column.value != "", *column.where)
    value: str | None = await session.scalar(stmt.limit(1))
    return value


async def verify_store_key(
    sessionmaker: async_sessionmaker[AsyncSession], keys: Sealing, now: datetime
) -> None:
    """Seal the canary into a store that has none, else check the keys can read it.

    Raises :class:`KeyMismatch`. Two processes starting at once on an empty store insert one
    canary between them and both check it, so the second one's key is checked too.
    """
    async with sessionmaker.begin() as session:
        if await session.get(KeyCheck, CANARY) is None:
            # A store sealed before canaries existed: its sealed values must be readable too.
            for column in SEALED[1:]:
                token = await _first_sealed(session, column)
                if token is not None and keys.unseal(token) is None:
                    raise KeyMismatch
            await insert_ignore(
                session, KeyCheck, name=CANARY, sealed=keys.seal(CANARY_TEXT), created_at=now
            )
        sealed = await session.scalar(select(KeyCheck.sealed).where(KeyCheck.name == CANARY))
    if sealed is None or keys.unseal(sealed) != CANARY_TEXT:
        raise KeyMismatch
    if not keys.newest_seals(sealed):
        log.warning("the store is sealed with an older key: run `pingan keys rotate`")


@dataclass
class Resealed:
    """What ``rotate_store`` did to one column."""

    name: str
    resealed: int = 0  # now sealed with the newest key
    current: int = 0  # were sealed with it already
    unreadable: int = 0  # no key can read them: left as they are


async def rotate_store(
    sessionmaker: async_sessionmaker[AsyncSession], keys: Sealing, *, batch: int = 500
) -> list[Resealed]:
    """Re-seal every sealed value with the newest key, in short transactions.

    Raises :class:`KeyMismatch` before changing anything when the keys cannot read the canary.
    Safe beside a running service: a row is only rewritten if it still holds the value that
    was read, so a value the service changed meanwhile is left as the service wrote it.
    """
    async with sessionmaker() as session:
        canary = await session.scalar(select(KeyCheck.sealed).where(KeyCheck.name == CANARY))
    if canary is not None and keys.unseal(canary) != CANARY_TEXT:
        raise KeyMismatch
    results = []
    for column in SEALED:
        result = Resealed(column.name)
        last: Any = None
        while True:
            async with sessionmaker.begin() as session:
                stmt = select(column.pk, column.value).where(
                    column.value.is_not(None), column.value != "", *column.where
                )
                if last is not None:
                    stmt = stmt.where(column.pk > last)
                rows = (await session.execute(stmt.order_by(column.pk).limit(batch))).all()
                for pk, token in rows:
                    if keys.newest_seals(token):
                        result.current += 1
                    elif keys.unseal(token) is None:
                        result.unreadable += 1
                    else:
                        done = await session.execute(
                            update(column.model)
                            .where(column.pk == pk, column.value == token)
                            .values({column.value: keys.rotate(token)})
                            .execution_options(synchronize_session=False)
                        )
                        result.resealed += getattr(done, "rowcount", 0)
            if len(rows) < batch:
                break
            last = rows[-1][0]
        results.append(result)
    return results
