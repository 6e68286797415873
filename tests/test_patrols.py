"""Red-armband patrols through the webhook: enrolment, shifts with location, quick reports,
auto-close, and who may do what (both stores, an injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlalchemy import select

from bot.typedefs import clock_key, keys_key, pusher_key, sessionmaker_key
from handlers.patrols.shifts import sweep
from simulator import FakeClock, FakeWeChat
from storage.models import TipMedia, User
from storage.patrol_models import PatrolActivity, PatrolReport, TrackPoint
from storage.patrols import PatrolRepo
from tests.conftest import Bot
from tests.patrolkit import HOME, invitation, ledger, north, record_of, shifts, team, volunteer
from tests.test_officers import REFUSED as OFFICERS_ONLY
from tests.test_tips import jpeg_with_gps, say, tips

INVALID = "登记码无效、已过期或已被使用，请向民警重新领取。"
VOLUNTEERS_ONLY = "此功能仅限登记的巡防队员使用。"


async def test_enrolment_good_reused_wrong_and_expired(bot: Bot, clock: FakeClock) -> None:
    team_id = await team(bot)
    code = await invitation(bot, team_id, "王芳", "情报员")
    welcome = await say(bot, "o-wang", f"注册 {code}")
    assert welcome.startswith("登记成功：王芳，新华村红袖标队情报员。")
    enrolled = await record_of(bot, "o-wang")
    assert enrolled is not None and (enrolled.status, enrolled.role) == ("active", "informant")
    async with bot.app[sessionmaker_key]() as session:
        user = await session.get(User, "o-wang")
    assert user is not None and user.role == "patrol"

    assert await say(bot, "o-other", f"注册 {code}") == INVALID  # reused
    assert await say(bot, "o-other", "注册 PNOSUCH234") == INVALID  # wrong
    now = datetime.fromtimestamp(clock(), tz=UTC)  # the CLI runs on the system's clock
    async with bot.app[sessionmaker_key].begin() as session:
        repo = PatrolRepo(session)
        found = await repo.team(team_id)
        assert found is not None
        await repo.invite(
            found, name="李强", role="publicist", code="PLATE2345", now=now, valid=timedelta(7)
        )
    late = "PLATE2345"
    clock.advance(timedelta(days=7, minutes=1).total_seconds())  # the rules' 7 days
    assert await say(bot, "o-late", f"注册 {late}") == INVALID  # expired
    assert await record_of(bot, "o-other") is None and await record_of(bot, "o-late") is None

    scanned = await invitation(bot, team_id, "赵敏", "调解员")
    answer = await bot.sender.scan("o-zhao", f"e:{scanned}")
    assert answer.reply is not None and "登记成功：赵敏" in answer.reply.content
    assert "调解员" in answer.reply.content


async def test_a_shift_with_its_location_storm_thinned(bot: Bot, clock: FakeClock) -> None:
    await volunteer(bot, "o-wang")
    assert "请发送您的位置签到" in await say(bot, "o-wang", "开始巡逻")
    checked = await bot.sender.location("o-wang", *HOME, "新华村村委会")
    assert checked.reply is not None and checked.reply.content.startswith("签到成功")
    assert "远离" not in checked.reply.content and "公里" not in checked.reply.content

    # WeChat reports the position every 5 s while the chat is open: 10 minutes of walking
    # north at 1 m/s (120 events), then 5 minutes standing still (60 more).
    for step in range(1, 121):
        clock.advance(5)
        sent = await bot.sender.location_event("o-wang", *north(step * 5.0))
        assert sent.reply is None  # no answer to a LOCATION event
    for _ in range(60):
        clock.advance(5)
        await bot.sender.location_event("o-wang", *north(600.0))
    async with bot.app[sessionmaker_key]() as session:
        points = list((await session.scalars(select(TrackPoint).order_by(TrackPoint.id))).all())
    # The check-in, then one a minute while walking; none while standing still.
    assert len(points) == 11
    gaps = [(b.at - a.at).total_seconds() for a, b in pairwise(points)]
    assert min(gaps) >= 60

    clock.advance(timedelta(minutes=45).total_seconds())
    summary = await say(bot, "o-wang", "结束巡逻")
    assert "巡逻已结束" in summary and "时长 1 小时 0 分" in summary
    assert "里程 600 米" in summary and "上报 0 条，获得积分 2" in summary
    [shift] = await shifts(bot)
    assert shift.closed_by == "volunteer" and shift.ended_at is not None
    assert 590 < shift.distance_m < 610 and not shift.far
    assert [(e.rule, e.points) for e in await ledger(bot)] == [("hours", 2)]
    assert "没有进行中的巡逻" in await say(bot, "o-wang", "结束巡逻")


async def test_a_check_in_far_away_is_accepted_and_flagged(bot: Bot) -> None:
    await volunteer(bot, "o-wang")
    await say(bot, "o-wang", "开始巡逻")
    checked = await bot.sender.location("o-wang", *north(5000), "邻村")
    assert checked.reply is not None and "签到成功" in checked.reply.content
    assert "约 5.0 公里" in checked.reply.content
    [shift] = await shifts(bot)
    assert shift.far and shift.ended_at is None


async def test_quick_reports_on_patrol(bot: Bot, platform: FakeWeChat) -> None:
    await volunteer(bot, "o-wang")
    await say(bot, "o-wang", "开始巡逻")
    await bot.sender.location("o-wang", *HOME, "新华村")
    # A photo, then a sentence: two turns.
    photo = await bot.sender.image("o-wang", jpeg_with_gps())
    assert photo.reply is not None and "已收到照片 1 张" in photo.reply.content
    filed = await say(bot, "o-wang", "村口变压器旁堆满了柴草")
    assert filed.startswith("已上报，编号 ") and "（带位置）" in filed
    # Text alone: asked once, so chatter files nothing.
    assert "上报这条情况吗" in await say(bot, "o-wang", "3组有人在河边电鱼")
    assert "已上报" in await say(bot, "o-wang", "1")
    assert "上报这条情况吗" in await say(bot, "o-wang", "今天天气不错")
    assert await say(bot, "o-wang", "2") == "好的，没有上报。"
    assert "已上报" in await say(bot, "o-wang", "上报 小卖部门口有人兜售假烟")
    # Work logged without a tip each.
    assert await say(bot, "o-wang", "走访 3") == "已记录：走访 3户，积分 +3。"
    assert await say(bot, "o-wang", "宣传 20份") == "已记录：宣传 20份。"
    assert await say(bot, "o-wang", "隐患 1") == "已记录：隐患 1处，积分 +3。"

    stored = await tips(bot)
    assert [t.description for t in stored] == [
        "村口变压器旁堆满了柴草",
        "3组有人在河边电鱼",
        "小卖部门口有人兜售假烟",
    ]
    first = stored[0]
    assert first.code in filed and first.source == "patrol"
    # 堆满 is a fire hazard's word (intents.yaml): its category, and that category's level.
    assert (first.category, first.level) == ("fire", "yellow")
    assert [t.category for t in stored[1:]] == ["other", "other"]
    assert not first.anonymous and first.reporter_name == "王芳"  # volunteers are identified
    assert (first.lat, first.lng) == HOME
    async with bot.app[sessionmaker_key]() as session:
        media = list((await session.scalars(select(TipMedia))).all())
        links = list((await session.scalars(select(PatrolReport))).all())
        work = list((await session.scalars(select(PatrolActivity))).all())
    assert [(m.tip_id, m.kind) for m in media] == [(first.id, "image")]
    [shift] = await shifts(bot)
    assert {(r.tip_id, r.shift_id, r.kind) for r in links} == {
        (t.id, shift.id, "report") for t in stored
    }
    assert sorted((w.kind, w.count) for w in work) == [
        ("hazard", 1),
        ("publicity", 20),
        ("visit", 3),
    ]
    # The volunteer finds their reports among their own tips.
    assert first.code in await say(bot, "o-wang", "我的举报")
    summary = await say(bot, "o-wang", "结束巡逻")
    assert "上报 3 条" in summary and "获得积分 6" in summary


async def test_a_shift_left_open_closes_itself_after_six_hours(
    bot: Bot, clock: FakeClock, platform: FakeWeChat
) -> None:
    await volunteer(bot, "o-wang")
    await say(bot, "o-wang", "开始巡逻")
    await bot.sender.location("o-wang", *HOME, "新华村")
    clock.advance(timedelta(hours=2, minutes=30).total_seconds())
    await say(bot, "o-wang", "走访 1")  # the last sign of life
    clock.advance(timedelta(hours=5).total_seconds())
    answer = await say(bot, "o-wang", "我的积分")
    assert answer.startswith("您的巡逻超过 6 小时未结束，已自动结束")
    assert "时长 2 小时 29 分" in answer and "王芳，您的积分：5" in answer
    [shift] = await shifts(bot)
    assert shift.closed_by == "auto" and shift.ended_at is not None
    # Counted to the last sign of life, kept to the minute.
    assert timedelta(hours=2, minutes=29) < shift.ended_at - shift.started_at
    assert shift.ended_at - shift.started_at <= timedelta(hours=2, minutes=30)
    assert "没有进行中的巡逻" in await say(bot, "o-wang", "结束巡逻")

    # Nobody writes: the scheduler's sweep closes it and tells the volunteer.
    platform.follow("o-li")
    await volunteer(bot, "o-li", "李强")
    await say(bot, "o-li", "开始巡逻")
    clock.advance(timedelta(hours=6, minutes=1).total_seconds())
    closed = await sweep(
        sessionmaker=bot.app[sessionmaker_key],
        pusher=bot.app[pusher_key],
        keys=bot.app[keys_key],
        clock=bot.app[clock_key],
    )
    assert closed == 1
    assert any("已自动结束" in str(m["content"]) for m in platform.inbox("o-li"))
    assert [s.closed_by for s in await shifts(bot)] == ["auto", "auto"]


async def test_residents_cannot_use_patrol_commands(bot: Bot) -> None:
    for words in ("开始巡逻", "结束巡逻", "我的积分", "巡逻排行"):
        assert await say(bot, "o-resident", words) == VOLUNTEERS_ONLY
    click = await bot.sender.click("o-resident", "PATROL_START")
    assert click.reply is not None and click.reply.content == VOLUNTEERS_ONLY
    assert await shifts(bot) == []
    # A resident's help says nothing of patrols; a volunteer's only what a volunteer can do.
    assert "巡逻" not in await say(bot, "o-resident", "帮助")
    await volunteer(bot, "o-wang")
    helped = await say(bot, "o-wang", "帮助")
    assert "开始巡逻" in helped and "举报线索（可匿名）" not in helped
    # And volunteers hold no officer powers.
    assert await say(bot, "o-wang", "在岗巡逻") == OFFICERS_ONLY


async def test_typed_sos_in_any_patrol_step_and_a_residents_report_on_patrol(
    bot: Bot, platform: FakeWeChat
) -> None:
    platform.follow("o-wang")
    await volunteer(bot, "o-wang")
    await say(bot, "o-wang", "开始巡逻")
    await bot.sender.location("o-wang", *HOME, "新华村")
    await bot.sender.image("o-wang", jpeg_with_gps())  # a report half-written…
    answer = await say(bot, "o-wang", "求助")  # …is no description for 求助
    assert answer.startswith("求助已发出（编号 ") and "拨打 110" in answer
    assert answer.endswith("目前没有可以通知的值班民警，请务必立即拨打 110。")
    [sos] = await tips(bot)
    assert sos.level == "red" and sos.description.startswith("巡防队员求助：王芳")
    # 举报 on patrol is the resident's report, and its place step takes the location.
    assert "请选择线索类别" in await say(bot, "o-wang", "举报")
    assert "描述" in await say(bot, "o-wang", "2")
    assert "地点" in await say(bot, "o-wang", "车棚里的电动车被偷了")
    placed = await bot.sender.location("o-wang", *north(100), "车棚")
    assert placed.reply is not None and "照片" in placed.reply.content
    [shift] = await shifts(bot)
    assert shift.lat == HOME[0]  # not taken as the patrol's position


async def test_an_anonymous_tip_filed_on_patrol_leaves_no_trace_on_the_shift(
    bot: Bot, clock: FakeClock
) -> None:
    await volunteer(bot, "o-wang")
    await say(bot, "o-wang", "开始巡逻")
    await bot.sender.location("o-wang", *HOME, "新华村")
    clock.advance(700.5)
    for words in ("举报", "2", "车棚里的电动车被偷了", "跳过", "完成", "1", "1"):
        await say(bot, "o-wang", words)
    [tip] = await tips(bot)
    assert tip.anonymous and tip.source == "guided" and tip.reporter_name is None
    [shift] = await shifts(bot)
    assert shift.seen_at == shift.started_at  # the report's steps left no time on the shift
    async with bot.app[sessionmaker_key]() as session:
        assert (await session.scalars(select(PatrolReport))).all() == []
    clock.advance(61)
    await say(bot, "o-wang", "走访 1")  # said on patrol: seen, to the minute
    [shift] = await shifts(bot)
    assert shift.seen_at.second == 0 and shift.seen_at > tip.created_at
