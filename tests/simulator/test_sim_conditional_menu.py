"""Conditional (个性化) menus: a menu per user tag over the default one, and trymatch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from simulator import FakeWeChat

Call = Callable[..., Awaitable[dict[str, Any]]]

DEFAULT = [{"type": "click", "name": "我要举报", "key": "TIP_REPORT"}]
OFFICERS = [{"type": "click", "name": "新线索", "key": "OFFICER_NEW"}]
CHIEFS = [{"type": "click", "name": "审批", "key": "CHIEF"}]


async def new_tag(call: Call, name: str) -> int:
    return int((await call("POST", "/cgi-bin/tags/create", {"tag": {"name": name}}))["tag"]["id"])


async def add(call: Call, buttons: list[dict[str, Any]], rule: Any) -> dict[str, Any]:
    return await call(
        "POST", "/cgi-bin/menu/addconditional", {"button": buttons, "matchrule": rule}
    )


async def seen_by(call: Call, openid: str) -> Any:
    answer = await call("POST", "/cgi-bin/menu/trymatch", {"user_id": openid})
    return answer.get("button", answer.get("errcode"))


async def test_conditional_menu_for_a_tag(call: Call, platform: FakeWeChat) -> None:
    officers = await new_tag(call, "民警")
    assert (await add(call, OFFICERS, {"tag_id": str(officers)}))["errcode"] == 65303
    assert (await call("POST", "/cgi-bin/menu/create", {"button": DEFAULT}))["errcode"] == 0
    added = await add(call, OFFICERS, {"tag_id": str(officers)})
    menuid = added["menuid"]
    assert isinstance(menuid, str) and menuid.isdigit()

    platform.follow("o-officer")
    platform.follow("o-resident")
    body = {"openid_list": ["o-officer"], "tagid": officers}
    assert (await call("POST", "/cgi-bin/tags/members/batchtagging", body))["errcode"] == 0
    assert await seen_by(call, "o-officer") == [{**OFFICERS[0], "sub_button": []}]
    assert await seen_by(call, "o-resident") == [{**DEFAULT[0], "sub_button": []}]
    assert await seen_by(call, "o-never-seen") == 65302

    shown = await call("GET", "/cgi-bin/menu/get")
    assert shown["menu"]["button"] == [{**DEFAULT[0], "sub_button": []}]
    [conditional] = shown["conditionalmenu"]
    assert conditional["menuid"] == int(menuid)
    assert conditional["matchrule"] == {"group_id": str(officers)}
    assert conditional["button"] == [{**OFFICERS[0], "sub_button": []}]

    # Creating the default menu again leaves the conditional one; delconditional removes it.
    assert (await call("POST", "/cgi-bin/menu/create", {"button": DEFAULT}))["errcode"] == 0
    assert len((await call("GET", "/cgi-bin/menu/get"))["conditionalmenu"]) == 1
    gone = await call("POST", "/cgi-bin/menu/delconditional", {"menuid": menuid})
    assert gone["errcode"] == 0
    again = await call("POST", "/cgi-bin/menu/delconditional", {"menuid": menuid})
    assert again["errcode"] == 65301
    assert "conditionalmenu" not in await call("GET", "/cgi-bin/menu/get")
    assert await seen_by(call, "o-officer") == [{**DEFAULT[0], "sub_button": []}]


async def test_the_newest_matching_menu_wins(call: Call, platform: FakeWeChat) -> None:
    officers, chiefs = await new_tag(call, "民警"), await new_tag(call, "所长")
    await call("POST", "/cgi-bin/menu/create", {"button": DEFAULT})
    await add(call, OFFICERS, {"tag_id": str(officers)})
    await add(call, CHIEFS, {"tag_id": str(chiefs)})
    platform.follow("o-chief")
    platform.user("o-chief").tags.extend([officers, chiefs])
    assert await seen_by(call, "o-chief") == [{**CHIEFS[0], "sub_button": []}]
    # The newer menu for the same tag takes over from the older one.
    await add(call, DEFAULT, {"tag_id": str(chiefs)})
    assert await seen_by(call, "o-chief") == [{**DEFAULT[0], "sub_button": []}]


async def test_delete_removes_the_conditional_menus_too(call: Call) -> None:
    officers = await new_tag(call, "民警")
    await call("POST", "/cgi-bin/menu/create", {"button": DEFAULT})
    await add(call, OFFICERS, {"tag_id": str(officers)})
    assert (await call("GET", "/cgi-bin/menu/delete"))["errcode"] == 0
    assert (await call("GET", "/cgi-bin/menu/get"))["errcode"] == 46003
    assert (await add(call, OFFICERS, {"tag_id": str(officers)}))["errcode"] == 65303


@pytest.mark.parametrize(
    ("buttons", "rule", "errcode"),
    [
        (OFFICERS, {}, 65304),
        (OFFICERS, {"tag_id": ""}, 65304),
        (OFFICERS, None, 65304),
        (OFFICERS, {"sex": "1"}, 65320),
        (OFFICERS, {"tag_id": "999"}, 45159),
        (OFFICERS, {"tag_id": "x"}, 45159),
        ([], {"tag_id": "100"}, 40016),
        ([{**OFFICERS[0], "name": "x" * 17}], {"tag_id": "100"}, 40018),
    ],
)
async def test_addconditional_checks(
    call: Call, buttons: list[dict[str, Any]], rule: Any, errcode: int
) -> None:
    assert await new_tag(call, "民警") == 100
    await call("POST", "/cgi-bin/menu/create", {"button": DEFAULT})
    assert (await add(call, buttons, rule))["errcode"] == errcode
    assert "conditionalmenu" not in await call("GET", "/cgi-bin/menu/get")
