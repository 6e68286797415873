"""Officer commands in chat. Everyone else who types them is refused politely and logged."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Keyword, Regex
from bot.i18n import _
from bot.keys import Keys
from bot.message import Message
from bot.router import Router
from handlers.officers.access import OfficerOnly
from handlers.scenes import RANK_NAMES, redeem
from handlers.tips.rules import TipRules
from handlers.tips.views import officer_line
from storage.models import Officer, User
from storage.officers import OfficerRepo

log = logging.getLogger("pingan.officers")

router = Router("officers")

#: Officer lists: (status, level) filters.
LISTS: dict[str, tuple[str | None, str | None]] = {
    "新线索": ("submitted", None),
    "红色线索": (None, "red"),
}


@router.message(Regex(r"^绑定\s*(?P<code>[A-Za-z0-9-]{4,32})$"))
async def bind(
    match: re.Match[str], user: User, session: AsyncSession, now: datetime, keys: Keys
) -> str:
    return await redeem(match["code"], user=user, session=session, now=now, keys=keys)


@router.message(Keyword("民警帮助"), OfficerOnly())
async def officer_help(officer: Officer) -> str:
    rank = _(RANK_NAMES.get(officer.rank, officer.rank))
    return "\n".join(
        [
            _("{name}（{rank}），您可以：").format(name=officer.name, rank=rank),
            _("· 新线索 —— 最新提交、尚未受理的线索"),
            _("· 红色线索 —— 未办结的红色预警线索"),
        ]
    )


@router.message(Keyword(*LISTS), OfficerOnly())
async def tip_list(
    message: Message, session: AsyncSession, tip_rules: TipRules, officer: Officer
) -> str:
    status, level = LISTS[message.text]
    tips = await OfficerRepo(session).tips(status=status, level=level)
    log.info("officer=%s listed %s (%d)", officer.id, message.text, len(tips))
    if not tips:
        return _("没有符合条件的线索。")
    return "\n".join([f"{message.text}：", *(officer_line(tip, tip_rules) for tip in tips)])


@router.message(Keyword("民警帮助", *LISTS))
async def refuse(message: Message) -> str:
    # Not an officer (or no longer one): nothing shown, nothing changed, and it is logged.
    log.warning("officer command refused type=%s", message.msg_type)
    return _("此功能仅限本所民警使用。")
