"""Unsealing an anonymous reporter needs an officer's request and the chief's approval, and
shows the result to the requester once."""

from __future__ import annotations

import argparse
import re

from bot.officeradmin import audit_show
from bot.typedefs import settings_key
from simulator import FakeWeChat
from tests.conftest import Bot
from tests.test_alerts import officer
from tests.test_tips import _file_tip, say

NO_RIGHT = "您没有权限进行此操作。"


async def test_request_approval_and_one_look(bot: Bot, platform: FakeWeChat) -> None:
    reporter = "o-whistleblower"
    tip = await _file_tip(bot, reporter, anonymous=True)
    await officer(bot, platform, "o-chief", "张伟", "chief")
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    await officer(bot, platform, "o-aux", "李娜", "auxiliary")

    ask = f"申请查看举报人 {tip.code} 检察院调取证据需要"
    assert await say(bot, "o-aux", ask) == NO_RIGHT  # an auxiliary cannot ask
    assert await say(bot, reporter, ask) == NO_RIGHT  # nor can a resident
    asked = await say(bot, "o-cop", ask)
    number = re.search(r"R(\d+)", asked)
    assert number is not None and "等待所长审批" in asked
    request = f"R{number[1]}"
    await bot.settle()
    assert any(request in str(m["content"]) for m in platform.inbox("o-chief"))

    assert "没有可查看的申请" in await say(bot, "o-cop", f"查看举报人 {request}")  # not yet
    assert await say(bot, "o-cop", f"批准 {request}") == NO_RIGHT  # only the chief decides
    assert await say(bot, "o-chief", f"批准 {request}") == f"已批准申请 {request}。"
    await bot.settle()
    assert any("已批准" in str(m["content"]) for m in platform.inbox("o-cop"))

    assert "没有可查看的申请" in await say(bot, "o-chief", f"查看举报人 {request}")  # not theirs
    shown = await say(bot, "o-cop", f"查看举报人 {request}")
    assert reporter in shown  # the one look
    assert "没有可查看的申请" in await say(bot, "o-cop", f"查看举报人 {request}")
    assert reporter not in await say(bot, "o-cop", f"查看 {tip.code}")  # no other path

    log = await audit_show(bot.app[settings_key], argparse.Namespace(limit=100))
    for action in ("reveal_request", "reveal_approved", "reveal_shown"):
        assert action in log
    assert reporter not in log


async def test_a_refused_request_shows_nothing(bot: Bot, platform: FakeWeChat) -> None:
    tip = await _file_tip(bot, "o-quiet", anonymous=True)
    await officer(bot, platform, "o-chief", "张伟", "chief")
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    asked = await say(bot, "o-cop", f"申请查看举报人 {tip.code} 想知道")
    number = re.search(r"R(\d+)", asked)
    assert number is not None
    assert await say(bot, "o-chief", f"拒绝 R{number[1]}") == f"已拒绝申请 R{number[1]}。"
    assert "没有可查看的申请" in await say(bot, "o-cop", f"查看举报人 R{number[1]}")
