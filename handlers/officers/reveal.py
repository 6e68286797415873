"""Unsealing an anonymous reporter, for legal process only: an officer (not an auxiliary)
asks with a reason, the chief approves or refuses, and the requester sees the result once.
Every step is in the audit log; no other path shows an openid to anyone."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Regex
from bot.i18n import _
from bot.message import Message
from bot.push import Outbox
from bot.router import Router
from handlers.officers.access import OfficerOnly, audit
from handlers.tips.service import TipService
from storage.models import Officer, RevealRequest

log = logging.getLogger("pingan.officers")

router = Router("officer-reveal")

ASK = r"^申请查看举报人\s*(?P<code>[A-Za-z0-9]{8})\s+(?P<reason>\S.*)$"
APPROVE = r"^(?P<verb>批准|拒绝)\s*R(?P<id>\d{1,9})$"
SEE = r"^查看举报人\s*R(?P<id>\d{1,9})$"


async def _chiefs(session: AsyncSession) -> list[Officer]:
    stmt = select(Officer).where(Officer.rank == "chief", Officer.status == "active")
    return list((await session.execute(stmt)).scalars())


@router.message(Regex(ASK, re.DOTALL), OfficerOnly("officer", "chief"))
async def ask(
    match: re.Match[str], tips: TipService, officer: Officer, outbox: Outbox, now: datetime
) -> str:
    tip = await tips.repo.by_code(match["code"].upper())
    if tip is None:
        return _("没有编号为 {code} 的线索。").format(code=match["code"].upper())
    if not tip.anonymous:
        return _("这条线索是实名举报，「查看 {code}」即可看到举报人。").format(code=tip.code)
    reason = match["reason"].strip()[:500]
    request = RevealRequest(
        tip_id=tip.id, requested_by=officer.id, reason=reason, status="pending", created_at=now
    )
    tips.session.add(request)
    await tips.session.flush()
    audit(tips.session, officer, "reveal_request", tip.code, now, reason)
    for chief in await _chiefs(tips.session):
        if chief.openid and chief.id != officer.id:
            await outbox.text(
                chief.openid,
                _(
                    "申请 R{id}：{name} 申请查看线索 {code} 的举报人。\n理由：{reason}\n"
                    "回复「批准 R{id}」或「拒绝 R{id}」。"
                ).format(id=request.id, name=officer.name, code=tip.code, reason=reason),
            )
    return _("已提交申请 R{id}，等待所长审批。").format(id=request.id)


@router.message(Regex(APPROVE), OfficerOnly("chief"))
async def decide(
    match: re.Match[str], session: AsyncSession, officer: Officer, outbox: Outbox, now: datetime
) -> str:
    request = await session.get(RevealRequest, int(match["id"]))
    if request is None or request.status != "pending":
        return _("没有待审批的申请 R{id}。").format(id=match["id"])
    approved = match["verb"] == "批准"
    request.status = "approved" if approved else "refused"
    request.decided_by, request.decided_at = officer.id, now
    audit(session, officer, "reveal_" + request.status, f"R{request.id}", now)
    requester = await session.get(Officer, request.requested_by)
    if requester is not None and requester.openid:
        note = (
            _("申请 R{id} 已批准：回复「查看举报人 R{id}」查看，只能查看一次。")
            if approved
            else _("申请 R{id} 未获批准。")
        )
        await outbox.text(requester.openid, note.format(id=request.id))
    done = _("已批准申请 R{id}。") if approved else _("已拒绝申请 R{id}。")
    return done.format(id=request.id)


@router.message(Regex(SEE), OfficerOnly("officer", "chief"))
async def see(match: re.Match[str], tips: TipService, officer: Officer, now: datetime) -> str:
    request = await tips.session.get(RevealRequest, int(match["id"]))
    if (
        request is None
        or request.requested_by != officer.id
        or request.status != "approved"
        or request.shown_at is not None
    ):
        return _("没有可查看的申请 R{id}（需本人申请、所长批准，且只能查看一次）。").format(
            id=match["id"]
        )
    request.shown_at = now
    tip = await tips.repo.get(request.tip_id)
    openid = tips.reporter_of(tip) if tip is not None else None
    audit(tips.session, officer, "reveal_shown", f"R{request.id}", now)
    if openid is None:
        return _("举报人已取消关注，身份已无法查到。")
    return _("R{id} 举报人的微信 OpenID：{openid}\n（依法使用；此信息不会再次显示。）").format(
        id=request.id, openid=openid
    )


@router.message(Regex(ASK, re.DOTALL))
@router.message(Regex(APPROVE))
@router.message(Regex(SEE))
async def refuse(message: Message) -> str:
    # Residents, volunteers, auxiliaries (for requests), non-chiefs (for decisions).
    log.warning("reveal command refused type=%s", message.msg_type)
    return _("您没有权限进行此操作。")
