"""Points (积分奖励, 一事一奖): earned by the rules, awarded or deducted by officers, all in an
append-only ledger. A volunteer sees their balance and last entries; a team its month."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Keyword, MenuKey
from bot.i18n import _
from bot.push import Outbox
from bot.router import Router
from handlers.patrols.access import volunteer_only
from handlers.patrols.rules import load_patrol_rules
from storage.clock import CHINA
from storage.models import Officer, Tip
from storage.patrol_models import PatrolTeam, Volunteer
from storage.patrols import PatrolRepo

router = Router("patrol-points")

MARKS = {"valuable": "有价值", "solved": "协助破案"}


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The Beijing calendar month ``now`` falls in."""
    local = now.astimezone(CHINA)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    after = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, after


def signed(points: int) -> str:
    return f"+{points}" if points > 0 else str(points)


@router.message(MenuKey("PATROL_POINTS"), volunteer_only)
@router.message(Keyword("我的积分", "积分"), volunteer_only)
async def my_points(volunteer: Volunteer, session: AsyncSession) -> str:
    repo = PatrolRepo(session)
    lines = [
        _("{name}，您的积分：{n}").format(name=volunteer.name, n=await repo.balance(volunteer.id))
    ]
    for entry in await repo.entries(volunteer.id):
        lines.append(f"{entry.at.astimezone(CHINA):%m-%d} {signed(entry.points)} {entry.reason}")
    return "\n".join(lines)


@router.message(MenuKey("PATROL_BOARD"), volunteer_only)
@router.message(Keyword("巡逻排行", "排行"), volunteer_only)
async def board(volunteer: Volunteer, session: AsyncSession, now: datetime) -> str:
    team = await PatrolRepo(session).team(volunteer.team_id)
    assert team is not None  # a volunteer's team is never deleted
    return await leaderboard(session, team, now)


async def leaderboard(session: AsyncSession, team: PatrolTeam, now: datetime) -> str:
    """A team's points this (Beijing) month, best first."""
    start, after = month_bounds(now)
    rows = await PatrolRepo(session).leaderboard(
        team.id, start, after, load_patrol_rules().leaderboard
    )
    lines = [_("{team} {month} 月积分排行：").format(team=team.name, month=start.month)]
    lines += [f"{i}. {name} {points}" for i, (name, points) in enumerate(rows, start=1)]
    if not rows:
        lines.append(_("本月还没有积分。"))
    return "\n".join(lines)


async def accepted(session: AsyncSession, tip: Tip, now: datetime) -> None:
    """An officer accepted (受理) a patrol report: the rules' points for a report."""
    if tip.source != "patrol":
        return
    repo = PatrolRepo(session)
    report = await repo.report_of(tip.id)
    if report is None or report.kind != "report":
        return
    repo.award(
        report.volunteer_id,
        load_patrol_rules().points["report"],
        rule="report",
        reason=_("上报 {code} 已受理").format(code=tip.code),
        now=now,
        shift_id=report.shift_id,
        tip_id=tip.id,
    )


async def mark(
    session: AsyncSession, tip: Tip, how: str, *, officer: Officer, now: datetime, outbox: Outbox
) -> str:
    """An officer marks a patrol report valuable or case-solving: points follow, once each,
    and the volunteer is told."""
    repo = PatrolRepo(session)
    report = await repo.report_of(tip.id)
    if report is None or report.kind != "report":
        return _("编号 {code} 不是巡防队员的上报。").format(code=tip.code)
    if getattr(report, how):
        return _("编号 {code} 已标记过{mark}。").format(code=tip.code, mark=_(MARKS[how]))
    setattr(report, how, True)
    points = load_patrol_rules().points[how]
    reason = _("{code} {mark}").format(code=tip.code, mark=_(MARKS[how]))
    repo.award(
        report.volunteer_id,
        points,
        rule=how,
        reason=reason,
        now=now,
        officer_id=officer.id,
        shift_id=report.shift_id,
        tip_id=tip.id,
    )
    volunteer = await repo.volunteer(report.volunteer_id)
    if volunteer is not None and volunteer.openid:
        await outbox.text(
            volunteer.openid,
            _("您上报的 {code} 被民警评为「{mark}」，积分 +{n}。").format(
                code=tip.code, mark=_(MARKS[how]), n=points
            ),
        )
    name = volunteer.name if volunteer else "?"
    return _("已标记 {code}「{mark}」，{name} 积分 +{n}。").format(
        code=tip.code, mark=_(MARKS[how]), name=name, n=points
    )
