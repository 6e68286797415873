"""Triage in chat: `分派 编号 姓名`, `定级 编号 红`, `备注 编号 内容`, `重复 编号 原编号`.

Notes stay inside the station; a level raised to red pages the officers on duty like any red
tip; a duplicate's reporter is told it is handled together with another report, never which.
"""

from __future__ import annotations

import re

from bot.i18n import _
from bot.push import Outbox
from bot.router import Router
from handlers.officers.access import audit
from handlers.officers.browsing import TEXT, command
from handlers.officers.cases import actor, find_tip, missing, text_of
from handlers.tips.rules import LEVEL_NAMES
from handlers.tips.service import OPEN, TipService, TransitionError
from storage.models import Officer
from storage.officers import OfficerRepo

router = Router("officer-triage")

LEVELS = {"红": "red", "黄": "yellow", "蓝": "blue"}


@command(router, "分派", r"\s+(?P<who>\S+)")
async def assign(
    code: str | None, match: re.Match[str], tips: TipService, officer: Officer, outbox: Outbox
) -> str:
    tip = await find_tip(tips, code)
    if tip is None:
        return missing(code)
    if tip.status not in OPEN:
        return _("编号 {code} 已结束，不能分派。").format(code=tip.code)
    who = match["who"]
    officers = await OfficerRepo(tips.session).active_all()
    chosen = [o for o in officers if who in (o.name, str(o.id))]
    if len(chosen) != 1:
        names = "、".join(f"{o.name}（{o.id}）" for o in officers)
        return _("找不到唯一的民警「{who}」。可选：{names}").format(who=who, names=names)
    target = chosen[0]
    previous, tip.assigned_to, tip.updated_at = tip.assigned_to, target.id, tips.now
    await tips.log_event(
        tip, actor(officer), "assign", str(previous or ""), str(target.id), target.name
    )
    audit(tips.session, officer, "assign", tip.code, tips.now, str(target.id))
    if target.openid and target.id != officer.id:
        await outbox.text(
            target.openid,
            _("{name}把线索 {code} 分派给您，回复「查看 {code}」查看。").format(
                name=officer.name, code=tip.code
            ),
        )
    return _("编号 {code} 已分派给{name}。").format(code=tip.code, name=target.name)


@command(router, "定级", r"\s*(?P<level>红|黄|蓝)色?")
async def set_level(
    code: str | None, match: re.Match[str], tips: TipService, officer: Officer
) -> str:
    tip = await find_tip(tips, code)
    if tip is None:
        return missing(code)
    level = LEVELS[match["level"]]
    name = _(LEVEL_NAMES[level])
    if tip.level == level:
        return _("编号 {code} 已是{level}预警。").format(code=tip.code, level=name)
    previous, tip.level, tip.updated_at = tip.level, level, tips.now
    await tips.log_event(tip, actor(officer), "level", previous, level, None)
    audit(tips.session, officer, "level", tip.code, tips.now, f"{previous}→{level}")
    if level == "red" and tip.status in OPEN:
        await tips.repo.alert(tip_id=tip.id, kind="red", now=tips.now)  # pages those on duty
    return _("编号 {code} 已定为{level}预警。").format(code=tip.code, level=name)


@command(router, "备注", TEXT, lines=True)
async def note(code: str | None, match: re.Match[str], tips: TipService, officer: Officer) -> str:
    tip = await find_tip(tips, code)
    if tip is None:
        return missing(code)
    text = text_of(match)
    await tips.log_event(tip, actor(officer), "note", None, None, text)
    tip.updated_at = tips.now
    audit(tips.session, officer, "note", tip.code, tips.now)
    return _("备注已记入编号 {code}（举报人看不到）。").format(code=tip.code)


@command(router, "重复", r"\s+(?P<original>[A-Za-z0-9]{8})")
async def duplicate(
    code: str | None, match: re.Match[str], tips: TipService, officer: Officer
) -> str:
    tip = await find_tip(tips, code)
    original = await find_tip(tips, match["original"].upper())
    if tip is None or original is None:
        return missing(code if tip is None else match["original"].upper())
    while original.duplicate_of is not None:  # point at the tip being worked, not a copy
        parent = await tips.repo.get(original.duplicate_of)
        if parent is None:
            break
        original = parent
    if original.id == tip.id:
        return _("不能把线索标为它自己的重复。")
    try:
        await tips.transition(tip, "duplicate", actor=actor(officer), note=original.code)
    except TransitionError:
        return _("编号 {code} 当前状态不能这样处理。").format(code=tip.code)
    tip.duplicate_of = original.id
    audit(tips.session, officer, "duplicate", tip.code, tips.now, original.code)
    return _("编号 {code} 已标为 {original} 的重复线索，举报人会收到通知。").format(
        code=tip.code, original=original.code
    )
