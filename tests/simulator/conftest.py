"""Fixtures for the fake platform's own tests: a clock, a platform, an HTTP client on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from simulator import FakeClock, FakeWeChat, create_platform_app

APPID = "wxb11529c136998cb6"
SECRET = "sim-secret"
START = 1_790_000_000.0  # 2026-09-21 22:13 Beijing time

Call = Callable[..., Awaitable[dict[str, Any]]]
AiohttpClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def platform(clock: FakeClock) -> FakeWeChat:
    return FakeWeChat(appid=APPID, secret=SECRET, clock=clock)


@pytest.fixture
async def wechat(
    platform: FakeWeChat, aiohttp_client: AiohttpClient
) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(create_platform_app(platform))


async def fetch_token(wechat: TestClient[web.Request, web.Application]) -> str:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    async with wechat.get("/cgi-bin/token", params=params) as resp:
        return str((await resp.json(content_type=None))["access_token"])


@pytest.fixture
async def access_token(wechat: TestClient[web.Request, web.Application]) -> str:
    return await fetch_token(wechat)


@pytest.fixture
def call(wechat: TestClient[web.Request, web.Application]) -> Call:
    """``await call("POST", path, body, **query)``: JSON in and out, with a cached token
    (fetched again when rejected, as a real client does) unless ``auth=False`` or the query
    names its own ``access_token``."""
    cache: dict[str, str] = {}

    async def token(fresh: bool = False) -> str:
        if fresh or "token" not in cache:
            cache["token"] = await fetch_token(wechat)
        return cache["token"]

    async def send(
        method: str, path: str, body: Any = None, *, auth: bool = True, **query: Any
    ) -> dict[str, Any]:
        managed = auth and "access_token" not in query
        for fresh in (False, True):
            if managed:
                query["access_token"] = await token(fresh)
            async with wechat.request(method, path, params=query, json=body) as resp:
                answer: dict[str, Any] = await resp.json(content_type=None)
            if not (managed and answer.get("errcode") in (40001, 42001)):
                break
        return answer

    return send
