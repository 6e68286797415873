"""The nightly purge of what the service no longer needs (``storage.retention``), and
``pingan purge [--dry-run]`` for the staff to run or preview it."""

from __future__ import annotations

import argparse
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.scheduler import Cron, Job
from bot.timetable import Context
from storage.clock import system_clock, utc
from storage.db import open_database
from storage.retention import Expired, count_expired, purge_chunk

log = logging.getLogger("pingan.retention")


def cutoff(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(days=settings.retention_days)


async def purge(sessionmaker: async_sessionmaker[AsyncSession], before: datetime) -> Expired:
    """Delete everything expired before ``before``, a chunk per transaction."""
    deliveries = pushes = 0
    while True:
        async with sessionmaker.begin() as session:
            done = await purge_chunk(session, before)
        deliveries, pushes = deliveries + done.deliveries, pushes + done.pushes
        if not done.total:
            return Expired(deliveries=deliveries, pushes=pushes)


async def _nightly(context: Context) -> None:
    gone = await purge(context.sessionmaker, cutoff(context.settings, utc(context.clock)))
    if gone.total:
        log.info("purged %d deliveries and %d pushes", gone.deliveries, gone.pushes)


#: At 03:30 Beijing time, when the station's residents are asleep.
JOBS: tuple[Job[Context], ...] = (Job("purge-expired", Cron(minute="30", hour="3"), _nightly),)


async def purge_command(settings: Settings, args: argparse.Namespace) -> str:
    """``pingan purge``: delete what is past the retention, or with --dry-run count it."""
    database = open_database(settings.database_url)
    before = cutoff(settings, utc(system_clock))
    try:
        if args.dry_run:
            async with database.reader() as session:
                found = await count_expired(session, before)
            verb = "would delete"
        else:
            found = await purge(database.sessionmaker, before)
            verb = "deleted"
    finally:
        await database.dispose()
    return (
        f"{verb} {found.deliveries} deliveries and {found.pushes} finished pushes "
        f"older than {settings.retention_days} days (before {before:%Y-%m-%d %H:%M} UTC)"
    )
