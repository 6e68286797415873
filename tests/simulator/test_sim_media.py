"""Temporary media: download with the real headers, 40007 when unknown or 3 days old."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import FormData, web
from aiohttp.test_utils import TestClient

from simulator import FakeClock, FakeWeChat

Call = Callable[..., Awaitable[dict[str, Any]]]
Client = TestClient[web.Request, web.Application]
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


async def new_token(wechat: Client) -> str:
    params = {"grant_type": "client_credential", "appid": "wxb11529c136998cb6"}
    async with wechat.get("/cgi-bin/token", params={**params, "secret": "sim-secret"}) as resp:
        return str((await resp.json(content_type=None))["access_token"])


async def download(wechat: Client, token: str, media_id: str) -> tuple[str, bytes, str]:
    params = {"media_id": media_id, "access_token": token}
    async with wechat.get("/cgi-bin/media/get", params=params) as resp:
        assert resp.status == 200
        disposition = resp.headers.get("Content-disposition", "")
        return resp.headers["Content-Type"], await resp.read(), disposition


async def test_download_and_expiry(
    wechat: Client, access_token: str, platform: FakeWeChat, clock: FakeClock
) -> None:
    media_id = platform.add_media(JPEG, "image/jpeg")
    content_type, data, disposition = await download(wechat, access_token, media_id)
    assert (content_type, data) == ("image/jpeg", JPEG)
    assert disposition == f'attachment; filename="{media_id}.jpg"'
    voice = platform.add_media(b"#!AMR\n", "audio/amr")
    assert (await download(wechat, access_token, voice))[0] == "audio/amr"

    content_type, data, _ = await download(wechat, access_token, "no-such-media")
    assert content_type.startswith("application/json")
    assert b'"errcode": 40007' in data
    clock.advance(3 * 24 * 3600 - 1)
    token = await new_token(wechat)
    assert (await download(wechat, token, media_id))[1] == JPEG
    clock.advance(1)
    assert b"40007" in (await download(wechat, token, media_id))[1]


async def test_upload(wechat: Client, access_token: str) -> None:
    form = FormData()
    form.add_field("media", JPEG, filename="tip.jpg", content_type="image/jpeg")
    params = {"type": "image", "access_token": access_token}
    async with wechat.post("/cgi-bin/media/upload", data=form, params=params) as resp:
        answer = await resp.json(content_type=None)
    assert answer["type"] == "image" and answer["created_at"] > 0
    assert (await download(wechat, access_token, answer["media_id"]))[1] == JPEG

    form = FormData()
    form.add_field("media", JPEG, filename="tip.jpg", content_type="image/jpeg")
    params = {"type": "sticker", "access_token": access_token}
    async with wechat.post("/cgi-bin/media/upload", data=form, params=params) as resp:
        assert (await resp.json(content_type=None))["errcode"] == 40004
