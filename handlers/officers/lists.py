"""Officers' tip lists, a phone screen at a time: `新线索`, `红色线索`, `我的线索`,
`社区线索 新华`, each followed by a page number for the next screen (`新线索 2`). A number
alone then opens that line's tip."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.dialog import DialogContext
from bot.filters import MsgType, Regex, StateIs
from bot.i18n import _
from bot.message import Message
from bot.router import Router, SkipHandler
from handlers.officers.access import OfficerOnly, audit, refuse
from handlers.officers.browsing import Browsing, remember_list
from handlers.officers.cases import show_tip
from handlers.tips.rules import TipRules
from handlers.tips.service import TipService
from handlers.tips.views import officer_line
from storage.models import Community, Officer, Tip
from storage.tips import TipRepo
from storage.users import CommunityRepo

router = Router("officer-lists")

#: Lines per screen: each wraps to about two lines on a phone.
PAGE = 5


@dataclass(frozen=True)
class TipList:
    status: str | None = None  # None: every open status
    level: str | None = None
    mine: bool = False


LISTS = {
    "新线索": TipList(status="submitted"),
    "红色线索": TipList(level="red"),
    "我的线索": TipList(mine=True),
}
LIST = (
    rf"^(?:(?P<name>{'|'.join(LISTS)})|社区线索\s*(?P<community>[^\d\s]\S*?))"
    r"\s*(?P<page>\d{1,3})?$"
)


def find_community(communities: list[Community], query: str) -> Community | None:
    """By code, name or alias exactly; else the one community whose name contains it."""
    for community in communities:
        if query in (community.code, community.name, *community.aliases):
            return community
    partial = [c for c in communities if query in c.name]
    return partial[0] if len(partial) == 1 else None


def _page(tips: list[Tip], title: str, command: str, page: int, rules: TipRules) -> str:
    if not tips:
        return _("没有符合条件的线索。") if page == 1 else _("没有更多了。")
    lines = [_("{title}（第 {page} 页）：").format(title=title, page=page)]
    lines += [f"{i}. {officer_line(tip, rules)}" for i, tip in enumerate(tips[:PAGE], 1)]
    lines.append(_("回复序号查看详情。"))
    if len(tips) > PAGE:
        lines.append(_("下一页：「{command} {page}」").format(command=command, page=page + 1))
    return "\n".join(lines)


@router.message(Regex(LIST), OfficerOnly())
async def tip_list(
    match: re.Match[str],
    session: AsyncSession,
    officer: Officer,
    dialog: DialogContext,
    tip_rules: TipRules,
    now: datetime,
) -> str:
    page = max(1, int(match["page"] or 1))
    wanted = LISTS.get(match["name"] or "", TipList())
    title = command = match["name"]
    community = None
    if match["community"]:
        community = find_community(await CommunityRepo(session).all(), match["community"])
        if community is None:
            return _("没有找到社区「{name}」。").format(name=match["community"])
        title = _("{name}未办结线索").format(name=community.name)
        command = f"社区线索 {community.code}"
    # One more than a screen: whether there is a next page, without a count.
    tips = await TipRepo(session).newest(
        status=wanted.status,
        level=wanted.level,
        assigned_to=officer.id if wanted.mine else None,
        community_id=community.id if community else None,
        limit=PAGE + 1,
        offset=(page - 1) * PAGE,
    )
    shown = tips[:PAGE]
    audit(session, officer, "list", f"{command} {page}", now, " ".join(t.code for t in shown))
    remember_list(dialog, [tip.code for tip in shown])
    return _page(tips, title, command, page, tip_rules)


@router.message(StateIs(Browsing.tips), MsgType("text"), Regex(r"^\d{1,2}$"), OfficerOnly())
async def pick(
    message: Message, dialog: DialogContext, tips: TipService, officer: Officer, settings: Settings
) -> str:
    codes = list(dialog.data.get("codes", []))
    number = int(message.text)
    if not 1 <= number <= len(codes):
        raise SkipHandler
    tip = await tips.repo.by_code(codes[number - 1])
    if tip is None:
        return _("这条线索已不存在。")
    return await show_tip(tip, tips, officer, dialog, settings)


# A resident's 我的线索 is their own tips (handlers.tips.followup): only the rest is refused.
router.message(Regex(LIST), lambda message, data: message.text.strip() != "我的线索")(refuse)
