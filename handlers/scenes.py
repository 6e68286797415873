"""QR-code scenes: ``c:<code>`` joins a community, ``e:<code>`` redeems an enrolment code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.api import WeChatAPI
from bot.i18n import _
from bot.keys import Keys
from handlers.community import AfterCommit, join
from handlers.officers.tag import tag_later
from handlers.patrols.enrol import enrol
from storage.audit import AuditRepo
from storage.models import User
from storage.officers import OfficerRepo
from storage.users import CommunityRepo, EnrolmentRepo

COMMUNITY = "c:"
ENROLMENT = "e:"

ROLE_NAMES = {"resident": "居民", "patrol": "红袖标巡防队员", "officer": "民警"}
RANK_NAMES = {"officer": "民警", "auxiliary": "辅警", "chief": "所长"}


def community_scene(code: str) -> str:
    return COMMUNITY + code


def enrolment_scene(code: str) -> str:
    return ENROLMENT + code


async def apply_scene(
    scene: str,
    *,
    user: User,
    session: AsyncSession,
    now: datetime,
    api: WeChatAPI,
    keys: Keys,
    sessionmaker: async_sessionmaker[AsyncSession],
    after_commit: AfterCommit,
) -> str | None:
    """Act on a scanned scene; returns what to tell the user, None for unknown scenes."""
    if scene.startswith(COMMUNITY):
        community = await CommunityRepo(session).by_code(scene.removeprefix(COMMUNITY))
        if community is None:
            return _("这个二维码对应的社区已不存在，请联系社区民警。")
        return join(user, community, api=api, sessionmaker=sessionmaker, after_commit=after_commit)
    if scene.startswith(ENROLMENT):
        return await redeem(
            scene.removeprefix(ENROLMENT),
            user=user,
            session=session,
            now=now,
            keys=keys,
            api=api,
            after_commit=after_commit,
        )
    return None


async def redeem(
    text: str,
    *,
    user: User,
    session: AsyncSession,
    now: datetime,
    keys: Keys,
    api: WeChatAPI,
    after_commit: AfterCommit,
) -> str:
    """Use an enrolment code, scanned (``e:CODE``) or typed (``绑定 CODE``)."""
    code = await EnrolmentRepo(session).redeem(
        text.strip(), user_key=keys.mac("enrolment", user.openid), now=now
    )
    if code is None:
        return _("登记码无效、已过期或已被使用，请向民警重新领取。")
    if code.officer_id is not None:
        officer = await OfficerRepo(session).bind(code.officer_id, user.openid, now)
        if officer is None:  # revoked between issue and use
            return _("登记码无效、已过期或已被使用，请向民警重新领取。")
        user.role = "officer"
        tag_later(after_commit, api=api, openid=user.openid)  # the officers' menu
        AuditRepo(session).record(officer_id=officer.id, action="bind", subject=None, now=now)
        rank = _(RANK_NAMES.get(officer.rank, officer.rank))
        return _("绑定成功：{name}（{rank}）。回复「民警帮助」查看可用功能。").format(
            name=officer.name, rank=rank
        )
    if code.role == "patrol":  # a code issued for one volunteer of a team
        enrolled = await enrol(
            code, user=user, session=session, now=now, api=api, after_commit=after_commit
        )
        if enrolled is not None:
            return enrolled
    user.role = code.role
    if code.community_id is not None:
        user.community_id = code.community_id
    role = _(ROLE_NAMES.get(code.role, code.role))
    return _("登记成功，您的身份是：{role}。").format(role=role)
