"""What an API handler sees and may answer, free of aiohttp so the stores stay plain code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.errors import ApiError


@dataclass(frozen=True, slots=True)
class Upload:
    """One multipart file part (``media`` in media/upload)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ApiRequest:
    method: str
    path: str
    query: dict[str, str]
    json: Any = None
    files: dict[str, Upload] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The JSON body as an object; WeChat answers 47001 to anything else."""
        if not isinstance(self.json, dict):
            raise ApiError(47001)
        return self.json


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A non-JSON answer, such as media bytes."""

    data: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def require_str(value: Any, errcode: int = 47001) -> str:
    if not isinstance(value, str):
        raise ApiError(errcode)
    return value


def require_int(value: Any, errcode: int = 47001) -> int:
    # JSON numbers only: WeChat rejects "134" where an id is due.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(errcode)
    return value
