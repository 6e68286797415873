"""Statistics for officers: `本周统计` in chat, and the weekly digest pushed to the chief.

The numbers come from ``storage.stats`` (definitions there); this module picks the periods
and who may see them. Weeks run Monday to Sunday, Beijing time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.filters import Keyword
from bot.i18n import _
from bot.keys import Keys
from bot.push import Outbox, Pusher
from bot.router import Router
from handlers.officers.access import OfficerOnly, audit, refuse
from handlers.officers.statsview import breakdown, brief, day, last_day
from handlers.tips.rules import load_rules
from storage.clock import Clock, utc
from storage.models import JobRun, Officer
from storage.officers import OfficerRepo
from storage.periods import Period, week_start
from storage.stats import Comparison, StatsRepo
from storage.upsert import insert_ignore

log = logging.getLogger("pingan.officers")

router = Router("officer-stats")

COMMAND = "本周统计"
DIGEST_JOB = "weekly-digest"
#: The digest of last week goes out once this much of Monday (Beijing time) has passed.
DIGEST_AFTER = timedelta(hours=8)


async def week_comparison(session: AsyncSession, week: Period) -> Comparison:
    """A week (or its first days) beside last week's same span and the same week last year."""
    return await StatsRepo(session).compare(
        week, previous=week.shifted(-timedelta(weeks=1)), last_year=week.same_week_last_year()
    )


@router.message(Keyword(COMMAND), OfficerOnly())
async def this_week(session: AsyncSession, officer: Officer, now: datetime) -> str:
    week = Period.week_so_far(now)
    audit(session, officer, "stats", COMMAND, now)
    title = _("本周统计（{start}至今）").format(start=day(week.start))
    return brief(title, await week_comparison(session, week))


router.message(Keyword(COMMAND))(refuse)


async def send_weekly_digest(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    pusher: Pusher,
    keys: Keys,
    clock: Clock,
) -> bool:
    """Last week's statistics to every active chief, once per week across all processes.

    Due from Monday 08:00 (Beijing); before that nothing is sent, so after downtime only the
    latest week goes out. The ``job_runs`` row is inserted in the transaction that queues the
    pushes: whoever inserts it sends, a process that finds it taken does nothing. With no
    chief bound yet nothing is recorded, and the week's digest waits for one.
    """
    now = utc(clock)
    if now < week_start(now) + DIGEST_AFTER:
        return False
    week = Period.last_week(now)
    async with sessionmaker.begin() as session:
        everyone = await OfficerRepo(session).active_all()
        chiefs = [o.openid for o in everyone if o.rank == "chief" and o.openid]
        if not chiefs:
            return False
        if not await insert_ignore(
            session, JobRun, name=DIGEST_JOB, period=week.iso_week(), ran_at=now
        ):
            return False  # another process has sent this week's digest
        title = _("上周统计（{first}–{last}）").format(
            first=day(week.start), last=day(last_day(week))
        )
        comparison = await week_comparison(session, week)
        text = "\n".join([brief(title, comparison), *breakdown(comparison.current, load_rules())])
        outbox = Outbox(session, now, keys)
        for openid in chiefs:
            await outbox.text(openid, text)
        ids = outbox.ids
    log.info("weekly digest %s queued for %d chiefs", week.iso_week(), len(ids))
    await pusher.flush(ids)
    return True
