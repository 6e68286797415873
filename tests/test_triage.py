"""Officers triage from the chat: lists a screen at a time, numbered choices, assign, level,
note and duplicate; the reporter hears only what is theirs to hear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.typedefs import sessionmaker_key
from simulator import FakeWeChat
from simulator.clock import FakeClock
from storage.models import AuditEntry, Officer, OfficerAlert, Tip, TipEvent
from storage.users import CommunityRepo
from tests.conftest import Bot
from tests.test_alerts import alerts_to, officer
from tests.test_cases import pushes
from tests.test_tips import _file_tip, jpeg_with_gps, say
from tests.test_tips import tips as all_tips


async def _seed(
    bot: Bot, clock: FakeClock, n: int, prefix: str = "SEED", **values: object
) -> list[str]:
    """``n`` open tips, newest last, straight into the store (the lists are under test)."""
    now = datetime.fromtimestamp(clock(), tz=UTC)
    codes = [f"{prefix}{i:04d}" for i in range(n)]
    async with bot.app[sessionmaker_key].begin() as session:
        for i, code in enumerate(codes):
            at = now - timedelta(minutes=n - i)
            fields = {"category": "theft", "level": "blue", "source": "guided"} | values
            session.add(
                Tip(code=code, description=f"第{i}条", created_at=at, updated_at=at, **fields)
            )
    return codes


def _shown(codes: list[str], listing: str) -> list[str]:
    return sorted((c for c in codes if c in listing), key=listing.index)


async def _officer_id(bot: Bot, name: str) -> int:
    async with bot.app[sessionmaker_key]() as session:
        found = await session.scalar(select(Officer.id).where(Officer.name == name))
    assert found is not None
    return int(found)


async def test_lists_page_by_page_and_a_number_opens_the_tip(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    codes = await _seed(bot, clock, 7)
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    first = await say(bot, "o-cop", "新线索")
    assert "第 1 页" in first and "「新线索 2」" in first
    assert _shown(codes, first) == codes[2:][::-1]  # newest first, five of them
    assert len(first.splitlines()) <= 8
    opened = await say(bot, "o-cop", "2")
    assert f"编号：{codes[5]}" in opened
    second = await say(bot, "o-cop", "新线索 2")
    assert _shown(codes, second) == codes[:2][::-1] and "新线索 3" not in second
    assert await say(bot, "o-cop", "新线索 3") == "没有更多了。"
    async with bot.app[sessionmaker_key]() as session:
        views = (await session.scalars(select(AuditEntry.subject))).all()
    assert "新线索 2" in views and codes[5] in views


async def test_red_mine_and_community_lists(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    now = datetime.fromtimestamp(clock(), tz=UTC)
    async with bot.app[sessionmaker_key].begin() as session:
        xinhua = await CommunityRepo(session).create(
            code="xh", name="新华社区", aliases=["新华"], now=now
        )
    await _seed(bot, clock, 2, level="red")
    village = await _seed(bot, clock, 1, "VILL", community_id=xinhua.id)
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    red = await say(bot, "o-cop", "红色线索")
    assert "SEED0000" in red and "SEED0001" in red
    assert village[0] in await say(bot, "o-cop", "社区线索 新华")
    assert "没有找到" in await say(bot, "o-cop", "社区线索 不存在村")
    assert await say(bot, "o-cop", "我的线索") == "没有符合条件的线索。"
    await say(bot, "o-cop", "受理 SEED0001")  # accepting a tip nobody holds takes it
    assert "SEED0001" in await say(bot, "o-cop", "我的线索")


async def test_assign_level_note_and_duplicate(bot: Bot, platform: FakeWeChat) -> None:
    reporter, other = "o-rep-a", "o-rep-b"
    platform.follow(reporter)
    platform.follow(other)
    first = await _file_tip(bot, reporter, anonymous=True)
    again = await _file_tip(bot, other, anonymous=True)
    await officer(bot, platform, "o-chief", "张所", "chief")
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    cop = await _officer_id(bot, "刘洋")

    assert "找不到唯一" in await say(bot, "o-chief", f"分派 {first.code} 李四")
    assert "已分派给刘洋" in await say(bot, "o-chief", f"分派 {first.code} 刘洋")
    await bot.settle()
    assert any(f"查看 {first.code}" in m for m in pushes(platform, "o-cop"))
    assert first.code in await say(bot, "o-cop", "我的线索")

    assert "已定为红色预警" in await say(bot, "o-cop", f"定级 {first.code} 红")
    await bot.settle()
    assert any(first.code in a for a in alerts_to(platform, "o-chief"))  # red pages the duty
    assert "已是红色" in await say(bot, "o-cop", f"定级 {first.code} 红色")

    assert "举报人看不到" in await say(bot, "o-cop", f"备注 {first.code} 物业电话已联系")
    assert "物业电话已联系" in await say(bot, "o-chief", f"查看 {first.code}")

    assert "不能把线索标为它自己" in await say(bot, "o-cop", f"重复 {first.code} {first.code}")
    marked = await say(bot, "o-cop", f"重复 {again.code} {first.code}")
    assert f"已标为 {first.code} 的重复线索" in marked
    await bot.settle()
    told = pushes(platform, other)
    assert any("合并处理" in m for m in told)
    assert not any(first.code in m for m in told)  # never which other report
    assert not any("物业电话" in m for m in pushes(platform, reporter))  # notes stay inside

    async with bot.app[sessionmaker_key]() as session:
        kept = {t.code: t for t in (await session.scalars(select(Tip))).all()}
        events = (await session.scalars(select(TipEvent.action))).all()
        alerts = (await session.scalars(select(OfficerAlert.kind))).all()
    assert kept[first.code].assigned_to == cop and kept[first.code].level == "red"
    assert kept[again.code].status == "duplicate"
    assert kept[again.code].duplicate_of == kept[first.code].id
    assert {"assign", "level", "note"} <= set(events) and "red" in alerts


async def test_an_opened_tip_is_worked_without_typing_its_code(
    bot: Bot, platform: FakeWeChat
) -> None:
    reporter = "o-rep-short"
    platform.follow(reporter)
    tip = await _file_tip(bot, reporter, anonymous=True)
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    await say(bot, "o-cop", "新线索")
    assert "先回复列表中的序号" in await say(bot, "o-cop", "受理")  # which tip? none is open
    assert f"编号：{tip.code}" in await say(bot, "o-cop", "1")
    assert tip.code in await say(bot, "o-cop", "受理")
    assert tip.code in await say(bot, "o-cop", "回复 请问是哪栋楼？")
    assert tip.code in await say(bot, "o-cop", "办结 已通知物业清理")
    await bot.settle()
    told = pushes(platform, reporter)
    assert any("哪栋楼" in m for m in told) and any("已通知物业清理" in m for m in told)
    async with bot.app[sessionmaker_key]() as session:
        kept = await session.get(Tip, tip.id)
    assert kept is not None and kept.status == "resolved"


async def test_opening_a_tip_sends_its_photos_and_a_map(bot: Bot, platform: FakeWeChat) -> None:
    me = "o-rep-photo"
    await bot.sender.subscribe(me)
    await say(bot, me, "举报")
    await say(bot, me, "2")
    await say(bot, me, "车棚里的电动车被偷了")
    await bot.sender.location(me, 45.0586, 121.4727, "新华社区3号楼车棚")
    photo = jpeg_with_gps()
    await bot.sender.image(me, photo)
    await bot.sender.image(me, photo)
    await say(bot, me, "完成")
    await say(bot, me, "1")
    await say(bot, me, "1")
    [tip] = await all_tips(bot)
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    opened = await say(bot, "o-cop", f"查看 {tip.code}")
    assert "照片 2 张和位置地图随后发给您" in opened
    await bot.settle()
    got = platform.inbox("o-cop")
    images = [m for m in got if m["msgtype"] == "image"]
    cards = [m for m in got if m["msgtype"] == "news"]
    assert len(images) == 2 and all(platform.media.find(m["content"]) for m in images)
    # The photo the officer gets is the cleaned one: the reporter's GPS tags are gone.
    assert all(b"Exif" not in platform.media.find(m["content"]).data for m in images)
    [card] = cards
    [article] = card["content"]
    assert "coord:45.0586,121.4727" in article["url"] and tip.code in article["title"]
    assert "3号楼车棚" in article["description"]
