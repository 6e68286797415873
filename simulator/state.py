"""FakeWeChat: the whole platform's state, and the helpers tests and the sender use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from simulator.clock import Clock, system_clock
from simulator.custom import CustomService
from simulator.faults import Faults
from simulator.mass import MassSender
from simulator.media import MediaStore
from simulator.menu import Menu
from simulator.qrcode import QRCode, QRCodes
from simulator.quotas import DEFAULT_QUOTAS, SUBSCRIPTION_QUOTAS, DailyQuota
from simulator.records import ApiCall, PlatformEvent, Records
from simulator.robots import Robots
from simulator.tags import Tags
from simulator.templates import Templates
from simulator.tokens import TokenIssuer
from simulator.users import Follower, Interaction, Users

AccountType = Literal["service", "subscription"]


class FakeWeChat:
    """One official account on a fake WeChat, plus WeCom group robots.

    ``quotas`` overrides daily call quotas by API path (e.g. ``{"/cgi-bin/token": 3}``).
    """

    def __init__(
        self,
        *,
        appid: str,
        secret: str,
        clock: Clock = system_clock,
        account_type: AccountType = "service",
        quotas: Mapping[str, int] | None = None,
    ) -> None:
        self.appid = appid
        self.clock = clock
        self.account_type = account_type
        limits = dict(DEFAULT_QUOTAS)
        if account_type == "subscription":
            limits.update(SUBSCRIPTION_QUOTAS)
        limits.update(quotas or {})
        self.quota = DailyQuota(clock, limits)
        self.records = Records(clock)
        self.faults = Faults()
        self.tokens = TokenIssuer(appid=appid, secret=secret, clock=clock, quota=self.quota)
        self.users = Users(clock)
        self.media = MediaStore(clock)
        self.tags = Tags(self.users)
        self.menu = Menu(tag_ids=self.tags.ids, users=self.users)
        self.qrcodes = QRCodes(clock)
        self.custom = CustomService(self.users, self.media, self.records)
        self.templates = Templates(self.users, self.records)
        self.mass = MassSender(
            clock=clock,
            users=self.users,
            records=self.records,
            quota=self.quota,
            service=account_type == "service",
            tag_ids=self.tags.ids,
        )
        self.robots = Robots(clock)

    @property
    def service(self) -> bool:
        return self.account_type == "service"

    # -- records --------------------------------------------------------------------------

    @property
    def token_fetches(self) -> int:
        """Successful GET /cgi-bin/token calls (stable_token is counted apart)."""
        return self.tokens.fetches

    @property
    def calls(self) -> list[ApiCall]:
        return self.records.calls

    def calls_to(self, path: str) -> list[ApiCall]:
        return [c for c in self.records.calls if c.path == path]

    @property
    def pending_events(self) -> list[PlatformEvent]:
        return self.records.pending_events

    def take_events(self) -> list[PlatformEvent]:
        return self.records.take_events()

    def inbox(self, openid: str) -> list[dict[str, Any]]:
        """Everything the user received by API: dicts of channel, msgtype, content, payload."""
        return self.records.inbox(openid)

    def robot_messages(self, key: str) -> list[dict[str, Any]]:
        return self.robots.messages(key)

    # -- users ----------------------------------------------------------------------------

    def follow(self, openid: str, scene: str | int | None = None) -> Follower:
        """Make ``openid`` a follower. It opens no window: the sender touches for that."""
        return self.users.follow(openid, scene)

    def unfollow(self, openid: str) -> None:
        self.users.unfollow(openid)

    def touch(self, openid: str, kind: Interaction) -> None:
        """An interaction that opens the customer-service window (see ``simulator.users``)."""
        self.users.touch(openid, kind)

    def user(self, openid: str) -> Follower:
        return self.users.get(openid)

    # -- content --------------------------------------------------------------------------

    def add_media(self, data: bytes, content_type: str) -> str:
        return self.media.add(data, content_type)

    def add_template(self, title: str, content: str, template_id: str | None = None) -> str:
        return self.templates.add(title, content, template_id)

    def add_robot(self, key: str) -> str:
        return self.robots.add(key)

    def qrcode(self, ticket: str) -> QRCode | None:
        return self.qrcodes.resolve(ticket)

    # -- faults ---------------------------------------------------------------------------

    def fail_next(self, path: str, errcode: int, times: int = 1, *, status: int = 200) -> None:
        self.faults.fail_next(path, errcode, times, status=status)

    def delay_next(self, path: str, seconds: float, times: int = 1) -> None:
        self.faults.delay_next(path, seconds, times)

    def expire_all_tokens(self) -> None:
        self.tokens.expire_all()
