"""The custom menu, communities with their WeChat tags, and switching language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.admin import community_qr, menu_push
from bot.i18n import translations
from bot.typedefs import sessionmaker_key, settings_key
from handlers.menu import MENU_FILE, click_keys, load_menu
from handlers.officers.menu import OFFICER_MENU_FILE
from simulator import FakeClock, FakeWeChat
from storage.models import Community, User
from storage.users import CommunityRepo
from tests.conftest import Bot

FALLBACK_STARTS = ("抱歉，暂时无法理解", "没有看懂")


async def add_communities(bot: Bot, clock: FakeClock) -> list[Community]:
    now = datetime.fromtimestamp(clock(), tz=UTC)
    async with bot.app[sessionmaker_key].begin() as session:
        repo = CommunityRepo(session)
        return [
            await repo.create(code="xinhua", name="新华社区", now=now, aliases=["新华"]),
            await repo.create(code="hongqi", name="红旗村", now=now),
        ]


async def test_menu_push_and_every_key_has_a_handler(bot: Bot, platform: FakeWeChat) -> None:
    class Args:
        pass

    printed = await menu_push(bot.app[settings_key], Args())  # type: ignore[arg-type]
    assert printed.startswith("default menu pushed")
    pushed = [c for c in platform.calls if c.path == "/cgi-bin/menu/create"]
    assert pushed and pushed[-1].json == load_menu()
    keys = click_keys(load_menu())
    assert {"TIP_REPORT", "INQUIRY", "MY_TIPS", "MY_COMMUNITY", "LANGUAGE", "HELP"} <= set(keys)
    for key in keys:
        result = await bot.sender.click(f"o-menu-{key}", key)
        assert result.reply is not None, key
        assert not result.reply.content.startswith(FALLBACK_STARTS), key
        await bot.sender.text(f"o-menu-{key}", "取消")


async def _user(bot: Bot, openid: str) -> User:
    async with bot.app[sessionmaker_key]() as session:
        user = await session.get(User, openid)
    assert user is not None
    return user


async def _community(bot: Bot, code: str) -> Community:
    async with bot.app[sessionmaker_key]() as session:
        community = await CommunityRepo(session).by_code(code)
    assert community is not None
    return community


@pytest.mark.parametrize("already_following", [False, True])
async def test_join_by_qr_scene_tags_the_user(
    bot: Bot, platform: FakeWeChat, clock: FakeClock, already_following: bool
) -> None:
    await add_communities(bot, clock)

    class Args:
        code, days, permanent = "xinhua", 30, False

    printed = await community_qr(bot.app[settings_key], Args())  # type: ignore[arg-type]
    assert "showqrcode?ticket=" in printed and "c:xinhua" in printed
    me = "o-qr"
    if already_following:
        await bot.sender.subscribe(me)
        joined = await bot.sender.scan(me, "c:xinhua")
    else:
        joined = await bot.sender.subscribe(me, "c:xinhua")
    assert "已加入社区：新华社区。" in joined.reply.content
    await bot.settle()  # the tag is set once the reply is out
    xinhua = await _community(bot, "xinhua")
    assert xinhua.tag_id is not None
    assert xinhua.tag_id in platform.user(me).tags
    assert (await _user(bot, me)).community_id == xinhua.id


async def test_choose_community_moves_the_tag(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await add_communities(bot, clock)
    me = "o-move"
    await bot.sender.subscribe(me, "c:xinhua")
    listing = await bot.sender.click(me, "MY_COMMUNITY")
    assert "您当前的社区：新华社区" in listing.reply.content
    assert "2. 红旗村" in listing.reply.content
    assert "没有看懂" in (await bot.sender.text(me, "9")).reply.content
    moved = await bot.sender.text(me, "2")
    assert moved.reply.content == "已加入社区：红旗村。"
    await bot.settle()
    xinhua, hongqi = await _community(bot, "xinhua"), await _community(bot, "hongqi")
    tags = platform.user(me).tags
    assert hongqi.tag_id in tags and xinhua.tag_id not in tags
    assert (await _user(bot, me)).community_id == hongqi.id


def mostly_english(text: str) -> bool:
    """Chinese command words (举报, 取消) may be quoted; the sentences must be English."""
    han = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    return latin > 3 * han


async def test_language_switch_round_trip(bot: Bot) -> None:
    me = "o-lang"
    listing = (await bot.sender.text(me, "语言")).reply.content
    assert "1. 中文" in listing and "2. English" in listing
    switched = (await bot.sender.text(me, "2")).reply.content
    assert mostly_english(switched), switched
    assert (await _user(bot, me)).language == "en"
    # Everything the bot says now comes from the English catalog, not hard-coded Chinese.
    for text in ("help", "举报", "2", "返回", "取消", "村口老槐树能砍吗"):
        reply = (await bot.sender.text(me, text)).reply.content
        assert mostly_english(reply), (text, reply)
    await bot.sender.text(me, "language")
    back = (await bot.sender.text(me, "1")).reply.content
    assert back == "已切换为中文。"
    assert (await _user(bot, me)).language == "zh_CN"


@pytest.mark.parametrize("language", ["zh_CN", "en", "mn"])
@pytest.mark.parametrize(
    "menu_file", [MENU_FILE, OFFICER_MENU_FILE], ids=["residents", "officers"]
)
def test_every_menu_label_fits_in_every_language(language: str, menu_file: Path) -> None:
    """WeChat refuses a menu whose top buttons pass 16 bytes or sub-buttons 60 (UTF-8: a
    Chinese or Mongolian letter is 3), so a translation too long falls back to Chinese."""
    catalog = translations(language)
    for button in load_menu(menu_file)["button"]:
        name = catalog.gettext(button["name"])
        assert len(name.encode()) <= 16, (language, button["name"], name)
        for sub in button.get("sub_button", []):
            label = catalog.gettext(sub["name"])
            assert len(label.encode()) <= 60, (language, sub["name"], label)
