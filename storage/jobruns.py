"""When each scheduled job last ran, so that a cron time missed while no process led (all were
down, or between a leader's death and its standby's takeover) still fires once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import JobRun
from storage.upsert import dialect_insert

#: The ``period`` of a job's last-run row: one row per job, overwritten. (The weekly digest's
#: own once-per-week rows use ISO weeks, so the two never meet.)
LATEST = "latest"


class StoredRuns:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def last(self, names: Sequence[str]) -> dict[str, datetime]:
        async with self._sessionmaker() as session:
            rows = await session.execute(
                select(JobRun.name, JobRun.ran_at).where(
                    JobRun.period == LATEST, JobRun.name.in_(names)
                )
            )
            return {name: ran_at for name, ran_at in rows}

    async def record(self, name: str, at: datetime) -> None:
        async with self._sessionmaker.begin() as session:
            insert = dialect_insert(session, JobRun).values(name=name, period=LATEST, ran_at=at)
            await session.execute(
                insert.on_conflict_do_update(
                    index_elements=["name", "period"], set_={"ran_at": insert.excluded.ran_at}
                )
            )
