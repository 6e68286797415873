"""Time as the store sees it: an injected clock, aware UTC datetimes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

#: Any callable returning epoch seconds; tests pass a fake one they can advance.
Clock = Callable[[], float]

system_clock: Clock = time.time

#: The stations' time zone: days, "today" and times shown to people are Beijing time.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def utc(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock(), tz=UTC)


def china_day_start(moment: datetime) -> datetime:
    """Midnight (Beijing time) of the day ``moment`` falls on, as an aware datetime."""
    local = moment.astimezone(CHINA)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def to_the_hour(moment: datetime) -> datetime:
    """A time kept next to an openid, floored to the hour.

    When a follower last wrote, or when a push to them was queued, would otherwise line up to
    the second with the ``created_at`` of the anonymous tip they had just sent. An hour is
    fine for what these times are for (who is active in the last 48 hours, housekeeping).
    """
    return moment.replace(minute=0, second=0, microsecond=0)
