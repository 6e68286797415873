"""The officers' menu: a conditional menu for the 民警 tag, and clicks that are the commands."""

from __future__ import annotations

import argparse
import logging

import pytest

from bot.admin import menu_push
from bot.officeradmin import officer_revoke
from bot.typedefs import api_key, sessionmaker_key, settings_key
from handlers.menu import click_keys, load_menu
from handlers.officers.menu import COMMANDS, load_officer_menu
from handlers.officers.tag import OFFICER_TAG
from simulator import FakeClock, FakeWeChat
from simulator.menu import validate
from storage.audit import AuditRepo
from tests.conftest import Bot
from tests.test_officers import REFUSED, add, officer_of
from tests.test_tips import _file_tip, say


async def push(bot: Bot) -> str:
    return await menu_push(bot.app[settings_key], argparse.Namespace())


async def bind(bot: Bot, openid: str, name: str = "刘洋") -> None:
    code = await add(bot, name)
    assert (await say(bot, openid, f"绑定 {code}")).startswith("绑定成功")
    await bot.settle()  # the tag is set once the reply is out


async def officer_tag_id(bot: Bot) -> int:
    tags = await bot.app[api_key].get_tags()
    return next(int(t["id"]) for t in tags if t["name"] == OFFICER_TAG)


async def click(bot: Bot, openid: str, key: str) -> str:
    result = await bot.sender.click(openid, key)
    assert result.reply is not None, f"no reply to the click {key}"
    return str(result.reply.content)


async def seen_keys(bot: Bot, openid: str) -> list[str]:
    return click_keys(await bot.app[api_key].try_match_menu(openid))


async def audit_count(bot: Bot) -> int:
    async with bot.app[sessionmaker_key]() as session:
        return len(await AuditRepo(session).latest(1000))


def test_officer_menu_fits_wechat_and_every_key_is_a_command() -> None:
    menu = load_officer_menu()
    validate(menu)  # the fake platform's checks: raises with WeChat's errcode
    assert set(click_keys(menu)) == set(COMMANDS)


async def test_pushing_twice_leaves_one_officer_menu(bot: Bot, platform: FakeWeChat) -> None:
    # Bound while tagging fails: the push puts the officer in the tag all the same.
    platform.fail_next("/cgi-bin/tags/members/batchtagging", 45059)
    await bind(bot, "o-early-officer")
    first = await push(bot)
    second = await push(bot)
    tag_id = await officer_tag_id(bot)
    assert f"officers' menu pushed for tag {OFFICER_TAG} ({tag_id})" in second
    assert f"({tag_id}): menuid" in second and "; 1 active in the tag" in second
    assert "replacing" not in first and "replacing" in second

    shown = await bot.app[api_key].get_menu()
    assert click_keys(shown["menu"]) == click_keys(load_menu())
    [officers] = [
        m for m in shown["conditionalmenu"] if m["matchrule"] == {"group_id": str(tag_id)}
    ]
    assert officers["matchrule"] == {"group_id": str(tag_id)}
    assert click_keys(officers) == click_keys(load_officer_menu())
    assert tag_id in platform.user("o-early-officer").tags


async def test_a_bound_officer_sees_the_officer_menu(bot: Bot, platform: FakeWeChat) -> None:
    await push(bot)
    await bind(bot, "o-typed")
    scanned = await add(bot, "李娜", "auxiliary")
    answer = await bot.sender.scan("o-scanned", f"e:{scanned}")
    assert answer.reply is not None and "绑定成功" in answer.reply.content
    await bot.settle()
    await say(bot, "o-resident", "你好")

    tag_id = await officer_tag_id(bot)
    officer_keys, default_keys = click_keys(load_officer_menu()), click_keys(load_menu())
    for officer in ("o-typed", "o-scanned"):
        assert tag_id in platform.user(officer).tags
        assert await seen_keys(bot, officer) == officer_keys
    assert tag_id not in platform.user("o-resident").tags
    assert await seen_keys(bot, "o-resident") == default_keys


async def test_every_click_answers_as_its_typed_command(bot: Bot) -> None:
    tip = await _file_tip(bot, "o-reporter")
    me = "o-clicking-officer"
    await bind(bot, me)
    await say(bot, me, f"分派 {tip.code} 刘洋")  # so that 我的线索 lists it too
    for key, command in COMMANDS.items():
        typed = await say(bot, me, command)
        assert await click(bot, me, key) == typed != REFUSED, key
        if key in ("OFFICER_NEW", "OFFICER_MINE"):
            assert tip.code in typed, key


async def test_a_forged_click_is_refused_and_nothing_is_audited(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    await _file_tip(bot, "o-forger")
    await bind(bot, "o-real-officer")  # something to see, and an audit log that is not empty
    before = await audit_count(bot)
    caplog.set_level(logging.WARNING, logger="pingan.officers")
    for outsider in ("o-forger", "o-stranger"):
        for key in COMMANDS:
            assert await click(bot, outsider, key) == REFUSED, key
    assert await audit_count(bot) == before > 0
    assert sum("refused" in r.getMessage() for r in caplog.records) == 2 * len(COMMANDS)


async def test_a_revoked_officer_is_untagged_and_refused(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await push(bot)
    await bind(bot, "o-revoked")
    officer = await officer_of(bot, "o-revoked")
    assert officer is not None
    assert await click(bot, "o-revoked", "OFFICER_NEW") != REFUSED
    printed = await officer_revoke(bot.app[settings_key], argparse.Namespace(id=officer.id))
    assert "revoked" in printed and "could not" not in printed
    assert await officer_tag_id(bot) not in platform.user("o-revoked").tags
    assert await seen_keys(bot, "o-revoked") == click_keys(load_menu())
    clock.advance(1)  # else the same click at the same second is WeChat's retry of the first
    assert await click(bot, "o-revoked", "OFFICER_NEW") == REFUSED


async def test_a_failed_untag_still_revokes(bot: Bot, platform: FakeWeChat) -> None:
    await bind(bot, "o-sticky")
    officer = await officer_of(bot, "o-sticky")
    assert officer is not None
    platform.fail_next("/cgi-bin/tags/members/batchuntagging", 45009)
    printed = await officer_revoke(bot.app[settings_key], argparse.Namespace(id=officer.id))
    assert f"could not take them out of the {OFFICER_TAG} tag" in printed
    # Still in the tag, so still shown the menu; a click is refused all the same.
    assert await officer_tag_id(bot) in platform.user("o-sticky").tags
    assert await click(bot, "o-sticky", "OFFICER_HELP") == REFUSED
