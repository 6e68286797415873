"""Duty alerts on every channel: the officer's customer-service window, a template message
when it is closed, and the duty group's WeCom robot. The resident hears only what is true.

Driven through the webhook as WeChat would; the fake platform records what each officer and
the robot received. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest

from bot.push import ROBOT, open_payload
from bot.typedefs import pusher_key
from simulator import FakeClock, FakeWeChat
from storage.clock import CHINA
from tests.conftest import Bot
from tests.test_alerts import alerts_to, escalate, officer
from tests.test_officers import add
from tests.test_push_retry import KEYS, pushes
from tests.test_tips import say, tips

StartBot = Callable[..., Awaitable[Bot]]
ROBOT_PATH = "/cgi-bin/webhook/send"
# Looks like a real key (a UUID), so that finding it anywhere means it leaked.
ROBOT_KEY = "5f3c2a9e-7b1d-4e60-9a8f-0c2d4b6e8a13"
TEMPLATE = (
    "{{first.DATA}}\n类型：{{keyword1.DATA}}\n编号：{{keyword2.DATA}}\n"
    "摘要：{{keyword3.DATA}}\n时间：{{keyword4.DATA}}\n{{remark.DATA}}"
)


def group_texts(platform: FakeWeChat, key: str = ROBOT_KEY) -> list[str]:
    return [str(m["text"]["content"]) for m in platform.robot_messages(key)]


async def robot_bot(start_bot: StartBot, platform: FakeWeChat, **overrides: object) -> Bot:
    platform.add_robot(ROBOT_KEY)
    return await start_bot(duty_robot_key=ROBOT_KEY, **overrides)


def assert_key_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    # aiohttp.access lines come from the fake platform's own test server, which logs each
    # request line it receives (the real WeCom is not ours to configure); the bot's own
    # server runs without an access log, as `pingan serve` does.
    ours = [r for r in caplog.records if r.name != "aiohttp.access"]
    assert ours, "nothing was logged: the check would prove nothing"
    for record in ours:
        assert ROBOT_KEY not in record.getMessage(), record.name


async def test_the_duty_group_hears_of_an_alert_and_of_each_escalation(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="pingan")
    bot = await robot_bot(start_bot, platform)
    await officer(bot, platform, "o-chief", "张伟", "chief")
    await officer(bot, platform, "o-officer", "李娜", "officer")

    answer = await say(bot, "o-fire", "三楼着火了，有烟")
    assert answer.endswith("正在通知 2 位值班民警和值班群。")
    await bot.settle()
    [tip] = await tips(bot)
    [posted] = group_texts(platform)
    assert f"【值班提醒】紧急 {tip.code}" in posted and "三楼着火了" in posted
    assert f"在公众号回复「收到 {tip.code}」确认。" in posted
    assert "o-fire" not in posted
    assert len(alerts_to(platform, "o-officer")) == 1  # the officers as before

    clock.advance(timedelta(minutes=5).total_seconds())
    assert await escalate(bot) == 1  # to the chief, and the group again
    clock.advance(timedelta(minutes=5).total_seconds())
    assert await escalate(bot) == 1  # to everyone, and the group again
    texts = group_texts(platform)
    assert len(texts) == 3
    assert all(f"【未确认·升级】紧急 {tip.code}" in t for t in texts[1:])

    rows = [r for r in await pushes(bot) if r.kind == ROBOT]
    assert [(r.status, r.openid, r.payload) for r in rows] == [("sent", None, {})] * 3
    assert_key_not_logged(caplog)


async def test_a_hand_off_reaches_the_group_too(start_bot: StartBot, platform: FakeWeChat) -> None:
    bot = await robot_bot(start_bot, platform)
    await officer(bot, platform, "o-duty", "周敏", "officer")
    await say(bot, "o-asks", "人工")
    await say(bot, "o-asks", "孩子上户口需要带什么")
    await bot.settle()
    [posted] = group_texts(platform)
    assert "居民求助 H" in posted and "孩子上户口" in posted


async def test_an_invalid_robot_key_is_dead_at_once_and_the_officers_still_hear(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # A key WeCom does not know (the robot was removed from the group): 93000.
    bot = await start_bot(duty_robot_key=ROBOT_KEY)
    await officer(bot, platform, "o-duty", "刘洋", "officer")

    answer = await say(bot, "o-fire", "三楼着火了")
    assert answer.endswith("正在通知 1 位值班民警和值班群。")  # true when it was said
    await bot.settle()
    assert len(alerts_to(platform, "o-duty")) == 1  # the officer is reached regardless
    [row] = [r for r in await pushes(bot) if r.kind == ROBOT]
    assert (row.status, row.errcode, row.attempts, row.payload) == ("dead", 93000, 1, {})
    assert len(platform.calls_to(ROBOT_PATH)) == 1
    clock.advance(3600)
    assert await bot.app[pusher_key].retry_due() == []  # never tried again
    dead = [r for r in caplog.records if "dead after" in r.getMessage()]
    assert len(dead) == 1
    assert f"id={row.id} kind=robot" in dead[0].getMessage()
    assert "errcode=93000" in dead[0].getMessage()
    assert_key_not_logged(caplog)


async def test_a_rate_limited_robot_post_is_retried_later(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await robot_bot(start_bot, platform)
    await officer(bot, platform, "o-duty", "刘洋", "officer")
    platform.fail_next(ROBOT_PATH, 45009)  # more than 20 posts this minute

    await say(bot, "o-fire", "三楼着火了")
    await bot.settle()
    assert group_texts(platform) == []
    [row] = [r for r in await pushes(bot) if r.kind == ROBOT]
    assert (row.status, row.errcode, row.attempts, row.openid) == ("failed", 45009, 1, None)
    kept = open_payload(KEYS, row.payload)
    assert "三楼着火了" in kept["content"]  # kept (sealed) for the retry…
    assert ROBOT_KEY not in str(kept) and ROBOT_KEY not in str(row.payload)  # …without the key
    assert "三楼着火了" not in str(row.payload)

    pusher = bot.app[pusher_key]
    assert await pusher.retry_due() == []  # not before its delay
    clock.advance(pusher.backoff(1).total_seconds())
    assert await pusher.retry_due() == ["sent"]
    [posted] = group_texts(platform)
    assert "三楼着火了" in posted
    assert_key_not_logged(caplog)


async def test_an_unreachable_robot_is_retried_and_the_key_stays_out_of_the_logs(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as probe:  # a local port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = await start_bot(duty_robot_key=ROBOT_KEY, wecom_api_base=f"http://127.0.0.1:{port}")
    await officer(bot, platform, "o-duty", "刘洋", "officer")
    await say(bot, "o-fire", "三楼着火了")
    await bot.settle()
    [row] = [r for r in await pushes(bot) if r.kind == ROBOT]
    assert (row.status, row.errcode, row.attempts) == ("failed", -2, 1)
    clock.advance(bot.app[pusher_key].backoff(1).total_seconds())
    assert await bot.app[pusher_key].retry_due() == ["failed"]  # still down: later again
    assert_key_not_logged(caplog)


async def test_a_closed_window_gets_the_template_and_the_full_text_later(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock
) -> None:
    template_id = platform.add_template("值班警情提醒", TEMPLATE)
    bot = await start_bot(alert_template_id=template_id)
    await officer(bot, platform, "o-duty", "刘洋", "officer")
    clock.advance(49 * 3600)  # the officer has not written for two days: window closed

    answer = await say(bot, "o-fire", "三楼着火了，电话13812345678")
    assert answer.endswith("正在通知 1 位值班民警。")
    await bot.settle()
    [tip] = await tips(bot)
    [template] = platform.inbox("o-duty")  # the customer-service message was refused
    assert template["channel"] == "template"
    shown = str(template["content"])
    at = datetime.fromtimestamp(clock(), CHINA).strftime("%Y-%m-%d %H:%M")
    assert f"类型：紧急\n编号：{tip.code}" in shown and f"时间：{at}" in shown
    assert "138****5678" in shown and "13812345678" not in shown  # masked
    assert f"回复「收到 {tip.code}」确认。" in shown

    later = await say(bot, "o-duty", "在吗")  # writing again shows what was held
    assert "【您有未读通知】" in later and f"【值班提醒】紧急 {tip.code}" in later


async def test_without_a_template_a_closed_window_is_only_held(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await officer(bot, platform, "o-duty", "刘洋", "officer")
    clock.advance(49 * 3600)
    await say(bot, "o-fire", "三楼着火了")
    await bot.settle()
    assert [m for m in platform.inbox("o-duty") if m["channel"] == "template"] == []
    assert [r.status for r in await pushes(bot)][-1] == "held"


async def test_with_only_the_group_the_resident_is_still_told_to_call_110(
    start_bot: StartBot, platform: FakeWeChat
) -> None:
    bot = await robot_bot(start_bot, platform)
    answer = await say(bot, "o-alone", "有人拿刀在楼下砍人")
    assert answer.endswith("目前没有可以通知的值班民警，正在通知值班群；请务必立即拨打 110。")
    await bot.settle()
    assert len(group_texts(platform)) == 1


async def test_with_no_channel_at_all_the_resident_is_told_to_call_110(bot: Bot) -> None:
    await add(bot, "未绑定", "officer")  # an officer who never bound: no openid to reach
    answer = await say(bot, "o-alone", "有人拿刀在楼下砍人")
    assert answer.endswith("目前没有可以通知的值班民警，请务必立即拨打 110。")
    assert "正在通知" not in answer
    await bot.settle()
    assert await pushes(bot) == []  # nothing recorded for anyone
