"""WeCom group robots: unknown key, content size limits, 20 messages a minute."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from simulator import FakeClock, FakeWeChat

Call = Callable[..., Awaitable[dict[str, Any]]]
SEND = "/cgi-bin/webhook/send"


async def robot(call: Call, key: str, body: dict[str, Any]) -> dict[str, Any]:
    return await call("POST", SEND, body, auth=False, key=key)


def text(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content, "mentioned_list": ["@all"]}}


async def test_send_and_record(call: Call, platform: FakeWeChat) -> None:
    key = platform.add_robot("robot-xinhua")
    assert await robot(call, key, text("今晚巡逻")) == {"errcode": 0, "errmsg": "ok"}
    markdown = {"msgtype": "markdown", "markdown": {"content": "**警情通报**"}}
    assert (await robot(call, key, markdown))["errcode"] == 0
    assert [m["msgtype"] for m in platform.robot_messages(key)] == ["text", "markdown"]
    assert platform.robot_messages(key)[0]["text"]["content"] == "今晚巡逻"
    assert (await robot(call, "unknown", text("x")))["errcode"] == 93000


async def test_content_limits(call: Call, platform: FakeWeChat) -> None:
    key = platform.add_robot("k")
    assert (await robot(call, key, text("字" * 682)))["errcode"] == 0  # 2046 bytes
    too_long = await robot(call, key, text("字" * 683))  # 2049 bytes
    assert too_long["errcode"] == 40058
    assert too_long["errmsg"].startswith("text.content exceed max length 2048")
    markdown = {"msgtype": "markdown", "markdown": {"content": "m" * 4097}}
    assert (await robot(call, key, markdown))["errcode"] == 40058
    assert (await robot(call, key, {"msgtype": "fax"}))["errcode"] == 40008


async def test_twenty_a_minute(call: Call, platform: FakeWeChat, clock: FakeClock) -> None:
    key = platform.add_robot("k")
    codes = []
    for _ in range(21):
        codes.append((await robot(call, key, text("x")))["errcode"])
        clock.advance(1)
    assert codes == [0] * 20 + [45009]
    clock.advance(40)  # the first message is now a minute old
    assert (await robot(call, key, text("x")))["errcode"] == 0
