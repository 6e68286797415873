"""Fault injection: the next calls to a path fail with an errcode, or answer late."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Fault:
    errcode: int
    status: int = 200  # a 5xx models a gateway failure instead of an errcode
    touser: str | None = None  # only calls about this user (a body's "touser") fail


class Faults:
    def __init__(self) -> None:
        self._fails: dict[str, deque[Fault]] = defaultdict(deque)
        self._delays: dict[str, deque[float]] = defaultdict(deque)

    def fail_next(
        self,
        path: str,
        errcode: int,
        times: int = 1,
        *,
        status: int = 200,
        touser: str | None = None,
    ) -> None:
        self._fails[path].extend([Fault(errcode, status, touser)] * times)

    def delay_next(self, path: str, seconds: float, times: int = 1) -> None:
        self._delays[path].extend([seconds] * times)

    def take_fault(self, path: str, touser: str | None = None) -> Fault | None:
        """The next fault for this call: the first queued for any user or for ``touser``."""
        queue = self._fails.get(path)
        for fault in queue or ():
            if fault.touser is None or fault.touser == touser:
                queue.remove(fault)  # type: ignore[union-attr]
                return fault
        return None

    def take_delay(self, path: str) -> float:
        queue = self._delays.get(path)
        return queue.popleft() if queue else 0.0

    def clear(self) -> None:
        self._fails.clear()
        self._delays.clear()
