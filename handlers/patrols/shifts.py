"""A shift's life: opened, checked in, tracked (thinned), closed with a summary and points.

Shifts left open close themselves ``max_shift`` after they started: lazily, when the volunteer
next writes or an officer looks at the roster, and in the scheduler's minute job
(``sweep``, declared in ``feature.JOBS``).
An auto-closed shift ends at the volunteer's last sign of life on it, not at the maximum, so
forgetting to sign off earns nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import _
from bot.keys import Keys
from bot.push import Outbox, Pusher
from handlers.patrols.geo import metres
from handlers.patrols.rules import PatrolRules, load_patrol_rules
from storage.clock import Clock, utc
from storage.patrol_models import PatrolShift, PatrolTeam, Volunteer
from storage.patrols import PatrolRepo

log = logging.getLogger("pingan.patrols")


def duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return _("{m} 分钟").format(m=minutes)
    return _("{h} 小时 {m} 分").format(h=minutes // 60, m=minutes % 60)


def distance(metres_walked: float) -> str:
    if metres_walked < 1000:
        return _("{m} 米").format(m=round(metres_walked))
    return _("{km:.1f} 公里").format(km=metres_walked / 1000)


def checkin(
    shift: PatrolShift, team: PatrolTeam | None, lat: float, lng: float, rules: PatrolRules
) -> float | None:
    """Record where the shift began; returns how far that is from the team's area when it is
    too far (the check-in is accepted, and flagged for the officers)."""
    shift.checkin_lat, shift.checkin_lng = lat, lng
    if team is None or team.lat is None or team.lng is None:
        return None
    away = metres(team.lat, team.lng, lat, lng)
    if away > (team.radius_m or 0) + rules.far_metres:
        shift.far = True
        return away
    return None


def move(
    repo: PatrolRepo,
    shift: PatrolShift,
    *,
    now: datetime,
    lat: float,
    lng: float,
    precision: float | None,
    rules: PatrolRules,
    force: bool = False,
) -> bool:
    """A position on the shift: kept as a track point at most once a minute and only after
    moving more than the rules' metres (WeChat reports every 5 s while the chat is open).
    ``force``: a location the volunteer sent on purpose is always kept."""
    if shift.lat is not None and shift.lng is not None and shift.located_at is not None:
        walked = metres(shift.lat, shift.lng, lat, lng)
        recent = now - shift.located_at < timedelta(seconds=rules.track_seconds)
        if not force and (recent or walked <= rules.track_metres):
            return False
        shift.distance_m += walked
    shift.lat, shift.lng, shift.located_at = lat, lng, now
    repo.track(shift, at=now, lat=lat, lng=lng, precision=precision)
    return True


async def close(
    repo: PatrolRepo,
    shift: PatrolShift,
    *,
    now: datetime,
    rules: PatrolRules,
    auto: bool = False,
) -> str:
    """End the shift, award its hours, and say what it came to."""
    last = max(shift.started_at, min(shift.seen_at, shift.started_at + rules.max_shift))
    ended = last if auto else now
    shift.ended_at, shift.closed_by = ended, "auto" if auto else "volunteer"
    hours = int((ended - shift.started_at).total_seconds() // 3600)
    repo.award(
        shift.volunteer_id,
        hours * rules.points["per_hour"],
        rule="hours",
        reason=_("巡逻 {h} 小时").format(h=hours),
        now=now,
        shift_id=shift.id,
    )
    await repo.session.flush()
    reports = await repo.reports_on(shift.id)
    earned = await repo.earned_on(shift.id)
    lines = [
        _("本次巡逻：时长 {time}，里程 {distance}").format(
            time=duration(ended - shift.started_at), distance=distance(shift.distance_m)
        ),
        _("上报 {n} 条，获得积分 {points}。").format(n=reports, points=earned),
    ]
    if auto:
        lines.insert(
            0,
            _("您的巡逻超过 {h} 小时未结束，已自动结束（记到最后一次活动）。").format(
                h=int(rules.max_shift.total_seconds() // 3600)
            ),
        )
    log.info("shift=%s closed by %s after %s", shift.id, shift.closed_by, ended - shift.started_at)
    return "\n".join(lines)


async def current_shift(
    repo: PatrolRepo, volunteer: Volunteer, *, now: datetime, rules: PatrolRules
) -> tuple[PatrolShift | None, str | None]:
    """The volunteer's open shift, after closing it if it overran; and the note of that."""
    shift = await repo.open_shift(volunteer.id)
    if shift is not None and now - shift.started_at >= rules.max_shift:
        return None, await close(repo, shift, now=now, rules=rules, auto=True)
    return shift, None


async def close_overdue(
    session: AsyncSession, *, now: datetime, rules: PatrolRules, outbox: Outbox | None
) -> int:
    """Close every shift past the maximum; each volunteer is told (when an outbox is given)."""
    repo = PatrolRepo(session)
    closed = 0
    for shift in await repo.overdue(now - rules.max_shift):
        note = await close(repo, shift, now=now, rules=rules, auto=True)
        volunteer = await repo.volunteer(shift.volunteer_id)
        if outbox is not None and volunteer is not None and volunteer.openid:
            await outbox.text(volunteer.openid, note)
        closed += 1
    return closed


async def sweep(
    sessionmaker: async_sessionmaker[AsyncSession],
    pusher: Pusher,
    keys: Keys,
    clock: Clock,
) -> int:
    """The scheduler's minute job (``feature.JOBS``): close overrun shifts."""
    now = utc(clock)
    async with sessionmaker.begin() as session:
        outbox = Outbox(session, now, keys)
        closed = await close_overdue(session, now=now, rules=load_patrol_rules(), outbox=outbox)
        ids = outbox.ids
    await pusher.flush(ids)
    return closed
