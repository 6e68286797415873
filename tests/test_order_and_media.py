"""A user's messages are handled in arrival order, media downloads included; media is
fetched only when the dialog step wants it, and a replaced voice clip is not kept."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select

from bot.typedefs import sessionmaker_key
from simulator import FakeWeChat
from storage.models import TipMedia
from tests.conftest import Bot, until
from tests.test_tips import jpeg_with_gps, say

MEDIA = "/cgi-bin/media/get"


async def _media_rows(bot: Bot) -> int:
    async with bot.app[sessionmaker_key]() as session:
        return int(await session.scalar(select(func.count()).select_from(TipMedia)) or 0)


async def _to_photo_step(bot: Bot, me: str) -> None:
    for answer in ("举报", "2", "电动车被偷了", "跳过"):
        await say(bot, me, answer)


async def test_photo_then_done_while_the_download_is_slow(bot: Bot, platform: FakeWeChat) -> None:
    me = "o-order"
    await _to_photo_step(bot, me)
    platform.faults.delay_next(MEDIA, 0.5)  # WeChat's media server is slow today
    photo = asyncio.create_task(bot.sender.image(me, jpeg_with_gps()))
    await until(lambda: bool(platform.calls_to(MEDIA)))  # its download is under way…
    done = await bot.sender.text(me, "完成")  # …when 完成 arrives
    first = await photo
    assert first.reply is not None and "第 1 张" in first.reply.content
    assert done.reply is not None and "是否匿名" in done.reply.content
    summary = await say(bot, me, "1")
    assert "照片：1 张" in summary


async def test_media_outside_a_step_that_wants_it_is_not_fetched(
    bot: Bot, platform: FakeWeChat
) -> None:
    me = "o-stray"
    await bot.sender.image(me, jpeg_with_gps())  # no dialog at all
    await bot.sender.voice(me, b"#!AMR\n\x00\x01", recognition="你好")
    await say(bot, me, "举报")
    await say(bot, me, "2")
    await bot.sender.image(me, jpeg_with_gps())  # the description step wants voice, not photos
    assert platform.calls_to(MEDIA) == []
    assert await _media_rows(bot) == 0


async def test_a_new_voice_clip_replaces_the_last(bot: Bot, platform: FakeWeChat) -> None:
    me = "o-voices"
    await say(bot, me, "举报")
    await say(bot, me, "3")
    await bot.sender.voice(me, b"#!AMR\n\x00\x01", recognition="邻居吵架")
    await say(bot, me, "返回")  # back to the description: say it again
    await bot.sender.voice(me, b"#!AMR\n\x00\x02", recognition="邻居在楼道里吵架")
    assert len(platform.calls_to(MEDIA)) == 2
    async with bot.app[sessionmaker_key]() as session:
        kept = (await session.execute(select(TipMedia.data))).scalars().all()
    assert kept == [b"#!AMR\n\x00\x02"]


async def test_order_holds_across_two_processes(
    start_bot: Callable[..., Awaitable[Bot]], platform: FakeWeChat, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("one process serves a SQLite store")
    first, second = await start_bot(), await start_bot()
    me = "o-two-processes"
    await _to_photo_step(first, me)
    platform.faults.delay_next(MEDIA, 0.5)
    photo = asyncio.create_task(first.sender.image(me, jpeg_with_gps()))
    await until(lambda: bool(platform.calls_to(MEDIA)))
    done = await second.sender.text(me, "完成")  # the other process waits its turn
    await photo
    assert done.reply is not None and "是否匿名" in done.reply.content
    assert "照片：1 张" in await say(first, me, "1")
