"""The inquiries feature's timed work (``bot.timetable`` composes it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.scheduler import Every, Job
from handlers.inquiries.reminders import send_due

if TYPE_CHECKING:
    from bot.timetable import Context


async def _reminders(context: Context) -> None:
    await send_due(sessionmaker=context.sessionmaker, pusher=context.pusher, clock=context.clock)


JOBS: tuple[Job[Context], ...] = (Job("visit-reminders", Every(60), _reminders),)
