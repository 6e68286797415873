"""The officers' side of the patrols through the webhook: SOS to those on duty, the roster,
marking a patrol report (points follow), awards and deductions, suspension (both stores)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot.cli import build_parser
from bot.patroladmin import volunteer_list
from bot.typedefs import engine_key, sessionmaker_key, settings_key
from simulator import FakeClock, FakeWeChat
from storage.models import AuditEntry, OfficerAlert
from tests.conftest import Bot
from tests.patrolkit import HOME, ledger, north, record_of, shifts, team, volunteer
from tests.test_alerts import alerts_to, escalate, officer
from tests.test_tips import say, tips

SUSPENDED = "您的巡防队员资格已暂停，请联系民警。"


async def on_patrol(bot: Bot, platform: FakeWeChat, openid: str = "o-wang") -> None:
    platform.follow(openid)
    await volunteer(bot, openid)
    await say(bot, openid, "开始巡逻")
    await bot.sender.location(openid, *HOME, "新华村")


async def test_sos_reaches_the_officers_on_duty_and_escalates(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await officer(bot, platform, "o-duty", "刘洋", "officer")
    await officer(bot, platform, "o-chief", "张伟", "chief")
    await on_patrol(bot, platform)
    clock.advance(120)
    await bot.sender.location_event("o-wang", *north(300))
    answer = (await bot.sender.click("o-wang", "PATROL_SOS")).reply
    assert answer is not None
    said = answer.content
    assert said.startswith("求助已发出（编号 ") and "值班民警：刘洋、张伟。" in said
    assert "拨打 110" in said and said.endswith("正在通知 2 位值班民警。")
    await bot.settle()
    [page] = alerts_to(platform, "o-duty")
    [tip] = await tips(bot)
    assert tip.code in page and "巡防队员求助" in page and "王芳" in page
    assert f"{north(300)[0]:.5f}" in page  # the last place, not the check-in
    assert (tip.source, tip.level, tip.anonymous, tip.reporter_name) == (
        "patrol",
        "red",
        False,
        "王芳",
    )
    async with bot.app[sessionmaker_key]() as session:
        [alert] = (await session.scalars(select(OfficerAlert))).all()
    assert alert.kind == "sos" and alert.acked_at is None
    # Nobody acknowledged: the chief hears again, marked escalated.
    clock.advance(timedelta(minutes=30).total_seconds())
    assert await escalate(bot) == 1
    await bot.settle()
    assert any("【未确认·升级】" in m for m in alerts_to(platform, "o-chief"))
    assert "已确认" in await say(bot, "o-duty", f"收到 {tip.code}")
    # Without a place yet, the volunteer is asked for one.
    await say(bot, "o-wang", "结束巡逻")
    await say(bot, "o-wang", "开始巡逻")
    unplaced = await say(bot, "o-wang", "求助")
    assert (
        "没有您的位置，请发送位置" in unplaced and "位置未知" in (await tips(bot))[-1].description
    )
    # Off patrol, 求助 is a resident's word again: no SOS.
    await say(bot, "o-wang", "结束巡逻")
    assert "求助已发出" not in await say(bot, "o-wang", "求助")


async def test_sos_tapped_again_and_again_pages_once(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await officer(bot, platform, "o-duty", "刘洋", "officer")
    await on_patrol(bot, platform)
    first = await say(bot, "o-wang", "求助")
    await bot.settle()
    assert first.startswith("求助已发出") and len(alerts_to(platform, "o-duty")) == 1
    for metres in (100, 200, 300):  # running, tapping as they go
        clock.advance(20)
        await bot.sender.location_event("o-wang", *north(metres))
        clock.advance(40)
        again = await say(bot, "o-wang", "求助")
        assert again.startswith("求助已在处理") and "拨打 110" in again
    await bot.settle()
    [tip] = await tips(bot)
    assert len(alerts_to(platform, "o-duty")) == 1  # one page; escalation does the rest
    async with bot.app[sessionmaker_key]() as session:
        assert len((await session.scalars(select(OfficerAlert))).all()) == 1
        notes = (
            (
                await session.execute(
                    text(
                        "SELECT note FROM tip_events WHERE tip_id = :t AND action = 'supplement'"
                    ),
                    {"t": tip.id},
                )
            )
            .scalars()
            .all()
        )
    assert len(notes) == 3 and f"{north(300)[0]:.5f}" in notes[-1]  # the places follow
    # Once an officer has closed it, or long after, a new call pages again.
    clock.advance(timedelta(minutes=31).total_seconds())
    assert (await say(bot, "o-wang", "求助")).startswith("求助已发出")
    assert len(await tips(bot)) == 2


async def test_an_officer_marks_a_report_valuable_and_points_follow(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    await on_patrol(bot, platform)
    filed = await say(bot, "o-wang", "上报 河边有人电鱼")
    [tip] = await tips(bot)
    assert tip.code in filed
    assert "举报人会收到通知" in await say(bot, "o-cop", f"受理 {tip.code}")
    marked = await say(bot, "o-cop", f"有价值 {tip.code}")
    assert marked == f"已标记 {tip.code}「有价值」，王芳 积分 +5。"
    assert "已标记过" in await say(bot, "o-cop", f"有价值 {tip.code}")  # once only
    assert "积分 +20" in await say(bot, "o-cop", f"协助破案 {tip.code}")
    await bot.settle()
    told = [str(m["content"]) for m in platform.inbox("o-wang")]
    assert any(f"您上报的 {tip.code} 被民警评为「有价值」，积分 +5。" == m for m in told)

    clock.advance(timedelta(hours=1).total_seconds())
    await say(bot, "o-wang", "结束巡逻")  # +2 for the hour
    mine = await say(bot, "o-wang", "我的积分")
    assert mine.splitlines()[0] == "王芳，您的积分：28"
    assert f"+20 {tip.code} 协助破案" in mine and "+1 上报" in mine and "+2 巡逻 1 小时" in mine
    entries = await ledger(bot)
    cop = await record_of(bot, "o-wang")
    assert cop is not None
    assert [(e.rule, e.points, e.officer_id is None) for e in entries] == [
        ("report", 1, True),
        ("valuable", 5, False),
        ("solved", 20, False),
        ("hours", 2, True),
    ]
    assert {e.tip_id for e in entries[:3]} == {tip.id}
    # The ledger is append-only, whoever connects.
    for statement in ("UPDATE patrol_points SET points = 100", "DELETE FROM patrol_points"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with bot.app[engine_key].begin() as conn:
                await conn.execute(text(statement))


async def test_awards_deductions_and_the_monthly_leaderboard(
    bot: Bot, platform: FakeWeChat
) -> None:
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    platform.follow("o-wang")
    await volunteer(bot, "o-wang")
    wang = await record_of(bot, "o-wang")
    assert wang is not None
    await volunteer(bot, "o-li", "李强", team_id=wang.team_id)
    li = await record_of(bot, "o-li")
    assert li is not None
    assert await say(bot, "o-cop", f"积分 {wang.id} +8 协助寻找走失老人") == (
        "已为 王芳 记 +8 分，现有 8 分。"
    )
    assert "现有 -3 分" in await say(bot, "o-cop", f"积分 {li.id} -3 连续缺勤")
    await bot.settle()
    assert any("+8：协助寻找走失老人" in str(m["content"]) for m in platform.inbox("o-wang"))
    board = await say(bot, "o-li", "巡逻排行")
    assert board.splitlines()[1:] == ["1. 王芳 8", "2. 李强 -3"]
    assert await say(bot, "o-wang", f"积分 {li.id} +100 自己加") == "此功能仅限本所民警使用。"
    assert (await say(bot, "o-cop", f"巡逻排行 {wang.team_id}")).splitlines()[1:] == [
        "1. 王芳 8",
        "2. 李强 -3",
    ]
    assert await say(bot, "o-wang", f"巡逻排行 {wang.team_id}") == "此功能仅限本所民警使用。"
    async with bot.app[sessionmaker_key]() as session:
        audited = (await session.scalars(select(AuditEntry.action))).all()
    assert audited.count("points") == 2


async def test_the_roster_history_and_a_suspended_volunteer(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    assert await say(bot, "o-cop", "在岗巡逻") == "现在没有队员在巡逻。"
    await on_patrol(bot, platform)
    wang = await record_of(bot, "o-wang")
    assert wang is not None
    roster = await say(bot, "o-cop", "在岗巡逻")
    assert roster.startswith("在岗巡逻 1 人：") and f"{wang.id}. 王芳（新华村红袖标队）" in roster
    assert f"{HOME[0]:.4f},{HOME[1]:.4f}" in roster
    clock.advance(timedelta(minutes=40).total_seconds())
    await say(bot, "o-wang", "结束巡逻")
    history = await say(bot, "o-cop", f"巡逻记录 {wang.id}")
    assert history.splitlines()[0] == "王芳 最近的巡逻（积分 0）："
    assert "40 分钟" in history

    assert await say(bot, "o-cop", f"暂停队员 {wang.id}") == "已暂停 王芳 的队员资格。"
    assert await say(bot, "o-wang", "开始巡逻") == SUSPENDED
    click = await bot.sender.click("o-wang", "PATROL_START")
    assert click.reply is not None and click.reply.content == SUSPENDED
    assert len(await shifts(bot)) == 1  # no new shift
    assert await say(bot, "o-cop", f"恢复队员 {wang.id}") == "已恢复 王芳 的队员资格。"
    assert "巡逻开始" in await say(bot, "o-wang", "开始巡逻")
    # Officers' words typed on patrol are refused, not taken for a report.
    assert await say(bot, "o-wang", f"积分 {wang.id} +100 自己加") == "此功能仅限本所民警使用。"
    # Suspended on patrol: the shift ends with the role.
    await say(bot, "o-cop", f"暂停队员 {wang.id}")
    assert [s.closed_by for s in await shifts(bot)] == ["volunteer", "officer"]
    assert await say(bot, "o-wang", "结束巡逻") == SUSPENDED


async def test_an_officer_invites_from_the_chat(
    bot: Bot, platform: FakeWeChat, clock: FakeClock
) -> None:
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    team_id = await team(bot)
    invited = await say(bot, "o-cop", f"邀请队员 {team_id} 赵敏 调解员")
    assert invited.startswith("已为 新华村红袖标队 邀请 赵敏（调解员）。")
    found = re.search(r"注册 (\w+)", invited)
    assert found is not None and "7 天内有效" in invited
    assert (await say(bot, "o-zhao", f"注册 {found[1]}")).startswith("登记成功：赵敏")
    assert "没有编号为 99 的巡逻队" in await say(bot, "o-cop", "邀请队员 99 钱七")
    # Issued on the bot's clock: seven days and a minute later the code is dead.
    late = await say(bot, "o-cop", f"邀请队员 {team_id} 孙八")
    found = re.search(r"注册 (\w+)", late)
    assert found is not None
    clock.advance(timedelta(days=7, minutes=1).total_seconds())
    assert "已过期" in await say(bot, "o-sun", f"注册 {found[1]}")
    assert await say(bot, "o-wang", f"邀请队员 {team_id} 李四") == "此功能仅限本所民警使用。"
    helped = await say(bot, "o-cop", "民警帮助")
    assert "在岗巡逻" in helped and "有价值" in helped


async def test_the_station_manages_volunteers_from_the_command_line(
    bot: Bot, platform: FakeWeChat
) -> None:
    platform.follow("o-wang")
    await volunteer(bot, "o-wang")
    wang = await record_of(bot, "o-wang")
    assert wang is not None
    settings = bot.app[settings_key]
    parser = build_parser()
    listing = await volunteer_list(settings, parser.parse_args(["patrol", "list"]))
    assert f"{wang.id}\t王芳\t新华村红袖标队\tinformant\tactive\t0 points" in listing
    args = parser.parse_args(["patrol", "suspend", str(wang.id)])
    assert await args.admin(settings, args) == f"volunteer {wang.id} (王芳) is suspended"
    assert await say(bot, "o-wang", "开始巡逻") == SUSPENDED
    teams = parser.parse_args(["patrol", "teams"])
    assert await teams.admin(settings, teams) == (
        f"{wang.team_id}\t新华村红袖标队\t0 active (fewer than 5)"
    )
    args = parser.parse_args(["patrol", "resume", str(wang.id)])
    assert await args.admin(settings, args) == f"volunteer {wang.id} (王芳) is active"
    args = parser.parse_args(["patrol", "invite", "--team", "1", "--name", "钱七", "--role", "x"])
    assert "role must be one of 宣传员, 情报员, 调解员" in await args.admin(settings, args)
    # Unfollowing keeps the record and its points, not the account.
    await bot.sender.unsubscribe("o-wang")
    assert await record_of(bot, "o-wang") is None
    listing = await volunteer_list(settings, parser.parse_args(["patrol", "list"]))
    assert f"{wang.id}\t王芳\t新华村红袖标队\tinformant\tleft" in listing
