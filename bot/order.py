"""Each user's messages are handled in the order they arrived, one at a time, in this process.

A place is taken synchronously when the webhook receives the message (before any await),
so the order is the arrival order even when storing or downloading takes longer for one
message than for the next. Across processes the ledger orders them (see ``bot.pipeline``).
"""

from __future__ import annotations

import asyncio
import weakref

#: (the place before ours, if any; ours)
Place = tuple[asyncio.Future[None] | None, asyncio.Future[None]]


class ArrivalOrder:
    """Per-user FIFO: each message waits for the one that arrived before it, in this process."""

    def __init__(self) -> None:
        self._tails: weakref.WeakValueDictionary[str, asyncio.Future[None]] = (
            weakref.WeakValueDictionary()
        )

    def enter(self, user: str) -> tuple[asyncio.Future[None] | None, asyncio.Future[None]]:
        """Take a place now (before any await); returns (the previous place, ours)."""
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        previous = self._tails.get(user)
        self._tails[user] = mine
        return previous, mine

    @staticmethod
    def leave(mine: asyncio.Future[None]) -> None:
        if not mine.done():
            mine.set_result(None)

    def pass_through(
        self, previous: asyncio.Future[None] | None, mine: asyncio.Future[None]
    ) -> None:
        """Give up a place: it is free once the place before it is."""
        if previous is None or previous.done():
            self.leave(mine)
        else:
            previous.add_done_callback(lambda _: self.leave(mine))
