"""Statistics against a fixture computed by hand: week 2026-W38 (14–20 September, Beijing),
its 环比 (W37, where nobody rated) and its 同比 (2025-W38), in chat, on the command line
and in the chief's weekly digest."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import build_parser
from bot.typedefs import keys_key, pusher_key, sessionmaker_key, settings_key
from handlers.officers.stats import send_weekly_digest
from handlers.officers.statsview import rate
from handlers.tips.service import RATINGS
from simulator import FakeClock, FakeWeChat
from storage.clock import CHINA
from storage.models import AuditEntry, Community, Handoff, JobRun, Tip, TipEvent
from storage.periods import Period
from storage.stats import SATISFIED, Rate, StatsRepo, nearest_rank
from storage.users import EnrolmentRepo
from tests.conftest import Bot
from tests.test_alerts import officer
from tests.test_officers import REFUSED
from tests.test_tips import say

StartBot = Callable[..., Awaitable[Bot]]
H, M = timedelta(hours=1), timedelta(minutes=1)


def bj(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA)


class Case(NamedTuple):
    code: str
    at: datetime  # received
    category: str
    level: str
    where: str | None = None  # the community
    accepted: timedelta | None = None  # after it was received
    resolved: datetime | None = None
    rated: tuple[datetime, str] | None = None


XH, DC, LAST_YEAR = "新华社区", "东城社区", 2025
TIPS = [
    # 2026-W38, the period. Accepted after 1, 2, 0.5, 4, 3 h; resolved after 24, 72, 6 and
    # 111.5 h (T4 on Sunday at 23:30); rated 满意, 不满意, 基本满意.
    Case("T1", bj(9, 14), "theft", "blue", XH, H, bj(9, 15), (bj(9, 15, 12), "满意")),
    Case("T2", bj(9, 14, 15), "theft", "blue", XH, 2 * H, bj(9, 17, 15), (bj(9, 18), "不满意")),
    Case("T3", bj(9, 15, 10), "fraud", "red", DC, 30 * M, bj(9, 15, 16), (bj(9, 16), "基本满意")),
    Case("T4", bj(9, 16, 8), "dispute", "yellow", None, 4 * H, bj(9, 20, 23, 30)),
    Case("T5", bj(9, 16, 20), "theft", "yellow", XH, 3 * H),
    Case("T6", bj(9, 18, 11), "other", "red"),  # rejected, never accepted
    # 2026-W37, 环比: P1 is rated and P2 resolved only after the week, so not in its report.
    Case("P1", bj(9, 8, 10), "theft", "blue", XH, 2 * H, bj(9, 9, 10), (bj(9, 15, 9), "满意")),
    Case("P2", bj(9, 10, 9), "fire", "yellow", DC, H, bj(9, 14, 9)),
    Case("P3", bj(9, 12, 18), "theft", "blue"),
    # 2025-W38, 同比.
    Case(
        "Y1",
        bj(9, 15, 10, year=LAST_YEAR),
        "theft",
        "blue",
        XH,
        H,
        bj(9, 15, 12, year=LAST_YEAR),
        (bj(9, 15, 13, year=LAST_YEAR), "满意"),
    ),
    Case("Y2", bj(9, 17, 14, year=LAST_YEAR), "fraud", "red", XH),
    # Received the minute before W37 (resolved and rated inside it): in no report here.
    Case("O1", bj(9, 6, 23, 59), "theft", "red", DC, H, bj(9, 7, 1), (bj(9, 7, 2), "不满意")),
]
# received, answered after
HANDOFFS = [
    (bj(9, 14, 10), 30 * M),
    (bj(9, 15, 14), 2 * H),
    (bj(9, 17, 9), H),
    (bj(9, 19, 16), None),
    (bj(9, 20, 22), 11 * H),  # answered on Monday: after the week
    (bj(9, 9, 10), 4 * H),  # W37
]


async def seed(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The fixture, inserted as rows: tips, their trail of events, hand-offs."""
    async with sessionmaker.begin() as session:
        communities = {
            name: Community(code=code, name=name, aliases=[], created_at=bj(1, 1, year=2025))
            for code, name in (("xinhua", "新华社区"), ("dongcheng", "东城社区"))
        }
        session.add_all(communities.values())
        await session.flush()
        for case in TIPS:
            status = "resolved" if case.resolved else "accepted" if case.accepted else "submitted"
            status = "rejected" if case.code == "T6" else status
            tip = Tip(
                code=case.code,
                category=case.category,
                level=case.level,
                status=status,
                source="guided",
                community_id=communities[case.where].id if case.where else None,
                satisfaction=case.rated[1] if case.rated else None,
                created_at=case.at,
                updated_at=case.at,
                resolved_at=case.resolved,
            )
            session.add(tip)
            await session.flush()
            trail = [(case.at, "status", "submitted"), (case.at, "level", case.level)]
            if case.accepted:
                trail.append((case.at + case.accepted, "status", "accepted"))
            if case.resolved:
                trail.append((case.resolved, "status", "resolved"))
            if status == "rejected":
                trail.append((case.at + H, "status", "rejected"))
            if case.rated:
                trail.append((case.rated[0], "rating", case.rated[1]))
            session.add_all(
                TipEvent(tip_id=tip.id, at=when, actor="system", action=action, to_value=value)
                for when, action, value in trail
            )
        session.add_all(
            Handoff(
                openid="o-asker",
                question="问题",
                created_at=at,
                answered_at=at + after if after else None,
                answer="答复" if after else None,
            )
            for at, after in HANDOFFS
        )


