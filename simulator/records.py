"""What the platform saw and did: API calls, what each user received, events to push."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from simulator.clock import Clock


@dataclass(frozen=True, slots=True)
class ApiCall:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    time: float


@dataclass(frozen=True, slots=True)
class PlatformEvent:
    """An event WeChat itself pushes to the webhook, such as MASSSENDJOBFINISH."""

    from_user: str
    event: str
    fields: dict[str, str | int]
    time: float


@dataclass
class Records:
    clock: Clock
    calls: list[ApiCall] = field(default_factory=list)
    pending_events: list[PlatformEvent] = field(default_factory=list)
    _inbox: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def call(self, method: str, path: str, query: dict[str, str], json: Any) -> None:
        self.calls.append(ApiCall(method, path, dict(query), json, self.clock()))

    def deliver(
        self, openid: str, *, channel: str, msgtype: str, content: Any, payload: Any
    ) -> None:
        """``content`` is what the user sees: the text, a media_id, articles, a rendering."""
        self._inbox[openid].append(
            {
                "channel": channel,
                "msgtype": msgtype,
                "content": content,
                "payload": payload,
                "time": self.clock(),
            }
        )

    def inbox(self, openid: str) -> list[dict[str, Any]]:
        return list(self._inbox.get(openid, []))

    def push_event(self, from_user: str, event: str, **fields: str | int) -> None:
        self.pending_events.append(PlatformEvent(from_user, event, fields, self.clock()))

    def take_events(self) -> list[PlatformEvent]:
        events, self.pending_events = self.pending_events, []
        return events
