"""Deliveries a dead process left half-done are finished at once, exactly once.

A process that dies mid-message leaves its claim "processing". WeChat's retry of it, or the
sweep every live process runs, takes it over as soon as the owner is gone, however young the
row and however many there are; a live owner's row is never taken.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import ClientSession
from sqlalchemy import select, text

from bot.liveness import liveness_for
from bot.message import Message
from bot.protocol import dedup_source
from bot.typedefs import keys_key, metrics_key, pipeline_key, sessionmaker_key, sweeper_key
from simulator import FakeClock, FakeWeChat
from storage.db import create_engine
from storage.deliveries import Claim, DeliveryRepo
from storage.models import Delivery, UnansweredQuestion
from tests.conftest import Bot

StartBot = Callable[..., Awaitable[Bot]]
GONE = "1999999999"  # no process holds this owner's lock


def _payload(openid: str, msg_id: int, content: str) -> str:
    return (
        "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>1790000000</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


async def _orphan(
    bot: Bot, clock: FakeClock, openid: str, msg_id: int, content: str, *, owner: str = GONE
) -> str:
    """A claim as a killed process leaves it: "processing", its owner gone."""
    keys = bot.app[keys_key]
    message = Message(
        openid=openid,
        account="gh_0123456789ab",
        create_time=1790000000,
        msg_type="text",
        msg_id=str(msg_id),
        content=content,
    )
    key = keys.mac("dedup", dedup_source(message))
    async with bot.app[sessionmaker_key].begin() as session:
        claim = Claim(
            dedup_key=key,
            user_key=keys.mac("user", openid),
            msg_type="text",
            event=None,
            payload=_payload(openid, msg_id, content),
        )
        now = datetime.fromtimestamp(clock(), tz=UTC)
        await DeliveryRepo(session).claim_many([claim], owner=owner, now=now)
    return key


async def _asked(bot: Bot) -> dict[str, int]:
    async with bot.app[sessionmaker_key]() as session:
        rows = await session.execute(select(UnansweredQuestion.example, UnansweredQuestion.asked))
    return {example: asked for example, asked in rows}


async def test_a_retry_takes_over_from_a_dead_owner_at_once(bot: Bot, clock: FakeClock) -> None:
    fields = bot.sender.message("o-crash", "text", Content="zqx crash vk")
    await _orphan(bot, clock, "o-crash", int(fields["MsgId"]), "zqx crash vk")  # type: ignore[arg-type]
    # WeChat retries a second later: the row is young, and still the retry handles it now.
    retried = await bot.sender.deliver(fields)
    assert retried.reply is not None and "没有找到相关答案" in retried.reply.content
    assert await _asked(bot) == {"zqx crash vk": 1}
    assert "pingan_deliveries_taken_over_total 1.0" in bot.app[metrics_key].render().decode()


async def test_the_sweep_finishes_every_orphan_and_pushes_the_replies(
    start_bot: StartBot, clock: FakeClock, platform: FakeWeChat
) -> None:
    bot = await start_bot(sweep_interval=3600)
    users = [f"o-orphan-{n}" for n in range(150)]  # more than any one batch
    for n, user in enumerate(users):
        platform.follow(user)
        platform.touch(user, "message")  # they wrote: the window is open
        await _orphan(bot, clock, user, 880_000 + n, f"zqx orphan {n:03d} vk")
    sweeper = bot.app[sweeper_key]
    await sweeper.sweep()  # the start-up sweep may have begun on the first rows already
    await bot.settle()
    assert await sweeper.sweep() == 0  # once, not again
    asked = await _asked(bot)
    assert len(asked) == len(users) and set(asked.values()) == {1}
    for user in users:
        [reply] = platform.inbox(user)
        assert "没有找到相关答案" in reply["content"]


async def test_a_live_owners_delivery_is_left_alone(
    bot: Bot, clock: FakeClock, database_url: str
) -> None:
    # The live owner holds its lock as a serving process does, but runs no sweep of its own,
    # which would rightly take over a row of its own that none of its handlers runs.
    engine = create_engine(database_url)
    other = liveness_for(engine)
    await other.start()
    try:
        alive = other.instance
        key = await _orphan(bot, clock, "o-alive", 990_001, "zqx alive vk", owner=alive)
        assert await bot.app[sweeper_key].sweep() == 0
        async with bot.app[sessionmaker_key]() as session:
            outcome = await DeliveryRepo(session).outcome(key)
        assert outcome is not None and (outcome.status, outcome.owner) == ("processing", alive)
    finally:
        await other.stop()
        await engine.dispose()


async def test_nothing_is_acknowledged_before_it_is_stored(
    start_bot: StartBot, database_url: str
) -> None:
    """A store too slow to record the message within the budget gets no ``success``: WeChat
    must try again; the retry, once the store is back, is answered."""
    bot = await start_bot(reply_budget=0.3)
    fields = bot.sender.message("o-slow-store", "text", Content="zqx slow vk")
    other = create_engine(database_url)  # another connection, as another writer would
    async with other.begin() as blocker:  # on SQLite: BEGIN IMMEDIATE, the write lock
        if other.dialect.name == "postgresql":
            await blocker.execute(text("LOCK TABLE deliveries IN EXCLUSIVE MODE"))
        body, query = bot.sender.build(fields)
        async with ClientSession() as http, http.post(bot.url, data=body, params=query) as resp:
            status, answer = resp.status, await resp.text()
        assert status == 503 and "success" not in answer
    await other.dispose()
    retried = await bot.sender.deliver(fields)
    assert retried.reply is not None and "没有找到相关答案" in retried.reply.content
    await bot.settle()
    assert await _asked(bot) == {"zqx slow vk": 1}
    async with bot.app[sessionmaker_key]() as session:
        rows = (await session.execute(select(Delivery.status))).scalars().all()
    assert rows == ["done"]


async def test_a_row_of_this_process_that_no_handler_runs_is_an_orphan_too(
    start_bot: StartBot, clock: FakeClock
) -> None:
    """A failure can leave one of this process's own rows "processing" with nothing working
    on it (the store failed while recording the failure): its retry and the sweep take it."""
    bot = await start_bot(sweep_interval=3600)
    me = bot.app[pipeline_key].liveness.instance
    fields = bot.sender.message("o-own", "text", Content="zqx own vk")
    await _orphan(bot, clock, "o-own", int(fields["MsgId"]), "zqx own vk", owner=me)  # type: ignore[arg-type]
    retried = await bot.sender.deliver(fields)
    assert retried.reply is not None and "没有找到相关答案" in retried.reply.content
    await _orphan(bot, clock, "o-own", 990_777, "zqx own two vk", owner=me)
    await bot.app[sweeper_key].sweep()  # (the start-up sweep may be on it already)
    assert await _asked(bot) == {"zqx own vk": 1, "zqx own two vk": 1}
