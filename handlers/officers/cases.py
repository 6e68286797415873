"""Officers work a tip from their phone: open it, accept, reply to the reporter, resolve or
reject. Each step is audited on the tip (``tip_events``) and the reporter is told through
the bot, so the officer never learns who an anonymous reporter is."""

from __future__ import annotations

import re
from urllib.parse import quote

from bot.config import Settings
from bot.dialog import DialogContext
from bot.i18n import _
from bot.router import Router
from handlers.officers.access import audit
from handlers.officers.browsing import TEXT, command, remember_tip
from handlers.patrols import points as patrol_points
from handlers.tips.privacy import mask
from handlers.tips.service import TipService, TransitionError
from handlers.tips.views import officer_detail
from storage.models import Officer, Tip
from storage.officers import OfficerRepo

router = Router("officer-cases")

TEXT_CHARS = 1000


def actor(officer: Officer) -> str:
    return f"officer:{officer.id}"


def text_of(match: re.Match[str]) -> str:
    return match["text"].strip()[:TEXT_CHARS]


async def find_tip(tips: TipService, code: str | None) -> Tip | None:
    return await tips.repo.by_code(code) if code else None


def missing(code: str | None) -> str:
    if not code:
        return _("请写上线索编号，或先回复列表中的序号打开一条线索。")
    return _("没有编号为 {code} 的线索。").format(code=code)


async def show_tip(
    tip: Tip, tips: TipService, officer: Officer, dialog: DialogContext, settings: Settings
) -> str:
    """A tip as an officer sees it (audited as a view), its photos and a map of its place
    sent after; its commands then need no code."""
    audit(tips.session, officer, "view", tip.code, tips.now)
    remember_tip(dialog, tip.code)
    colleagues = await OfficerRepo(tips.session).all()
    names = {actor(o): o.name for o in colleagues}
    lines = [officer_detail(tip, await tips.repo.events(tip.id), tips.rules, names)]
    sent = await _send_media(tip, tips, officer, settings.map_url)
    if sent:
        lines.append(sent)
    lines.append(_("可直接回复：受理、回复 内容、备注 内容、办结 结果、驳回 原因"))
    return "\n".join(lines)


async def _send_media(tip: Tip, tips: TipService, officer: Officer, map_url: str) -> str:
    """Photos as images and the place as a map card, pushed right after this reply."""
    if tips.outbox is None or officer.openid is None:
        return ""
    photos = await tips.media.photos(tip.id)
    for media_id in photos:
        await tips.outbox.image(officer.openid, media_id)
    where = tip.lat is not None and tip.lng is not None
    if where:
        title = _("线索 {code} 的位置").format(code=tip.code)
        await tips.outbox.link(
            officer.openid,
            title=title,
            description=mask(tip.address or "") or f"{tip.lat:.5f}, {tip.lng:.5f}",
            url=map_url.format(lat=tip.lat, lng=tip.lng, title=quote(title)),
        )
    if photos and where:
        return _("照片 {n} 张和位置地图随后发给您。").format(n=len(photos))
    if photos:
        return _("照片 {n} 张随后发给您。").format(n=len(photos))
    return _("位置地图随后发给您。") if where else ""


@command(router, "查看")
async def open_tip(
    code: str | None, tips: TipService, officer: Officer, dialog: DialogContext, settings: Settings
) -> str:
    tip = await find_tip(tips, code)
    if tip is None:
        return missing(code)
    return await show_tip(tip, tips, officer, dialog, settings)


async def _move(
    code: str | None, tips: TipService, officer: Officer, to: str, note: str | None
) -> str:
    tip = await find_tip(tips, code)
    if tip is None:
        return missing(code)
    try:
        await tips.transition(tip, to, actor=actor(officer), note=note)
    except TransitionError:
        return _("编号 {code} 当前状态不能这样处理。").format(code=tip.code)
    if to == "accepted" and tip.assigned_to is None:
        tip.assigned_to = officer.id  # who accepts a tip nobody holds, holds it
    if to == "accepted":
        await patrol_points.accepted(tips.session, tip, tips.now)  # a patrol report's points
    audit(tips.session, officer, to, tip.code, tips.now, note)
    # "will be told", not "was told": a closed 48-hour window holds the notice until they write.
    return _("编号 {code} 已更新，举报人会收到通知。").format(code=tip.code)


@command(router, "受理")
async def accept(code: str | None, tips: TipService, officer: Officer) -> str:
    return await _move(code, tips, officer, "accepted", None)


@command(router, "办结", TEXT, lines=True)
async def resolve(
    code: str | None, match: re.Match[str], tips: TipService, officer: Officer
) -> str:
    return await _move(code, tips, officer, "resolved", text_of(match))


@command(router, "驳回", TEXT, lines=True)
async def reject(
    code: str | None, match: re.Match[str], tips: TipService, officer: Officer
) -> str:
    return await _move(code, tips, officer, "rejected", text_of(match))


@command(router, "回复", TEXT, lines=True)
async def reply(code: str | None, match: re.Match[str], tips: TipService, officer: Officer) -> str:
    tip = await find_tip(tips, code)
    if tip is None:
        return missing(code)
    reached = await tips.relay(tip, text_of(match), actor=actor(officer))
    audit(tips.session, officer, "reply", tip.code, tips.now, "reached" if reached else "gone")
    if not reached:
        return _("举报人已取消关注，回复已记入线索，但无法送达。")
    return _("回复会转给举报人（编号 {code}），双方都看不到对方的身份。").format(code=tip.code)
