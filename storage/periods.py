"""Time ranges for statistics: half-open ``[start, end)`` in UTC, days and weeks in Beijing
time, and the periods a range is compared with (环比, 同比)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from storage.clock import CHINA, china_day_start


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC. Days and weeks are Beijing time (Monday starts a week)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None or self.end < self.start:
            msg = "a period needs aware datetimes with start <= end"
            raise ValueError(msg)

    @classmethod
    def days(cls, first: date, last: date) -> Period:
        """Beijing dates ``first`` to ``last``, both included."""
        start = datetime.combine(first, datetime.min.time(), CHINA)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), CHINA)
        return cls(start.astimezone(UTC), end.astimezone(UTC))

    @classmethod
    def week_so_far(cls, now: datetime) -> Period:
        """From Monday 00:00 (Beijing) of ``now``'s week to ``now``."""
        return cls(week_start(now), now)

    @classmethod
    def last_week(cls, now: datetime) -> Period:
        """The whole week (Monday to Sunday, Beijing) before ``now``'s."""
        monday = week_start(now)
        return cls(monday - timedelta(weeks=1), monday)

    def shifted(self, delta: timedelta) -> Period:
        return Period(self.start + delta, self.end + delta)

    def previous(self) -> Period:
        """环比: the period of the same length just before this one."""
        return self.shifted(self.start - self.end)

    def year_before(self) -> Period:
        """同比: the same Beijing dates and times one year earlier (29 February → 28th)."""
        return Period(_a_year_earlier(self.start), _a_year_earlier(self.end))

    def same_week_last_year(self) -> Period:
        """同比 for a week: the same ISO week number a year earlier (week 53 → 52), with the
        same weekdays and times, so a Monday is compared with a Monday."""
        year, week, _ = self.start.astimezone(CHINA).isocalendar()
        weeks = date(year - 1, 12, 28).isocalendar().week  # 28 December is in the last week
        monday = date.fromisocalendar(year - 1, min(week, weeks), 1)
        then = datetime.combine(monday, datetime.min.time(), CHINA)
        return self.shifted(then - week_start(self.start))

    def iso_week(self) -> str:
        """``2026-W38``: the ISO week (Beijing) the period starts in."""
        year, week, _ = self.start.astimezone(CHINA).isocalendar()
        return f"{year}-W{week:02d}"


def _a_year_earlier(moment: datetime) -> datetime:
    local = moment.astimezone(CHINA)
    try:
        earlier = local.replace(year=local.year - 1)
    except ValueError:  # 29 February
        earlier = local.replace(year=local.year - 1, day=28)
    return earlier.astimezone(UTC)


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 (Beijing) of the week ``moment`` falls in, in UTC."""
    today = china_day_start(moment)
    return (today - timedelta(days=today.weekday())).astimezone(UTC)
