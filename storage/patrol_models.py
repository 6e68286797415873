"""The red-armband patrols' tables (红袖标治安联防队): teams, volunteers, shifts and their
tracks, what a shift reported and did, and the points ledger. Same ``Base`` as the rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage import limits
from storage.modelbase import Base

BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class PatrolTeam(Base):
    """One team per village or community, with the area it patrols (a centre and a radius)."""

    __tablename__ = "patrol_teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL")
    )
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    radius_m: Mapped[int | None]
    created_at: Mapped[datetime]


class Volunteer(Base):
    """A volunteer: named (patrol reports are never anonymous), in one team, with a role.

    Created pending with the enrolment code that binds them (``code``); bound to an account
    when it is redeemed; ``suspended`` keeps the record and the points but opens no shift."""

    __tablename__ = "patrol_volunteers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("patrol_teams.id"), index=True)
    name: Mapped[str] = mapped_column(String(limits.REPORTER_NAME))
    role: Mapped[str] = mapped_column(String(16))  # a key of the rules' roles
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    openid: Mapped[str | None] = mapped_column(String(limits.OPENID), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # active | suspended
    created_at: Mapped[datetime]
    bound_at: Mapped[datetime | None]


class PatrolShift(Base):
    """One patrol (值班巡逻登记): opened by 开始巡逻, closed by 结束巡逻 or after the maximum."""

    __tablename__ = "patrol_shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("patrol_volunteers.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("patrol_teams.id"), index=True)
    started_at: Mapped[datetime]
    # Last sign of the volunteer on this shift: an auto-closed shift ends here.
    seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    closed_by: Mapped[str | None] = mapped_column(String(16))  # volunteer | auto
    # The check-in (a location message) and whether it was far from the team's area.
    checkin_lat: Mapped[float | None]
    checkin_lng: Mapped[float | None]
    far: Mapped[bool] = mapped_column(default=False)
    # The last track point kept, and the distance walked between kept points.
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    located_at: Mapped[datetime | None]
    distance_m: Mapped[float] = mapped_column(default=0.0)


class TrackPoint(Base):
    """A kept position of a shift (thinned: at most one a minute, only after moving)."""

    __tablename__ = "patrol_track_points"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    shift_id: Mapped[int] = mapped_column(
        ForeignKey("patrol_shifts.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    lat: Mapped[float]
    lng: Mapped[float]
    precision: Mapped[float | None]


class PatrolReport(Base):
    """A tip filed on patrol, linked to its shift; officers mark it valuable or solving."""

    __tablename__ = "patrol_reports"

    tip_id: Mapped[int] = mapped_column(
        ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True
    )
    shift_id: Mapped[int] = mapped_column(ForeignKey("patrol_shifts.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("patrol_volunteers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="report")  # report | sos
    valuable: Mapped[bool] = mapped_column(default=False)
    solved: Mapped[bool] = mapped_column(default=False)


class PatrolActivity(Base):
    """Work logged on a shift without a tip each: household visits, publicity, hazards."""

    __tablename__ = "patrol_activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("patrol_shifts.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("patrol_volunteers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # visit | publicity | hazard
    count: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[datetime]


class PointEntry(Base):
    """The points ledger, append-only (the database refuses updates and deletes): each entry
    says why, and who awarded it (an officer, or the rules when ``officer_id`` is empty)."""

    __tablename__ = "patrol_points"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("patrol_volunteers.id"), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    points: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(16))  # hours | report | valuable | … | officer
    reason: Mapped[str] = mapped_column(Text)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_shifts.id"))
    tip_id: Mapped[int | None] = mapped_column(ForeignKey("tips.id"))
