"""Mass send: daily call quotas, 4 a month per follower, clientmsgid dedup, the job event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from simulator import FakeClock, FakeWeChat, create_platform_app

Call = Callable[..., Awaitable[dict[str, Any]]]
SENDALL = "/cgi-bin/message/mass/sendall"


def text(content: str, tag_id: int | None = None, **extra: Any) -> dict[str, Any]:
    audience = {"is_to_all": True} if tag_id is None else {"is_to_all": False, "tag_id": tag_id}
    return {"filter": audience, "msgtype": "text", "text": {"content": content}, **extra}


async def test_send_to_a_tag_and_the_job_event(call: Call, platform: FakeWeChat) -> None:
    for openid in ("o-1", "o-2", "o-3"):
        platform.follow(openid)
    tag_id = (await call("POST", "/cgi-bin/tags/create", {"tag": {"name": "新华"}}))["tag"]["id"]
    body = {"openid_list": ["o-1", "o-2"], "tagid": tag_id}
    await call("POST", "/cgi-bin/tags/members/batchtagging", body)
    answer = await call("POST", SENDALL, text("防诈提醒", tag_id))
    assert answer["errcode"] == 0 and answer["errmsg"] == "send job submission success"
    assert answer["msg_id"] > 0 and "msg_data_id" not in answer  # only for mpnews
    assert [m["content"] for m in platform.inbox("o-1")] == ["防诈提醒"]
    assert platform.inbox("o-3") == []
    (event,) = platform.take_events()
    assert event.event == "MASSSENDJOBFINISH" and event.from_user == "mphelper"
    assert event.fields == {
        "MsgID": answer["msg_id"],
        "Status": "send success",
        "TotalCount": 2,
        "FilterCount": 2,
        "SentCount": 2,
        "ErrorCount": 0,
    }
    assert (await call("POST", SENDALL, text("x", 999)))["errcode"] == 45159
    mpnews = {"filter": {"is_to_all": True}, "msgtype": "mpnews", "mpnews": {"media_id": "m"}}
    assert "msg_data_id" in await call("POST", SENDALL, {**mpnews, "send_ignore_reprint": 0})


async def test_four_a_month_per_follower(
    call: Call, platform: FakeWeChat, clock: FakeClock
) -> None:
    platform.follow("o-1")
    for i in range(4):
        await call("POST", SENDALL, text(f"第{i}条"))
    platform.take_events()
    await call("POST", SENDALL, text("第五条"))
    (event,) = platform.take_events()
    assert (event.fields["TotalCount"], event.fields["FilterCount"]) == (1, 0)
    assert len(platform.inbox("o-1")) == 4
    clock.advance(10 * 24 * 3600)  # START is 22 September: this is October
    await call("POST", SENDALL, text("十月"))
    assert platform.inbox("o-1")[-1]["content"] == "十月"


async def test_clientmsgid_dedup(call: Call, platform: FakeWeChat, clock: FakeClock) -> None:
    platform.follow("o-1")
    first = await call("POST", SENDALL, text("一次", clientmsgid="campaign-7"))
    again = await call("POST", SENDALL, text("一次", clientmsgid="campaign-7"))
    assert again["errcode"] == 45065 and again["msg_id"] == first["msg_id"]
    assert len(platform.inbox("o-1")) == 1
    assert (await call("POST", SENDALL, text("x", clientmsgid="c" * 65)))["errcode"] == 45067
    clock.advance(24 * 3600)
    assert (await call("POST", SENDALL, text("一次", clientmsgid="campaign-7")))["errcode"] == 0


async def test_service_account_daily_quota(
    call: Call, platform: FakeWeChat, clock: FakeClock
) -> None:
    assert platform.quota.limit(SENDALL) == 100
    platform.quota.limits[SENDALL] = 2
    assert [(await call("POST", SENDALL, text("x")))["errcode"] for _ in range(3)] == [0, 0, 45009]
    clock.advance(24 * 3600)
    assert (await call("POST", SENDALL, text("x")))["errcode"] == 0


async def test_subscription_account_once_a_day(clock: FakeClock, aiohttp_client: Any) -> None:
    account = FakeWeChat(appid="wx1", secret="s", clock=clock, account_type="subscription")
    client: TestClient[web.Request, web.Application] = await aiohttp_client(
        create_platform_app(account)
    )
    for i in range(6):
        account.follow(f"o-{i}")
    params = {"grant_type": "client_credential", "appid": "wx1", "secret": "s"}
    async with client.get("/cgi-bin/token", params=params) as resp:
        token = {"access_token": (await resp.json(content_type=None))["access_token"]}
    codes = []
    for _ in range(2):
        async with client.post(SENDALL, json=text("日报"), params=token) as resp:
            codes.append((await resp.json(content_type=None))["errcode"])
    assert codes == [0, 45009]
    by_list = {"touser": ["o-1", "o-2"], "msgtype": "text", "text": {"content": "x"}}
    async with client.post("/cgi-bin/message/mass/send", json=by_list, params=token) as resp:
        assert (await resp.json(content_type=None))["errcode"] == 48001


async def test_send_by_openid_list(call: Call, platform: FakeWeChat) -> None:
    for openid in ("o-1", "o-2"):
        platform.follow(openid)
    body = {"touser": ["o-1"], "msgtype": "text", "text": {"content": "x"}}
    assert (await call("POST", "/cgi-bin/message/mass/send", body))["errcode"] == 40130
    body["touser"] = ["o-1", "o-2"]
    answer = await call("POST", "/cgi-bin/message/mass/send", body)
    assert answer["errcode"] == 0
    status = await call("POST", "/cgi-bin/message/mass/get", {"msg_id": answer["msg_id"]})
    assert status["msg_status"] == "SEND_SUCCESS"
