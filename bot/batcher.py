"""Group commit: what arrives while one batch is being written goes together in the next.

Nothing waits on purpose: a lone message is a batch of one and goes at once; under load the
messages that queued up behind a transaction share the next one, so a commit (and its fsync
on SQLite) is paid once per batch rather than once per message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Entry(Generic[T, R]):
    """An item in a batch and the promise made to whoever submitted it."""

    __slots__ = ("future", "item")

    def __init__(self, item: T, future: asyncio.Future[R]) -> None:
        self.item = item
        self.future = future

    def settle(self, outcome: R | BaseException) -> None:
        """Hand the submitter its result (or exception) now; later calls are ignored."""
        if self.future.done():
            return
        if isinstance(outcome, BaseException):
            self.future.set_exception(outcome)
            self.future.exception()  # the submitter may be gone: never "never retrieved"
        else:
            self.future.set_result(outcome)


#: Runs one batch, settling each entry as soon as its outcome is known (a batch may finish
#: in parts); an entry it leaves unsettled fails with the runner's exception.
RunBatch = Callable[[list[Entry[T, R]]], Awaitable[None]]


class Batcher(Generic[T, R]):
    def __init__(self, run: RunBatch[T, R], *, limit: int = 64) -> None:
        self._run = run
        self._limit = limit
        self._queue: list[Entry[T, R]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Queue the item and wait for its outcome. The batch runs to the end even if this
        caller is cancelled (its outcome, settled on a cancelled future, is then dropped)."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append(Entry(item, future))
        if self._worker is None:
            self._worker = asyncio.create_task(self._drain(), name="batcher")
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self._limit]
                del self._queue[: self._limit]
                await self._settle(batch)
        finally:
            self._worker = None  # no await since the queue was seen empty: nothing is missed

    async def _settle(self, batch: list[Entry[T, R]]) -> None:
        failure: BaseException = RuntimeError("the batch ended without an outcome for this")
        try:
            await self._run(batch)
        except BaseException as exc:  # the runner's own failure: what is left shares it
            failure = exc
            if not isinstance(exc, Exception):  # cancelled: settle, then stop
                for entry in batch:
                    entry.settle(exc)
                raise
        for entry in batch:
            entry.settle(failure)