def bot_at(clock: FakeClock, moment: datetime) -> None:
    clock.set(moment.timestamp())


# -- the numbers themselves ---------------------------------------------------------------


def test_nearest_rank_p90_and_the_satisfied_ratings() -> None:
    assert nearest_rank(range(1, 11), 90) == 9
    assert nearest_rank([float(n) for n in range(1, 21)], 90) == 18
    assert nearest_rank([float(n) for n in range(1, 12)], 90) == 10  # ⌈9.9⌉
    assert nearest_rank([float(n) for n in range(1, 71)], 90) == 63  # not 64 (0.9·70)
    assert nearest_rank([7.0], 90) == 7
    assert set(RATINGS.values()) > SATISFIED
    assert rate(Rate(0, 0)) == "—（0/0）" and rate(Rate(38, 46)) == "83%（38/46）"


def test_periods_in_beijing_time() -> None:
    week = Period.days(date(2026, 9, 14), date(2026, 9, 20))
    assert week.start == bj(9, 14) and week.end == bj(9, 21)
    assert week.previous() == Period(bj(9, 7), bj(9, 14))
    assert week.year_before() == Period(bj(9, 14, year=2025), bj(9, 21, year=2025))
    assert week.same_week_last_year() == Period(bj(9, 15, year=2025), bj(9, 22, year=2025))
    assert Period.last_week(bj(9, 21, 8)) == week and week.iso_week() == "2026-W38"
    so_far = Period.week_so_far(bj(9, 20, 23))
    assert so_far == Period(bj(9, 14), bj(9, 20, 23))
    leap = Period.days(date(2028, 2, 29), date(2028, 2, 29)).year_before()
    assert leap.start == bj(2, 28, year=2027)
    # 2026 has an ISO week 53; 2025 does not: its week 52 stands in.
    week53 = Period.week_so_far(bj(12, 30, 12))
    assert week53.iso_week() == "2026-W53"
    assert week53.same_week_last_year().start == bj(12, 22, year=2025)


async def test_a_week_its_previous_week_and_the_same_week_last_year(bot: Bot) -> None:
    await seed(bot.app[sessionmaker_key])
    week = Period.days(date(2026, 9, 14), date(2026, 9, 20))
    async with bot.app[sessionmaker_key]() as session:
        repo = StatsRepo(session)
        now = await repo.report(week)
        prev = await repo.report(week.previous())
        year = await repo.report(week.same_week_last_year())
        empty = await repo.report(Period.days(date(2024, 1, 1), date(2024, 1, 7)))

    assert now.received == 6
    assert now.by_category == {"theft": 3, "fraud": 1, "dispute": 1, "other": 1}
    assert now.by_level == {"blue": 2, "yellow": 2, "red": 2}
    assert now.by_community == {"新华社区": 3, "东城社区": 1, None: 2}
    assert (now.acceptance.n, now.acceptance.median, now.acceptance.p90) == (5, 2 * H, 4 * H)
    assert now.resolution.n == 4
    assert (now.resolution.median, now.resolution.p90) == (48 * H, 111.5 * H)  # (24+72)/2
    assert now.resolved == Rate(4, 6) and now.satisfaction == Rate(2, 3)
    assert (now.handoffs, now.answered) == (5, 3)
    assert (now.response.median, now.response.p90) == (H, 2 * H)

    assert prev.received == 3 and prev.by_community == {"新华社区": 1, "东城社区": 1, None: 1}
    assert (prev.acceptance.n, prev.acceptance.median, prev.acceptance.p90) == (2, 1.5 * H, 2 * H)
    assert prev.resolved == Rate(1, 3) and prev.resolution.median == 24 * H
    assert prev.satisfaction == Rate(0, 0) and prev.satisfaction.value is None  # nobody rated
    assert (prev.handoffs, prev.answered, prev.response.median) == (1, 1, 4 * H)

    assert year.received == 2 and year.by_category == {"theft": 1, "fraud": 1}
    assert year.resolved == Rate(1, 2) and year.satisfaction == Rate(1, 1)
    assert (year.acceptance.median, year.resolution.p90) == (H, 2 * H)
    assert (year.handoffs, year.response.n, year.response.median) == (0, 0, None)

    assert empty.received == 0 and empty.resolved == Rate(0, 0)
    assert empty.acceptance.median is None and empty.resolution.p90 is None


