"""QR codes with a scene; the platform remembers ticket → scene so a user can scan one."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from simulator.clock import Clock
from simulator.errors import ApiError
from simulator.request import ApiRequest

MAX_EXPIRE = 30 * 24 * 3600
DEFAULT_EXPIRE = 60  # when a temporary code names no expire_seconds
MAX_SCENE_STR = 64
MAX_LIMIT_SCENE_ID = 100_000
ACTIONS = {  # action_name → (temporary, string scene)
    "QR_SCENE": (True, False),
    "QR_STR_SCENE": (True, True),
    "QR_LIMIT_SCENE": (False, False),
    "QR_LIMIT_STR_SCENE": (False, True),
}


@dataclass(frozen=True, slots=True)
class QRCode:
    ticket: str
    action_name: str
    scene: str | int
    url: str
    created_at: float
    expires_at: float | None

    def valid(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


def _scene(info: Any, string: bool, temporary: bool) -> str | int:
    scene = info.get("scene") if isinstance(info, dict) else None
    if not isinstance(scene, dict):
        raise ApiError(40097)
    if string:
        value = scene.get("scene_str")
        if not isinstance(value, str) or not 0 < len(value) <= MAX_SCENE_STR:
            raise ApiError(40097)
        return value
    number = scene.get("scene_id")
    top = 2**32 - 1 if temporary else MAX_LIMIT_SCENE_ID
    if isinstance(number, bool) or not isinstance(number, int) or not 0 < number <= top:
        raise ApiError(40097)
    return number


class QRCodes:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._codes: dict[str, QRCode] = {}

    def create(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/qrcode/create"""
        body = request.body()
        action = body.get("action_name")
        if action not in ACTIONS:
            raise ApiError(40097)
        temporary, string = ACTIONS[action]
        scene = _scene(body.get("action_info"), string, temporary)
        expire = body.get("expire_seconds", DEFAULT_EXPIRE) if temporary else None
        if expire is not None and (
            isinstance(expire, bool) or not isinstance(expire, int) or not 0 < expire <= MAX_EXPIRE
        ):
            raise ApiError(40097)
        now = self._clock()
        ticket = "gQ" + base64.b64encode(secrets.token_bytes(72)).decode()
        url = "http://weixin.qq.com/q/" + secrets.token_urlsafe(18)
        expires_at = now + expire if expire is not None else None
        self._codes[ticket] = QRCode(ticket, action, scene, url, now, expires_at)
        answer: dict[str, Any] = {"ticket": ticket, "url": url}
        if expire is not None:
            answer["expire_seconds"] = expire
        return answer

    def resolve(self, ticket: str) -> QRCode | None:
        """The code behind a ticket, or None when unknown or expired."""
        code = self._codes.get(ticket)
        return code if code is not None and code.valid(self._clock()) else None

    def find(self, scene: str | int) -> QRCode | None:
        """The newest live code for a scene, else the newest expired one, else None."""
        now = self._clock()
        matches = [c for c in self._codes.values() if str(c.scene) == str(scene)]
        live = [c for c in matches if c.valid(now)]
        candidates = live or matches
        return candidates[-1] if candidates else None
