"""Tips, their media, their audit trail and the officers' alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.alerts import raise_alert
from storage.models import OfficerAlert, Tip, TipEvent, TipMedia

#: Statuses of a tip still being worked (``handlers.tips.service`` moves tips between them).
OPEN_STATUSES = ("submitted", "accepted", "in_progress")


class TipRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, tip: Tip) -> Tip:
        self.session.add(tip)
        await self.session.flush()
        return tip

    async def get(self, tip_id: int) -> Tip | None:
        return await self.session.get(Tip, tip_id)

    async def newest(
        self,
        *,
        status: str | None = None,
        level: str | None = None,
        assigned_to: int | None = None,
        community_id: int | None = None,
        limit: int = 8,
        offset: int = 0,
    ) -> list[Tip]:
        """The newest tips for an officer's list: by status, or the open ones of a level, of
        an officer or of a community."""
        stmt = select(Tip).order_by(Tip.created_at.desc(), Tip.id.desc())
        if status is not None:
            stmt = stmt.where(Tip.status == status)
        else:
            stmt = stmt.where(Tip.status.in_(OPEN_STATUSES))
        if level is not None:
            stmt = stmt.where(Tip.level == level)
        if assigned_to is not None:
            stmt = stmt.where(Tip.assigned_to == assigned_to)
        if community_id is not None:
            stmt = stmt.where(Tip.community_id == community_id)
        stmt = stmt.limit(limit).offset(offset)
        return list((await self.session.execute(stmt)).scalars())

    async def code_taken(self, code: str) -> bool:
        return bool(await self.session.scalar(select(func.count()).where(Tip.code == code)))

    async def by_code(self, code: str) -> Tip | None:
        return (
            await self.session.execute(select(Tip).where(Tip.code == code))
        ).scalar_one_or_none()

    async def among(self, ids: Sequence[int], limit: int = 10) -> list[Tip]:
        """The newest of the given tips (a reporter's own, from their sealed index)."""
        if not ids:
            return []
        stmt = (
            select(Tip)
            .where(Tip.id.in_(ids))
            .order_by(Tip.created_at.desc(), Tip.id.desc())
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def count_since(self, ids: Sequence[int], since: datetime) -> int:
        if not ids:
            return 0
        stmt = select(func.count()).where(Tip.id.in_(ids), Tip.created_at >= since)
        return int(await self.session.scalar(stmt) or 0)

    async def open_emergency(self, ids: Sequence[int], since: datetime) -> Tip | None:
        """The reporter's emergency still open and recent: further messages fold into it."""
        if not ids:
            return None
        stmt = (
            select(Tip)
            .where(
                Tip.id.in_(ids),
                Tip.source == "emergency",
                Tip.status.in_(OPEN_STATUSES),
                Tip.created_at >= since,
            )
            .order_by(Tip.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def count_similar(self, *, community_id: int, category: str, since: datetime) -> int:
        stmt = select(func.count()).where(
            Tip.community_id == community_id, Tip.category == category, Tip.created_at >= since
        )
        return int(await self.session.scalar(stmt) or 0)

    async def awaiting_rating(self, ids: Sequence[int]) -> list[Tip]:
        if not ids:
            return []
        stmt = (
            select(Tip)
            .where(
                Tip.id.in_(ids),
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
        raise_alert(self.session, OfficerAlert(tip_id=tip_id, kind=kind, created_at=now))

    async def forget_reporter(self, openid: str, ids: Sequence[int]) -> None:
        """Unsubscribe: the tips stay (police records) but lose every link to the person."""
        if ids:
            await self.session.execute(
                update(Tip).where(Tip.id.in_(ids)).values(reporter_sealed=None)
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

    async def drop(self, owner: str, media_id: int) -> None:
        """A draft clip the reporter replaced: nothing is kept that will not be submitted."""
        await self.session.execute(
            delete(TipMedia).where(
                TipMedia.id == media_id, TipMedia.draft_owner == owner, TipMedia.tip_id.is_(None)
            )
        )

    async def discard_drafts(self, owner: str) -> None:
        """A cancelled report leaves nothing half-written behind."""
        stmt = select(TipMedia).where(TipMedia.draft_owner == owner, TipMedia.tip_id.is_(None))
        for media in (await self.session.execute(stmt)).scalars():
            await self.session.delete(media)

    async def photos(self, tip_id: int, limit: int = 9) -> list[int]:
        """Ids of a tip's photos, oldest first (ids only: the pictures stay in the store)."""
        stmt = (
            select(TipMedia.id)
            .where(TipMedia.tip_id == tip_id, TipMedia.kind == "image")
            .order_by(TipMedia.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def count_for(self, tip_id: int) -> int:
        stmt = select(func.count()).where(TipMedia.tip_id == tip_id)
        return int(await self.session.scalar(stmt) or 0)
