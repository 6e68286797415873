"""Communities (社区/村): joining one, and keeping the account's user tags in step.

Tags are how broadcasts reach a community, so joining moves the user from the old
community's tag to the new one. Tag calls go to WeChat, which must not happen inside the
update's transaction: they run after it commits (``after_commit``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.api import WeChatAPI
from bot.dialog import DialogContext, State, StatesGroup
from bot.errors import WeChatAPIError
from bot.filters import Keyword, MenuKey, MsgType, StateIs
from bot.i18n import _
from bot.message import Message
from bot.router import Router, SkipHandler
from storage.models import Community, User
from storage.users import CommunityRepo

log = logging.getLogger("pingan.community")
router = Router("community")

AfterCommit = list[Callable[[], Awaitable[None]]]


class Joining(StatesGroup):
    choose = State(lambda d: str(d.get("_list", "")))


async def named_tag(api: WeChatAPI, name: str) -> int:
    """The id of the account's tag called ``name``, made on first use."""

    async def find() -> int | None:
        return next((int(t["id"]) for t in await api.get_tags() if t["name"] == name), None)

    found = await find()
    if found is not None:
        return found
    try:
        return await api.create_tag(name)
    except WeChatAPIError as exc:
        # 45157 is also "name taken": another process made the tag meanwhile.
        found = await find() if exc.errcode == 45157 else None
        if found is None:
            raise
        return found


async def ensure_tag(
    api: WeChatAPI, sessionmaker: async_sessionmaker[AsyncSession], community_id: int
) -> int | None:
    """The community's tag id, creating the tag on first use (an existing name is reused)."""
    async with sessionmaker.begin() as session:
        community = await CommunityRepo(session).by_id(community_id)
        if community is None:
            return None
        if community.tag_id is not None:
            return community.tag_id
        name = community.name
    tag_id = await named_tag(api, name)
    async with sessionmaker.begin() as session:
        community = await CommunityRepo(session).by_id(community_id)
        if community is not None:
            community.tag_id = tag_id
    return tag_id


def retag_later(
    after_commit: AfterCommit,
    *,
    api: WeChatAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    openid: str,
    old: int | None,
    new: int | None,
) -> None:
    """Once the update has committed: untag from the old community, tag into the new one."""

    async def retag() -> None:
        try:
            if old is not None and old != new:
                old_tag = await ensure_tag(api, sessionmaker, old)
                if old_tag is not None:
                    await api.tag_users(old_tag, [openid], untag=True)
            if new is not None:
                new_tag = await ensure_tag(api, sessionmaker, new)
                if new_tag is not None:
                    await api.tag_users(new_tag, [openid])
        except WeChatAPIError as exc:
            # The membership is stored; the tag is caught up on the user's next join.
            log.warning("community tag sync failed errcode=%s", exc.errcode)

    after_commit.append(retag)


def join(
    user: User,
    community: Community,
    *,
    api: WeChatAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    after_commit: AfterCommit,
) -> str:
    """Make ``community`` the user's, move their tag once the update commits, say so."""
    old, user.community_id = user.community_id, community.id
    retag_later(
        after_commit,
        api=api,
        sessionmaker=sessionmaker,
        openid=user.openid,
        old=old,
        new=community.id,
    )
    return _("已加入社区：{name}。").format(name=community.name)


def _listing(communities: list[Community], current: Community | None) -> str:
    lines = [
        _("您当前的社区：{name}").format(name=current.name) if current else _("您还没有加入社区。")
    ]
    if communities:
        lines.append(_("回复数字加入或更换社区："))
        lines += [f"{i}. {c.name}" for i, c in enumerate(communities, start=1)]
    return "\n".join(lines)


@router.message(MenuKey("MY_COMMUNITY"))
@router.message(Keyword("我的社区", "社区", "加入社区"))
async def my_community(user: User, dialog: DialogContext, session: AsyncSession) -> str:
    repo = CommunityRepo(session)
    communities = await repo.all()
    current = await repo.by_id(user.community_id) if user.community_id else None
    text = _listing(communities, current)
    if communities:
        dialog.clear()
        dialog.set_state(Joining.choose)
        dialog.update(ids=[c.id for c in communities], _list=text)
    return text


@router.message(StateIs(Joining.choose), MsgType("text"))
async def choose_community(
    message: Message,
    user: User,
    dialog: DialogContext,
    session: AsyncSession,
    api: WeChatAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    after_commit: AfterCommit,
) -> str:
    ids = list(dialog.data.get("ids", []))
    if not (message.text.isdigit() and 1 <= int(message.text) <= len(ids)):
        raise SkipHandler
    community = await CommunityRepo(session).by_id(ids[int(message.text) - 1])
    dialog.clear()
    if community is None:
        return _("这个社区已不存在，请重新选择。")
    return join(user, community, api=api, sessionmaker=sessionmaker, after_commit=after_commit)
