"""Duty alerts: what residents raise reaches the officers at once, and is escalated until one
of them answers `收到 编号`.

Tips and inquiries only raise alerts (``storage.alerts.raise_alert``); this module, as a
middleware around every update, sends each raised alert to the officers on duty in the same
transaction's outbox and tells the resident how many were notified, or to call 110 when
nobody could be. The roster (``storage.duty``) says who is on duty; without one, every active
officer is.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

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
from storage.clock import Clock, utc
from storage.models import Handoff, Officer, OfficerAlert, Tip
from storage.officers import OfficerRepo

log = logging.getLogger("pingan.officers")

URGENT = frozenset({"emergency", "red", "fraud"})
KIND_NAMES = {"emergency": "紧急", "red": "红色预警", "fraud": "电诈止付", "handoff": "居民求助"}


def ack_window(alert: OfficerAlert, settings: Settings) -> timedelta:
    minutes = settings.alert_ack_minutes if alert.kind in URGENT else settings.handoff_ack_minutes
    return timedelta(minutes=minutes)


def alert_text(alert: OfficerAlert, subject: Tip | Handoff | None, *, escalated: bool) -> str:
    """What an officer's phone shows: short, masked, with the words that acknowledge it."""
    if isinstance(subject, Tip):
        code, text = subject.code, subject.description
    elif isinstance(subject, Handoff):
        code, text = f"H{subject.id}", subject.question
    else:
        code, text = "?", ""
    short = mask(text)[:60]
    head = _("【未确认·升级】") if escalated else _("【值班提醒】")
    kind = _(KIND_NAMES.get(alert.kind, alert.kind))
    return "\n".join(
        [
            f"{head}{kind} {code}",
            short,
            _("回复「收到 {code}」确认。").format(code=code),
        ]
    )


async def _send(outbox: Outbox, officers: list[Officer], text: str) -> int:
    sent = 0
    for officer in officers:
        if officer.openid:
            await outbox.text(officer.openid, text)
            sent += 1
    return sent


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
    notified = 0
    for alert in alerts:
        text = alert_text(alert, await repo.subject(alert), escalated=False)
        notified = await _send(data["outbox"], on_duty, text)
        alert.delivered_at = now if notified else None
        alert.next_escalation_at = now + ack_window(alert, data["settings"])
        log.info("alert=%s kind=%s sent to %d on duty", alert.id, alert.kind, notified)
    if not any(a.kind in URGENT for a in alerts):
        return _join(result, *resume)
    # Only what is true now: the notices are committed with this reply and go out at once.
    note = (
        _("正在通知 {n} 位值班民警。").format(n=notified)
        if notified
        else _("目前没有可以通知的值班民警，请务必立即拨打 110。")
    )
    return _join(result, note, *resume)


async def escalate_due(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    pusher: Pusher,
    keys: Keys,
    settings: Settings,
    clock: Clock,
) -> int:
    """Unacknowledged alerts past their window: to the chief, then to every officer."""
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
            text = alert_text(alert, await repo.subject(alert), escalated=True)
            await _send(outbox, targets, text)
            alert.next_escalation_at = now + ack_window(alert, settings)
            escalated += 1
            log.warning("alert=%s not acknowledged: stage %d", alert.id, alert.stage)
        ids = outbox.ids
    await pusher.flush(ids)
    return escalated
