"""The duty roster: who is on duty now, from a weekly pattern and one-day overrides.

Times are Beijing wall-clock times ("08:00"–"20:00"); a shift whose end is not after its
start runs overnight into the next day. An override for a day replaces the weekly pattern
for that officer on that day (``off`` means not on duty at all). With no rows at all, there
is no roster and every active officer counts as on duty.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import CHINA
from storage.models import DutyShift


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def _today_part(shift: DutyShift, at: int) -> bool:
    start, end = minutes(shift.starts), minutes(shift.ends)
    return start <= at < end if end > start else at >= start


def _overnight_tail(shift: DutyShift, at: int) -> bool:
    start, end = minutes(shift.starts), minutes(shift.ends)
    return end <= start and at < end


class DutyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def set_weekly(
        self, officer_id: int, weekdays: Iterable[int], starts: str, ends: str
    ) -> None:
        """Replace an officer's weekly pattern."""
        await self.session.execute(
            delete(DutyShift).where(
                DutyShift.officer_id == officer_id, DutyShift.weekday.is_not(None)
            )
        )
        for weekday in weekdays:
            self.session.add(
                DutyShift(officer_id=officer_id, weekday=weekday, starts=starts, ends=ends)
            )

    async def set_day(
        self, officer_id: int, day: date, starts: str, ends: str, *, off: bool = False
    ) -> None:
        """Replace an officer's override for one day."""
        await self.session.execute(
            delete(DutyShift).where(DutyShift.officer_id == officer_id, DutyShift.day == day)
        )
        self.session.add(
            DutyShift(officer_id=officer_id, day=day, starts=starts, ends=ends, off=off)
        )

    async def all(self) -> list[DutyShift]:
        stmt = select(DutyShift).order_by(DutyShift.officer_id, DutyShift.day, DutyShift.weekday)
        return list((await self.session.execute(stmt)).scalars())

    async def on_duty(self, now: datetime) -> set[int] | None:
        """Officer ids on duty at ``now``; None when there is no roster at all."""
        if not await self.session.scalar(select(func.count()).select_from(DutyShift)):
            return None
        local = now.astimezone(CHINA)
        at = local.hour * 60 + local.minute
        today, yesterday = local.date(), local.date() - timedelta(days=1)
        by_officer: dict[int, list[DutyShift]] = {}
        for shift in await self.all():
            by_officer.setdefault(shift.officer_id, []).append(shift)
        on: set[int] = set()
        for officer_id, shifts in by_officer.items():
            if any(
                self._covers(shifts, day, at, tail)
                for day, tail in ((today, False), (yesterday, True))
            ):
                on.add(officer_id)
        return on

    @staticmethod
    def _covers(shifts: list[DutyShift], day: date, at: int, tail: bool) -> bool:
        """Whether the officer's shifts for ``day`` (overrides first) cover minute ``at``."""
        override = [s for s in shifts if s.day == day]
        planned = override or [s for s in shifts if s.weekday == day.weekday()]
        check = _overnight_tail if tail else _today_part
        return any(not s.off and check(s, at) for s in planned)
