"""The inbound message as handlers see it: typed, immutable, free of XML."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lng: float
    label: str = ""
    scale: int | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One WeChat message or event, as parsed from the webhook body.

    ``msg_type`` is WeChat's ``MsgType`` (text, image, voice, video, shortvideo, location,
    link, event); ``event`` is the lower-cased ``Event`` for events, with ``subscribe`` from a
    scene QR code keeping ``event == "subscribe"`` and the scene in ``scene``.
    """

    openid: str
    account: str
    create_time: int
    msg_type: str
    msg_id: str | None = None
    content: str = ""
    media_id: str | None = None
    pic_url: str | None = None
    recognition: str | None = None
    location: Location | None = None
    event: str | None = None
    event_key: str = ""
    scene: str | None = None
    fields: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    #: What the user said: typed text, or WeChat's recognition of a voice message. Worked
    #: out once: every filter of every router asks for it.
    text: str = field(init=False, repr=False, compare=False, default="")
    #: ``text`` case-folded, for keyword filters.
    folded: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        if self.msg_type == "text":
            text = self.content.strip()
        elif self.msg_type == "voice" and self.recognition:
            text = self.recognition.strip()
        else:
            text = ""
        object.__setattr__(self, "text", text)  # frozen: set once, here
        object.__setattr__(self, "folded", text.casefold())

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def interaction(self) -> str:
        """How this contact opens the customer-service window (see DESIGN.md)."""
        if not self.is_event:
            return "message"
        return {"subscribe": "follow", "scan": "scan", "click": "click"}.get(
            self.event or "", "event"
        )
