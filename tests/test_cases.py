"""An officer works an anonymous tip from the chat; the reporter follows it and never meets
the officer, and the officer never learns who the reporter is."""

from __future__ import annotations

import argparse

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot.officeradmin import audit_show
from bot.typedefs import engine_key, sessionmaker_key, settings_key
from simulator import FakeWeChat
from storage.models import Tip, TipEvent
from tests.conftest import Bot
from tests.test_alerts import officer
from tests.test_i18n import MONGOLIAN
from tests.test_tips import _file_tip, say


def pushes(platform: FakeWeChat, openid: str) -> list[str]:
    return [str(m["content"]) for m in platform.inbox(openid)]


async def test_the_whole_loop_from_report_to_rating(bot: Bot, platform: FakeWeChat) -> None:
    reporter = "o-anon-reporter"
    platform.follow(reporter)
    tip = await _file_tip(bot, reporter, anonymous=True)
    await officer(bot, platform, "o-cop", "刘洋", "officer")

    opened = await say(bot, "o-cop", f"查看 {tip.code}")
    assert f"编号：{tip.code}" in opened and "举报人：匿名" in opened
    assert reporter not in opened

    assert "举报人会收到通知" in await say(bot, "o-cop", f"受理 {tip.code}")
    relayed = await say(bot, "o-cop", f"回复 {tip.code} 请问杂物是哪天开始堆放的？")
    assert "双方都看不到对方的身份" in relayed
    assert "举报人会收到通知" in await say(bot, "o-cop", f"办结 {tip.code} 已通知物业清理")
    assert "不能这样处理" in await say(bot, "o-cop", f"驳回 {tip.code} 重复")  # already closed
    await bot.settle()

    received = pushes(platform, reporter)
    assert any("状态更新：已受理" in m for m in received)
    assert any("请问杂物是哪天开始堆放的" in m and "刘洋" not in m for m in received)
    assert any("已办结" in m and "已通知物业清理" in m for m in received)
    assert await say(bot, reporter, "1") == "感谢您的评价（满意），我们会继续改进。"
    async with bot.app[sessionmaker_key]() as session:
        events = (
            (await session.execute(select(TipEvent).where(TipEvent.tip_id == tip.id)))
            .scalars()
            .all()
        )
        kept = await session.get(Tip, tip.id)
    assert {e.action for e in events} >= {"status", "reply", "rating"}
    assert all(e.actor.startswith("officer:") for e in events if e.action == "reply")
    assert kept is not None and kept.status == "resolved" and kept.satisfaction == "满意"


async def test_every_officer_step_is_in_the_append_only_audit_log(
    bot: Bot, platform: FakeWeChat
) -> None:
    tip = await _file_tip(bot, "o-reporter-b", anonymous=True)
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    for command in (
        "新线索",
        f"查看 {tip.code}",
        f"受理 {tip.code}",
        f"回复 {tip.code} 收到",
        f"办结 {tip.code} 已处理",
    ):
        await say(bot, "o-cop", command)
    printed = await audit_show(bot.app[settings_key], argparse.Namespace(limit=50))
    actions = [line.split("\t")[2] for line in printed.splitlines()]
    assert actions == ["add", "bind", "list", "view", "accepted", "reply", "resolved"]
    assert tip.code in printed
    engine = bot.app[engine_key]
    for statement in ("UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))


async def test_the_reporter_hears_in_their_own_language(bot: Bot, platform: FakeWeChat) -> None:
    reporter = "o-herder"
    platform.follow(reporter)
    tip = await _file_tip(bot, reporter, anonymous=True)
    await say(bot, reporter, "语言")
    await say(bot, reporter, "3")  # ᠮᠣᠩᠭᠣᠯ
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    assert "举报人会收到通知" in await say(bot, "o-cop", f"受理 {tip.code}")  # officer: Chinese
    await say(bot, "o-cop", f"回复 {tip.code} 请问是哪栋楼？")
    await bot.settle()
    accepted, relayed = pushes(platform, reporter)[-2:]
    assert MONGOLIAN.search(accepted) and tip.code in accepted and "状态更新" not in accepted
    assert MONGOLIAN.search(relayed) and "请问是哪栋楼？" in relayed and "民警回复" not in relayed
