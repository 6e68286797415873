"""Words that work everywhere (取消, 返回, 帮助), follow and unfollow, and the fallback."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.dialog import DialogContext, StatesGroup
from bot.filters import Event, Keyword, MenuKey
from bot.i18n import _
from bot.keys import Keys
from bot.message import Message
from bot.router import Data, Router
from handlers.intents.reader import load_intents
from handlers.scenes import apply_scene
from handlers.tips.index import ReporterIndex
from storage.inquiries import InquiryRepo
from storage.models import User
from storage.patrols import PatrolRepo
from storage.tips import TipRepo
from storage.users import UserRepo

universal = Router("universal")
lifecycle = Router("lifecycle")


def help_text() -> str:
    """Five lines: what a resident can do, and the words that always work."""
    return _(
        "平安助手可以：\n"
        "· 举报线索（可匿名）：回复「举报」，或直接说发生了什么\n"
        "· 办事咨询：直接问，如「身份证到期怎么换」\n"
        "· 「我的举报」查进度；「我的社区」「语言」\n"
        "随时可回复「取消」「返回」「帮助」。紧急情况请拨打 110。"
    )


def wants_to_stop(message: Message, data: Data) -> bool:
    """取消, and the words people use for it: 算了, 不报了, 不要了, 退出…; in a step whose
    answer is any text, only a message that says nothing else."""
    step = data["dialog"].current
    strict = step is not None and step.takes_text
    return bool(message.text) and load_intents().stops(message.text, strict=strict)


@universal.message(wants_to_stop)
async def cancel(dialog: DialogContext, **data: Any) -> str:
    if dialog.state is None:
        return _("当前没有进行中的操作。")
    await StatesGroup.abandon(dialog.state, data)
    dialog.clear()
    return _("已取消，填写的内容没有保存。")


@universal.message(Keyword("返回", "上一步", "back"))
async def back(dialog: DialogContext, **data: Any) -> str:
    if dialog.state is None:
        return _("当前没有可返回的步骤。")
    leaving = dialog.state
    previous = dialog.back()
    if previous is None:
        await StatesGroup.abandon(leaving, data)
        return _("已退出当前操作。")
    return previous.prompt_text(dialog.data) or _("已返回上一步。")


@universal.message(MenuKey("HELP"))
@universal.message(Keyword("帮助", "help", "?", "？"))
async def help_(dialog: DialogContext) -> str:
    current = dialog.current
    prompt = current.prompt_text(dialog.data) if current else None
    if prompt:
        return (
            _("您正在进行的步骤：")
            + "\n"
            + prompt
            + "\n"
            + _("回复「取消」结束，「返回」回到上一步。")
        )
    return help_text()


@lifecycle.message(Event("subscribe"))
async def subscribe(message: Message, user: User, **data: Any) -> str:
    parts = [_("您好，欢迎关注平安助手！") + "\n" + help_text()]
    if message.scene:
        note = await _scene(message.scene, user, data)
        if note:
            parts.append(note)
    return "\n\n".join(parts)


@lifecycle.message(Event("scan"))
async def scan(message: Message, user: User, **data: Any) -> str | None:
    return await _scene(message.scene, user, data) if message.scene else None


async def _scene(scene: str, user: User, data: dict[str, Any]) -> str | None:
    return await apply_scene(
        scene,
        user=user,
        session=data["session"],
        now=data["now"],
        api=data["api"],
        keys=data["keys"],
        sessionmaker=data["sessionmaker"],
        after_commit=data["after_commit"],
    )


@lifecycle.message(Event("unsubscribe"))
async def unsubscribe(
    message: Message, session: AsyncSession, keys: Keys, user: User | None
) -> None:
    # The platform asks that a leaving user's data be deleted; police records stay, unlinked.
    await TipRepo(session).forget_reporter(message.openid, ReporterIndex(user, keys).ids())
    await InquiryRepo(session).forget_user(message.openid)
    await PatrolRepo(session).forget(message.openid)  # the volunteer record keeps no account
    await UserRepo(session).forget(
        message.openid,
        user_key=keys.mac("user", message.openid),
        enrolment_key=keys.mac("enrolment", message.openid),
    )


@lifecycle.message(Event("location", "view", "templatesendjobfinish", "view_miniprogram"))
async def ignore_event() -> None:
    # LOCATION fires every 5 s while the chat is open; these need no reply.
    return None


async def fallback(message: Message, dialog: DialogContext) -> str | None:
    """Nobody handled it: re-ask the current step, or say what the bot can do."""
    current = dialog.current
    prompt = current.prompt_text(dialog.data) if current else None
    if prompt:
        return _("没有看懂您的回复。") + "\n" + prompt
    if message.is_event:
        return None  # platform notices and unknown events get no reply
    return _("抱歉，没看懂。回复「帮助」看看我能做什么，或回复「人工」转民警。")
