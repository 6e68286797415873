"""Group commit: what arrives while one batch is being written goes together in the next.

Nothing waits on purpose: a lone message is a batch of one and goes at once; under load the
messages that queued up behind a transaction share the next one, so a commit (and its fsync
on SQLite) is paid once per batch rather than once per message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Runs one batch; returns, item by item, a result or the exception that item should raise.
RunBatch = Callable[[list[T]], Awaitable[Sequence[R | BaseException]]]


class Batcher(Generic[T, R]):
    def __init__(self, run: RunBatch[T, R], *, limit: int = 64) -> None:
        self._run = run
        self._limit = limit
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Queue the item and wait for its batch. The batch runs to the end even if this
        caller is cancelled (its outcome is then dropped)."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._worker is None:
            self._worker = asyncio.create_task(self._drain(), name="batcher")
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self._limit]
                del self._queue[: self._limit]
                await self._settle(batch)
        finally:
            self._worker = None  # no await since the queue was seen empty: nothing is missed

    async def _settle(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        stop: BaseException | None = None
        try:
            outcomes: Sequence[R | BaseException] = await self._run([item for item, _ in batch])
        except BaseException as exc:  # the runner's own failure: every item of the batch shares it
            outcomes = [exc] * len(batch)
            stop = None if isinstance(exc, Exception) else exc  # cancelled: settle, then stop
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
                future.exception()  # the submitter may be gone: never "never retrieved"
            else:
                future.set_result(outcome)
        if stop is not None:
            raise stop
