"""Fault injection, daily API quotas, and what the platform records."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from simulator import FakeWeChat

Call = Callable[..., Awaitable[dict[str, Any]]]
INFO = "/cgi-bin/user/info"


async def test_fail_next(call: Call, platform: FakeWeChat) -> None:
    platform.follow("o-1")
    platform.fail_next(INFO, errcode=-1, times=2)
    codes = [(await call("GET", INFO, openid="o-1")).get("errcode", 0) for _ in range(3)]
    assert codes == [-1, -1, 0]
    platform.fail_next(INFO, errcode=40001)  # the fixture refetches and calls again
    assert (await call("GET", INFO, openid="o-1"))["openid"] == "o-1"


async def test_fail_with_http_status(
    wechat: TestClient[web.Request, web.Application], platform: FakeWeChat
) -> None:
    platform.fail_next("/cgi-bin/token", errcode=-1, status=502)
    async with wechat.get("/cgi-bin/token") as resp:
        assert resp.status == 502
    async with wechat.get("/cgi-bin/token") as resp:
        assert (await resp.json(content_type=None))["errcode"] == 40002


async def test_delay_next(call: Call, platform: FakeWeChat) -> None:
    platform.follow("o-1")
    await call("GET", INFO, openid="o-1")  # fetch the token first
    platform.delay_next(INFO, 0.2)
    started = time.monotonic()
    slow, fast = await asyncio.gather(
        call("GET", INFO, openid="o-1"), call("GET", INFO, openid="o-1")
    )
    assert slow["openid"] == fast["openid"] == "o-1"
    assert time.monotonic() - started >= 0.2


async def test_daily_quota_per_api(call: Call, platform: FakeWeChat) -> None:
    platform.follow("o-1")
    platform.quota.limits[INFO] = 2
    codes = [(await call("GET", INFO, openid="o-1")).get("errcode", 0) for _ in range(3)]
    assert codes == [0, 0, 45009]
    assert (await call("GET", "/cgi-bin/tags/get")).get("errcode", 0) == 0  # other APIs go on


async def test_method_checks(call: Call) -> None:
    assert (await call("GET", "/cgi-bin/menu/create"))["errcode"] == 43002
    assert (await call("POST", "/cgi-bin/menu/get", {}))["errcode"] == 43001


async def test_records_and_sim_view(
    call: Call, platform: FakeWeChat, wechat: TestClient[web.Request, web.Application]
) -> None:
    platform.touch("o-1", "message")
    body = {"touser": "o-1", "msgtype": "text", "text": {"content": "你好"}}
    await call("POST", "/cgi-bin/message/custom/send", body)
    (sent,) = platform.calls_to("/cgi-bin/message/custom/send")
    assert sent.method == "POST" and sent.json == body and "access_token" in sent.query
    assert platform.calls[0].path == "/cgi-bin/token"
    async with wechat.get("/_sim/inbox/o-1") as resp:
        (message,) = await resp.json(content_type=None)
    assert message["channel"] == "custom" and message["content"] == "你好"
