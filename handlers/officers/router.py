"""Officer commands in chat. Everyone else who types them is refused politely and logged."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import WeChatAPI
from bot.filters import Keyword, Regex
from bot.i18n import _, speaking
from bot.keys import Keys
from bot.push import Outbox
from bot.router import Router
from handlers.community import AfterCommit
from handlers.inquiries.matcher import normalise
from handlers.officers.access import OfficerOnly, audit, refuse
from handlers.scenes import RANK_NAMES, redeem
from handlers.tips.privacy import mask
from storage.alerts import AlertRepo
from storage.inquiries import InquiryRepo
from storage.models import Handoff, Officer, User
from storage.officers import OfficerRepo
from storage.tips import TipRepo

router = Router("officers")

#: `收到 K7M2QX9A` / `收到 H12`: acknowledge the alerts about a tip or a hand-off.
ACK = r"^收到\s*(?P<code>[A-Za-z0-9]{2,16})$"
#: `答复 H12 内容`: answer hand-off 12.
ANSWER = r"^答复\s*[Hh]?(?P<id>\d{1,9})\s+(?P<text>\S.*)$"
ANSWER_CHARS = 1000
#: `入库 H12`: the hand-off's question (and its answer) join the knowledge base's to-do list.
TO_FAQ = r"^入库\s*[Hh]?(?P<id>\d{1,9})$"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# 绑定 (officers) and 注册 (volunteers): any enrolment code, whoever it was issued for.
@router.message(Regex(r"^(?:绑定|注册)\s*(?P<code>[A-Za-z0-9-]{4,32})$"))
async def bind(
    match: re.Match[str],
    user: User,
    session: AsyncSession,
    now: datetime,
    keys: Keys,
    api: WeChatAPI,
    after_commit: AfterCommit,
) -> str:
    return await redeem(
        match["code"],
        user=user,
        session=session,
        now=now,
        keys=keys,
        api=api,
        after_commit=after_commit,
    )


@router.message(Keyword("民警帮助"), OfficerOnly())
async def officer_help(officer: Officer) -> str:
    rank = _(RANK_NAMES.get(officer.rank, officer.rank))
    return "\n".join(
        [
            _("{name}（{rank}），您可以：").format(name=officer.name, rank=rank),
            _("· 新线索 / 红色线索 / 我的线索 / 社区线索 社区名"),
            _("· 查看 / 受理 编号"),
            _("· 回复 / 备注 / 办结 / 驳回 编号 内容"),
            _("· 分派 编号 姓名；定级 编号 红/黄/蓝；重复 编号 原编号"),
            _("· 待答复；答复 H编号 内容；入库 H编号"),
            _("· 收到 编号 —— 确认值班提醒"),
            _("· 本周统计 —— 线索、办结率、满意度"),
            _("· 在岗巡逻；巡逻记录 队员号；巡逻排行 队号；邀请队员 队号 姓名 角色"),
            _("· 有价值 / 协助破案 编号；积分 队员号 +5 原因；暂停队员 队员号"),
        ]
    )


@router.message(Keyword("待答复"), OfficerOnly())
async def open_handoffs(session: AsyncSession, officer: Officer, now: datetime) -> str:
    waiting = await OfficerRepo(session).open_handoffs()
    audit(session, officer, "list", "待答复", now, " ".join(f"H{h.id}" for h in waiting))
    if not waiting:
        return _("没有待答复的问题。")
    lines = [_("待答复的问题（回复「答复 编号 内容」）：")]
    lines += [f"H{h.id} {_short(mask(h.question))}" for h in waiting]
    return "\n".join(lines)


@router.message(Regex(ANSWER, re.DOTALL), OfficerOnly())
async def answer_handoff(
    match: re.Match[str],
    session: AsyncSession,
    outbox: Outbox,
    officer: Officer,
    now: datetime,
) -> str:
    text = match["text"].strip()[:ANSWER_CHARS]
    handoff = await OfficerRepo(session).answer(
        int(match["id"]), officer_id=officer.id, text=text, now=now
    )
    if handoff is None or handoff.openid is None:
        return _("没有找到待答复的问题 H{id}。").format(id=match["id"])
    # The resident hears from "the station" (the officer's name is not passed on), in the
    # resident's language.
    asker = await session.get(User, handoff.openid)
    with speaking(asker.language if asker else None):
        words = _("民警答复您的问题：\n{answer}\n（您问：{question}）").format(
            answer=text, question=_short(handoff.question)
        )
    await outbox.text(handoff.openid, words)
    audit(session, officer, "answer", f"H{handoff.id}", now)
    return _(
        "已答复 H{id}，答复已发给提问的居民。常被问到的话，回复「入库 H{id}」记入知识库待补充。"
    ).format(id=handoff.id)


@router.message(Regex(TO_FAQ), OfficerOnly())
async def handoff_to_faq(
    match: re.Match[str], session: AsyncSession, officer: Officer, now: datetime
) -> str:
    handoff = await session.get(Handoff, int(match["id"]))
    if handoff is None:
        return _("没有找到问题 H{id}。").format(id=match["id"])
    # Masked: a resident's question may carry a phone or ID number; the FAQ must not.
    question = mask(handoff.question)
    await InquiryRepo(session).unanswered(
        normalise(question), question, now, suggested=handoff.answer
    )
    audit(session, officer, "to_faq", f"H{handoff.id}", now)
    return _("H{id} 已记入知识库待补充问题，管理员会据此补充常见问答。").format(id=handoff.id)


@router.message(Regex(ACK), OfficerOnly())
async def acknowledge(
    match: re.Match[str], session: AsyncSession, officer: Officer, now: datetime
) -> str:
    code = match["code"].upper()
    tip_id = handoff_id = None
    if code.startswith("H") and code[1:].isdigit():
        handoff_id = int(code[1:])
    else:
        tip = await TipRepo(session).by_code(code)
        tip_id = tip.id if tip is not None else -1
    acked = await AlertRepo(session).acknowledge(
        tip_id=tip_id, handoff_id=handoff_id, officer_id=officer.id, now=now
    )
    if not acked:
        return _("{code} 没有待确认的提醒。").format(code=code)
    audit(session, officer, "ack", code, now)
    return _("已确认 {code}，提醒不再升级。").format(code=code)


router.message(Keyword("民警帮助", "待答复"))(refuse)
router.message(Regex(ANSWER, re.DOTALL))(refuse)
router.message(Regex(ACK))(refuse)
router.message(Regex(TO_FAQ))(refuse)
