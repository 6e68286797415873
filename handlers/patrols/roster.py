"""The officers' side of the patrols, in the officer chat: who is out now, a volunteer's
shifts, marking a patrol report, awarding or deducting points, suspending a volunteer,
inviting one. Every command checks the officer record and is audited."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Keyword, Regex
from bot.i18n import _
from bot.push import Outbox
from bot.router import Router
from handlers.officers.access import OfficerOnly, audit, refuse
from handlers.officers.browsing import command
from handlers.officers.cases import missing
from handlers.patrols.points import leaderboard, mark, signed
from handlers.patrols.rules import load_patrol_rules
from handlers.patrols.shifts import close, close_overdue, distance, duration
from storage.clock import CHINA
from storage.codes import new_code
from storage.models import Officer
from storage.patrols import PatrolRepo
from storage.tips import TipRepo

router = Router("patrol-roster")

ROSTER = ("在岗巡逻", "巡逻名单")
HISTORY = r"^巡逻记录\s*(?P<id>\d{1,9})$"
POINTS = r"^积分\s*(?P<id>\d{1,9})\s*(?P<points>[+-]\d{1,4})\s+(?P<reason>\S.{0,60})$"
STATUS = r"^(?P<how>暂停|恢复)队员\s*(?P<id>\d{1,9})$"
BOARD = r"^巡逻排行\s*(?P<team>\d{1,9})$"
INVITE = r"^邀请队员\s*(?P<team>\d{1,9})\s+(?P<name>[^\s\d]{1,32})(?:\s+(?P<role>\S{2,8}))?$"


def _hhmm(moment: datetime) -> str:
    return f"{moment.astimezone(CHINA):%m-%d %H:%M}"


@router.message(Keyword(*ROSTER), OfficerOnly())
async def on_patrol(session: AsyncSession, officer: Officer, now: datetime, outbox: Outbox) -> str:
    await close_overdue(session, now=now, rules=load_patrol_rules(), outbox=outbox)
    rows = await PatrolRepo(session).on_patrol()
    audit(session, officer, "list", "在岗巡逻", now, " ".join(f"S{s.id}" for s, _v, _t in rows))
    if not rows:
        return _("现在没有队员在巡逻。")
    lines = [_("在岗巡逻 {n} 人：").format(n=len(rows))]
    for shift, volunteer, team in rows:
        where = f"{shift.lat:.4f},{shift.lng:.4f}" if shift.lat is not None else _("未签到")
        far = _("（远离辖区）") if shift.far else ""
        lines.append(
            _("{id}. {name}（{team}）{since} 起，{where}{far}").format(
                id=volunteer.id,
                name=volunteer.name,
                team=team.name,
                since=_hhmm(shift.started_at),
                where=where,
                far=far,
            )
        )
    return "\n".join(lines)


@router.message(Regex(HISTORY), OfficerOnly())
async def history(
    match: re.Match[str], session: AsyncSession, officer: Officer, now: datetime
) -> str:
    repo = PatrolRepo(session)
    volunteer = await repo.volunteer(int(match["id"]))
    if volunteer is None:
        return _("没有编号为 {id} 的队员。").format(id=match["id"])
    audit(session, officer, "view", f"V{volunteer.id}", now)
    lines = [
        _("{name} 最近的巡逻（积分 {n}）：").format(
            name=volunteer.name, n=await repo.balance(volunteer.id)
        )
    ]
    for shift in await repo.history(volunteer.id):
        ended = shift.ended_at or now
        state = _("进行中") if shift.ended_at is None else ""
        auto = _("（自动结束）") if shift.closed_by == "auto" else ""
        lines.append(
            f"{_hhmm(shift.started_at)} {duration(ended - shift.started_at)} "
            f"{distance(shift.distance_m)}{state}{auto}"
        )
    return "\n".join(lines)


async def _mark(
    how: str,
    code: str | None,
    session: AsyncSession,
    officer: Officer,
    now: datetime,
    outbox: Outbox,
) -> str:
    tip = await TipRepo(session).by_code(code) if code else None
    if tip is None:
        return missing(code)
    audit(session, officer, how, tip.code, now)
    return await mark(session, tip, how, officer=officer, now=now, outbox=outbox)


# `有价值 K7M2QX9A`, or `有价值` alone for the tip the officer has open (like 受理).
@command(router, "有价值")
async def valuable(
    code: str | None, session: AsyncSession, officer: Officer, now: datetime, outbox: Outbox
) -> str:
    return await _mark("valuable", code, session, officer, now, outbox)


@command(router, "协助破案")
async def solved(
    code: str | None, session: AsyncSession, officer: Officer, now: datetime, outbox: Outbox
) -> str:
    return await _mark("solved", code, session, officer, now, outbox)


@router.message(Regex(POINTS), OfficerOnly())
async def award(
    match: re.Match[str], session: AsyncSession, officer: Officer, now: datetime, outbox: Outbox
) -> str:
    repo = PatrolRepo(session)
    volunteer = await repo.volunteer(int(match["id"]))
    if volunteer is None:
        return _("没有编号为 {id} 的队员。").format(id=match["id"])
    points, reason = int(match["points"]), match["reason"].strip()
    repo.award(volunteer.id, points, rule="officer", reason=reason, now=now, officer_id=officer.id)
    audit(session, officer, "points", f"V{volunteer.id}", now, f"{signed(points)} {reason}")
    if volunteer.openid:
        await outbox.text(
            volunteer.openid,
            _("民警为您调整积分 {n}：{reason}").format(n=signed(points), reason=reason),
        )
    await session.flush()
    return _("已为 {name} 记 {n} 分，现有 {total} 分。").format(
        name=volunteer.name, n=signed(points), total=await repo.balance(volunteer.id)
    )


@router.message(Regex(STATUS), OfficerOnly())
async def suspend(
    match: re.Match[str], session: AsyncSession, officer: Officer, now: datetime
) -> str:
    repo = PatrolRepo(session)
    volunteer = await repo.volunteer(int(match["id"]))
    if volunteer is None or volunteer.status not in ("active", "suspended"):
        return _("没有编号为 {id} 的在册队员。").format(id=match["id"])
    volunteer.status = "suspended" if match["how"] == "暂停" else "active"
    audit(session, officer, volunteer.status, f"V{volunteer.id}", now)
    shift = await repo.open_shift(volunteer.id)
    if volunteer.status == "suspended" and shift is not None:  # no patrol without the role
        await close(repo, shift, now=now, rules=load_patrol_rules())
        shift.closed_by = "officer"
    if volunteer.status == "suspended":
        return _("已暂停 {name} 的队员资格。").format(name=volunteer.name)
    return _("已恢复 {name} 的队员资格。").format(name=volunteer.name)


@router.message(Regex(BOARD), OfficerOnly())
async def team_board(
    match: re.Match[str], session: AsyncSession, officer: Officer, now: datetime
) -> str:
    """`巡逻排行 1`: team 1's month, for the officers."""
    team = await PatrolRepo(session).team(int(match["team"]))
    if team is None:
        return _("没有编号为 {id} 的巡逻队。").format(id=match["team"])
    audit(session, officer, "list", f"T{team.id}", now)
    return await leaderboard(session, team, now)


