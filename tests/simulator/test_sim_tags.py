"""Tags: 100 per account, 20 per user, 50 openids per batch, names ≤ 30 characters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from simulator import FakeWeChat

Call = Callable[..., Awaitable[dict[str, Any]]]


async def create(call: Call, name: str) -> dict[str, Any]:
    return await call("POST", "/cgi-bin/tags/create", {"tag": {"name": name}})


async def tag(call: Call, tag_id: int, openids: list[str], untag: bool = False) -> int:
    path = "/cgi-bin/tags/members/" + ("batchuntagging" if untag else "batchtagging")
    answer = await call("POST", path, {"openid_list": openids, "tagid": tag_id})
    return int(answer["errcode"])


async def test_create_get_update_delete(call: Call, platform: FakeWeChat) -> None:
    created = await create(call, "新华社区")
    assert created == {"tag": {"id": 100, "name": "新华社区"}}
    assert (await create(call, "新华社区"))["errcode"] == 45157
    assert (await create(call, "x" * 31))["errcode"] == 45158
    assert "tag" in await create(call, "x" * 30)
    tags = (await call("GET", "/cgi-bin/tags/get"))["tags"]
    assert {"id": 100, "name": "新华社区", "count": 0} in tags
    assert {"id": 2, "name": "星标组", "count": 0} in tags
    rename = {"tag": {"id": 100, "name": "新华村"}}
    assert (await call("POST", "/cgi-bin/tags/update", rename))["errcode"] == 0
    system = {"tag": {"id": 2, "name": "星"}}
    assert (await call("POST", "/cgi-bin/tags/update", system))["errcode"] == 45058
    platform.follow("o-1")
    assert await tag(call, 100, ["o-1"]) == 0
    assert (await call("POST", "/cgi-bin/tags/delete", {"tag": {"id": 100}}))["errcode"] == 0
    assert platform.user("o-1").tags == []
    assert (await call("POST", "/cgi-bin/tags/delete", {"tag": {"id": 100}}))["errcode"] == 45159


async def test_at_most_100_tags(call: Call) -> None:
    for i in range(100):
        assert "tag" in await create(call, f"t{i}")
    assert (await create(call, "one too many"))["errcode"] == 45056


async def test_batch_limits(call: Call, platform: FakeWeChat) -> None:
    openids = [f"o-{i}" for i in range(51)]
    for openid in openids:
        platform.follow(openid)
    tag_id = (await create(call, "巡逻队"))["tag"]["id"]
    assert await tag(call, tag_id, openids) == 40032
    assert await tag(call, tag_id, []) == 40032
    assert await tag(call, tag_id, openids[:50]) == 0
    assert await tag(call, 999, openids[:1]) == 45159
    assert await tag(call, tag_id, ["stranger"]) == 40003
    ids = await call("POST", "/cgi-bin/tags/getidlist", {"openid": "o-0"})
    assert ids == {"tagid_list": [tag_id]}
    members = await call("POST", "/cgi-bin/user/tag/get", {"tagid": tag_id, "next_openid": ""})
    assert members["count"] == 50 and members["data"]["openid"][0] == "o-0"
    assert await tag(call, tag_id, openids[:10], untag=True) == 0
    count = {t["id"]: t["count"] for t in (await call("GET", "/cgi-bin/tags/get"))["tags"]}
    assert count[tag_id] == 40


async def test_twenty_tags_per_user(call: Call, platform: FakeWeChat) -> None:
    platform.follow("o-1")
    platform.follow("o-2")
    ids = [(await create(call, f"t{i}"))["tag"]["id"] for i in range(21)]
    for tag_id in ids[:20]:
        assert await tag(call, tag_id, ["o-1"]) == 0
    assert await tag(call, ids[20], ["o-2", "o-1"]) == 45059
    assert platform.user("o-2").tags == []  # all or nothing
    assert await tag(call, ids[0], ["o-1"]) == 0  # already has it: no new tag
