"""The patrols' feature as the dispatcher composes it (shared/STYLE.md, habit 16).

``MIDDLEWARES`` load the volunteer and their open shift (after the dialog); ``FIRST`` go
before the universal words (结束巡逻 is no 取消, a photo on patrol is a report), the
officers' patrol commands before the volunteers' free text; ``ROUTERS`` sit with the
officers' commands; ``JOBS`` run on the scheduler (``bot.timetable``).
"""

from __future__ import annotations

from bot.scheduler import Every, Job
from bot.timetable import Context
from handlers.patrols import access, points, reports, roster, shifts, volunteer

MIDDLEWARES = (access.load_volunteer,)
FIRST = (volunteer.router, points.router, roster.router, reports.router, volunteer.refusals)
ROUTERS = ()


async def _close_stale_shifts(context: Context) -> None:
    await shifts.sweep(context.sessionmaker, context.pusher, context.keys, context.clock)


#: Shifts left open past their limit close (and tell the volunteer) within a minute.
JOBS: tuple[Job[Context], ...] = (Job("close-stale-shifts", Every(60), _close_stale_shifts),)
