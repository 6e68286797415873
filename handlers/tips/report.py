"""The guided report: category → description → (fraud lane) → place → photos → anonymity
→ (named: name, phone) → confirm.

Every step accepts only what it asked for; anything else falls through to the dispatcher's
fallback, which asks the same question again. ``返回`` and ``取消`` work at every step.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Media
from bot.dialog import DialogContext, State, StatesGroup
from bot.filters import InGroup, Keyword, MenuKey, MsgType, StateIs
from bot.i18n import _
from bot.message import Message
from bot.router import Router, SkipHandler
from handlers.intents.reader import load_intents
from handlers.tips.media import NotAudio, clean_voice
from handlers.tips.photos import stripped
from handlers.tips.rules import TipRules, load_rules
from handlers.tips.service import Draft, TipService, discard_drafts
from storage import limits
from storage.models import User
from storage.tips import MediaRepo

router = Router("tips-report")

CHANNELS = {"1": "银行转账", "2": "支付宝", "3": "微信", "4": "其他"}
DONE_WORDS = ("完成", "好了", "没有", "跳过", "无")


def _category_prompt(data: dict[str, Any]) -> str:
    """Two categories a line: the list fits a phone screen with the words around it."""
    names = [f"{i}. {_(c.name)}" for i, c in enumerate(load_rules().categories, start=1)]
    rows = ["　".join(names[i : i + 2]) for i in range(0, len(names), 2)]
    return "\n".join([_("请选择线索类别，回复数字："), *rows])


def _short(text: str | None, limit: int = 120) -> str:
    """The summary echoes the description, not all of it: replies have a size limit."""
    if not text:
        return ""
    return text if len(text) <= limit else text[:limit] + "…"


def _summary(data: dict[str, Any]) -> str:
    category = load_rules().category(data["category"])
    lines = [
        _("请核对您的举报："),
        _("类别：{name}").format(name=_(category.name) if category else data["category"]),
        _("情况：{text}").format(text=_short(data.get("description")) or _("（语音）")),
    ]
    if data.get("fraud"):
        fraud = data["fraud"]
        lines.append(
            _("对方账号：{account}；金额与时间：{amount}；方式：{channel}").format(**fraud)
        )
    place = data.get("address") or (
        _("已发送位置") if data.get("lat") is not None else _("未填写")
    )
    lines.append(_("地点：{place}").format(place=place))
    lines.append(_("照片：{n} 张").format(n=len(data.get("photo_ids", []))))
    if data.get("anonymous"):
        lines.append(_("匿名：是"))
    else:
        phone = str(data.get("phone", ""))
        lines.append(
            _("实名：{name} {phone}").format(
                name=data.get("name", ""), phone=phone[:3] + "****" + phone[-4:]
            )
        )
    lines.append(_("回复 1 提交，「返回」修改，「取消」放弃。"))
    return "\n".join(lines)


class Report(StatesGroup):
    category = State(_category_prompt)
    description = State(
        lambda d: _("请简要描述情况（发文字或语音均可）："), media=("voice",), takes_text=True
    )
    fraud_moved = State(lambda d: _("钱款是否已经转出？回复 1 是，2 否。"))
    fraud_account = State(
        lambda d: _(
            "请立即拨打 96110 反诈专线！\n"
            "为了尽快止付，请告诉我们对方的收款账号（银行卡号、支付宝或微信号）："
        ),
        takes_text=True,
    )
    fraud_amount = State(
        lambda d: _("转了多少钱？大约什么时间？（例如：5000元，今天下午3点）"), takes_text=True
    )
    fraud_channel = State(
        lambda d: _("通过什么方式转的？回复：1 银行转账，2 支付宝，3 微信，4 其他。")
    )
    location = State(
        lambda d: _("事发地点在哪里？请发送位置，或直接输入地址；不清楚请回复「跳过」。")
    )
    photos = State(
        lambda d: _(
            "如有现场照片或截图，请直接发送（最多 {n} 张）；发完或没有请回复「完成」。"
        ).format(n=load_rules().photos_per_tip),
        media=("image",),
        prepare={"image": stripped},
    )
    anonymity = State(lambda d: _("是否匿名举报？回复 1 匿名，2 实名（民警可能联系您核实）。"))
    name = State(lambda d: _("请输入您的姓名："))
    phone = State(lambda d: _("请输入您的手机号码（仅办案民警可见，用于核实）："))
    confirm = State(_summary)


Report.on_abandon = discard_drafts


def _ask(dialog: DialogContext, state: State) -> str:
    dialog.set_state(state)
    return state.prompt_text(dialog.data) or ""


@router.message(MenuKey("TIP_REPORT"))
@router.message(Keyword("举报", "报案", "线索", "我要举报", "report"))
async def start(
    message: Message, dialog: DialogContext, session: AsyncSession, tips: TipService
) -> str:
    return await begin(message, dialog, session, tips)


async def begin(
    message: Message,
    dialog: DialogContext,
    session: AsyncSession,
    tips: TipService,
    *,
    category: str | None = None,
    description: str | None = None,
    lead: str | None = None,
) -> str:
    """Start a report; what the first message already said (its category, what happened)
    is kept, and the next question is the first one still open."""
    if InGroup(Report)(message, {"dialog": dialog}):
        prompt = dialog.current.prompt_text(dialog.data) if dialog.current else None
        return _("您正在填写举报。") + "\n" + (prompt or "")
    if await tips.tips_today(message.openid) >= tips.rules.tips_per_day:
        return _(
            "您今天的举报次数已达上限（{n} 次），请明天再试。\n紧急情况请直接拨打 110。"
        ).format(n=tips.rules.tips_per_day)
    await StatesGroup.abandon(dialog.state, {"session": session, "message": message})
    dialog.clear()
    lead = lead or _("感谢您协助公安机关！紧急情况请直接拨打 110。")
    chosen = tips.rules.category(category) if category else None
    if chosen is None:
        return lead + "\n" + _ask(dialog, Report.category)
    dialog.set_state(Report.category)  # so that 返回 steps back through what was skipped
    dialog.update(category=chosen.key)
    if not description:
        return lead + "\n" + _ask(dialog, Report.description)
    dialog.set_state(Report.description)
    dialog.update(description=description[: tips.rules.description_max_chars])
    noted = _("已记下（{name}）：{text}").format(name=_(chosen.name), text=_short(description, 40))
    return "\n".join([lead, noted, _after_description(dialog, tips.rules)])


@router.message(StateIs(Report.category), MsgType("text"))
async def choose_category(message: Message, dialog: DialogContext, tip_rules: TipRules) -> str:
    category = tip_rules.choose(message.text)
    if category is None:
        raise SkipHandler
    dialog.update(category=category.key)
    return _ask(dialog, Report.description)


def _after_description(dialog: DialogContext, tip_rules: TipRules) -> str:
    if dialog.data["category"] != "fraud":
        return _ask(dialog, Report.location)
    if tip_rules.money_moved(dialog.data.get("description", "")):
        return _ask(dialog, Report.fraud_account)
    return _ask(dialog, Report.fraud_moved)


@router.message(StateIs(Report.description), MsgType("text", "voice"))
async def describe(
    message: Message,
    dialog: DialogContext,
    tip_rules: TipRules,
    tips: TipService,
    media: Media | None,
    media_problem: str | None,
) -> str:
    text = message.text
    if message.msg_type == "voice":
        if media is None and not text:
            if media_problem == "too_large":
                return _("语音太长了，请分段发送，或改用文字描述。")
            return _("语音没有收到，请再发一次，或改用文字描述。")
        if media is not None:
            try:
                media = clean_voice(media)
            except NotAudio:
                return _("这段语音无法识别，请重新录一段，或改用文字描述。")
            stored = await tips.draft_media(message.openid, media, "voice")
            replaced = dialog.data.get("voice_id")
            if replaced is not None:  # a new clip replaces the earlier one
                await MediaRepo(tips.session).drop(message.openid, replaced)
            dialog.update(voice_id=stored.id)
    if len(text) > tip_rules.description_max_chars:
        return _("描述太长了，请精简到 {n} 字以内。").format(n=tip_rules.description_max_chars)
    if not text and message.msg_type == "text":
        raise SkipHandler
    dialog.update(description=text)
    return _after_description(dialog, tip_rules)


@router.message(StateIs(Report.fraud_moved), Keyword("1", "是", "转了", "已转"))
async def fraud_yes(dialog: DialogContext) -> str:
    return _ask(dialog, Report.fraud_account)


@router.message(StateIs(Report.fraud_moved), Keyword("2", "否", "没有", "没转"))
async def fraud_no(dialog: DialogContext) -> str:
    return _ask(dialog, Report.location)


@router.message(StateIs(Report.fraud_account), MsgType("text"))
async def fraud_account(message: Message, dialog: DialogContext) -> str:
    if not message.text:
        raise SkipHandler
    dialog.update(fraud={"account": message.text[:100]})
    return _ask(dialog, Report.fraud_amount)


@router.message(StateIs(Report.fraud_amount), MsgType("text"))
async def fraud_amount(message: Message, dialog: DialogContext) -> str:
    if not message.text:
        raise SkipHandler
    dialog.update(fraud={**dialog.data["fraud"], "amount": message.text[:100]})
    return _ask(dialog, Report.fraud_channel)


@router.message(StateIs(Report.fraud_channel), MsgType("text"))
async def fraud_channel(message: Message, dialog: DialogContext) -> str:
    channel = CHANNELS.get(message.text, message.text if message.text in CHANNELS.values() else "")
    if not channel:
        raise SkipHandler
    dialog.update(fraud={**dialog.data["fraud"], "channel": channel})
    return _ask(dialog, Report.photos)


@router.message(StateIs(Report.location), MsgType("location"))
async def place_pin(message: Message, dialog: DialogContext) -> str:
    assert message.location is not None
    loc = message.location
    dialog.update(lat=loc.lat, lng=loc.lng, address=loc.label[: limits.ADDRESS] or None)
    return _ask(dialog, Report.photos)


@router.message(StateIs(Report.location), MsgType("text"))
async def place_text(message: Message, dialog: DialogContext) -> str:
    if not message.text:
        raise SkipHandler
    reading = load_intents().place(message.text)
    if reading == "unclear":  # "asdf" is not stored as where it happened
        return _(
            "没看出这是哪里。请发送位置，或输入地址（如：新华路12号、村东头小卖部）；"
            "不清楚请回复「跳过」。"
        )
    if reading == "place":
        dialog.update(address=message.text[: limits.ADDRESS])
    else:  # not known after all: nothing given before stays
        dialog.update(address=None, lat=None, lng=None)
    return _ask(dialog, Report.photos)


@router.message(StateIs(Report.photos), MsgType("image"))
async def photo(
    message: Message,
    dialog: DialogContext,
    tips: TipService,
    media: Media | None,
    media_problem: str | None,
) -> str:
    held = await tips.collect_photo(message.openid, dialog, "photo_ids", media, media_problem)
    if isinstance(held, str):
        return held
    return _("已收到第 {n} 张照片。继续发送，或回复「完成」。").format(n=len(held))


@router.message(StateIs(Report.photos), Keyword(*DONE_WORDS))
async def photos_done(dialog: DialogContext) -> str:
    return _ask(dialog, Report.anonymity)


@router.message(StateIs(Report.anonymity), Keyword("1", "匿名", "2", "实名"))
async def anonymity(message: Message, dialog: DialogContext) -> str:
    anonymous = message.text in ("1", "匿名")
    dialog.update(anonymous=anonymous)
    if anonymous:
        dialog.update(name=None, phone=None)
        return _ask(dialog, Report.confirm)
    return _ask(dialog, Report.name)


# A name: Chinese, Mongolian or Latin letters, spaces and the middle dot of minority names.
NAME = re.compile(r"^[^\W\d_]+(?:[ ·・.][^\W\d_]+)*$")
# A mainland mobile, or a landline with its area code.
PHONE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


@router.message(StateIs(Report.name), MsgType("text"))
async def reporter_name(message: Message, dialog: DialogContext) -> str:
    name = message.text.strip()
    if not NAME.match(name) or len(name) > limits.REPORTER_NAME:
        return _("请只输入姓名（不超过 {n} 个字）：").format(n=limits.REPORTER_NAME)
    dialog.update(name=name)
    return _ask(dialog, Report.phone)


@router.message(StateIs(Report.phone), MsgType("text"))
async def reporter_phone(message: Message, dialog: DialogContext) -> str:
    phone = re.sub(r"[\s]", "", message.text)
    if not PHONE.match(phone):
        return _("号码格式不对，请输入 11 位手机号，或带区号的座机号码：")
    dialog.update(phone=phone)
    return _ask(dialog, Report.confirm)


@router.message(StateIs(Report.confirm), Keyword("1", "提交", "确认"))
async def submit(
    message: Message, dialog: DialogContext, user: User, session: AsyncSession, tips: TipService
) -> str:
    data = dialog.data
    if await tips.tips_today(message.openid) >= tips.rules.tips_per_day:
        await discard_drafts({"session": session, "message": message})
        dialog.clear()
        return _("您今天的举报次数已达上限，本次内容未保存。紧急情况请拨打 110。")
    draft = Draft(
        category=data["category"],
        description=data.get("description", ""),
        voice="voice_id" in data,
        lat=data.get("lat"),
        lng=data.get("lng"),
        address=data.get("address"),
        anonymous=bool(data.get("anonymous")),
        name=data.get("name"),
        phone=data.get("phone"),
        fraud=data.get("fraud"),
        media_ids=(
            *data.get("photo_ids", []),
            *([data["voice_id"]] if "voice_id" in data else []),
        ),
    )
    tip = await tips.submit(message.openid, draft, community_id=user.community_id)
    dialog.clear()
    lines = [
        _("举报已提交，编号：{code}").format(code=tip.code),
        _("请记下编号，回复「查询 {code}」可了解进展，回复「补充 {code}」可补充材料。").format(
            code=tip.code
        ),
    ]
    if draft.fraud:
        lines.append(_("如已被骗转账，请立即拨打 96110 反诈专线，并联系银行止付。"))
    return "\n".join(lines)
