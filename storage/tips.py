"""Tips, their media, their audit trail and the officers' alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OfficerAlert, Tip, TipEvent, TipMedia


class TipRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, tip: Tip) -> Tip:
        self.session.add(tip)
        await self.session.flush()
        return tip

    async def code_taken(self, code: str) -> bool:
        return bool(await self.session.scalar(select(func.count()).where(Tip.code == code)))

    async def by_code(self, code: str) -> Tip | None:
        return (
            await self.session.execute(select(Tip).where(Tip.code == code))
        ).scalar_one_or_none()

    async def for_reporter(self, lookup: str, limit: int = 10) -> list[Tip]:
        stmt = (
            select(Tip)
            .where(Tip.reporter_lookup == lookup)
            .order_by(Tip.created_at.desc(), Tip.id.desc())
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def count_since(self, lookup: str, since: datetime) -> int:
        stmt = select(func.count()).where(Tip.reporter_lookup == lookup, Tip.created_at >= since)
        return int(await self.session.scalar(stmt) or 0)

    async def count_similar(self, *, community_id: int, category: str, since: datetime) -> int:
        stmt = select(func.count()).where(
            Tip.community_id == community_id, Tip.category == category, Tip.created_at >= since
        )
        return int(await self.session.scalar(stmt) or 0)

    async def awaiting_rating(self, lookup: str) -> list[Tip]:
        stmt = (
            select(Tip)
            .where(
                Tip.reporter_lookup == lookup,
                Tip.rating_requested.is_(True),
                Tip.satisfaction.is_(None),
            )
            .order_by(Tip.resolved_at.desc())
        )
        return list((await self.session.execute(stmt)).scalars())

    async def log(self, event: TipEvent) -> None:
        self.session.add(event)

    async def events(self, tip_id: int) -> list[TipEvent]:
        stmt = select(TipEvent).where(TipEvent.tip_id == tip_id).order_by(TipEvent.id)
        return list((await self.session.execute(stmt)).scalars())

    async def alert(self, *, tip_id: int, kind: str, now: datetime) -> None:
        self.session.add(OfficerAlert(tip_id=tip_id, kind=kind, created_at=now))

    async def forget_reporter(self, openid: str, lookup: str) -> None:
        """Unsubscribe: the tips stay (police records) but lose every link to the person."""
        await self.session.execute(
            update(Tip)
            .where((Tip.reporter_openid == openid) | (Tip.reporter_lookup == lookup))
            .values(reporter_openid=None, reporter_sealed=None, reporter_lookup=None)
        )
        await self.session.execute(
            update(TipMedia).where(TipMedia.draft_owner == openid).values(draft_owner=None)
        )


class MediaRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, media: TipMedia) -> TipMedia:
        self.session.add(media)
        await self.session.flush()
        return media

    async def drafts(self, owner: str) -> list[TipMedia]:
        stmt = select(TipMedia).where(TipMedia.draft_owner == owner).order_by(TipMedia.id)
        return list((await self.session.execute(stmt)).scalars())

    async def attach(self, ids: Sequence[int], tip_id: int) -> None:
        if ids:
            await self.session.execute(
                update(TipMedia)
                .where(TipMedia.id.in_(ids))
                .values(tip_id=tip_id, draft_owner=None)
            )

    async def discard_drafts(self, owner: str) -> None:
        """A cancelled report leaves nothing half-written behind."""
        stmt = select(TipMedia).where(TipMedia.draft_owner == owner, TipMedia.tip_id.is_(None))
        for media in (await self.session.execute(stmt)).scalars():
            await self.session.delete(media)

    async def count_for(self, tip_id: int) -> int:
        stmt = select(func.count()).where(TipMedia.tip_id == tip_id)
        return int(await self.session.scalar(stmt) or 0)
