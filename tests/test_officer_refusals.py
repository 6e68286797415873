"""Every officer command, typed by a resident and by a patrol volunteer: a polite refusal, a
log line, nothing shown and nothing changed."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from bot.typedefs import sessionmaker_key
from simulator import FakeClock, FakeWeChat
from storage.models import (
    AuditEntry,
    Handoff,
    OfficerAlert,
    OutboundMessage,
    RevealRequest,
    Tip,
    TipEvent,
    UnansweredQuestion,
)
from tests.conftest import Bot
from tests.test_officers import REFUSED, patrol
from tests.test_tips import _file_tip, say

#: The reveal commands also refuse auxiliaries and non-chiefs, hence their wider words.
REFUSALS = {REFUSED, "您没有权限进行此操作。"}


def commands(code: str, other: str, handoff: int) -> list[str]:
    return [
        "民警帮助",
        "新线索",
        "红色线索",
        "我的线索 2",
        "新线索 2",
        "社区线索 新华",
        f"查看 {code}",
        f"受理 {code}",
        f"办结 {code} 结案",
        f"驳回 {code} 不管",
        f"回复 {code} 你好",
        f"备注 {code} 看一下",
        f"分派 {code} 刘洋",
        f"定级 {code} 红",
        f"重复 {code} {other}",
        "待答复",
        f"答复 H{handoff} 我来答",
        f"入库 H{handoff}",
        f"收到 {code}",
        f"申请查看举报人 {code} 核实身份",
        "批准 R1",
        "拒绝 R1",
        "查看举报人 R1",
        "本周统计",
    ]


async def _snapshot(bot: Bot) -> dict[str, object]:
    async with bot.app[sessionmaker_key]() as session:
        tips = (
            await session.execute(
                select(Tip.code, Tip.status, Tip.level, Tip.assigned_to, Tip.duplicate_of)
            )
        ).all()
        counts = {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in (
                TipEvent,
                AuditEntry,
                RevealRequest,
                UnansweredQuestion,
                OutboundMessage,
            )
        }
        answered = await session.scalar(
            select(func.count()).where(Handoff.answered_at.is_not(None))
        )
        acked = await session.scalar(
            select(func.count()).where(OfficerAlert.acked_at.is_not(None))
        )
    return {"tips": sorted(tips), **counts, "answered": answered, "acked": acked}


async def test_outsiders_are_refused_every_officer_command(
    bot: Bot, platform: FakeWeChat, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    tip = await _file_tip(bot, "o-reporter-a", anonymous=True)
    other = await _file_tip(bot, "o-reporter-b")
    await say(bot, "o-asker", "人工")
    await say(bot, "o-asker", "户口怎么迁")
    async with bot.app[sessionmaker_key]() as session:
        handoff = await session.scalar(select(Handoff.id))
    assert handoff is not None
    await patrol(bot, clock, "o-patrol")
    before = await _snapshot(bot)

    caplog.set_level(logging.WARNING, logger="pingan.officers")
    tried = commands(tip.code, other.code, handoff)
    for outsider in ("o-resident", "o-patrol"):
        for command in tried:
            answer = await say(bot, outsider, command)
            assert answer in REFUSALS, (outsider, command, answer)
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 2 * len(tried)
    assert await _snapshot(bot) == before
    # 我的线索 is also a resident's word for their own tips.
    assert tip.code in await say(bot, "o-reporter-a", "我的线索")
