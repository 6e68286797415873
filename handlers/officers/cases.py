"""Officers work a tip from their phone: open it, accept, reply to the reporter, resolve or
reject. Each step is audited on the tip (``tip_events``) and the reporter is told through
the bot, so the officer never learns who an anonymous reporter is."""

from __future__ import annotations

import re

from bot.filters import Regex
from bot.i18n import _
from bot.router import Router
from handlers.officers.access import OfficerOnly, audit, refuse
from handlers.tips.service import TipService, TransitionError
from handlers.tips.views import officer_detail
from storage.models import Officer, Tip

router = Router("officer-cases")

CODE = r"(?P<code>[A-Za-z0-9]{8})"
OPEN = rf"^查看\s*{CODE}$"
ACCEPT = rf"^受理\s*{CODE}$"
# The rest of the message (lines included) is the outcome, reason or reply.
RESOLVE = rf"^办结\s*{CODE}\s+(?P<text>\S.*)$"
REJECT = rf"^驳回\s*{CODE}\s+(?P<text>\S.*)$"
REPLY = rf"^回复\s*{CODE}\s+(?P<text>\S.*)$"
TEXT_CHARS = 1000


def actor(officer: Officer) -> str:
    return f"officer:{officer.id}"


async def find_tip(tips: TipService, code: str) -> Tip | None:
    return await tips.repo.by_code(code.upper())


def missing(code: str) -> str:
    return _("没有编号为 {code} 的线索。").format(code=code.upper())


async def show_tip(tip: Tip, tips: TipService, officer: Officer) -> str:
    """A tip as an officer sees it (audited as a view)."""
    audit(tips.session, officer, "view", tip.code, tips.now)
    return officer_detail(tip, await tips.repo.events(tip.id), tips.rules)


@router.message(Regex(OPEN), OfficerOnly())
async def open_tip(match: re.Match[str], tips: TipService, officer: Officer) -> str:
    tip = await find_tip(tips, match["code"])
    if tip is None:
        return missing(match["code"])
    return await show_tip(tip, tips, officer)


async def _move(
    match: re.Match[str], tips: TipService, officer: Officer, to: str, note: str | None
) -> str:
    tip = await find_tip(tips, match["code"])
    if tip is None:
        return missing(match["code"])
    try:
        await tips.transition(tip, to, actor=actor(officer), note=note)
    except TransitionError:
        return _("编号 {code} 当前状态不能这样处理。").format(code=tip.code)
    audit(tips.session, officer, to, tip.code, tips.now, note)
    # "will be told", not "was told": a closed 48-hour window holds the notice until they write.
    return _("编号 {code} 已更新，举报人会收到通知。").format(code=tip.code)


@router.message(Regex(ACCEPT), OfficerOnly())
async def accept(match: re.Match[str], tips: TipService, officer: Officer) -> str:
    reply = await _move(match, tips, officer, "accepted", None)
    tip = await find_tip(tips, match["code"])
    if tip is not None and tip.status == "accepted" and tip.assigned_to is None:
        tip.assigned_to = officer.id  # who accepts a tip nobody holds, holds it
    return reply


@router.message(Regex(RESOLVE, re.DOTALL), OfficerOnly())
async def resolve(match: re.Match[str], tips: TipService, officer: Officer) -> str:
    return await _move(match, tips, officer, "resolved", match["text"].strip()[:TEXT_CHARS])


@router.message(Regex(REJECT, re.DOTALL), OfficerOnly())
async def reject(match: re.Match[str], tips: TipService, officer: Officer) -> str:
    return await _move(match, tips, officer, "rejected", match["text"].strip()[:TEXT_CHARS])


@router.message(Regex(REPLY, re.DOTALL), OfficerOnly())
async def reply(match: re.Match[str], tips: TipService, officer: Officer) -> str:
    tip = await find_tip(tips, match["code"])
    if tip is None:
        return missing(match["code"])
    reached = await tips.relay(tip, match["text"].strip()[:TEXT_CHARS], actor=actor(officer))
    audit(tips.session, officer, "reply", tip.code, tips.now, "reached" if reached else "gone")
    if not reached:
        return _("举报人已取消关注，回复已记入线索，但无法送达。")
    return _("回复会转给举报人（编号 {code}），双方都看不到对方的身份。").format(code=tip.code)


# Everyone else who types these is refused (and logged).
router.message(Regex(OPEN))(refuse)
router.message(Regex(ACCEPT))(refuse)
for pattern in (RESOLVE, REJECT, REPLY):
    router.message(Regex(pattern, re.DOTALL))(refuse)
