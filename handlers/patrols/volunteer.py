"""What a volunteer says to the bot: enrol, start and end a patrol, check in, help.

This router goes before the universal words: 结束巡逻 must not be read as 取消.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.dialog import DialogContext
from bot.filters import Event, Keyword, MenuKey, MsgType, StateIs
from bot.i18n import _
from bot.message import Message
from bot.router import Router
from handlers.patrols.access import in_patrol, on_shift, refuse, volunteer_only
from handlers.patrols.dialog import Patrol
from handlers.patrols.rules import load_patrol_rules
from handlers.patrols.shifts import checkin, close, duration, move
from handlers.tips.service import discard_drafts
from storage.patrol_models import PatrolShift, Volunteer
from storage.patrols import PatrolRepo

router = Router("patrols")

START_WORDS = ("开始巡逻", "上岗")
END_WORDS = ("结束巡逻", "收队")
MENU_KEYS = (
    "PATROL_START",
    "PATROL_END",
    "PATROL_REPORT",
    "PATROL_SOS",
    "PATROL_POINTS",
    "PATROL_BOARD",
    "PATROL_HELP",
)


def help_text() -> str:
    """A volunteer's help: only what a volunteer can do."""
    return _(
        "巡防队员可以：\n"
        "· 「开始巡逻」签到，「结束巡逻」收队\n"
        "· 巡逻中发照片或文字即上报线索\n"
        "· 「走访 3」「宣传 20」「隐患 1」记工作\n"
        "· 「求助」立即通知值班民警\n"
        "· 「我的积分」「巡逻排行」\n"
        "紧急情况请拨打 110。"
    )


@router.message(MenuKey("PATROL_HELP"), volunteer_only)
@router.message(Keyword("帮助", "help", "?", "？"), volunteer_only, in_patrol)
async def volunteer_help(shift: PatrolShift | None) -> str:
    return help_text() + ("\n" + _("您正在巡逻中。") if shift is not None else "")


@router.message(MenuKey("PATROL_START"), volunteer_only)
@router.message(Keyword(*START_WORDS), volunteer_only)
async def start(
    volunteer: Volunteer,
    shift: PatrolShift | None,
    session: AsyncSession,
    dialog: DialogContext,
    now: datetime,
    **data: Any,
) -> str:
    if shift is not None:
        return _("您已在巡逻中（已 {since}）。").format(since=duration(now - shift.started_at))
    await discard_drafts({"session": session, "message": data["message"]})
    await PatrolRepo(session).start(volunteer, now)
    dialog.clear()
    dialog.set_state(Patrol.checkin, remember=False)
    return _("巡逻开始，注意安全！") + "\n" + (Patrol.checkin.prompt_text({}) or "")


@router.message(MenuKey("PATROL_END"), volunteer_only)
@router.message(Keyword(*END_WORDS), volunteer_only)
async def end(
    shift: PatrolShift | None,
    session: AsyncSession,
    dialog: DialogContext,
    now: datetime,
    **data: Any,
) -> str:
    if shift is None:
        return _("您当前没有进行中的巡逻。回复「开始巡逻」上岗。")
    await discard_drafts({"session": session, "message": data["message"]})
    dialog.clear()
    summary = await close(PatrolRepo(session), shift, now=now, rules=load_patrol_rules())
    return _("巡逻已结束，辛苦了！") + "\n" + summary


@router.message(StateIs(Patrol.checkin), MsgType("location"), on_shift)
async def check_in(
    message: Message,
    shift: PatrolShift,
    session: AsyncSession,
    dialog: DialogContext,
    now: datetime,
) -> str:
    assert message.location is not None
    rules = load_patrol_rules()
    repo = PatrolRepo(session)
    loc = message.location
    far = checkin(shift, await repo.team(shift.team_id), loc.lat, loc.lng, rules)
    move(repo, shift, now=now, lat=loc.lat, lng=loc.lng, precision=None, rules=rules, force=True)
    dialog.set_state(Patrol.on, remember=False)
    lines = [_("签到成功。") + (Patrol.on.prompt_text({}) or "")]
    if far is not None:
        lines.append(
            _("提示：签到点距本队巡逻区域约 {km:.1f} 公里，已记录。").format(km=far / 1000)
        )
    return "\n".join(lines)


@router.message(Event("location"), on_shift)
async def track(
    message: Message, shift: PatrolShift, session: AsyncSession, now: datetime
) -> None:
    """WeChat's periodic LOCATION report: a track point now and then, never a reply."""
    loc = message.location
    if loc is None:
        return
    precision = message.fields.get("Precision")
    kept = move(
        PatrolRepo(session),
        shift,
        now=now,
        lat=loc.lat,
        lng=loc.lng,
        precision=float(precision) if precision else None,
        rules=load_patrol_rules(),
    )
    if kept:  # a sign of life, to the minute like the others (see ``access``)
        shift.seen_at = max(shift.seen_at, now.replace(second=0, microsecond=0))


@router.message(MsgType("location"), on_shift, in_patrol)
async def position(
    message: Message, shift: PatrolShift, session: AsyncSession, now: datetime
) -> str:
    """A location sent on patrol: kept, and the place of the next quick report."""
    assert message.location is not None
    loc = message.location
    rules = load_patrol_rules()
    move(
        PatrolRepo(session),
        shift,
        now=now,
        lat=loc.lat,
        lng=loc.lng,
        precision=None,
        rules=rules,
        force=True,
    )
    return _("位置已记录，上报的线索会带上这个位置。")


@router.message(Keyword("取消", "返回"), on_shift, StateIs(Patrol.on, Patrol.checkin))
async def still_on(dialog: DialogContext) -> str:
    return _("巡逻仍在进行。收队请回复「结束巡逻」。")


refusals = Router("patrol-refusals")
# Residents (and suspended volunteers) who use the patrol words hear why not.
refusals.message(Keyword(*START_WORDS, *END_WORDS, "我的积分", "巡逻排行"))(refuse)
refusals.message(MenuKey(*MENU_KEYS))(refuse)
