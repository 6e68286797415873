"""The app's timed work: what every job gets, and the features' jobs in one list.

Like ``bot.dispatcher.create_dispatcher`` for routers, this knows which features have jobs,
not what they do. A new feature's jobs are one ``JOBS`` tuple in its package and one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.config import Settings
    from bot.keys import Keys
    from bot.push import Pusher
    from bot.scheduler import Job
    from storage.clock import Clock


@dataclass(frozen=True)
class Context:
    """What a job is called with (the app's services; ``clock`` is the app's, fake in tests)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    pusher: Pusher
    keys: Keys
    settings: Settings
    clock: Clock


def all_jobs() -> tuple[Job[Context], ...]:
    """Every feature's jobs, in the order the old minute loop called them (``run_due`` runs
    due jobs in this order; APScheduler starts jobs due together side by side)."""
    from bot import push, retention
    from handlers.inquiries import feature as inquiries
    from handlers.officers import feature as officers
    from handlers.patrols import feature as patrols

    return (*inquiries.JOBS, *push.JOBS, *officers.JOBS, *patrols.JOBS, *retention.JOBS)
