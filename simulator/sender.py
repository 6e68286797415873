"""WeChatSender: what users do (messages, menu clicks, follows, scans), pushed to the bot
exactly as WeChat does, with the platform told of each interaction so its rules hold."""

from __future__ import annotations

import base64
import secrets

import aiohttp

from simulator.clock import Clock, system_clock
from simulator.replies import InvalidReply, SentCall
from simulator.state import FakeWeChat
from simulator.transport import WebhookClient
from simulator.users import Interaction
from simulator.wire import Value

#: events that open the customer-service window, and as what
_INTERACTIONS: dict[str, Interaction] = {
    "CLICK": "click",
    "scancode_push": "click",
    "scancode_waitmsg": "click",
    "subscribe": "follow",
    "SCAN": "scan",
}
_VOICE_FORMATS = {"audio/amr": "amr", "audio/speex": "speex", "audio/mpeg": "mp3"}


class WeChatSender(WebhookClient):
    def __init__(
        self,
        *,
        url: str,
        token: str,
        appid: str,
        original_id: str,
        aes_key: str | None = None,
        platform: FakeWeChat | None = None,
        clock: Clock = system_clock,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 5.0,
        tries: int = 3,
    ) -> None:
        super().__init__(
            url=url,
            token=token,
            appid=appid,
            original_id=original_id,
            aes_key=aes_key,
            clock=clock,
            session=session,
            timeout=timeout,
            tries=tries,
        )
        self.platform = platform

    # -- the platform side of a user action -----------------------------------------------

    def _touch(self, openid: str, kind: Interaction) -> None:
        if self.platform is not None:
            self.platform.touch(openid, kind)

    def _ticket(self, scene: str | int) -> tuple[str, str | int]:
        """A ticket for the scene: the platform's QR code if it made one, else a made-up one."""
        code = self.platform.qrcodes.find(scene) if self.platform is not None else None
        if code is None:
            return "gQ" + base64.b64encode(secrets.token_bytes(72)).decode(), scene
        if not code.valid(self.clock()):
            msg = f"the QR code for scene {scene!r} has expired: scanning it sends nothing"
            raise LookupError(msg)
        return code.ticket, code.scene

    # -- what users do --------------------------------------------------------------------

    async def text(self, openid: str, content: str) -> SentCall:
        self._touch(openid, "message")
        return await self.deliver(self.message(openid, "text", Content=content))

    async def image(self, openid: str, data: bytes, content_type: str = "image/jpeg") -> SentCall:
        media_id = self._media(data, content_type)
        url = f"http://mmbiz.qpic.cn/mmbiz_jpg/{media_id[:32]}/0"
        self._touch(openid, "message")
        return await self.deliver(self.message(openid, "image", PicUrl=url, MediaId=media_id))

    async def voice(
        self,
        openid: str,
        data: bytes,
        recognition: str | None = None,
        content_type: str = "audio/amr",
    ) -> SentCall:
        fields: dict[str, Value] = {
            "MediaId": self._media(data, content_type),
            "Format": _VOICE_FORMATS.get(content_type, "amr"),
        }
        if recognition is not None:  # present only when recognition is switched on
            fields["Recognition"] = recognition
        self._touch(openid, "message")
        return await self.deliver(self.message(openid, "voice", **fields))

    async def location(
        self, openid: str, lat: float, lng: float, label: str, scale: int = 15
    ) -> SentCall:
        self._touch(openid, "message")
        fields = {"Location_X": float(lat), "Location_Y": float(lng), "Scale": scale}
        return await self.deliver(self.message(openid, "location", **fields, Label=label))

    async def event(
        self, openid: str, event: str, key: str | None = None, **extra: Value
    ) -> SentCall:
        """Any event; those that count as interactions open the window on the platform."""
        if self.platform is not None:
            if event == "subscribe":
                self.platform.follow(openid)
            elif event == "unsubscribe":
                self.platform.unfollow(openid)
        kind = _INTERACTIONS.get(event)
        if kind is not None:
            self._touch(openid, kind)
        return await self.deliver(self.event_message(openid, event, key, **extra))

    async def click(self, openid: str, key: str) -> SentCall:
        return await self.event(openid, "CLICK", key)

    async def view(self, openid: str, url: str) -> SentCall:
        return await self.event(openid, "VIEW", url)

    async def subscribe(self, openid: str, scene: str | int | None = None) -> SentCall:
        """Follow, through a QR code when ``scene`` is given (EventKey ``qrscene_<scene>``)."""
        if scene is None:
            return await self.event(openid, "subscribe", "")
        ticket, scene = self._ticket(scene)
        if self.platform is not None:
            self.platform.follow(openid, scene)
        self._touch(openid, "follow")
        fields = self.event_message(openid, "subscribe", f"qrscene_{scene}", Ticket=ticket)
        return await self.deliver(fields)

    async def scan(self, openid: str, scene: str | int) -> SentCall:
        """A follower scans a QR code with a scene."""
        ticket, scene = self._ticket(scene)
        return await self.event(openid, "SCAN", str(scene), Ticket=ticket)

    async def unsubscribe(self, openid: str) -> SentCall:
        return await self.event(openid, "unsubscribe", "")

    async def location_event(
        self, openid: str, lat: float, lng: float, precision: float = 65.0
    ) -> SentCall:
        """The periodic LOCATION report: not an interaction, opens no window."""
        return await self.event(
            openid,
            "LOCATION",
            Latitude=float(lat),
            Longitude=float(lng),
            Precision=float(precision),
        )

    async def deliver_pending_events(self) -> list[SentCall]:
        """Push what the platform queued (MASSSENDJOBFINISH, TEMPLATESENDJOBFINISH)."""
        if self.platform is None:
            return []
        sent = []
        for event in self.platform.take_events():
            fields: dict[str, Value] = {
                "ToUserName": self.original_id,
                "FromUserName": event.from_user,
                "CreateTime": int(event.time),
                "MsgType": "event",
                "Event": event.event,
                **event.fields,
            }
            sent.append(await self.deliver(fields))
        return sent

    def _media(self, data: bytes, content_type: str) -> str:
        if self.platform is not None:
            return self.platform.add_media(data, content_type)
        return secrets.token_urlsafe(48)


__all__ = ["InvalidReply", "WeChatSender"]
