"""Customer-service messages: the 48-hour window, 5 per message, 3 a minute after a click."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from simulator import FakeClock, FakeWeChat

Call = Callable[..., Awaitable[dict[str, Any]]]
SEND = "/cgi-bin/message/custom/send"


async def say(call: Call, openid: str, text: str) -> int:
    body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
    return int((await call("POST", SEND, body))["errcode"])


async def test_window_opens_with_a_message_and_closes_after_48h(
    call: Call, platform: FakeWeChat, clock: FakeClock
) -> None:
    platform.follow("o-1")
    assert await say(call, "o-1", "no window yet") == 45015
    platform.touch("o-1", "message")
    assert await say(call, "o-1", "一") == 0
    clock.advance(48 * 3600 - 1)
    assert await say(call, "o-1", "二") == 0
    clock.advance(1)
    assert await say(call, "o-1", "三") == 45015
    assert [m["content"] for m in platform.inbox("o-1")] == ["一", "二"]
    assert platform.inbox("o-1")[0]["channel"] == "custom"


async def test_five_per_message_and_a_new_message_resets(
    call: Call, platform: FakeWeChat, clock: FakeClock
) -> None:
    platform.touch("o-1", "message")  # a message from a stranger makes a follower
    assert platform.user("o-1").subscribed
    assert [await say(call, "o-1", str(i)) for i in range(6)] == [0] * 5 + [45047]
    clock.advance(3600)
    platform.touch("o-1", "message")
    assert [await say(call, "o-1", str(i)) for i in range(6)] == [0] * 5 + [45047]


async def test_click_follow_scan_allow_three_within_a_minute(
    call: Call, platform: FakeWeChat, clock: FakeClock
) -> None:
    for kind in ("click", "follow", "scan"):
        openid = f"o-{kind}"
        platform.touch(openid, kind)
        assert [await say(call, openid, "x") for _ in range(4)] == [0, 0, 0, 45047]
    platform.touch("o-late", "click")
    clock.advance(60)
    assert await say(call, "o-late", "too late") == 45015


async def test_click_adds_to_an_open_message_window(
    call: Call, platform: FakeWeChat, clock: FakeClock
) -> None:
    platform.touch("o-1", "message")
    platform.touch("o-1", "click")
    assert [await say(call, "o-1", "x") for _ in range(9)] == [0] * 8 + [45047]


async def test_unknown_and_unsubscribed_users(call: Call, platform: FakeWeChat) -> None:
    assert await say(call, "nobody", "hi") == 40003
    platform.touch("o-1", "message")
    platform.unfollow("o-1")
    assert await say(call, "o-1", "hi") == 43004


async def test_message_shapes(call: Call, platform: FakeWeChat) -> None:
    platform.touch("o-1", "message")
    media_id = platform.add_media(b"\xff\xd8jpeg", "image/jpeg")
    image = {"touser": "o-1", "msgtype": "image", "image": {"media_id": media_id}}
    assert (await call("POST", SEND, image))["errcode"] == 0
    missing = {"touser": "o-1", "msgtype": "image", "image": {"media_id": "gone"}}
    assert (await call("POST", SEND, missing))["errcode"] == 40007
    article = {"title": "通知", "description": "d", "url": "https://x", "picurl": ""}
    news = {"touser": "o-1", "msgtype": "news", "news": {"articles": [article]}}
    assert (await call("POST", SEND, news))["errcode"] == 0
    two = {"touser": "o-1", "msgtype": "news", "news": {"articles": [article, article]}}
    assert (await call("POST", SEND, two))["errcode"] == 45008
    bad = {"touser": "o-1", "msgtype": "fax", "fax": {}}
    assert (await call("POST", SEND, bad))["errcode"] == 40008
    assert (await call("POST", SEND))["errcode"] == 44002
    inbox = platform.inbox("o-1")
    assert [m["msgtype"] for m in inbox] == ["image", "news"]
    assert inbox[0]["content"] == media_id and inbox[1]["content"] == [article]


async def test_user_info_shape(call: Call, platform: FakeWeChat, clock: FakeClock) -> None:
    platform.follow("o-qr", scene="c:xinhua")
    info = await call("GET", "/cgi-bin/user/info", openid="o-qr", lang="zh_CN")
    assert info == {
        "subscribe": 1,
        "openid": "o-qr",
        "language": "zh_CN",
        "subscribe_time": int(clock()),
        "remark": "",
        "groupid": 0,
        "tagid_list": [],
        "subscribe_scene": "ADD_SCENE_QR_CODE",
        "qr_scene": 0,
        "qr_scene_str": "c:xinhua",
    }
    platform.unfollow("o-qr")
    gone = await call("GET", "/cgi-bin/user/info", openid="o-qr")
    assert gone["subscribe"] == 0 and "subscribe_time" not in gone
    assert (await call("GET", "/cgi-bin/user/info", openid="o-x"))["errcode"] == 40003
    platform.follow("o-a")
    listed = await call("GET", "/cgi-bin/user/get")
    assert listed["total"] == 1 and listed["data"]["openid"] == ["o-a"]


async def test_template_messages(call: Call, platform: FakeWeChat) -> None:
    template_id = platform.add_template("受理通知", "{{first.DATA}}\n编号：{{keyword1.DATA}}")
    platform.follow("o-1")  # no window needed for templates
    body = {
        "touser": "o-1",
        "template_id": template_id,
        "data": {"first": {"value": "线索已受理"}, "keyword1": {"value": "T-1"}},
    }
    answer = await call("POST", "/cgi-bin/message/template/send", body)
    assert answer["errcode"] == 0 and answer["msgid"] > 0
    assert platform.inbox("o-1")[0]["content"] == "线索已受理\n编号：T-1"
    assert platform.pending_events[0].event == "TEMPLATESENDJOBFINISH"
    wrong = {**body, "template_id": "nope"}
    assert (await call("POST", "/cgi-bin/message/template/send", wrong))["errcode"] == 40037
    short = {**body, "data": {"first": {"value": "x"}}}
    assert (await call("POST", "/cgi-bin/message/template/send", short))["errcode"] == 47003
    platform.unfollow("o-1")
    assert (await call("POST", "/cgi-bin/message/template/send", body))["errcode"] == 43004
