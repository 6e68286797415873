"""access_token issuing and checking: /cgi-bin/token and /cgi-bin/stable_token.

A fetch issues a new token and leaves the earlier ones valid for 5 more minutes; tokens expire
after 7200 s. The stable endpoint keeps its own token, isolated from the ordinary one.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass
from typing import Any

from simulator.clock import Clock
from simulator.errors import ApiError
from simulator.quotas import DailyQuota
from simulator.request import ApiRequest

LIFETIME = 7200
GRACE = 300  # the old token keeps working this long after a refresh
FORCE_REFRESH_GAP = 30
FORCE_REFRESH_DAILY = 20
_FORMAT = re.compile(r"^\d+_[A-Za-z0-9_-]{20,}$")


@dataclass(slots=True)
class IssuedToken:
    value: str
    stable: bool
    issued_at: float
    expires_at: float
    retired_at: float | None = None  # after this it is "not latest": 40001
    expired: bool = False  # forced by expire_all()


class TokenIssuer:
    def __init__(self, *, appid: str, secret: str, clock: Clock, quota: DailyQuota) -> None:
        self.appid = appid
        self.secret = secret
        self._clock = clock
        self._quota = quota
        self._tokens: dict[str, IssuedToken] = {}
        self._serial = itertools.count(86)
        self.fetches = 0
        self.stable_fetches = 0
        self._last_force: float | None = None

    # -- endpoints ------------------------------------------------------------------------

    def grant(self, request: ApiRequest) -> dict[str, Any]:
        """GET /cgi-bin/token?grant_type=client_credential&appid=&secret="""
        q = request.query
        self._credentials(q.get("grant_type"), q.get("appid"), q.get("secret"))
        self._quota.take("/cgi-bin/token")
        self.fetches += 1
        token = self._issue(stable=False)
        return {"access_token": token.value, "expires_in": LIFETIME}

    def stable_grant(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/stable_token {grant_type, appid, secret, force_refresh}"""
        body = request.body()
        self._credentials(body.get("grant_type"), body.get("appid"), body.get("secret"))
        self._quota.take("/cgi-bin/stable_token")
        self.stable_fetches += 1
        now = self._clock()
        current = self._current(stable=True)
        if body.get("force_refresh") is True:
            recently = self._last_force is not None and now - self._last_force < FORCE_REFRESH_GAP
            if current is None or not recently:
                self._quota.take("stable_token:force_refresh")
                self._last_force = now
                current = self._issue(stable=True, grace=0)
        elif current is None or current.expires_at - now <= GRACE:
            # Normal mode renews in the last 5 minutes; the old one lives out its time.
            current = self._issue(stable=True, grace=GRACE)
        return {"access_token": current.value, "expires_in": int(current.expires_at - now)}

    # -- checks ---------------------------------------------------------------------------

    def check(self, value: str | None) -> None:
        if not value:
            raise ApiError(41001)
        if not _FORMAT.match(value):
            raise ApiError(40014)
        token = self._tokens.get(value)
        if token is None:
            raise ApiError(40001)
        now = self._clock()
        if token.expired or now >= token.expires_at:
            raise ApiError(42001)
        if token.retired_at is not None and now >= token.retired_at:
            raise ApiError(40001)

    def expire_all(self) -> None:
        for token in self._tokens.values():
            token.expired = True

    def latest(self) -> str | None:
        token = self._current(stable=False)
        return token.value if token else None

    # -- internals ------------------------------------------------------------------------

    def _credentials(self, grant_type: Any, appid: Any, secret: Any) -> None:
        if grant_type != "client_credential":
            raise ApiError(40002)
        if not appid:
            raise ApiError(41002)
        if appid != self.appid:
            raise ApiError(40013)
        if not secret:
            raise ApiError(41004)
        if secret != self.secret:
            raise ApiError(40125)

    def _current(self, *, stable: bool) -> IssuedToken | None:
        now = self._clock()
        for token in reversed(self._tokens.values()):
            if token.stable == stable:
                live = not token.expired and now < token.expires_at
                return token if live and token.retired_at is None else None
        return None

    def _issue(self, *, stable: bool, grace: float = GRACE) -> IssuedToken:
        now = self._clock()
        for token in self._tokens.values():
            if token.stable == stable and token.retired_at is None:
                token.retired_at = now + grace
        value = f"{next(self._serial)}_{secrets.token_urlsafe(96)}"
        token = IssuedToken(value, stable, now, now + LIFETIME)
        self._tokens[value] = token
        return token
