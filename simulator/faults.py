"""Fault injection: the next calls to a path fail with an errcode, or answer late."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Fault:
    errcode: int
    status: int = 200  # a 5xx models a gateway failure instead of an errcode


class Faults:
    def __init__(self) -> None:
        self._fails: dict[str, deque[Fault]] = defaultdict(deque)
        self._delays: dict[str, deque[float]] = defaultdict(deque)

    def fail_next(self, path: str, errcode: int, times: int = 1, *, status: int = 200) -> None:
        self._fails[path].extend([Fault(errcode, status)] * times)

    def delay_next(self, path: str, seconds: float, times: int = 1) -> None:
        self._delays[path].extend([seconds] * times)

    def take_fault(self, path: str) -> Fault | None:
        queue = self._fails.get(path)
        return queue.popleft() if queue else None

    def take_delay(self, path: str) -> float:
        queue = self._delays.get(path)
        return queue.popleft() if queue else 0.0

    def clear(self) -> None:
        self._fails.clear()
        self._delays.clear()
