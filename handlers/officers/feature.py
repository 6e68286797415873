"""The officers' feature as the app composes it: its routers, in the order they try, and its
timed work."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.scheduler import Every, Job
from handlers.officers import alerts, cases, lists, menu, reveal, stats, triage
from handlers.officers import router as commands

if TYPE_CHECKING:
    from bot.timetable import Context

ROUTERS = (
    commands.router,
    lists.router,
    cases.router,
    triage.router,
    reveal.router,
    stats.router,
    menu.router,
)


async def _escalate(context: Context) -> None:
    await alerts.escalate_due(
        sessionmaker=context.sessionmaker,
        pusher=context.pusher,
        keys=context.keys,
        settings=context.settings,
        clock=context.clock,
    )


async def _digest(context: Context) -> None:
    # Every minute, not a Monday cron: the digest decides when it is due and records its
    # week in ``job_runs``, so a week with no chief bound yet still goes out once one is.
    await stats.send_weekly_digest(
        sessionmaker=context.sessionmaker,
        pusher=context.pusher,
        keys=context.keys,
        clock=context.clock,
    )


JOBS: tuple[Job[Context], ...] = (
    Job("escalate-alerts", Every(60), _escalate),
    Job(stats.DIGEST_JOB, Every(60), _digest),
)
