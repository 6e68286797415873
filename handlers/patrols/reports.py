"""On patrol: text, photos and a location become a tip in at most two turns; activities
are logged with a count; 求助 pages the officers on duty with the volunteer's last place.

Patrol reports are tips like residents' (source ``patrol``), linked to their shift, and
never anonymous: the volunteer's name goes with them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import Media
from bot.dialog import DialogContext
from bot.filters import Keyword, MenuKey, MsgType, Regex, StateIs
from bot.i18n import _
from bot.message import Message
from bot.router import Router, SkipHandler
from handlers.intents.reader import load_intents
from handlers.patrols.access import in_patrol, on_shift
from handlers.patrols.dialog import Patrol
from handlers.patrols.rules import load_patrol_rules
from handlers.tips.rules import LEVELS, TipRules
from handlers.tips.service import EMERGENCY_FOLD, TipService
from storage.models import Tip, User
from storage.officers import OfficerRepo
from storage.patrol_models import PatrolShift, Volunteer
from storage.patrols import PatrolRepo

router = Router("patrol-reports")

ACTIVITY = r"^(?P<kind>\S{2})\s*(?P<count>\d{1,4})?\s*(户|份|处|次)?$"
#: Words that are not a report even on patrol (the resident's own commands still work).
NOT_A_REPORT = re.compile(r"^(我要举报|举报|报案|线索|我的举报|查询|补充|语言|我的社区|人工)")


def patrol_tip(
    shift: PatrolShift, user: User, *, level: str, description: str, category: str = "other"
) -> Tip:
    """A tip from the patrol, at the shift's last place."""
    return Tip(
        category=category,
        level=level,
        source="patrol",
        description=description,
        details={},
        lat=shift.lat,
        lng=shift.lng,
        community_id=user.community_id,
    )


async def file(data: dict[str, Any], description: str, media_ids: tuple[int, ...] = ()) -> str:
    """File a patrol report from the update's ``data`` (tips, volunteer, shift, user…)."""
    tips: TipService = data["tips"]
    tip_rules: TipRules = data["tip_rules"]
    shift: PatrolShift = data["shift"]
    user: User = data["user"]
    volunteer: Volunteer = data["volunteer"]
    rules = load_patrol_rules()
    # What the volunteer wrote names the category as a resident's words would (intents.yaml).
    key = load_intents().category_of(description) or rules.report_category
    category = tip_rules.category(key)
    level = rules.report_level
    if category is not None:
        worded = tip_rules.level_for(category, description, repeats=0, fraud_lane=False)
        level = max(level, worded, key=LEVELS.index)
    tip = await tips.file_named(
        user.openid,
        volunteer.name,
        patrol_tip(
            shift,
            user,
            level=level,
            description=description[: tip_rules.description_max_chars],
            category=category.key if category is not None else rules.report_category,
        ),
        media_ids,
    )
    PatrolRepo(tips.session).report(tip_id=tip.id, shift=shift)
    if level == "red":
        await tips.repo.alert(tip_id=tip.id, kind="red", now=tips.now)
    place = _("（带位置）") if shift.lat is not None else ""
    return _("已上报，编号 {code}{place}。民警受理后积分 +{n}。").format(
        code=tip.code, place=place, n=rules.points["report"]
    )


