"""access_token: issue, expiry, the old token's grace, daily quota, stable_token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from simulator import FakeClock, FakeWeChat, create_platform_app

APPID = "wxb11529c136998cb6"
SECRET = "sim-secret"
Call = Callable[..., Awaitable[dict[str, Any]]]
Client = TestClient[web.Request, web.Application]


async def fetch(wechat: Client, **overrides: str) -> dict[str, Any]:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, **overrides}
    async with wechat.get("/cgi-bin/token", params=params) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/json")
        answer: dict[str, Any] = await resp.json(content_type=None)
        return answer


async def stable(wechat: Client, force: bool = False) -> dict[str, Any]:
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    async with wechat.post("/cgi-bin/stable_token", json={**body, "force_refresh": force}) as r:
        answer: dict[str, Any] = await r.json(content_type=None)
        return answer


async def user_info(call: Call, token: str) -> int:
    answer = await call("GET", "/cgi-bin/user/info", openid="o-1", access_token=token)
    return int(answer.get("errcode", 0))


async def test_token_issue_and_credentials(wechat: Client, platform: FakeWeChat) -> None:
    answer = await fetch(wechat)
    assert answer["expires_in"] == 7200 and len(answer["access_token"]) > 100
    assert (await fetch(wechat, appid="wx-other"))["errcode"] == 40013
    assert (await fetch(wechat, secret="wrong"))["errcode"] == 40125
    assert (await fetch(wechat, grant_type=""))["errcode"] == 40002
    assert (await fetch(wechat, appid=""))["errcode"] == 41002
    assert platform.token_fetches == 1  # failures are not fetches


async def test_expiry_and_old_token_grace(
    wechat: Client, call: Call, platform: FakeWeChat, clock: FakeClock
) -> None:
    platform.follow("o-1")
    first = (await fetch(wechat))["access_token"]
    clock.advance(3600)
    second = (await fetch(wechat))["access_token"]
    assert first != second
    clock.advance(299)
    assert await user_info(call, first) == 0  # both valid for 5 minutes
    clock.advance(1)
    assert await user_info(call, first) == 40001  # no longer the latest
    assert await user_info(call, second) == 0
    clock.advance(7200 - 300)
    assert await user_info(call, second) == 42001


async def test_api_token_errors(wechat: Client, call: Call, platform: FakeWeChat) -> None:
    platform.follow("o-1")
    assert (await call("GET", "/cgi-bin/user/info", openid="o-1", auth=False))["errcode"] == 41001
    assert await user_info(call, "not a token!") == 40014
    assert await user_info(call, "99_" + "A" * 100) == 40001
    token = (await fetch(wechat))["access_token"]
    assert await user_info(call, token) == 0
    platform.expire_all_tokens()
    assert await user_info(call, token) == 42001


async def test_daily_fetch_quota(clock: FakeClock, aiohttp_client: Any) -> None:
    small = FakeWeChat(appid=APPID, secret=SECRET, clock=clock, quotas={"/cgi-bin/token": 3})
    client = await aiohttp_client(create_platform_app(small))
    for _ in range(3):
        assert "access_token" in await fetch(client)
    assert (await fetch(client))["errcode"] == 45009
    clock.advance(24 * 3600)  # the next day (Beijing time)
    assert "access_token" in await fetch(client)
    assert small.token_fetches == 4


async def test_default_daily_quota_is_2000(wechat: Client, platform: FakeWeChat) -> None:
    assert platform.quota.limit("/cgi-bin/token") == 2000


async def test_stable_token(
    wechat: Client, call: Call, platform: FakeWeChat, clock: FakeClock
) -> None:
    platform.follow("o-1")
    first = await stable(wechat)
    clock.advance(600)
    again = await stable(wechat)
    assert again["access_token"] == first["access_token"]  # normal mode keeps it
    assert again["expires_in"] == 7200 - 600
    ordinary = (await fetch(wechat))["access_token"]
    assert await user_info(call, first["access_token"]) == 0  # isolated from /token
    clock.advance(7200 - 600 - 300)  # inside the last 5 minutes: a new one
    renewed = await stable(wechat)
    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] == 7200
    assert await user_info(call, first["access_token"]) == 0  # lives out its time
    forced = await stable(wechat, force=True)
    assert forced["access_token"] != renewed["access_token"]
    assert await user_info(call, renewed["access_token"]) == 40001  # at once
    assert (await stable(wechat, force=True))["access_token"] == forced["access_token"]  # < 30 s
    assert await user_info(call, ordinary) == 0
    assert platform.token_fetches == 1 and platform.tokens.stable_fetches == 5
