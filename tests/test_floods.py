"""Floods: one user's burst of messages is stored in full but makes one tip, one alert and one
hand-off, and the sender is answered politely."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select

from bot.config import Settings
from bot.typedefs import keys_key, sessionmaker_key
from simulator.replies import SentCall
from storage.models import Delivery, Handoff, OfficerAlert, Tip, TipEvent
from tests.conftest import Bot

StartBot = Callable[..., Awaitable[Bot]]
LIMIT = Settings.model_fields["user_rate_limit"].default
FLOOD = 120


async def _count(bot: Bot, model: type, *where: object) -> int:
    async with bot.app[sessionmaker_key]() as session:
        stmt = select(func.count()).select_from(model)
        for condition in where:
            stmt = stmt.where(condition)  # type: ignore[arg-type]
        return int(await session.scalar(stmt) or 0)


async def test_an_emergency_flood_makes_one_tip_and_one_alert(start_bot: StartBot) -> None:
    bot = await start_bot(user_rate_limit=LIMIT)  # the production default, not the tests'
    me = "o-flood"
    answers: list[SentCall] = []
    for start in range(0, FLOOD, 20):  # twenty at a time, as fast as the bot takes them
        answers += await asyncio.gather(
            *(bot.sender.text(me, f"救命 有人持刀砍人 {n}") for n in range(start, start + 20))
        )
    replies = [a.reply.content for a in answers if a.reply is not None]
    assert len(replies) == FLOOD  # everyone is answered…
    assert sum("太快" in r for r in replies) == FLOOD - LIMIT  # …politely past the limit
    assert sum("立即拨打 110" in r for r in replies) == LIMIT

    assert await _count(bot, Tip) == 1
    assert await _count(bot, OfficerAlert) == 1
    assert await _count(bot, TipEvent, TipEvent.action == "supplement") == LIMIT - 1
    # Every message is stored: handled ones in the tip, the rest sealed in the ledger.
    assert await _count(bot, Delivery) == FLOOD
    async with bot.app[sessionmaker_key]() as session:
        limited = (
            (await session.execute(select(Delivery.payload).where(Delivery.status == "limited")))
            .scalars()
            .all()
        )
    assert len(limited) == FLOOD - LIMIT
    keys = bot.app[keys_key]
    assert all("持刀" not in p and "持刀" in (keys.unseal(p) or "") for p in limited)


async def test_hand_offs_fold_while_unanswered(bot: Bot) -> None:
    me = "o-handoff"
    for n in range(10):
        await bot.sender.text(me, "人工")
        await bot.sender.text(me, f"请问户口迁移要多久 {n}")
    async with bot.app[sessionmaker_key]() as session:
        rows = (await session.execute(select(Handoff))).scalars().all()
    assert len(rows) == 1
    assert rows[0].repeats == 9
    assert "户口迁移要多久 0" in rows[0].question and "户口迁移要多久 9" in rows[0].question