@router.message(Regex(INVITE), OfficerOnly())
async def invite(
    match: re.Match[str], session: AsyncSession, officer: Officer, now: datetime
) -> str:
    """`邀请队员 1 王芳 情报员`: a single-use code for one volunteer of team 1."""
    rules = load_patrol_rules()
    role = rules.role(match["role"] or "publicist")
    if role is None:
        return _("角色请写：{roles}").format(roles="、".join(_(r) for r in rules.roles.values()))
    repo = PatrolRepo(session)
    team = await repo.team(int(match["team"]))
    if team is None:
        return _("没有编号为 {id} 的巡逻队。").format(id=match["team"])
    code = new_code("P")
    volunteer = await repo.invite(
        team, name=match["name"], role=role, code=code, now=now, valid=rules.enrolment
    )
    audit(session, officer, "invite", f"V{volunteer.id}", now)
    return _(
        "已为 {team} 邀请 {name}（{role}）。\n"
        "请队员发送「注册 {code}」，{days} 天内有效，限用一次。"
    ).format(
        team=team.name,
        name=volunteer.name,
        role=_(rules.roles[role]),
        code=code,
        days=rules.enrolment.days,
    )


router.message(Keyword(*ROSTER))(refuse)
router.message(Regex(INVITE))(refuse)
router.message(Regex(BOARD))(refuse)
router.message(Regex(HISTORY))(refuse)
router.message(Regex(POINTS))(refuse)
router.message(Regex(STATUS))(refuse)
