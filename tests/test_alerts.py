"""Duty alerts: an emergency, a red tip or a hand-off reaches the officers at once, the
resident is told exactly what happened, and an unacknowledged alert is escalated."""

from __future__ import annotations

from datetime import timedelta

from bot.typedefs import clock_key, keys_key, pusher_key, sessionmaker_key, settings_key
from handlers.officers.alerts import escalate_due
from simulator import FakeClock, FakeWeChat
from tests.conftest import Bot
from tests.test_officers import REFUSED, add
from tests.test_tips import say, tips


async def officer(bot: Bot, platform: FakeWeChat, openid: str, name: str, rank: str) -> None:
    platform.follow(openid)
    code = await add(bot, name, rank)
    await say(bot, openid, f"绑定 {code}")  # writing to the account opens their window


def alerts_to(platform: FakeWeChat, openid: str) -> list[str]:
    return [str(m["content"]) for m in platform.inbox(openid) if "」确认" in str(m["content"])]


async def escalate(bot: Bot) -> int:
    return await escalate_due(
        sessionmaker=bot.app[sessionmaker_key],
        pusher=bot.app[pusher_key],
        keys=bot.app[keys_key],
        settings=bot.app[settings_key],
        clock=bot.app[clock_key],
    )


async def test_an_emergency_reaches_the_officer_on_duty_at_once(
    bot: Bot, platform: FakeWeChat
) -> None:
    await officer(bot, platform, "o-duty", "刘洋", "officer")
    answer = await say(bot, "o-fire", "三楼着火了，有烟")
    assert answer.endswith("正在通知 1 位值班民警。")
    await bot.settle()
    [tip] = await tips(bot)
    [alert] = alerts_to(platform, "o-duty")
    assert f"【值班提醒】紧急 {tip.code}" in alert and f"收到 {tip.code}" in alert
    assert "o-fire" not in alert  # the officer learns what, not who


async def test_with_nobody_to_notify_the_resident_is_told_to_call_110(bot: Bot) -> None:
    answer = await say(bot, "o-alone", "有人拿刀在楼下砍人")
    assert answer.endswith("目前没有可以通知的值班民警，请务必立即拨打 110。")
    assert "正在通知" not in answer


async def test_unacknowledged_alerts_go_to_the_chief_then_everyone(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await officer(bot, platform, "o-chief", "张伟", "chief")
    await officer(bot, platform, "o-officer", "李娜", "officer")
    await say(bot, "o-victim", "救命 有人持刀抢劫")
    await bot.settle()
    assert len(alerts_to(platform, "o-officer")) == 1
    assert await escalate(bot) == 0  # not yet: five minutes to acknowledge
    clock.advance(timedelta(minutes=5).total_seconds())
    assert await escalate(bot) == 1
    assert "【未确认·升级】" in alerts_to(platform, "o-chief")[-1]
    assert len(alerts_to(platform, "o-officer")) == 1  # stage 1: the chief only
    clock.advance(timedelta(minutes=5).total_seconds())
    assert await escalate(bot) == 1
    assert "【未确认·升级】" in alerts_to(platform, "o-officer")[-1]  # stage 2: everyone
    clock.advance(timedelta(minutes=5).total_seconds())
    await escalate(bot)
    assert len(alerts_to(platform, "o-officer")) == 2  # and no more after that


async def test_acknowledging_stops_the_escalation(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await officer(bot, platform, "o-chief", "张伟", "chief")
    await officer(bot, platform, "o-officer", "李娜", "officer")
    await say(bot, "o-victim", "有人在打架 快来人")
    [tip] = await tips(bot)
    assert await say(bot, "o-victim", f"收到 {tip.code}") == REFUSED  # residents cannot
    assert await say(bot, "o-officer", f"收到 {tip.code}") == (
        f"已确认 {tip.code}，提醒不再升级。"
    )
    assert "没有待确认的提醒" in await say(bot, "o-officer", f"收到 {tip.code}")
    clock.advance(timedelta(minutes=30).total_seconds())
    assert await escalate(bot) == 0
    await bot.settle()
    assert len(alerts_to(platform, "o-chief")) == 1


async def test_a_hand_off_alerts_the_officers(bot: Bot, platform: FakeWeChat) -> None:
    await officer(bot, platform, "o-duty", "周敏", "officer")
    await say(bot, "o-asks", "人工")
    await say(bot, "o-asks", "孩子上户口需要带什么")
    await bot.settle()
    [alert] = alerts_to(platform, "o-duty")
    assert "居民求助 H" in alert and "孩子上户口" in alert
