"""Duty alerts: what residents raise reaches the officers at once, and is escalated until one
of them answers `收到 编号`.

Tips and inquiries only raise alerts (``storage.alerts.raise_alert``); this module, as a
middleware around every update, sends each raised alert to the officers on duty in the same
transaction's outbox and tells the resident how many were notified, or to call 110 when
nobody could be. Every channel is an outbox row: a customer-service text per officer (with
a template message as its fallback when ``alert_template_id`` is set and the officer's
window is closed), and a post to the duty group's WeCom robot when ``duty_robot_key`` is.
The roster (``storage.duty``) says who is on duty; without one, every active officer is.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import _
from bot.keys import Keys
from bot.message import Message
from bot.middlewares import Next
from bot.push import Outbox, Pusher
from bot.router import Data, Result
from handlers.tips.privacy import mask
from storage.alerts import AlertRepo, raised
from storage.clock import CHINA, Clock, utc
from storage.models import Handoff, Officer, OfficerAlert, Tip
from storage.officers import OfficerRepo

log = logging.getLogger("pingan.officers")

URGENT = frozenset({"emergency", "red", "fraud", "sos"})
KIND_NAMES = {
    "emergency": "紧急",
    "red": "红色预警",
    "fraud": "电诈止付",
    "handoff": "居民求助",
    "sos": "巡防队员求助",
}


def ack_window(alert: OfficerAlert, settings: Settings) -> timedelta:
    minutes = settings.alert_ack_minutes if alert.kind in URGENT else settings.handoff_ack_minutes
    return timedelta(minutes=minutes)


def _about(subject: Tip | Handoff | None) -> tuple[str, str]:
    """The code an officer acknowledges with, and what the resident wrote."""
    if isinstance(subject, Tip):
        return subject.code, subject.description
    if isinstance(subject, Handoff):
        return f"H{subject.id}", subject.question
    return "?", ""


def _head(escalated: bool) -> str:
    return _("【未确认·升级】") if escalated else _("【值班提醒】")


def alert_text(
    alert: OfficerAlert, subject: Tip | Handoff | None, *, escalated: bool, group: bool = False
) -> str:
    """What an officer's phone shows: short, masked, with the words that acknowledge it.
    ``group``: for the duty group's robot, where a reply reaches nobody."""
    code, text = _about(subject)
    kind = _(KIND_NAMES.get(alert.kind, alert.kind))
    ack = _("在公众号回复「收到 {code}」确认。") if group else _("回复「收到 {code}」确认。")
    return "\n".join([f"{_head(escalated)}{kind} {code}", mask(text)[:60], ack.format(code=code)])


def alert_template(
    alert: OfficerAlert, subject: Tip | Handoff | None, template_id: str, *, escalated: bool
) -> dict[str, Any] | None:
    """The template message WeChat shows an officer whose 48-hour window is closed (the full
    text waits for their next message). Values are short: newer template fields take at
    most 20 characters."""
    if not template_id:
        return None
    code, text = _about(subject)
    values = {
        "first": _head(escalated),
        "keyword1": _(KIND_NAMES.get(alert.kind, alert.kind)),
        "keyword2": code,
        "keyword3": mask(text)[:20] or "-",  # the platform refuses an empty value
        "keyword4": alert.created_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
        "remark": _("回复「收到 {code}」确认。").format(code=code),
    }
    return {"template_id": template_id, "data": {k: {"value": v} for k, v in values.items()}}


async def _record(
    outbox: Outbox,
    officers: list[Officer],
    alert: OfficerAlert,
    subject: Tip | Handoff | None,
    settings: Settings,
    *,
    escalated: bool,
) -> int:
    """Record one alert's pushes (each reachable officer, and the duty group's robot when
    there is one); returns how many officers a push was recorded for."""
    text = alert_text(alert, subject, escalated=escalated)
    template = alert_template(alert, subject, settings.alert_template_id, escalated=escalated)
    recorded = 0
    for officer in officers:
        if officer.openid:
            await outbox.text(officer.openid, text, template=template)
            recorded += 1
    if settings.duty_robot:
        await outbox.robot(alert_text(alert, subject, escalated=escalated, group=True))
    return recorded


def resident_note(officers: int, *, group: bool) -> str:
    """Only what is true now: the pushes are committed with this reply and go out at once,
    but none has arrived yet. Without an officer to reach, 110 is the resident's way."""
    if officers and group:
        return _("正在通知 {n} 位值班民警和值班群。").format(n=officers)
    if officers:
        return _("正在通知 {n} 位值班民警。").format(n=officers)
    if group:
        return _("目前没有可以通知的值班民警，正在通知值班群；请务必立即拨打 110。")
    return _("目前没有可以通知的值班民警，请务必立即拨打 110。")


def _join(*parts: str | None) -> str | None:
    return "\n".join(p for p in parts if p) or None


async def deliver_alerts(handler: Next, message: Message, data: Data) -> Result:
    """Middleware: send the alerts this update raised, and say so to the resident; what a
    handler put in ``resume`` (the step of a report it interrupted) is said after that."""
    resume: list[str] = []
    data["resume"] = resume
    result = await handler(message, data)
    session: AsyncSession = data["session"]
    alerts = raised(session)
    if not alerts:
        return _join(result, *resume)
    await session.flush()
    on_duty = await OfficerRepo(session).on_duty(data["now"])
    repo = AlertRepo(session)
    now: datetime = data["now"]
    settings: Settings = data["settings"]
    notified = 0
    for alert in alerts:
        subject = await repo.subject(alert)
        count = await _record(data["outbox"], on_duty, alert, subject, settings, escalated=False)
        notified = max(notified, count)
        alert.delivered_at = now if count else None
        alert.next_escalation_at = now + ack_window(alert, settings)
        log.info(
            "alert=%s kind=%s sent to %d on duty, group=%s",
            alert.id,
            alert.kind,
            count,
            settings.duty_robot,
        )
    if not any(a.kind in URGENT for a in alerts):
        return _join(result, *resume)
    # Only what is true now: the notices are committed with this reply and go out at once.
    note = resident_note(notified, group=settings.duty_robot)
    return _join(result, note, *resume)


async def escalate_due(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    pusher: Pusher,
    keys: Keys,
    settings: Settings,
    clock: Clock,
) -> int:
    """Unacknowledged alerts past their window: to the chief, then to every officer; the
    duty group hears of each step."""
    now = utc(clock)
    ids: list[int] = []
    escalated = 0
    async with sessionmaker.begin() as session:
        repo, officers = AlertRepo(session), OfficerRepo(session)
        outbox = Outbox(session, now, keys)
        everyone = await officers.active_all()  # escalation ignores the roster
        chiefs = [o for o in everyone if o.rank == "chief"]
        for alert in await repo.due(now):
            if alert.stage >= 2:
                alert.next_escalation_at = None  # everyone has been told; nothing further
                continue
            alert.stage += 1
            targets = chiefs if alert.stage == 1 else everyone
            subject = await repo.subject(alert)
            await _record(outbox, targets, alert, subject, settings, escalated=True)
            alert.next_escalation_at = now + ack_window(alert, settings)
            escalated += 1
            log.warning("alert=%s not acknowledged: stage %d", alert.id, alert.stage)
        ids = outbox.ids
    await pusher.flush(ids)
    return escalated
