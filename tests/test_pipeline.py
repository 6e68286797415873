"""Deliveries end to end through the webhook: dedup across instances, budget, dialogs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp import ClientSession
from sqlalchemy import func, select

from bot.dialog import DialogContext, State, StatesGroup
from bot.dispatcher import create_dispatcher
from bot.filters import Keyword, MsgType, StateIs
from bot.message import Message
from bot.router import Router
from bot.typedefs import keys_key, pipeline_key, sessionmaker_key
from simulator import FakeClock, FakeWeChat
from storage.models import Delivery, DialogState, OutboundMessage, User
from tests.conftest import ORIGINAL_ID, Bot

StartBot = Callable[..., Awaitable[Bot]]


class Survey(StatesGroup):
    name = State("请问您的姓名？")
    village = State(lambda data: f"{data['name']}，您住哪个村？")


def survey_router(runs: list[str] | None = None, delay: float = 0.0) -> Router:
    router = Router("test-survey")

    @router.message(Keyword("登记"))
    async def start(dialog: DialogContext) -> str:
        dialog.set_state(Survey.name)
        return "请问您的姓名？"

    @router.message(StateIs(Survey.name), MsgType("text"))
    async def name(message: Message, dialog: DialogContext) -> str:
        dialog.update(name=message.text)
        dialog.set_state(Survey.village)
        return f"{message.text}，您住哪个村？"

    @router.message(StateIs(Survey.village))
    async def village(message: Message, dialog: DialogContext) -> str:
        name = dialog.data["name"]
        dialog.clear()
        return f"已登记：{name}，{message.text}"

    @router.message(Keyword("慢"))
    async def slow(message: Message) -> str:
        if runs is not None:
            runs.append(message.openid)
        await asyncio.sleep(delay)
        return "慢慢来"

    @router.message(Keyword("坏"))
    async def broken() -> str:
        raise RuntimeError("handler bug")

    @router.message(StateIs(None), MsgType("text"))
    async def echo(message: Message) -> str:
        return f"你说：{message.text}"

    return router


async def count(bot: Bot, model: type, **where: object) -> int:
    async with bot.app[sessionmaker_key]() as session:
        stmt = select(func.count()).select_from(model)
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return int(await session.scalar(stmt) or 0)


async def drain(*bots: Bot) -> None:
    for bot in bots:
        tasks = list(bot.app[pipeline_key].tasks)
        if tasks:
            await asyncio.gather(*tasks)


async def test_plain_and_safe_mode_reply(start_bot: StartBot) -> None:
    plain = await start_bot(dispatcher=create_dispatcher(survey_router()))
    safe = await start_bot(dispatcher=create_dispatcher(survey_router()), safe=True)
    assert (await plain.sender.text("o-plain", "你好")).reply.content == "你说：你好"
    assert (await safe.sender.text("o-safe", "你好")).reply.content == "你说：你好"


async def test_cdata_terminator_in_user_text(start_bot: StartBot) -> None:
    for safe in (False, True):
        bot = await start_bot(dispatcher=create_dispatcher(survey_router()), safe=safe)
        text = "a]]>b<![CDATA[c]]>]]>"
        result = await bot.sender.text("o-cdata", text)
        assert result.reply.content == f"你说：{text}"


async def test_concurrent_copies_across_two_instances_run_once(start_bot: StartBot) -> None:
    runs: list[str] = []
    first = await start_bot(dispatcher=create_dispatcher(survey_router(runs, delay=0.3)))
    second = await start_bot(dispatcher=create_dispatcher(survey_router(runs, delay=0.3)))
    body, params = first.sender.build_text("o-dup", "慢")
    async with ClientSession() as http:

        async def deliver(bot: Bot) -> tuple[int, str]:
            async with http.post(bot.url, data=body, params=params) as resp:
                return resp.status, await resp.text()

        answers = await asyncio.gather(deliver(first), deliver(second), deliver(first))
    assert runs == ["o-dup"]
    assert {status for status, _ in answers} == {200}
    assert len({text for _, text in answers}) == 1
    assert "慢慢来" in answers[0][1]
    assert await count(first, Delivery) == 1
    assert await count(first, Delivery, status="done") == 1
    # And a retry long after the first one finished gets the stored reply.
    async with ClientSession() as http, http.post(second.url, data=body, params=params) as resp:
        assert await resp.text() == answers[0][1]
    assert runs == ["o-dup"]


async def test_slow_handler_answers_success_then_customer_service(
    start_bot: StartBot, platform: FakeWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pingan")
    runs: list[str] = []
    bot = await start_bot(
        dispatcher=create_dispatcher(survey_router(runs, delay=0.5)), reply_budget=0.1
    )
    platform.follow("o-slow")
    result = await bot.sender.text("o-slow", "慢")
    assert result.reply is None  # "success": nothing passive
    await drain(bot)
    assert runs == ["o-slow"]
    received = platform.inbox("o-slow")
    assert [m["content"] for m in received] == ["慢慢来"]
    assert await count(bot, OutboundMessage, status="sent") == 1
    # Logged as what it was: late, not handled in time.
    assert any("reply missed the budget" in r.getMessage() for r in caplog.records)
    assert any("outcome=late" in r.getMessage() for r in caplog.records)


async def test_failing_handler_apologises_once_and_keeps_the_message(start_bot: StartBot) -> None:
    bot = await start_bot(dispatcher=create_dispatcher(survey_router()))
    result = await bot.sender.text("o-bug", "坏")
    assert "系统繁忙" in result.reply.content
    async with bot.app[sessionmaker_key]() as session:
        row = (await session.execute(select(Delivery))).scalar_one()
    # Kept for the staff to look into, but sealed: a dump does not show it.
    assert row.status == "failed" and "坏" not in row.payload
    assert "坏" in (bot.app[keys_key].unseal(row.payload) or "")
    # Nothing the handler did was kept, and the user profile is not half-written either.
    assert await count(bot, User) == 0


async def test_dialog_back_cancel_help_and_nonsense(start_bot: StartBot) -> None:
    bot = await start_bot(dispatcher=create_dispatcher(survey_router()))
    say = bot.sender.text
    assert (await say("o-d", "登记")).reply.content == "请问您的姓名？"
    assert (await say("o-d", "小李")).reply.content == "小李，您住哪个村？"
    assert (await say("o-d", "帮助")).reply.content.startswith(
        "您正在进行的步骤：\n小李，您住哪个村？"
    )
    assert (await say("o-d", "返回")).reply.content == "请问您的姓名？"
    assert (await say("o-d", "小张")).reply.content == "小张，您住哪个村？"
    assert (await say("o-d", "新华村")).reply.content == "已登记：小张，新华村"
    assert await count(bot, DialogState) == 0
    await say("o-d", "登记")
    cancelled = await say("o-d", "取消")
    assert "已取消" in cancelled.reply.content
    assert await count(bot, DialogState) == 0
    assert "当前没有进行中的操作" in (await say("o-d", "取消")).reply.content


async def test_unexpected_answer_reasks_the_step(start_bot: StartBot) -> None:
    bot = await start_bot(dispatcher=create_dispatcher(survey_router()))
    await bot.sender.text("o-n", "登记")
    answer = await bot.sender.location("o-n", 40.1, 116.3, "某地")
    assert answer.reply.content == "没有看懂您的回复。\n请问您的姓名？"
    async with bot.app[sessionmaker_key]() as session:
        row = await session.get(DialogState, "o-n")
    assert row is not None and row.state == Survey.name.name


async def test_dialog_times_out(start_bot: StartBot, clock: FakeClock) -> None:
    bot = await start_bot(dispatcher=create_dispatcher(survey_router()))
    await bot.sender.text("o-t", "登记")
    clock.advance(timedelta(minutes=31).total_seconds())
    answer = await bot.sender.text("o-t", "小李")
    assert answer.reply.content.startswith("（上次未完成的操作已超时")
    assert answer.reply.content.endswith("你说：小李")
    assert await count(bot, DialogState) == 0


async def test_subscribe_registers_and_unsubscribe_forgets(start_bot: StartBot) -> None:
    bot = await start_bot(dispatcher=create_dispatcher(survey_router()))
    welcome = await bot.sender.subscribe("o-u")
    assert "欢迎关注" in welcome.reply.content
    await bot.sender.text("o-u", "登记")
    assert await count(bot, User, openid="o-u") == 1
    assert await count(bot, DialogState, openid="o-u") == 1
    gone = await bot.sender.unsubscribe("o-u")
    assert gone.reply is None
    assert await count(bot, User, openid="o-u") == 0
    assert await count(bot, DialogState, openid="o-u") == 0
    user_key = bot.app[keys_key].mac("user", "o-u")
    assert await count(bot, Delivery, user_key=user_key) == 0
    async with bot.app[sessionmaker_key]() as session:
        rows = (await session.execute(select(Delivery.payload, Delivery.reply))).all()
    assert all("o-u" not in (payload + (reply or "")) for payload, reply in rows)


async def test_health_and_metrics(bot: Bot) -> None:
    await bot.sender.text("o-m", "你好")
    await bot.sender.text("o-m", "你好")
    async with ClientSession() as http:
        async with http.get(bot.server.make_url("/healthz")) as resp:
            assert resp.status == 200
            assert (await resp.json())["store"] == "up"
        async with http.get(bot.server.make_url("/metrics")) as resp:
            text = await resp.text()
    assert 'pingan_webhook_requests_total{outcome="handled"} 2.0' in text
    assert "pingan_webhook_latency_seconds_bucket" in text


async def test_account_id_is_used_for_replies(bot: Bot) -> None:
    answer = await bot.sender.text("o-acc", "你好")
    assert f"<FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName>" in answer.reply.xml


async def test_community_and_enrolment_scenes(bot: Bot, clock: FakeClock) -> None:
    from datetime import UTC, datetime

    from storage.users import CommunityRepo, EnrolmentRepo

    now = datetime.fromtimestamp(clock(), tz=UTC)
    async with bot.app[sessionmaker_key].begin() as session:
        xinhua = await CommunityRepo(session).create(code="xinhua", name="新华社区", now=now)
        await EnrolmentRepo(session).create(
            code="P1",
            role="patrol",
            community_id=xinhua.id,
            now=now,
            expires_at=now + timedelta(days=1),
        )
    joined = await bot.sender.subscribe("o-scene", "c:xinhua")
    assert "已加入社区：新华社区。" in joined.reply.content
    # Already following: scanning another code acts on it without the welcome.
    enrolled = await bot.sender.scan("o-scene", "e:P1")
    assert enrolled.reply.content == "登记成功，您的身份是：红袖标巡防队员。"
    again = await bot.sender.scan("o-other", "e:P1")  # one-time code
    assert "已被使用" in again.reply.content
    gone = await bot.sender.scan("o-other", "c:nowhere")
    assert "不存在" in gone.reply.content
    async with bot.app[sessionmaker_key]() as session:
        user = await session.get(User, "o-scene")
    assert user is not None and (user.role, user.community_id) == ("patrol", xinhua.id)
