"""Time as the store sees it: an injected clock, aware UTC datetimes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

#: Any callable returning epoch seconds; tests pass a fake one they can advance.
Clock = Callable[[], float]

system_clock: Clock = time.time


def utc(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock(), tz=UTC)
