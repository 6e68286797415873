"""Officers: binding by code or QR scene, powers for officers only, revoked at once."""

from __future__ import annotations

import argparse
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.admin import faq_gaps
from bot.officeradmin import officer_add, officer_list, officer_revoke
from bot.typedefs import sessionmaker_key, settings_key
from simulator import FakeClock, FakeWeChat
from storage.models import Handoff, Officer, User
from storage.officers import OfficerRepo
from storage.users import EnrolmentRepo
from tests.conftest import Bot
from tests.test_tips import _file_tip, say

REFUSED = "此功能仅限本所民警使用。"


async def add(bot: Bot, name: str, role: str = "officer") -> str:
    printed = await officer_add(bot.app[settings_key], argparse.Namespace(name=name, role=role))
    found = re.search(r"绑定 (\w+)", printed)
    assert found is not None, printed
    assert "showqrcode?ticket=" in printed  # and a QR code for the scene e:CODE
    return found[1]


async def patrol(bot: Bot, clock: FakeClock, openid: str) -> None:
    """A red-armband volunteer, enrolled by scanning a patrol code."""
    now = datetime.fromtimestamp(clock(), tz=UTC)
    async with bot.app[sessionmaker_key].begin() as session:
        await EnrolmentRepo(session).create(
            code="P7", role="patrol", community_id=None, now=now, expires_at=now + timedelta(1)
        )
    await bot.sender.scan(openid, "e:P7")


async def officer_of(bot: Bot, openid: str) -> Officer | None:
    async with bot.app[sessionmaker_key]() as session:
        stmt = select(Officer).where(Officer.openid == openid)
        return (await session.execute(stmt)).scalar_one_or_none()


async def test_binding_by_code_and_by_scan(bot: Bot) -> None:
    code = await add(bot, "张伟", "chief")
    assert await say(bot, "o-chief", f"绑定 {code}") == (
        "绑定成功：张伟（所长）。回复「民警帮助」查看可用功能。"
    )
    chief = await officer_of(bot, "o-chief")
    assert chief is not None and (chief.status, chief.rank) == ("active", "chief")
    assert "新线索" in await say(bot, "o-chief", "民警帮助")

    scanned = await add(bot, "李娜", "auxiliary")
    answer = await bot.sender.scan("o-aux", f"e:{scanned}")
    assert answer.reply is not None and "绑定成功：李娜（辅警）" in answer.reply.content
    listing = await officer_list(bot.app[settings_key], argparse.Namespace())
    assert "张伟\tchief\tactive\tbound" in listing and "李娜\tauxiliary\tactive" in listing


async def test_codes_are_single_use_and_expire(bot: Bot, clock: FakeClock) -> None:
    code = await add(bot, "王强")
    await say(bot, "o-first", f"绑定 {code}")
    invalid = "登记码无效、已过期或已被使用，请向民警重新领取。"
    assert await say(bot, "o-second", f"绑定 {code}") == invalid  # reused
    assert await say(bot, "o-second", "绑定 NOSUCHCODE") == invalid  # wrong
    now = datetime.fromtimestamp(clock(), tz=UTC)
    async with bot.app[sessionmaker_key].begin() as session:
        await OfficerRepo(session).add(
            name="赵敏", rank="officer", code="MLATE2345", now=now, valid=timedelta(hours=24)
        )
    clock.advance(timedelta(hours=25).total_seconds())
    assert await say(bot, "o-late", "绑定 MLATE2345") == invalid  # expired
    assert await officer_of(bot, "o-second") is None and await officer_of(bot, "o-late") is None


async def test_officer_lists_and_everyone_else_is_refused(
    bot: Bot, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    tip = await _file_tip(bot, "o-resident")
    code = await add(bot, "刘洋")
    await say(bot, "o-officer", f"绑定 {code}")
    listing = await say(bot, "o-officer", "新线索")
    assert tip.code in listing and "王五" not in listing  # the reporter's name is not listed

    await patrol(bot, clock, "o-patrol")
    caplog.set_level(logging.WARNING, logger="pingan.officers")
    for outsider in ("o-resident", "o-patrol", "o-stranger"):
        for command in ("新线索", "红色线索", "民警帮助"):
            answer = await say(bot, outsider, command)
            assert answer == REFUSED and tip.code not in answer
    assert sum("refused" in r.getMessage() for r in caplog.records) == 9


async def test_a_revoked_officer_loses_every_power_at_once(bot: Bot) -> None:
    code = await add(bot, "陈静")
    await say(bot, "o-leaving-officer", f"绑定 {code}")
    officer = await officer_of(bot, "o-leaving-officer")
    assert officer is not None
    unused = await add(bot, "孙磊")
    revoked = await officer_revoke(bot.app[settings_key], argparse.Namespace(id=officer.id))
    assert "revoked" in revoked
    assert await say(bot, "o-leaving-officer", "新线索") == REFUSED
    async with bot.app[sessionmaker_key]() as session:
        user = await session.get(User, "o-leaving-officer")
    assert user is not None and user.role == "resident"
    # A code not yet used dies with its officer.
    pending = next(o for o in await _all(bot) if o.name == "孙磊")
    await officer_revoke(bot.app[settings_key], argparse.Namespace(id=pending.id))
    assert "无效" in await say(bot, "o-too-late", f"绑定 {unused}")


async def _all(bot: Bot) -> list[Officer]:
    async with bot.app[sessionmaker_key]() as session:
        return await OfficerRepo(session).all()


async def test_an_officer_answers_a_hand_off_and_the_resident_gets_it(
    bot: Bot, platform: FakeWeChat
) -> None:
    resident = "o-asks"
    platform.follow(resident)
    await say(bot, resident, "人工")
    queued = await say(bot, resident, "户口迁到外省需要什么手续")
    assert "已转给民警" in queued and "2 小时" not in queued  # nothing promised that is not so
    code = await add(bot, "周敏")
    await say(bot, "o-duty", f"绑定 {code}")
    listing = await say(bot, "o-duty", "待答复")
    found = re.search(r"H(\d+) 户口迁到外省", listing)
    assert found is not None, listing
    assert await say(bot, resident, "待答复") == REFUSED
    assert await say(bot, resident, f"答复 H{found[1]} 我自己答") == REFUSED

    done = await say(bot, "o-duty", f"答复 H{found[1]} 带户口簿和身份证\n到迁入地派出所办理准迁证")
    assert done.startswith(f"已答复 H{found[1]}，答复已发给提问的居民。")
    await bot.settle()
    [pushed] = platform.inbox(resident)
    assert "带户口簿和身份证\n到迁入地派出所办理准迁证" in pushed["content"]
    assert "周敏" not in pushed["content"]  # the station answers, not a named officer
    assert "没有找到" in await say(bot, "o-duty", f"答复 H{found[1]} 再答一次")
    assert await say(bot, "o-duty", "待答复") == "没有待答复的问题。"
    officer = await officer_of(bot, "o-duty")
    async with bot.app[sessionmaker_key]() as session:
        handoff = await session.get(Handoff, int(found[1]))
    assert handoff is not None and officer is not None and handoff.answered_by == officer.id

    # The question becomes a knowledge-base gap with the officer's answer as its draft.
    assert await say(bot, resident, f"入库 H{found[1]}") == REFUSED
    assert "已记入知识库" in await say(bot, "o-duty", f"入库 H{found[1]}")
    gaps = await faq_gaps(bot.app[settings_key], argparse.Namespace(limit=5))
    assert "户口迁到外省需要什么手续" in gaps and "到迁入地派出所办理准迁证" in gaps
