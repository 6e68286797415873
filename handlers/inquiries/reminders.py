"""Visit reminders that have come due (sent every minute by the scheduler: ``feature.py``)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.push import Pusher
from storage.clock import Clock, utc
from storage.inquiries import InquiryRepo

log = logging.getLogger("pingan.reminders")


async def send_due(
    *, sessionmaker: async_sessionmaker[AsyncSession], pusher: Pusher, clock: Clock
) -> int:
    """Push every due reminder once; claimed first, so two processes never both send it."""
    now = utc(clock)
    async with sessionmaker() as session:
        due = await InquiryRepo(session).due(now)
    sent = 0
    for reminder in due:
        async with sessionmaker.begin() as session:
            if not await InquiryRepo(session).mark_sent(reminder.id, now):
                continue
        if reminder.openid is not None:
            status = await pusher.send_text(reminder.openid, reminder.text)
            log.info("reminder id=%s status=%s", reminder.id, status)
            sent += 1
    return sent
