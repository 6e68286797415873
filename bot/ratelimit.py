"""A per-user message rate limit, in memory: a flood is stored and answered, not handled.

A fixed window per user is enough here: it only has to keep one person's 2 000 messages in
10 seconds from becoming 2 000 tips, alerts and hand-offs. Events (the LOCATION event fires
every 5 s, menu clicks) are not counted. Each process counts its own messages.
"""

from __future__ import annotations

from bot.message import Message
from storage.clock import Clock


class RateLimiter:
    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._counts: dict[str, tuple[float, int]] = {}

    def over(self, message: Message) -> bool:
        """Count ``message``; True when its sender is over the limit in the current window."""
        if message.is_event:
            return False
        now = self._clock()
        start, count = self._counts.get(message.openid, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        self._counts[message.openid] = (start, count + 1)
        if len(self._counts) > 10_000:
            self._forget_idle(now)
        return count + 1 > self.limit

    def _forget_idle(self, now: float) -> None:
        self._counts = {
            user: (start, count)
            for user, (start, count) in self._counts.items()
            if now - start < self.window
        }