# First: 求助 is never a report's description, whatever step the volunteer is in.
@router.message(MenuKey("PATROL_SOS"), on_shift)
@router.message(Keyword("求助", "SOS"), on_shift)
async def sos(
    tips: TipService,
    volunteer: Volunteer,
    shift: PatrolShift,
    user: User,
    session: AsyncSession,
    now: datetime,
) -> str:
    """Pages the officers on duty at once (the duty alerts escalate it until acknowledged)."""
    repo = PatrolRepo(session)
    team = await repo.team(shift.team_id)
    place = _("位置未知")
    if shift.lat is not None and shift.lng is not None and shift.located_at is not None:
        minutes = int((now - shift.located_at).total_seconds() // 60)
        place = _("位置 {lat:.5f},{lng:.5f}（{m} 分钟前）").format(
            lat=shift.lat, lng=shift.lng, m=minutes
        )
    description = _("巡防队员求助：{name}（{team}），{place}").format(
        name=volunteer.name, team=team.name if team else "", place=place
    )
    # A frightened volunteer taps again and again: one page, the later taps add the place to
    # it (an unacknowledged page escalates on its own, to the chief and then to everyone).
    open_sos = await repo.open_sos(shift.id, now - EMERGENCY_FOLD)
    if open_sos is not None:
        await tips.log_event(open_sos, "reporter", "supplement", None, None, description)
        open_sos.updated_at = now
        return "\n".join(
            [
                _("求助已在处理（编号 {code}），新的位置已补上。").format(code=open_sos.code),
                _("情况危急请立即拨打 110！"),
            ]
        )
    tip = await tips.file_named(
        user.openid, volunteer.name, patrol_tip(shift, user, level="red", description=description)
    )
    repo.report(tip_id=tip.id, shift=shift, kind="sos")
    await tips.repo.alert(tip_id=tip.id, kind="sos", now=now)
    reached = [o.name for o in await OfficerRepo(session).on_duty(now) if o.openid]
    sent = (
        _("求助已发出（编号 {code}），您的位置已发给值班民警。")
        if shift.lat is not None
        else _("求助已发出（编号 {code}）。没有您的位置，请发送位置或电话说明。")
    )
    lines = [sent.format(code=tip.code)]
    if reached:
        # Named, not "已通知": the pages go out once this reply is committed (the note after
        # it says how many are being notified).
        lines.append(_("值班民警：{names}。").format(names="、".join(reached)))
    lines.append(_("情况危急请立即拨打 110！"))
    return "\n".join(lines)


@router.message(MenuKey("PATROL_REPORT"), on_shift)
async def report_click(dialog: DialogContext) -> str:
    dialog.set_state(Patrol.on, remember=False)
    return _("请直接发送照片或文字说明情况；发位置可附上地点。")


@router.message(StateIs(Patrol.on, Patrol.report), MsgType("image"), on_shift)
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
    dialog.set_state(Patrol.report, remember=False)
    return _("已收到照片 {n} 张。").format(n=len(held)) + (Patrol.report.prompt_text({}) or "")


@router.message(StateIs(Patrol.report), MsgType("text"), on_shift)
async def describe_photos(
    message: Message, dialog: DialogContext, tips: TipService, **data: Any
) -> str:
    text = message.text
    if NOT_A_REPORT.match(text):
        raise SkipHandler  # e.g. 举报: the resident's report (which drops this draft)
    if text in ("取消", "返回"):
        await tips.media.discard_drafts(message.openid)
        dialog.clear()
        dialog.set_state(Patrol.on, remember=False)
        return _("已放弃这次上报，继续巡逻。")
    description = "" if text in ("完成", "跳过") else text
    done = await file(
        {**data, "tips": tips},
        description or _("（照片）"),
        tuple(dialog.data.get("photo_ids", [])),
    )
    dialog.clear()
    dialog.set_state(Patrol.on, remember=False)
    return done


@router.message(Regex(r"^上报\s*(?P<text>\S.*)$", re.DOTALL), on_shift, in_patrol)
async def report_now(match: re.Match[str], **data: Any) -> str:
    """`上报 路灯坏了`: one turn."""
    return await file(data, match["text"].strip())


@router.message(Regex(ACTIVITY), StateIs(Patrol.on), on_shift)
async def activity(
    match: re.Match[str],
    volunteer: Volunteer,
    shift: PatrolShift,
    session: AsyncSession,
    now: datetime,
) -> str:
    """`走访 3`, `宣传 20`, `隐患 1`: work done, counted, no tip each."""
    rules = load_patrol_rules()
    kind = rules.activity(match["kind"])
    if kind is None:
        raise SkipHandler
    count = int(match["count"] or 1)
    repo = PatrolRepo(session)
    repo.activity(shift, kind=kind.key, count=count, at=now)
    points = kind.points * count
    repo.award(
        volunteer.id,
        points,
        rule="activity",
        reason=f"{kind.name} {count}{kind.unit}",
        now=now,
        shift_id=shift.id,
    )
    note = _("已记录：{name} {count}{unit}").format(
        name=_(kind.name), count=count, unit=_(kind.unit)
    )
    return note + (_("，积分 +{n}。").format(n=points) if points else "。")


@router.message(StateIs(Patrol.on), MsgType("text"), on_shift)
async def free_text(message: Message, dialog: DialogContext) -> str:
    """Anything else said on patrol may be a report: asked once, so chatter files nothing."""
    if not message.text or NOT_A_REPORT.match(message.text):
        raise SkipHandler
    dialog.update(description=message.text)
    dialog.set_state(Patrol.confirm, remember=False)
    return Patrol.confirm.prompt_text({}) or ""


@router.message(StateIs(Patrol.confirm), Keyword("1", "2", "上报", "不报"), on_shift)
async def confirm(message: Message, dialog: DialogContext, **data: Any) -> str:
    description = str(dialog.data.get("description", ""))
    dialog.clear()
    dialog.set_state(Patrol.on, remember=False)
    if message.text in ("2", "不报"):
        return _("好的，没有上报。")
    return await file(data, description)
