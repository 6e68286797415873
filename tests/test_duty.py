"""The duty roster decides who gets an alert: weekly shifts (overnight ones too) and one-day
overrides, in Beijing time; escalation still reaches the chief and everyone."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from bot.officeradmin import duty_set, duty_show
from bot.typedefs import sessionmaker_key, settings_key
from simulator import FakeClock, FakeWeChat
from storage.clock import CHINA
from storage.models import Officer
from storage.officers import OfficerRepo
from tests.conftest import Bot
from tests.test_alerts import alerts_to, escalate, officer
from tests.test_tips import say

EVERY_DAY = "mon,tue,wed,thu,fri,sat,sun"


async def ids(bot: Bot) -> dict[str, int]:
    async with bot.app[sessionmaker_key]() as session:
        officers: list[Officer] = await OfficerRepo(session).all()
    return {o.name: o.id for o in officers}


async def roster(bot: Bot, **values: object) -> str:
    defaults: dict[str, object] = {"days": None, "date": None, "start": "00:00", "end": "24:00"}
    return await duty_set(
        bot.app[settings_key], argparse.Namespace(**{**defaults, "off": False, **values})
    )


def set_beijing(clock: FakeClock, day: int, hour: int) -> None:
    """Move the clock forward to 2026-09-<day> <hour>:00 Beijing time."""
    target = datetime(2026, 9, day, hour, tzinfo=CHINA).astimezone(UTC).timestamp()
    clock.advance(target - clock())


async def test_alerts_follow_the_roster(bot: Bot, platform: FakeWeChat, clock: FakeClock) -> None:
    await officer(bot, platform, "o-day", "白班", "officer")
    await officer(bot, platform, "o-night", "夜班", "officer")
    await officer(bot, platform, "o-chief", "所长", "chief")
    officers = await ids(bot)
    assert "every week" in await roster(
        bot, id=officers["白班"], days=EVERY_DAY, start="08:00", end="20:00"
    )
    await roster(bot, id=officers["夜班"], days=EVERY_DAY, start="20:00", end="08:00")
    shown = await duty_show(bot.app[settings_key], argparse.Namespace())
    assert "08:00-20:00" in shown and "20:00-08:00" in shown

    set_beijing(clock, 21, 23)  # Monday 23:00: the night shift
    assert "正在通知 1 位值班民警" in await say(bot, "o-r1", "有人拿刀砍人")
    set_beijing(clock, 22, 3)  # Tuesday 03:00: still Monday's night shift
    assert "正在通知 1 位值班民警" in await say(bot, "o-r2", "救命 有人抢劫")
    await bot.settle()
    assert len(alerts_to(platform, "o-night")) == 2 and alerts_to(platform, "o-day") == []

    set_beijing(clock, 22, 9)  # Tuesday 09:00: the day shift
    await say(bot, "o-r3", "楼下着火了")
    await bot.settle()
    assert len(alerts_to(platform, "o-day")) == 1 and len(alerts_to(platform, "o-night")) == 2

    await roster(bot, id=officers["白班"], date="2026-09-23", off=True)  # Wednesday off
    set_beijing(clock, 23, 10)
    answer = await say(bot, "o-r4", "有人在打架")
    assert "目前没有可以通知的值班民警，请务必立即拨打 110" in answer
    # Nobody on duty: the chief hears of it when it is escalated, roster or not.
    clock.advance(timedelta(minutes=5).total_seconds())
    assert await escalate(bot) >= 1
    assert any("【未确认·升级】" in m for m in alerts_to(platform, "o-chief"))


async def test_bad_roster_input_is_refused(bot: Bot, platform: FakeWeChat) -> None:
    await officer(bot, platform, "o-x", "某某", "officer")
    officer_id = (await ids(bot))["某某"]
    assert "HH:MM" in await roster(bot, id=officer_id, days="mon", start="8点", end="20:00")
    assert "--days takes" in await roster(bot, id=officer_id, days="monday")
    assert "no officer" in await roster(bot, id=999, days="mon")
