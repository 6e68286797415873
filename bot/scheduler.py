"""The one clock for all timed work: the only module that imports APScheduler.

Features declare their jobs (a ``JOBS`` tuple of :class:`Job`); ``bot.timetable`` composes
them. Exactly one process runs them: the holder of the leadership lock (``bot.leader``).
The others stand by, try again every ``retry`` seconds, and take over when the leader dies.

Two ways to drive the same jobs, through the same trampoline (:meth:`Scheduler._fire`):

* ``clock=None`` (production): APScheduler's ``AsyncIOScheduler`` with an in-memory job store
  fires them on the system time. The schedules come from code, never from a shared job store:
  with a shared store every process would fire every job.
* a clock (tests, the simulator's ``FakeClock``): APScheduler reads ``datetime.now`` and sleeps
  on the event loop, so it cannot follow a fake clock. Nothing fires by itself; the caller
  asks :meth:`Scheduler.run_due`, which walks the same APScheduler triggers the way its
  scheduler does (every missed fire time up to now, coalesced into one run).

Every job must be idempotent and safe to run late (a standby taking over runs its interval
jobs at once); a failing job is logged without its message and the others go on. When cron
jobs last ran is kept in the store (``RunLog``): a cron time missed while no process led
fires once when one leads again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.leader import Leadership
from bot.loggers import safe_exception
from storage.clock import Clock, utc

log = logging.getLogger("pingan.scheduler")

#: Cron fields are Beijing time, as the stations' days are.
CHINA = ZoneInfo("Asia/Shanghai")

C = TypeVar("C")


@dataclass(frozen=True)
class Every:
    """Every so many seconds, the first run as soon as this process leads."""

    seconds: float


@dataclass(frozen=True)
class Cron:
    """Cron fields (APScheduler's syntax), Beijing time. Default: every hour on the hour."""

    minute: str = "0"
    hour: str = "*"
    day_of_week: str = "*"
    day: str = "*"
    month: str = "*"


@dataclass(frozen=True)
class Job(Generic[C]):
    """One piece of timed work: a coroutine taking the app's job context."""

    name: str
    trigger: Every | Cron
    func: Callable[[C], Awaitable[object]]
    #: The misfire policy: how late a run may start and still run. None: however late (missed
    #: runs are coalesced into one either way); a timedelta: a run later than that is skipped
    #: and the job waits for its next time.
    grace: timedelta | None = None


class RunLog(Protocol):
    """When cron jobs last ran, kept in the store (``storage.jobruns``) so a new leader knows."""

    async def last(self, names: Sequence[str]) -> Mapping[str, datetime]: ...

    async def record(self, name: str, at: datetime) -> None: ...


def _trigger(spec: Every | Cron, start: datetime) -> BaseTrigger:
    if isinstance(spec, Every):
        return IntervalTrigger(seconds=spec.seconds, start_date=start, timezone=CHINA)
    return CronTrigger(
        minute=spec.minute,
        hour=spec.hour,
        day_of_week=spec.day_of_week,
        day=spec.day,
        month=spec.month,
        timezone=CHINA,
    )


@dataclass
class _Plan(Generic[C]):
    """A job's trigger for this term of leadership, and when it fires next."""

    job: Job[C]
    trigger: BaseTrigger
    next_at: datetime | None


@dataclass
class _State:
    leading: bool = False
    running: set[str] = field(default_factory=set)  # max_instances=1, also under run_due
    tasks: set[asyncio.Task[None]] = field(default_factory=set)  # runs APScheduler started


class Scheduler(Generic[C]):
    def __init__(
        self,
        jobs: Sequence[Job[C]],
        context: C,
        *,
        leadership: Leadership,
        clock: Clock | None = None,
        retry: float = 5.0,
        runs: RunLog | None = None,
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            msg = f"job names must be unique: {names}"
            raise ValueError(msg)
        self.jobs = tuple(jobs)
        self._context = context
        self._leadership = leadership
        self._clock = clock
        self._retry = retry
        self._runs = runs
        self._state = _State()
        self._plans: list[_Plan[C]] = []
        self._aps: AsyncIOScheduler | None = None
        self._election: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        return self._state.leading

    def _now(self) -> datetime:
        return datetime.now(CHINA) if self._clock is None else utc(self._clock)

    async def start(self) -> None:
        """Try for leadership at once (so one of two schedulers started in turn leads when
        this returns), then keep trying, or keep checking the lock, in the background."""
        await self._elect()
        self._election = asyncio.create_task(self._campaign(), name="scheduler-election")

    async def stop(self) -> None:
        if self._election is not None:
            self._election.cancel()
            await asyncio.gather(self._election, return_exceptions=True)
            self._election = None
        await self._step_down()
        await self._leadership.release()

    async def _campaign(self) -> None:
        while True:
            await asyncio.sleep(self._retry)
            await self._elect()

    async def _elect(self) -> None:
        try:
            if self._state.leading:
                if not await self._leadership.held():
                    log.warning("scheduler lock lost: standing by")
                    await self._step_down()
            elif await self._leadership.acquire():
                await self._lead()
        except Exception as exc:  # the store is away: stand by, try again later
            safe_exception(log, "scheduler election failed", exc=exc)

    async def _lead(self) -> None:
        now = self._now()
        # Cron jobs go on from their last run (a time missed meanwhile is due at once); every
        # interval job runs at once anyway, so only cron runs are recorded.
        cron = [job.name for job in self.jobs if isinstance(job.trigger, Cron)]
        last = await self._runs.last(cron) if self._runs is not None and cron else {}
        self._plans = []
        for job in self.jobs:
            trigger = _trigger(job.trigger, now)
            next_at = trigger.get_next_fire_time(last.get(job.name), now)
            self._plans.append(_Plan(job, trigger, next_at))
        self._state.leading = True
        log.info("scheduler leads: %s", ", ".join(job.name for job in self.jobs))
        if self._clock is None:
            self._aps = AsyncIOScheduler(timezone=CHINA)
            for plan in self._plans:
                self._aps.add_job(
                    self._tick,
                    trigger=plan.trigger,
                    args=(plan.job,),
                    id=plan.job.name,
                    name=plan.job.name,
                    next_run_time=plan.next_at,
                    coalesce=True,  # after downtime, one run for all that were missed
                    max_instances=1,
                    misfire_grace_time=None
                    if plan.job.grace is None
                    else max(1, int(plan.job.grace.total_seconds())),
                )
            self._aps.start()

    async def _step_down(self) -> None:
        self._state.leading = False
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        tasks = list(self._state.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def run_due(self, now: datetime | None = None) -> list[str]:
        """Run, one after another in declared order, every job due at ``now`` (default: the
        injected clock); returns the names of those that ran. A standby runs nothing."""
        if self._clock is None:
            msg = "APScheduler drives this scheduler: run_due is for an injected clock"
            raise RuntimeError(msg)
        if not self._state.leading:
            return []
        now = now or self._now()
        ran: list[str] = []
        for plan in self._plans:
            missed: datetime | None = None
            due = plan.next_at
            while due is not None and due <= now:  # as APScheduler's Job._get_run_times
                missed = due
                due = plan.trigger.get_next_fire_time(due, now)
            plan.next_at = due
            if missed is None:
                continue
            grace = plan.job.grace
            if grace is not None and now - missed > grace:
                log.warning("job %s skipped: %s late", plan.job.name, now - missed)
                continue
            if await self._fire(plan.job, now):
                ran.append(plan.job.name)
        return ran

    async def _tick(self, job: Job[C]) -> None:
        """APScheduler's entry: the run is kept, so stepping down can cancel and await it."""
        task = asyncio.current_task()
        assert task is not None
        self._state.tasks.add(task)
        try:
            await self._fire(job, self._now())
        finally:
            self._state.tasks.discard(task)

    async def _fire(self, job: Job[C], at: datetime) -> bool:
        if not self._state.leading or job.name in self._state.running:
            return False
        self._state.running.add(job.name)
        started = time.monotonic()
        try:
            await job.func(self._context)
        except Exception as exc:
            safe_exception(log, "job %s failed", job.name, exc=exc)
        else:
            log.debug("job %s done in %.3f s", job.name, time.monotonic() - started)
        finally:
            self._state.running.discard(job.name)
        if self._runs is not None and isinstance(job.trigger, Cron):
            try:  # ran, failed or not: the next run is the next time, not this one again
                await self._runs.record(job.name, at)
            except Exception as exc:
                safe_exception(log, "job %s: last run not recorded", job.name, exc=exc)
        return True
