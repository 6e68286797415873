"""Daily call quotas (reset at Beijing midnight) and sliding per-minute rate windows."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping
from datetime import date

from simulator.clock import Clock, china_day
from simulator.errors import ApiError

#: Per-API daily quotas of a verified service account; anything unlisted gets DEFAULT_QUOTA.
DEFAULT_QUOTAS: dict[str, int] = {
    "/cgi-bin/token": 2_000,
    "/cgi-bin/stable_token": 500_000,
    "stable_token:force_refresh": 20,
    "/cgi-bin/message/custom/send": 500_000,
    "/cgi-bin/message/template/send": 100_000,
    "/cgi-bin/message/mass/sendall": 100,
    "/cgi-bin/media/get": 200_000,
    "/cgi-bin/media/upload": 100_000,
    "/cgi-bin/menu/create": 1_000,
    "/cgi-bin/menu/get": 10_000,
    "/cgi-bin/menu/delete": 1_000,
    "/cgi-bin/qrcode/create": 100_000,
    "/cgi-bin/user/info": 500_000,
}
DEFAULT_QUOTA = 100_000

#: A subscription account may mass-send once a day.
SUBSCRIPTION_QUOTAS: dict[str, int] = {"/cgi-bin/message/mass/sendall": 1}


class DailyQuota:
    """Counts calls per name and day; ``take`` answers 45009 once the day's quota is spent."""

    def __init__(self, clock: Clock, limits: Mapping[str, int]) -> None:
        self._clock = clock
        self.limits = dict(limits)
        self._used: dict[tuple[str, date], int] = defaultdict(int)

    def limit(self, name: str) -> int:
        return self.limits.get(name, DEFAULT_QUOTA)

    def used(self, name: str) -> int:
        return self._used[(name, china_day(self._clock()))]

    def take(self, name: str) -> None:
        key = (name, china_day(self._clock()))
        if self._used[key] >= self.limit(name):
            raise ApiError(45009)
        self._used[key] += 1


class RateWindow:
    """At most ``limit`` events per key within any ``seconds``-long window."""

    def __init__(self, clock: Clock, *, limit: int, seconds: float, errcode: int) -> None:
        self._clock = clock
        self.limit = limit
        self.seconds = seconds
        self.errcode = errcode
        self._events: dict[str, deque[float]] = defaultdict(deque)

    def take(self, key: str, errmsg: str | None = None) -> None:
        now = self._clock()
        events = self._events[key]
        while events and events[0] <= now - self.seconds:
            events.popleft()
        if len(events) >= self.limit:
            raise ApiError(self.errcode, errmsg)
        events.append(now)
