"""A connection pool that serves the coroutines waiting for a connection in arrival order.

SQLAlchemy's AsyncAdaptedQueuePool puts a returned connection back on an ``asyncio.Queue`` and
wakes the first waiter, but a coroutine that asks before that waiter runs (its previous
transaction just ended) takes the connection without waiting; the woken waiter finds the queue
empty and queues again, at the back. With the one write connection driven inline nothing
yields between a commit and the next checkout, so this happened often: the median message got
faster and the slowest 1 % about twice as slow. Here a returned connection goes straight to
the longest waiter, and only a connection nobody waits for is left in the queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util.concurrency import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon

T = TypeVar("T")


class FairQueue(QueueCommon[T]):
    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._items: deque[T] = deque()
        self._waiters: deque[asyncio.Future[T]] = deque()

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # one that timed out or was cancelled is skipped
                waiter.set_result(item)
                return
        if self.full():
            raise Full
        self._items.append(item)

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # the pool never blocks to return a connection

    def get_nowait(self) -> T:
        if not self._items:
            raise Empty
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        if self._items or not block:
            return self.get_nowait()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()
        self._waiters.append(waiter)
        timer = None if timeout is None else loop.call_later(timeout, _expire, waiter)
        try:
            return await_(waiter)
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Handed a connection just as we were cancelled: pass it on, or it is lost.
                self.put_nowait(waiter.result())
            raise
        finally:
            if timer is not None:
                timer.cancel()


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(Empty())


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    _queue_class = FairQueue[ConnectionPoolEntry]
