"""Enrolment: a volunteer redeems the single-use code (typed `注册 CODE`, or scanned) that an
officer issued for a team, and the account becomes that volunteer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import WeChatAPI
from bot.i18n import _
from handlers.community import AfterCommit
from handlers.patrols.rules import load_patrol_rules
from handlers.patrols.tag import tag_later
from storage.models import EnrolmentCode, User
from storage.patrols import PatrolRepo


async def enrol(
    code: EnrolmentCode,
    *,
    user: User,
    session: AsyncSession,
    now: datetime,
    api: WeChatAPI,
    after_commit: AfterCommit,
) -> str | None:
    """Bind the volunteer a redeemed patrol code was issued for; None for a code that names
    nobody (an older team-less patrol code: the role alone is granted)."""
    repo = PatrolRepo(session)
    volunteer = await repo.by_code(code.code)
    if volunteer is None:
        return None
    if volunteer.status != "pending":
        return _("登记码无效、已过期或已被使用，请向民警重新领取。")
    await repo.bind(volunteer, user.openid, now)
    team = await repo.team(volunteer.team_id)
    user.role = "patrol"
    if team is not None and team.community_id is not None:
        user.community_id = team.community_id
    tag_later(after_commit, api=api, openid=user.openid)  # the volunteers' menu
    role = _(load_patrol_rules().roles.get(volunteer.role, volunteer.role))
    return _("登记成功：{name}，{team}{role}。回复「开始巡逻」上岗。").format(
        name=volunteer.name, team=team.name if team else "", role=role
    )
