"""Injected time: a clock is any callable returning epoch seconds; tests advance a fake one."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

Clock = Callable[[], float]

system_clock: Clock = time.time

#: WeChat's quotas reset at midnight Beijing time, not UTC.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            msg = "time does not run backwards; use set()"
            raise ValueError(msg)
        self._now += seconds
        return self._now

    def set(self, t: float) -> None:
        self._now = float(t)

    def __repr__(self) -> str:
        return f"FakeClock({self._now!r} = {datetime.fromtimestamp(self._now, UTC):%F %T}Z)"


def china_day(t: float) -> date:
    return datetime.fromtimestamp(t, CHINA).date()


def china_month(t: float) -> tuple[int, int]:
    day = china_day(t)
    return day.year, day.month
