"""The patrols' feature as the dispatcher composes it (shared/STYLE.md, habit 16).

``MIDDLEWARES`` load the volunteer and their open shift (after the dialog); ``FIRST`` go
before the universal words (结束巡逻 is no 取消, a photo on patrol is a report), the
officers' patrol commands before the volunteers' free text; ``ROUTERS`` sit with the
officers' commands; ``JOBS`` are for the housekeeping loop.
"""

from __future__ import annotations

from handlers.patrols import access, points, reports, roster, shifts, volunteer

MIDDLEWARES = (access.load_volunteer,)
FIRST = (volunteer.router, points.router, roster.router, reports.router, volunteer.refusals)
ROUTERS = ()
JOBS = (shifts.sweep,)