# -- 本周统计 --------------------------------------------------------------------------------


async def audit_count(bot: Bot) -> int:
    async with bot.app[sessionmaker_key]() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_this_week_so_far_in_chat_and_everyone_else_is_refused(
    start_bot: StartBot,
    platform: FakeWeChat,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot_at(clock, bj(9, 20, 23))  # Sunday 23:00: T4 is resolved half an hour too late
    bot = await start_bot()
    await seed(bot.app[sessionmaker_key])
    await officer(bot, platform, "o-aux", "李娜", "auxiliary")
    before = await audit_count(bot)
    answer = await say(bot, "o-aux", "本周统计")
    assert answer.split("\n") == [
        "本周统计（9月14日至今）",
        "收到线索 6｜环比 3｜同比 2",
        "办结率 50%（3/6）",
        " 环比 33%（1/3） 同比 50%（1/2）",
        "满意度 67%（2/3）",
        " 环比 —（0/0） 同比 100%（1/1）",
        "受理 5件 中位2小时 P90 4小时",
        " 环比 中位1.5小时 同比 中位1小时",
        "办结 3件 中位24小时 P90 3天",
        " 环比 中位24小时 同比 中位2小时",
        "转人工 5｜已答复 3",
        " 答复 中位1小时 P90 2小时",
    ]
    assert all(len(line) <= 24 for line in answer.split("\n"))  # a phone's width
    assert await audit_count(bot) == before + 1
    assert "本周统计" in await say(bot, "o-aux", "民警帮助")

    now = datetime.fromtimestamp(clock(), tz=UTC)
    async with bot.app[sessionmaker_key].begin() as session:
        await EnrolmentRepo(session).create(
            code="P7", role="patrol", community_id=None, now=now, expires_at=now + timedelta(1)
        )
    await bot.sender.scan("o-patrol", "e:P7")
    before = await audit_count(bot)
    caplog.set_level(logging.WARNING, logger="pingan.officers")
    for outsider in ("o-resident", "o-patrol"):
        assert await say(bot, outsider, "本周统计") == REFUSED
    assert await audit_count(bot) == before
    assert sum("refused" in r.getMessage() for r in caplog.records) == 2


# -- pingan report ------------------------------------------------------------------------


async def report(bot: Bot, *argv: str) -> str:
    args = build_parser().parse_args(["report", *argv])
    return str(await args.admin(bot.app[settings_key], args))


async def test_pingan_report_text_and_csv(bot: Bot) -> None:
    await seed(bot.app[sessionmaker_key])
    text = (await report(bot, "--from", "2026-09-14", "--to", "2026-09-20")).split("\n")
    assert text[:3] == [
        "统计 2026-09-14 至 2026-09-20（北京时间）",
        "环比 2026-09-07 至 2026-09-13；同比 2025-09-14 至 2025-09-20",
        "收到线索：6｜环比 3｜同比 2",
    ]
    for line in (
        "类别·盗窃：3｜环比 2｜同比 1",
        "类别·消防隐患：0｜环比 1｜同比 0",
        "级别·红色：2｜环比 0｜同比 1",
        "社区·未选社区：2｜环比 1｜同比 0",
        "受理用时中位数：2小时｜环比 1.5小时｜同比 1小时",
        "办结率：67%（4/6）｜环比 33%（1/3）｜同比 50%（1/2）",
        "办结用时中位数：2天｜环比 24小时｜同比 2小时",
        "办结用时P90：4.6天｜环比 24小时｜同比 2小时",
        "满意度：67%（2/3）｜环比 —（0/0）｜同比 100%（1/1）",
        "已评价：3｜环比 0｜同比 1",
        "答复用时中位数：1小时｜环比 4小时｜同比 —",
    ):
        assert line in text

    printed = await report(bot, "--from", "2026-09-14", "--to", "2026-09-20", "--csv")
    table = printed.split("\n")
    assert table[0] == "metric,value,count,previous,previous_count,last_year,last_year_count"
    assert len({len(row) for row in csv.reader(io.StringIO(printed))}) == 1
    for row in (
        "received,6,,3,,2,",
        "category:theft,3,,2,,1,",
        "community:未选社区,2,,1,,0,",
        "resolution_rate,0.6667,6,0.3333,3,0.5000,2",
        "satisfaction,0.6667,3,,0,1.0000,1",  # nobody rated in the previous week
        "acceptance_median,120.0,5,90.0,2,60.0,1",  # minutes, over how many tips
        "resolution_p90,6690.0,4,1440.0,1,120.0,1",  # 111.5 hours
        "response_p90,120.0,3,240.0,1,,0",
    ):
        assert row in table

    assert "before" in await report(bot, "--from", "2026-09-20", "--to", "2026-09-14")
    assert "YYYY-MM-DD" in await report(bot, "--from", "14/09/2026", "--to", "2026-09-20")


# -- the weekly digest --------------------------------------------------------------------


async def digest(bot: Bot, clock: FakeClock) -> bool:
    return await send_weekly_digest(
        sessionmaker=bot.app[sessionmaker_key],
        pusher=bot.app[pusher_key],
        keys=bot.app[keys_key],
        clock=clock,
    )


def digests(platform: FakeWeChat, openid: str) -> list[str]:
    return [str(m["content"]) for m in platform.inbox(openid) if "上周统计" in str(m["content"])]


async def test_the_weekly_digest_reaches_the_chief_once(
    start_bot: StartBot, platform: FakeWeChat, clock: FakeClock
) -> None:
    bot_at(clock, bj(9, 21, 7, 59))  # Monday, a minute before the digest is due
    bot = await start_bot()
    await seed(bot.app[sessionmaker_key])
    await officer(bot, platform, "o-chief", "张伟", "chief")
    await officer(bot, platform, "o-cop", "刘洋", "officer")
    assert not await digest(bot, clock)
    clock.advance(M.total_seconds())
    assert await digest(bot, clock)
    assert not await digest(bot, clock)  # once
    await bot.settle()
    [sent] = digests(platform, "o-chief")
    assert sent.split("\n") == [
        "上周统计（9月14日–9月20日）",
        "收到线索 6｜环比 3｜同比 2",
        "办结率 67%（4/6）",
        " 环比 33%（1/3） 同比 50%（1/2）",
        "满意度 67%（2/3）",
        " 环比 —（0/0） 同比 100%（1/1）",
        "受理 5件 中位2小时 P90 4小时",
        " 环比 中位1.5小时 同比 中位1小时",
        "办结 4件 中位2天 P90 4.6天",
        " 环比 中位24小时 同比 中位2小时",
        "转人工 5｜已答复 3",
        " 答复 中位1小时 P90 2小时",
        "类别：盗窃 3、矛盾纠纷 1、电信诈骗 1",
        "社区：新华社区 3、未选社区 2、东城社区 1",
        "红色 2｜黄色 2｜蓝色 2",
    ]
    assert digests(platform, "o-cop") == []  # the chief's only

    # Three weeks down: only the latest week goes out, once, whoever asks at the same time.
    clock.advance(timedelta(weeks=3).total_seconds())
    await say(bot, "o-chief", "民警帮助")  # the chief's 48-hour window is open again
    assert sorted(await asyncio.gather(digest(bot, clock), digest(bot, clock))) == [False, True]
    await bot.settle()
    assert [d.split("\n")[0] for d in digests(platform, "o-chief")] == [
        "上周统计（9月14日–9月20日）",
        "上周统计（10月5日–10月11日）",
    ]
    async with bot.app[sessionmaker_key]() as session:
        runs = (await session.execute(select(JobRun.period).order_by(JobRun.period))).scalars()
        assert list(runs) == ["2026-W38", "2026-W41"]
