"""Menu structure checks and QR code limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from simulator import FakeClock, FakeWeChat, create_platform_app

Call = Callable[..., Awaitable[dict[str, Any]]]

CLICK = {"type": "click", "name": "我要举报", "key": "TIP_REPORT"}
VIEW = {"type": "view", "name": "官网", "url": "https://police.example.cn"}


async def create_menu(call: Call, buttons: list[dict[str, Any]]) -> int:
    return int((await call("POST", "/cgi-bin/menu/create", {"button": buttons}))["errcode"])


async def test_menu_round_trip(call: Call) -> None:
    assert (await call("GET", "/cgi-bin/menu/get"))["errcode"] == 46003
    assert await create_menu(call, [CLICK, {"name": "更多", "sub_button": [VIEW, CLICK]}]) == 0
    menu = (await call("GET", "/cgi-bin/menu/get"))["menu"]["button"]
    assert menu[0] == {**CLICK, "sub_button": []}
    assert menu[1]["sub_button"] == [VIEW, CLICK]
    current = await call("GET", "/cgi-bin/get_current_selfmenu_info")
    assert current["is_menu_open"] == 1
    assert current["selfmenu_info"]["button"][1]["sub_button"] == {"list": [VIEW, CLICK]}
    assert (await call("GET", "/cgi-bin/menu/delete"))["errcode"] == 0
    assert (await call("GET", "/cgi-bin/menu/get"))["errcode"] == 46003


@pytest.mark.parametrize(
    ("buttons", "errcode"),
    [
        ([], 40016),
        ([CLICK] * 4, 40016),
        ([{**CLICK, "type": "fax"}], 40017),
        ([{**CLICK, "name": "五个汉字呢"}], 40018),  # 15 bytes is fine, 16 too; this is 15
        ([{**CLICK, "name": "x" * 17}], 40018),
        ([{**CLICK, "key": "k" * 129}], 40019),
        ([{"type": "click", "name": "无键"}], 40019),
        ([{"type": "view", "name": "无址"}], 40020),
        ([{**VIEW, "url": "ftp://x"}], 40055),
        ([{"name": "多", "sub_button": [CLICK] * 6}], 40023),
        ([{"name": "多", "sub_button": [{**CLICK, "type": "fax"}]}], 40024),
        ([{"name": "多", "sub_button": [{**CLICK, "name": "x" * 61}]}], 40025),
        ([{"name": "多", "sub_button": [{**CLICK, "key": ""}]}], 40026),
        ([{"name": "多", "sub_button": [{**VIEW, "url": "u" * 1025}]}], 40027),
    ],
)
async def test_menu_validation(call: Call, buttons: list[dict[str, Any]], errcode: int) -> None:
    expected = 0 if errcode == 40018 and buttons[0]["name"] == "五个汉字呢" else errcode
    assert await create_menu(call, buttons) == expected


async def qr(call: Call, action: str, scene: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {"action_name": action, "action_info": {"scene": scene}, **extra}
    return await call("POST", "/cgi-bin/qrcode/create", body)


async def test_qrcode_kinds(call: Call, platform: FakeWeChat, clock: FakeClock) -> None:
    temp = await qr(call, "QR_STR_SCENE", {"scene_str": "c:xinhua"}, expire_seconds=3600)
    assert temp["expire_seconds"] == 3600 and temp["url"].startswith("http://weixin.qq.com/q/")
    default = await qr(call, "QR_SCENE", {"scene_id": 123})
    assert default["expire_seconds"] == 60
    permanent = await qr(call, "QR_LIMIT_STR_SCENE", {"scene_str": "e:ABCD"})
    assert "expire_seconds" not in permanent and permanent["ticket"]
    code = platform.qrcode(temp["ticket"])
    assert code is not None and code.scene == "c:xinhua"
    clock.advance(3600)
    assert platform.qrcode(temp["ticket"]) is None
    assert platform.qrcode(permanent["ticket"]) is not None


@pytest.mark.parametrize(
    ("action", "scene", "extra"),
    [
        ("QR_STR_SCENE", {"scene_str": "x" * 65}, {}),
        ("QR_STR_SCENE", {"scene_str": ""}, {}),
        ("QR_SCENE", {"scene_id": 0}, {}),
        ("QR_LIMIT_SCENE", {"scene_id": 100_001}, {}),
        ("QR_SCENE", {"scene_id": 1}, {"expire_seconds": 2_592_001}),
        ("QR_WHATEVER", {"scene_id": 1}, {}),
    ],
)
async def test_qrcode_limits(
    call: Call, action: str, scene: dict[str, Any], extra: dict[str, Any]
) -> None:
    assert (await qr(call, action, scene, **extra))["errcode"] == 40097


async def test_qrcode_limits_accept_the_edges(call: Call) -> None:
    assert "ticket" in await qr(call, "QR_STR_SCENE", {"scene_str": "x" * 64})
    assert "ticket" in await qr(call, "QR_LIMIT_SCENE", {"scene_id": 100_000})
    thirty_days = {"expire_seconds": 2_592_000}
    assert "ticket" in await qr(call, "QR_SCENE", {"scene_id": 2**32 - 1}, **thirty_days)


async def test_subscription_account_has_no_qrcodes(clock: FakeClock, aiohttp_client: Any) -> None:
    account = FakeWeChat(appid="wx1", secret="s", clock=clock, account_type="subscription")
    client = await aiohttp_client(create_platform_app(account))
    params = {"grant_type": "client_credential", "appid": "wx1", "secret": "s"}
    async with client.get("/cgi-bin/token", params=params) as resp:
        token = (await resp.json(content_type=None))["access_token"]
    body = {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 1}}}
    params = {"access_token": token}
    async with client.post("/cgi-bin/qrcode/create", json=body, params=params) as resp:
        assert (await resp.json(content_type=None))["errcode"] == 48001
