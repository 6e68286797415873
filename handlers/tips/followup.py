"""Following a tip up: 我的举报, 查询 CODE, 补充 CODE, and rating a resolved tip.

A code that is not the asker's own gets exactly the answer a code that does not exist gets,
so codes cannot be probed for other people's tips.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Media
from bot.dialog import DialogContext, State, StatesGroup
from bot.filters import Keyword, MenuKey, MsgType, Regex, StateIs
from bot.i18n import _
from bot.message import Message
from bot.router import Router, SkipHandler
from handlers.tips.photos import stripped
from handlers.tips.rules import TipRules
from handlers.tips.service import OPEN, RATINGS, STATUS_NAMES, TipService, discard_drafts
from storage.clock import CHINA
from storage.tips import MediaRepo

router = Router("tips-followup")

CODE = r"(?P<code>[A-Za-z0-9]{8})"
NOT_FOUND = "没有找到编号为 {code} 的举报，请核对编号。"


class Supplement(StatesGroup):
    collect = State(
        lambda d: _("请发送要补充的文字或照片（编号 {code}），发完回复「完成」。").format(
            code=d["code"]
        ),
        media=("image",),
        takes_text=True,
        prepare={"image": stripped},
    )


def _local(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%m-%d %H:%M")


def _category_name(rules: TipRules, key: str) -> str:
    category = rules.category(key)
    return _(category.name) if category else key


@router.message(MenuKey("MY_TIPS"))
@router.message(Keyword("我的举报", "我的线索", "my reports"))
async def my_tips(message: Message, tips: TipService) -> str:
    mine = await tips.repo.among(tips.mine.ids())
    if not mine:
        return _("您还没有举报记录。回复「举报」可以提交线索。")
    lines = [_("您最近的举报：")]
    for tip in mine:
        lines.append(
            f"{tip.code}  {_category_name(tips.rules, tip.category)}  "
            f"{_(STATUS_NAMES[tip.status])}  {_local(tip.created_at)}"
        )
    lines.append(_("回复「查询 编号」查看详情。"))
    return "\n".join(lines)


@router.message(Regex(rf"^查询\s*{CODE}$"))
async def lookup(
    message: Message,
    match: re.Match[str],
    tips: TipService,
) -> str:
    tip = await tips.own_tip(match["code"], message.openid)
    if tip is None:
        return _(NOT_FOUND).format(code=match["code"].upper())
    lines = [
        _("编号：{code}").format(code=tip.code),
        _("类别：{name}").format(name=_category_name(tips.rules, tip.category)),
        _("状态：{status}").format(status=_(STATUS_NAMES[tip.status])),
        _("提交时间：{at}").format(at=_local(tip.created_at)),
    ]
    for event in await tips.repo.events(tip.id):
        if event.action == "status" and event.from_value is not None and event.to_value:
            lines.append(f"· {_local(event.at)} {_(STATUS_NAMES.get(event.to_value, ''))}")
    if tip.outcome:
        lines.append(_("处理结果：{outcome}").format(outcome=tip.outcome))
    if tip.status in OPEN:
        lines.append(_("如需补充材料，请回复「补充 {code}」。").format(code=tip.code))
    return "\n".join(lines)


# DOTALL: a supplement typed over several lines is one supplement, not a lost message.
@router.message(Regex(rf"^补充\s*{CODE}\s*(?P<text>.*)$", re.DOTALL))
async def supplement(
    message: Message,
    match: re.Match[str],
    dialog: DialogContext,
    tips: TipService,
) -> str:
    tip = await tips.own_tip(match["code"], message.openid)
    if tip is None:
        return _(NOT_FOUND).format(code=match["code"].upper())
    if tip.status not in OPEN:
        return _("该举报已办结，不能再补充。如有新情况请重新举报。")
    text = match["text"].strip()
    if text:
        await tips.supplement(tip, text=text[: tips.rules.description_max_chars])
        return _("已补充到举报 {code}。").format(code=tip.code)
    dialog.clear()
    dialog.set_state(Supplement.collect)
    dialog.update(code=tip.code, media_ids=[])
    return Supplement.collect.prompt_text(dialog.data) or ""


Supplement.on_abandon = discard_drafts


@router.message(StateIs(Supplement.collect), MsgType("image"))
async def supplement_photo(
    message: Message,
    dialog: DialogContext,
    tips: TipService,
    media: Media | None,
    media_problem: str | None,
) -> str:
    held = await tips.collect_photo(message.openid, dialog, "media_ids", media, media_problem)
    if isinstance(held, str):
        return held
    return _("已收到第 {n} 张照片。继续发送，或回复「完成」。").format(n=len(held))


@router.message(StateIs(Supplement.collect), Keyword("完成", "好了"))
async def supplement_done(
    message: Message, dialog: DialogContext, session: AsyncSession, tips: TipService
) -> str:
    tip = await tips.own_tip(dialog.data["code"], message.openid)
    media_ids = tuple(dialog.data["media_ids"])
    texts = list(dialog.data.get("texts", []))
    dialog.clear()
    if tip is None or tip.status not in OPEN:
        await MediaRepo(session).discard_drafts(message.openid)
        return _("该举报已不能补充。")
    if not media_ids and not texts:
        return _("没有收到补充内容。")
    await tips.supplement(tip, text="\n".join(texts), media_ids=media_ids)
    return _("已补充到举报 {code}。").format(code=tip.code)


@router.message(StateIs(Supplement.collect), MsgType("text"))
async def supplement_text(message: Message, dialog: DialogContext) -> str:
    if not message.text:
        raise SkipHandler
    dialog.update(texts=[*dialog.data.get("texts", []), message.text[:1000]])
    return _("已记下。继续发送，或回复「完成」。")


@router.message(StateIs(None), Keyword(*RATINGS, *RATINGS.values()))
async def rate(message: Message, tips: TipService) -> str:
    waiting = await tips.repo.awaiting_rating(tips.mine.ids())
    if not waiting:
        raise SkipHandler
    rating = RATINGS.get(message.text, message.text)
    await tips.rate(waiting[0], rating)
    return _("感谢您的评价（{rating}），我们会继续改进。").format(rating=_(rating))
