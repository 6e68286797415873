"""The WeChat API gateway against the fake platform over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.errors import OutsideWindow, QuotaExceeded, SystemBusy, WeChatAPIError
from bot.keys import Keys
from bot.typedefs import api_key, pusher_key, sessionmaker_key
from simulator import FakeClock, FakeWeChat
from storage.models import AccessToken, OutboundMessage
from tests.conftest import APPID, TEST_SEAL_KEY, Bot

KEYS = Keys.from_setting(TEST_SEAL_KEY)
StartBot = Callable[..., Awaitable[Bot]]


async def test_one_token_fetch_for_twenty_calls_from_two_instances(
    start_bot: StartBot, platform: FakeWeChat
) -> None:
    first, second = await start_bot(), await start_bot()
    platform.follow("o-t")
    calls = [b.app[api_key].user_info("o-t") for b in (first, second) for _ in range(10)]
    infos = await asyncio.gather(*calls)
    assert {info["openid"] for info in infos} == {"o-t"}
    assert platform.token_fetches == 1
    async with first.app[sessionmaker_key]() as session:
        row = await session.get(AccessToken, APPID)
    assert row is not None and row.token


async def test_expired_token_is_refreshed_once(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock
) -> None:
    first, second = await start_bot(), await start_bot()
    platform.follow("o-t")
    await first.app[api_key].user_info("o-t")
    clock.advance(7200 - 200)  # inside the refresh margin: refreshed before use
    await asyncio.gather(*(b.app[api_key].user_info("o-t") for b in (first, second, first)))
    assert platform.token_fetches == 2


async def test_rejected_token_is_refreshed_and_call_retried(
    start_bot: StartBot, platform: FakeWeChat
) -> None:
    bot = await start_bot()
    platform.follow("o-t")
    api = bot.app[api_key]
    await api.user_info("o-t")
    platform.expire_all_tokens()  # WeChat answers 42001 to the cached token
    assert (await api.user_info("o-t"))["openid"] == "o-t"
    assert platform.token_fetches == 2


async def test_transient_errors_back_off_and_succeed(
    start_bot: StartBot, platform: FakeWeChat
) -> None:
    bot = await start_bot(api_retries=3)
    platform.follow("o-t")
    platform.fail_next("/cgi-bin/user/info", errcode=-1, times=2)
    assert (await bot.app[api_key].user_info("o-t"))["openid"] == "o-t"
    platform.fail_next("/cgi-bin/user/info", errcode=-1, times=4)
    with pytest.raises(SystemBusy):
        await bot.app[api_key].user_info("o-t")


async def test_quota_is_not_retried(start_bot: StartBot, platform: FakeWeChat) -> None:
    bot = await start_bot(api_retries=3)
    platform.follow("o-t")
    platform.fail_next("/cgi-bin/user/info", errcode=45009, times=1)
    with pytest.raises(QuotaExceeded):
        await bot.app[api_key].user_info("o-t")
    assert (await bot.app[api_key].user_info("o-t"))["openid"] == "o-t"


async def test_unknown_user_is_a_typed_error(bot: Bot) -> None:
    with pytest.raises(WeChatAPIError) as err:
        await bot.app[api_key].user_info("nobody")
    assert err.value.errcode == 40003


async def test_customer_service_window(bot: Bot, platform: FakeWeChat, clock: FakeClock) -> None:
    await bot.sender.text("o-w", "你好")
    api = bot.app[api_key]
    await api.send_text("o-w", "第一条")
    clock.advance(48 * 3600 + 1)
    with pytest.raises(OutsideWindow):
        await api.send_text("o-w", "太晚了")
    assert [m["content"] for m in platform.inbox("o-w")] == ["第一条"]


async def test_push_outside_window_is_held_then_shown(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await bot.sender.text("o-h", "你好")
    clock.advance(49 * 3600)
    status = await bot.app[pusher_key].send_text("o-h", "您的线索已受理")
    assert status == "held"
    answer = await bot.sender.text("o-h", "在吗")
    assert "【您有未读通知】\n您的线索已受理" in answer.reply.content
    again = await bot.sender.text("o-h", "在吗")
    assert "未读通知" not in again.reply.content
    async with bot.app[sessionmaker_key]() as session:
        row = await session.get(OutboundMessage, 1)
    assert row is not None and row.status == "shown" and row.errcode == 45015


async def test_media_tags_menu_and_qrcode(bot: Bot, platform: FakeWeChat) -> None:
    api = bot.app[api_key]
    media_id = platform.add_media(b"\xff\xd8\xff\xe0fakejpeg", "image/jpeg")
    media = await api.download_media(media_id)
    assert media.data == b"\xff\xd8\xff\xe0fakejpeg" and media.content_type == "image/jpeg"
    with pytest.raises(WeChatAPIError) as err:
        await api.download_media("missing")
    assert err.value.errcode == 40007

    openids = [f"o-tag-{i}" for i in range(120)]
    for openid in openids:
        platform.follow(openid)
    tag_id = await api.create_tag("新华社区")
    await api.tag_users(tag_id, openids)  # 3 calls of at most 50
    assert tag_id in await api.user_tags("o-tag-119")
    assert {t["name"] for t in await api.get_tags()} >= {"新华社区"}

    menu = {"button": [{"type": "click", "name": "我要举报", "key": "TIP_REPORT"}]}
    await api.create_menu(menu)
    assert "我要举报" in str(await api.get_menu())

    qr = await api.create_qrcode("c:xinhua", expire_seconds=3600)
    assert qr.ticket and qr.expire_seconds == 3600
    permanent = await api.create_qrcode("e:ABCD")
    assert permanent.expire_seconds is None
    with pytest.raises(ValueError, match="64"):
        await api.create_qrcode("x" * 65)


async def test_pushes_that_never_went_out_are_sent_later(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock
) -> None:
    from bot.push import Outbox
    from storage.clock import utc

    bot = await start_bot(api_retries=1)
    await bot.sender.text("o-stale", "你好")
    pusher = bot.app[pusher_key]
    # A process recorded a push, committed, and died before sending it.
    async with bot.app[sessionmaker_key].begin() as session:
        await Outbox(session, utc(clock), KEYS).text("o-stale", "第一条")
    # Another push failed on the way: WeChat busy on every try.
    platform.fail_next("/cgi-bin/message/custom/send", errcode=-1, times=2)
    assert await pusher.send_text("o-stale", "第二条") == "failed"
    assert await pusher.resend_stale() == []  # too fresh: may still be in flight
    clock.advance(120)
    assert await pusher.resend_stale() == ["sent", "sent"]
    assert await pusher.resend_stale() == []
    assert [m["content"] for m in platform.inbox("o-stale")] == ["第一条", "第二条"]
