"""Pushes that WeChat does not take: retried with growing delays, given up, never lost.

Every test runs on SQLite and PostgreSQL against the fake platform over HTTP; time is the
FakeClock, so "not retried before due" is checked by moving it a second short.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp import ClientSession
from sqlalchemy import select

from bot.keys import Keys
from bot.loggers import hash_openid
from bot.push import Outbox, open_payload
from bot.typedefs import pusher_key, sessionmaker_key, settings_key
from simulator import FakeClock, FakeWeChat
from storage.clock import utc
from storage.models import OutboundMessage
from tests.conftest import TEST_SEAL_KEY, Bot, until

KEYS = Keys.from_setting(TEST_SEAL_KEY)
StartBot = Callable[..., Awaitable[Bot]]
SEND = "/cgi-bin/message/custom/send"


async def pushes(bot: Bot) -> list[OutboundMessage]:
    """Every push row, oldest first (a finished row keeps neither text nor openid)."""
    async with bot.app[sessionmaker_key]() as session:
        stmt = select(OutboundMessage).order_by(OutboundMessage.id)
        return list((await session.execute(stmt)).scalars())


async def last_push(bot: Bot) -> OutboundMessage:
    return (await pushes(bot))[-1]


async def metrics(bot: Bot) -> str:
    async with ClientSession() as http, http.get(bot.server.make_url("/metrics")) as resp:
        assert resp.status == 200
        return await resp.text()


def received(platform: FakeWeChat, openid: str) -> list[str]:
    return [m["content"] for m in platform.inbox(openid)]


async def test_transient_failures_back_off_then_send(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock
) -> None:
    bot = await start_bot(api_retries=0)  # one HTTP call per attempt: the ledger counts them
    await bot.sender.text("o-r", "你好")
    pusher = bot.app[pusher_key]
    platform.fail_next(SEND, errcode=-1, times=3)

    assert await pusher.send_text("o-r", "您的线索已受理") == "failed"
    for attempts, delay in ((1, 30), (2, 60), (3, 120)):
        row = await last_push(bot)
        assert (row.status, row.errcode, row.attempts) == ("failed", -1, attempts)
        assert row.next_attempt_at == utc(clock) + timedelta(seconds=delay)
        assert open_payload(KEYS, row.payload)["content"] == "您的线索已受理"  # for next time
        clock.advance(delay - 1)
        assert await pusher.retry_due() == []  # not before it is due
        clock.advance(1)
        assert await pusher.retry_due() == ["sent" if attempts == 3 else "failed"]

    row = await last_push(bot)
    assert (row.status, row.attempts, row.next_attempt_at) == ("sent", 4, None)
    assert row.sent_at == utc(clock)
    assert (row.payload, row.openid) == ({}, None)  # neither text nor addressee stays
    assert received(platform, "o-r") == ["您的线索已受理"]
    assert await pusher.retry_due() == []
    assert 'pingan_pushes_total{status="failed"} 3.0' in await metrics(bot)


async def test_a_push_failing_for_ever_goes_dead(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await start_bot(api_retries=0)
    settings = bot.app[settings_key]
    await bot.sender.text("o-f", "你好")
    pusher = bot.app[pusher_key]
    platform.fail_next(SEND, errcode=-2, status=502, times=settings.push_max_attempts)

    caplog.set_level(logging.INFO, logger="pingan.push")
    assert await pusher.send_text("o-f", "线索编号 T1234 已受理") == "failed"
    for _ in range(settings.push_max_attempts - 2):
        clock.advance(settings.push_retry_cap)
        assert await pusher.retry_due() == ["failed"]
    clock.advance(settings.push_retry_cap)
    assert await pusher.retry_due() == ["dead"]

    row = await last_push(bot)
    assert (row.status, row.attempts, row.next_attempt_at) == (
        "dead",
        settings.push_max_attempts,
        None,
    )
    assert row.payload == {}
    clock.advance(settings.push_retry_cap)
    assert await pusher.retry_due() == []  # given up: never tried again
    assert received(platform, "o-f") == []

    text = await metrics(bot)
    assert "pingan_pushes_dead_total 1.0" in text
    assert 'pingan_pushes_total{status="dead"} 1.0' in text
    dead = [r for r in caplog.records if r.levelno == logging.WARNING and "dead" in r.message]
    assert len(dead) == 1
    assert f"id={row.id}" in dead[0].message
    assert hash_openid("o-f", pusher.log_salt) in dead[0].message
    for record in caplog.records:  # neither the openid nor the text in any line
        assert "o-f" not in record.message and "T1234" not in record.message


async def test_a_permanent_error_is_dead_at_once(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock
) -> None:
    bot = await start_bot(api_retries=3)
    pusher = bot.app[pusher_key]
    # An openid the account never saw (40003), and a user who left meanwhile (43004).
    assert await pusher.send_text("o-unknown", "您好") == "dead"
    await bot.sender.text("o-gone", "你好")
    platform.fail_next(SEND, errcode=43004)
    assert await pusher.send_text("o-gone", "您好") == "dead"

    rows = await pushes(bot)
    assert [(r.status, r.errcode, r.attempts, r.payload) for r in rows] == [
        ("dead", 40003, 1, {}),
        ("dead", 43004, 1, {}),
    ]
    assert len(platform.calls_to(SEND)) == 2  # not retried by the gateway either
    clock.advance(7200)
    assert await pusher.retry_due() == []
    assert "pingan_pushes_dead_total 2.0" in await metrics(bot)


async def test_a_backlog_of_failures_does_not_starve_fresh_pushes(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock
) -> None:
    bot = await start_bot(api_retries=0)
    pusher = bot.app[pusher_key]
    # WeChat is busy (-1) for everything sent to o-busy.
    await bot.sender.text("o-busy", "你好")
    platform.faults.fail_next(SEND, -1, 200, touser="o-busy")
    async with bot.app[sessionmaker_key].begin() as session:
        backlog = Outbox(session, utc(clock), KEYS)
        for i in range(200):
            await backlog.text("o-busy", f"积压 {i}")
    clock.advance(3600)
    await bot.sender.text("o-fresh", "你好")

    retry = asyncio.create_task(pusher.retry_due(batch=40))
    await until(lambda: len(platform.calls_to(SEND)) > 0)  # the pass is sending the backlog
    assert await pusher.send_text("o-fresh", "您的线索已受理") == "sent"
    assert not retry.done()  # the fresh push did not queue behind the backlog
    assert received(platform, "o-fresh") == ["您的线索已受理"]

    # One call took every due row, 40 at a time, until none was due.
    assert await retry == ["failed"] * 200
    rows = [r for r in await pushes(bot) if r.openid == "o-busy"]
    assert len(rows) == 200
    assert {(r.status, r.errcode, r.attempts) for r in rows} == {("failed", -1, 1)}
    assert {r.next_attempt_at for r in rows} == {utc(clock) + timedelta(seconds=30)}
    assert await pusher.retry_due() == []


async def test_two_processes_never_send_one_push_twice(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock
) -> None:
    first, second = await start_bot(), await start_bot()
    await first.sender.text("o-two", "你好")
    async with first.app[sessionmaker_key].begin() as session:
        outbox = Outbox(session, utc(clock), KEYS)
        for i in range(5):
            await outbox.text("o-two", f"第{i}条")
    clock.advance(120)
    await asyncio.gather(
        first.app[pusher_key].retry_due(batch=2), second.app[pusher_key].retry_due(batch=2)
    )
    # Each exactly once (two passes side by side may interleave their order), claimed once.
    assert sorted(received(platform, "o-two")) == [f"第{i}条" for i in range(5)]
    rows = await pushes(first)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1)] * 5


async def test_a_push_a_dead_process_left_is_sent_by_the_retry_pass(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await bot.sender.text("o-d", "你好")
    pusher = bot.app[pusher_key]
    # Recorded and committed; the process died before sending it.
    async with bot.app[sessionmaker_key].begin() as session:
        await Outbox(session, utc(clock), KEYS).text("o-d", "您的线索已受理")
    assert await pusher.retry_due() == []  # may still be on its way from its process
    clock.advance(59)
    assert await pusher.retry_due() == []
    clock.advance(1)
    assert await pusher.retry_due() == ["sent"]
    row = await last_push(bot)
    assert (row.status, row.attempts, row.payload) == ("sent", 1, {})
    assert received(platform, "o-d") == ["您的线索已受理"]


async def test_held_push_is_emptied_once_shown(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await bot.sender.text("o-h", "你好")
    clock.advance(49 * 3600)
    assert await bot.app[pusher_key].send_text("o-h", "您的线索已受理") == "held"
    row = await last_push(bot)
    assert (row.status, row.errcode, row.next_attempt_at) == ("held", 45015, None)
    assert "您的线索已受理" not in str(row.payload)  # sealed while it waits…
    assert open_payload(KEYS, row.payload)["content"] == "您的线索已受理"  # …until shown
    clock.advance(7200)
    assert await bot.app[pusher_key].retry_due() == []  # held is not retried

    answer = await bot.sender.text("o-h", "在吗")
    assert answer.reply is not None and "您的线索已受理" in answer.reply.content
    row = await last_push(bot)
    assert (row.status, row.payload) == ("shown", {})


async def test_five_messages_used_up_holds_the_push_until_the_user_writes(
    bot: Bot, platform: FakeWeChat
) -> None:
    await bot.sender.text("o-five", "你好")
    for _ in range(5):
        assert await bot.app[pusher_key].send_text("o-five", "通知") == "sent"
    # 45047: the window's messages are spent until the user writes again; retrying is futile.
    assert await bot.app[pusher_key].send_text("o-five", "您的线索已受理") == "held"
    row = await last_push(bot)
    assert (row.status, row.errcode) == ("held", 45047)
    answer = await bot.sender.text("o-five", "在吗")
    assert answer.reply is not None and "您的线索已受理" in answer.reply.content
