"""Patrol teams, volunteers, shifts with their tracks, patrol reports and the points ledger."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Tip
from storage.patrol_models import (
    PatrolActivity,
    PatrolReport,
    PatrolShift,
    PatrolTeam,
    PointEntry,
    TrackPoint,
    Volunteer,
)
from storage.tips import OPEN_STATUSES
from storage.users import EnrolmentRepo


class PatrolRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- teams and volunteers -----------------------------------------------------------

    async def add_team(
        self,
        *,
        name: str,
        community_id: int | None,
        now: datetime,
        lat: float | None = None,
        lng: float | None = None,
        radius_m: int | None = None,
    ) -> PatrolTeam:
        team = PatrolTeam(
            name=name,
            community_id=community_id,
            lat=lat,
            lng=lng,
            radius_m=radius_m,
            created_at=now,
        )
        self.session.add(team)
        await self.session.flush()
        return team

    async def team(self, team_id: int) -> PatrolTeam | None:
        return await self.session.get(PatrolTeam, team_id)

    async def teams(self) -> list[PatrolTeam]:
        return list((await self.session.scalars(select(PatrolTeam).order_by(PatrolTeam.id))).all())

    async def invite(
        self, team: PatrolTeam, *, name: str, role: str, code: str, now: datetime, valid: timedelta
    ) -> Volunteer:
        """A pending volunteer and the single-use code (or QR scene) that enrols them."""
        volunteer = Volunteer(
            team_id=team.id, name=name, role=role, code=code, status="pending", created_at=now
        )
        self.session.add(volunteer)
        await EnrolmentRepo(self.session).create(
            code=code,
            role="patrol",
            community_id=team.community_id,
            now=now,
            expires_at=now + valid,
        )
        return volunteer

    async def volunteer(self, volunteer_id: int) -> Volunteer | None:
        return await self.session.get(Volunteer, volunteer_id)

    async def by_code(self, code: str) -> Volunteer | None:
        return await self.session.scalar(select(Volunteer).where(Volunteer.code == code))

    async def of(self, openid: str) -> Volunteer | None:
        """The account's volunteer record, whatever its status."""
        return await self.session.scalar(select(Volunteer).where(Volunteer.openid == openid))

    async def volunteers(self, team_id: int | None = None) -> list[Volunteer]:
        stmt = select(Volunteer).order_by(Volunteer.id)
        if team_id is not None:
            stmt = stmt.where(Volunteer.team_id == team_id)
        return list((await self.session.scalars(stmt)).all())

    async def bind(self, volunteer: Volunteer, openid: str, now: datetime) -> None:
        """One account, one volunteer: an earlier record of this account lets go of it."""
        await self.session.execute(
            update(Volunteer)
            .where(Volunteer.openid == openid, Volunteer.id != volunteer.id)
            .values(openid=None, status="left")
        )
        volunteer.openid, volunteer.status, volunteer.bound_at = openid, "active", now

    async def forget(self, openid: str) -> None:
        """Unsubscribe: the record (and its points and shifts) stays, the account goes."""
        await self.session.execute(
            update(Volunteer).where(Volunteer.openid == openid).values(openid=None, status="left")
        )

    # -- shifts -------------------------------------------------------------------------

    async def open_shift(self, volunteer_id: int) -> PatrolShift | None:
        stmt = select(PatrolShift).where(
            PatrolShift.volunteer_id == volunteer_id, PatrolShift.ended_at.is_(None)
        )
        return await self.session.scalar(stmt.order_by(PatrolShift.id.desc()).limit(1))

    async def start(self, volunteer: Volunteer, now: datetime) -> PatrolShift:
        shift = PatrolShift(
            volunteer_id=volunteer.id,
            team_id=volunteer.team_id,
            started_at=now,
            seen_at=now,
            far=False,
            distance_m=0.0,
        )
        self.session.add(shift)
        await self.session.flush()
        return shift

    async def on_patrol(self) -> list[tuple[PatrolShift, Volunteer, PatrolTeam]]:
        """Every open shift with its volunteer and team, longest first."""
        stmt = (
            select(PatrolShift, Volunteer, PatrolTeam)
            .join(Volunteer, Volunteer.id == PatrolShift.volunteer_id)
            .join(PatrolTeam, PatrolTeam.id == PatrolShift.team_id)
            .where(PatrolShift.ended_at.is_(None))
            .order_by(PatrolShift.started_at)
        )
        return [(s, v, t) for s, v, t in (await self.session.execute(stmt)).all()]

    async def overdue(self, started_before: datetime, limit: int = 100) -> list[PatrolShift]:
        stmt = (
            select(PatrolShift)
            .where(PatrolShift.ended_at.is_(None), PatrolShift.started_at <= started_before)
            .order_by(PatrolShift.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.scalars(stmt)).all())

    async def history(self, volunteer_id: int, limit: int = 5) -> list[PatrolShift]:
        stmt = (
            select(PatrolShift)
            .where(PatrolShift.volunteer_id == volunteer_id)
            .order_by(PatrolShift.started_at.desc())
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    def track(
        self, shift: PatrolShift, *, at: datetime, lat: float, lng: float, precision: float | None
    ) -> None:
        self.session.add(
            TrackPoint(shift_id=shift.id, at=at, lat=lat, lng=lng, precision=precision)
        )

    async def track_points(self, shift_id: int) -> list[TrackPoint]:
        stmt = select(TrackPoint).where(TrackPoint.shift_id == shift_id).order_by(TrackPoint.id)
        return list((await self.session.scalars(stmt)).all())

    # -- what a shift reported and did --------------------------------------------------

    def report(self, *, tip_id: int, shift: PatrolShift, kind: str = "report") -> None:
        self.session.add(
            PatrolReport(
                tip_id=tip_id,
                shift_id=shift.id,
                volunteer_id=shift.volunteer_id,
                kind=kind,
                valuable=False,
                solved=False,
            )
        )

    async def open_sos(self, shift_id: int, since: datetime) -> Tip | None:
        """The shift's latest call for help since ``since``, if no officer has closed it."""
        stmt = (
            select(Tip)
            .join(PatrolReport, PatrolReport.tip_id == Tip.id)
            .where(
                PatrolReport.shift_id == shift_id,
                PatrolReport.kind == "sos",
                Tip.created_at >= since,
                Tip.status.in_(OPEN_STATUSES),
            )
            .order_by(Tip.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def report_of(self, tip_id: int) -> PatrolReport | None:
        return await self.session.get(PatrolReport, tip_id)

    async def reports_on(self, shift_id: int) -> int:
        stmt = select(func.count()).where(
            PatrolReport.shift_id == shift_id, PatrolReport.kind == "report"
        )
        return int(await self.session.scalar(stmt) or 0)

    def activity(self, shift: PatrolShift, *, kind: str, count: int, at: datetime) -> None:
        self.session.add(
            PatrolActivity(
                shift_id=shift.id, volunteer_id=shift.volunteer_id, kind=kind, count=count, at=at
            )
        )

    async def activities_on(self, shift_id: int) -> dict[str, int]:
        stmt = (
            select(PatrolActivity.kind, func.sum(PatrolActivity.count))
            .where(PatrolActivity.shift_id == shift_id)
            .group_by(PatrolActivity.kind)
        )
        return {kind: int(total) for kind, total in (await self.session.execute(stmt)).all()}

    # -- the points ledger (append-only) ------------------------------------------------

    def award(
        self,
        volunteer_id: int,
        points: int,
        *,
        rule: str,
        reason: str,
        now: datetime,
        officer_id: int | None = None,
        shift_id: int | None = None,
        tip_id: int | None = None,
    ) -> None:
        if points == 0:
            return
        self.session.add(
            PointEntry(
                volunteer_id=volunteer_id,
                at=now,
                points=points,
                rule=rule,
                reason=reason,
                officer_id=officer_id,
                shift_id=shift_id,
                tip_id=tip_id,
            )
        )

    async def balance(self, volunteer_id: int) -> int:
        stmt = select(func.coalesce(func.sum(PointEntry.points), 0)).where(
            PointEntry.volunteer_id == volunteer_id
        )
        return int(await self.session.scalar(stmt) or 0)

    async def entries(self, volunteer_id: int, limit: int = 5) -> list[PointEntry]:
        stmt = (
            select(PointEntry)
            .where(PointEntry.volunteer_id == volunteer_id)
            .order_by(PointEntry.id.desc())
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def earned_on(self, shift_id: int) -> int:
        stmt = select(func.coalesce(func.sum(PointEntry.points), 0)).where(
            PointEntry.shift_id == shift_id
        )
        return int(await self.session.scalar(stmt) or 0)

    async def leaderboard(
        self, team_id: int, since: datetime, until: datetime, limit: int = 10
    ) -> list[tuple[str, int]]:
        """A team's volunteers by the points they earned in [since, until)."""
        total = func.sum(PointEntry.points).label("total")
        stmt = (
            select(Volunteer.name, total)
            .join(PointEntry, PointEntry.volunteer_id == Volunteer.id)
            .where(Volunteer.team_id == team_id, PointEntry.at >= since, PointEntry.at < until)
            .group_by(Volunteer.id, Volunteer.name)
            .order_by(total.desc(), Volunteer.id)
            .limit(limit)
        )
        return [(name, int(points)) for name, points in (await self.session.execute(stmt)).all()]
