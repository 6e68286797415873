"""Followers and the customer-service window.

A user's message opens a 48-hour window for 5 customer-service messages (a new message starts
a fresh count); a menu click, a follow or a scan opens a 1-minute window for 3. Outside every
window the platform answers 45015, inside an exhausted one 45047.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.clock import Clock
from simulator.errors import ApiError
from simulator.request import ApiRequest

Interaction = Literal["message", "click", "follow", "scan"]

#: kind of interaction → (window name, lifetime in seconds, messages allowed)
WINDOWS: dict[str, tuple[str, float, int]] = {
    "message": ("message", 48 * 3600, 5),
    "click": ("event", 60, 3),
    "follow": ("event", 60, 3),
    "scan": ("event", 60, 3),
}


@dataclass(slots=True)
class Window:
    opened_at: float
    lifetime: float
    allowance: int
    used: int = 0

    def open(self, now: float) -> bool:
        return now < self.opened_at + self.lifetime


@dataclass(slots=True)
class Follower:
    openid: str
    subscribed: bool
    subscribe_time: int
    subscribe_scene: str = "ADD_SCENE_OTHERS"
    qr_scene: int = 0
    qr_scene_str: str = ""
    language: str = "zh_CN"
    remark: str = ""
    tags: list[int] = field(default_factory=list)
    windows: dict[str, Window] = field(default_factory=dict)


class Users:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._users: dict[str, Follower] = {}

    def __contains__(self, openid: object) -> bool:
        return openid in self._users

    def all(self) -> list[Follower]:
        return list(self._users.values())

    def get(self, openid: Any) -> Follower:
        """A known user (following or not); 40003 for an openid this account never saw."""
        user = self._users.get(openid) if isinstance(openid, str) else None
        if user is None:
            raise ApiError(40003)
        return user

    def follow(self, openid: str, scene: str | int | None = None) -> Follower:
        user = self._users.get(openid)
        if user is None:
            user = self._users[openid] = Follower(openid, True, int(self._clock()))
        user.subscribed = True
        user.subscribe_time = int(self._clock())
        user.subscribe_scene = "ADD_SCENE_QR_CODE" if scene is not None else "ADD_SCENE_OTHERS"
        user.qr_scene = scene if isinstance(scene, int) else 0
        user.qr_scene_str = scene if isinstance(scene, str) else ""
        return user

    def unfollow(self, openid: str) -> None:
        user = self._users.get(openid)
        if user is not None:
            user.subscribed = False
            user.windows.clear()

    def touch(self, openid: str, kind: Interaction) -> None:
        """Record an interaction; only followers can interact, so this follows if need be."""
        user = self._users.get(openid)
        if user is None or not user.subscribed:
            user = self.follow(openid)
        name, lifetime, allowance = WINDOWS[kind]
        user.windows[name] = Window(self._clock(), lifetime, allowance)

    def take_custom_slot(self, openid: Any) -> None:
        """Spend one customer-service message, or raise the errcode WeChat would answer."""
        user = self.get(openid)
        if not user.subscribed:
            raise ApiError(43004)
        now = self._clock()
        live = [w for w in user.windows.values() if w.open(now)]
        if not live:
            raise ApiError(45015)
        usable = [w for w in live if w.used < w.allowance]
        if not usable:
            raise ApiError(45047)
        # Spend the window closing first, so the long one lasts.
        min(usable, key=lambda w: w.opened_at + w.lifetime).used += 1

    # -- endpoints ------------------------------------------------------------------------

    def info(self, request: ApiRequest) -> dict[str, Any]:
        """GET /cgi-bin/user/info?openid=&lang="""
        user = self.get(request.query.get("openid"))
        if not user.subscribed:
            return {"subscribe": 0, "openid": user.openid, "tagid_list": []}
        return {
            "subscribe": 1,
            "openid": user.openid,
            "language": user.language,
            "subscribe_time": user.subscribe_time,
            "remark": user.remark,
            "groupid": 0,
            "tagid_list": list(user.tags),
            "subscribe_scene": user.subscribe_scene,
            "qr_scene": user.qr_scene,
            "qr_scene_str": user.qr_scene_str,
        }

    def followers(self, request: ApiRequest) -> dict[str, Any]:
        """GET /cgi-bin/user/get?next_openid= : followers, 10 000 a page."""
        followers = [u.openid for u in self._users.values() if u.subscribed]
        start = 0
        after = request.query.get("next_openid")
        if after:
            if after not in followers:
                raise ApiError(40003)
            start = followers.index(after) + 1
        page = followers[start : start + 10_000]
        answer: dict[str, Any] = {"total": len(followers), "count": len(page)}
        if page:
            answer["data"] = {"openid": page}
        answer["next_openid"] = page[-1] if page else ""
        return answer
