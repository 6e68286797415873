"""The volunteers' menu: a conditional menu for the 巡防队员 tag, where every click works, so
nothing needs typing."""

from __future__ import annotations

from bot.typedefs import api_key
from handlers.menu import click_keys, load_menu
from handlers.patrols.menu import load_patrol_menu
from handlers.patrols.tag import PATROL_TAG
from handlers.patrols.volunteer import MENU_KEYS
from simulator import FakeClock, FakeWeChat
from simulator.menu import validate
from tests.conftest import Bot
from tests.patrolkit import HOME, volunteer
from tests.test_officer_menu import click, push, seen_keys


def test_the_patrol_menu_fits_wechat_and_every_key_is_handled() -> None:
    menu = load_patrol_menu()
    validate(menu)
    assert set(click_keys(menu)) == set(MENU_KEYS)


async def test_a_volunteer_patrols_from_the_menu_alone(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    platform.follow("o-wang")
    await volunteer(bot, "o-wang")
    await bot.settle()  # tagged once the enrolment committed
    pushed = await push(bot)
    assert f"volunteers' menu pushed for tag {PATROL_TAG}" in pushed and "1 active" in pushed
    tags = {t["name"]: int(t["id"]) for t in await bot.app[api_key].get_tags()}
    assert tags[PATROL_TAG] in platform.user("o-wang").tags
    assert await seen_keys(bot, "o-wang") == click_keys(load_patrol_menu())
    await bot.sender.subscribe("o-resident")
    assert await seen_keys(bot, "o-resident") == click_keys(load_menu())

    assert "请发送您的位置签到" in await click(bot, "o-wang", "PATROL_START")
    await bot.sender.location("o-wang", *HOME, "新华村")
    assert "请直接发送照片或文字" in await click(bot, "o-wang", "PATROL_REPORT")
    helped = await click(bot, "o-wang", "PATROL_HELP")
    assert "开始巡逻" in helped and "您正在巡逻中" in helped
    assert "王芳，您的积分：0" in await click(bot, "o-wang", "PATROL_POINTS")
    assert "积分排行" in await click(bot, "o-wang", "PATROL_BOARD")
    clock.advance(600)
    assert "巡逻已结束" in await click(bot, "o-wang", "PATROL_END")
