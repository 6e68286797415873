"""The one clock (bot/scheduler.py): firing times on a fake clock, missed runs, failures, and
one leader among several schedulers on one store (both stores).

Time never passes by sleeping: a FakeClock moves and ``run_due`` asks what is due. Only a
lock handoff between two schedulers waits for real, a few 20 ms election rounds at most.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.leader import PostgresLeadership, SqliteLeadership, leadership_for
from bot.scheduler import CHINA, Cron, Every, Job, RunLog, Scheduler
from bot.typedefs import scheduler_key
from simulator import FakeClock
from storage.db import create_engine, is_sqlite, open_database
from storage.jobruns import StoredRuns
from tests.conftest import Bot

Calls = list[tuple[str, float]]
ROUND = 0.02  # seconds between election rounds in these tests


def beijing(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=CHINA).timestamp()


def recorder(name: str, clock: FakeClock) -> Job[Calls]:
    async def run(calls: Calls) -> None:
        calls.append((name, clock()))

    return Job(name, Every(60), run)


def jobs(clock: FakeClock) -> list[Job[Calls]]:
    async def morning(calls: Calls) -> None:
        calls.append(("morning", clock()))

    return [recorder("minute", clock), Job("morning", Cron(minute="0", hour="8"), morning)]


async def alone(
    clock: FakeClock, plan: list[Job[Calls]], calls: Calls, runs: RunLog | None = None
) -> Scheduler[Calls]:
    leadership = SqliteLeadership(None)  # no file: always the leader
    scheduler = Scheduler(plan, calls, leadership=leadership, clock=clock, runs=runs)
    await scheduler.start()
    assert scheduler.leading
    return scheduler


async def test_jobs_fire_at_their_times_on_a_fake_clock() -> None:
    clock = FakeClock(beijing(2026, 9, 21, 7, 58, 30))
    calls: Calls = []
    scheduler = await alone(clock, jobs(clock), calls)
    try:
        assert await scheduler.run_due() == ["minute"]  # at once when it starts to lead
        assert await scheduler.run_due() == []
        clock.advance(59)
        assert await scheduler.run_due() == []
        clock.advance(1)
        assert await scheduler.run_due() == ["minute"]
        clock.advance(30)  # 08:00:00 Beijing
        assert await scheduler.run_due() == ["morning"]
        clock.advance(30)
        assert await scheduler.run_due() == ["minute"]
        start = beijing(2026, 9, 21, 7, 58, 30)
        assert calls == [
            ("minute", start),
            ("minute", start + 60),
            ("morning", beijing(2026, 9, 21, 8, 0)),
            ("minute", start + 120),
        ]
    finally:
        await scheduler.stop()


async def test_a_missed_run_fires_once_after_downtime() -> None:
    clock = FakeClock(beijing(2026, 9, 21, 9, 0, 10))
    calls: Calls = []
    scheduler = await alone(clock, jobs(clock), calls)
    try:
        await scheduler.run_due()
        clock.advance(3 * 86400 + 5)  # three mornings and some 4320 minutes missed
        assert await scheduler.run_due() == ["minute", "morning"]  # each once
        assert await scheduler.run_due() == []
        clock.advance(55)  # the minute grid holds: next at :10 past the minute
        assert await scheduler.run_due() == ["minute"]
        assert [name for name, _ in calls] == ["minute", "minute", "morning", "minute"]
    finally:
        await scheduler.stop()


async def test_a_cron_time_missed_while_no_process_led_fires_once(database_url: str) -> None:
    """The store keeps when each cron job last ran, so the next leader catches up once."""
    database = open_database(database_url)
    runs = StoredRuns(database.sessionmaker)
    clock = FakeClock(beijing(2026, 9, 21, 7, 59))
    calls: Calls = []
    try:
        first = await alone(clock, jobs(clock), calls, runs)
        clock.advance(60)
        assert await first.run_due() == ["minute", "morning"]
        await first.stop()  # no process leads for two days
        clock.set(beijing(2026, 9, 23, 9, 30))
        forgetful = await alone(clock, jobs(clock), [])  # without the log: next morning
        assert await forgetful.run_due() == ["minute"]
        await forgetful.stop()
        second = await alone(clock, jobs(clock), calls, runs)
        assert await second.run_due() == ["minute", "morning"]  # two mornings, once
        assert await second.run_due() == []
        clock.set(beijing(2026, 9, 24, 8, 0))
        assert await second.run_due() == ["minute", "morning"]
        await second.stop()
        assert (await runs.last(["morning", "minute"])).keys() == {"morning"}
    finally:
        await database.dispose()


async def test_a_run_later_than_its_grace_is_skipped() -> None:
    clock = FakeClock(beijing(2026, 9, 21, 7, 0))
    calls: Calls = []

    async def hourly(calls: Calls) -> None:
        calls.append(("hourly", clock()))

    plan = [Job("hourly", Cron(minute="0"), hourly, grace=timedelta(minutes=5))]
    scheduler = await alone(clock, plan, calls)
    try:
        clock.advance(3600 + 4 * 60)  # 08:04: late, within grace
        assert await scheduler.run_due() == ["hourly"]
        clock.advance(3600 + 2 * 60)  # 09:06: too late for 09:00
        assert await scheduler.run_due() == []
        clock.set(beijing(2026, 9, 21, 10, 0))
        assert await scheduler.run_due() == ["hourly"]
    finally:
        await scheduler.stop()


async def test_a_failing_job_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(beijing(2026, 9, 21, 12, 0))
    calls: Calls = []

    async def broken(calls: Calls) -> None:
        calls.append(("broken", clock()))
        msg = "duplicate key (openid)=(oSECRET123)"
        raise ValueError(msg)

    plan = [Job("broken", Every(60), broken), recorder("after", clock)]
    scheduler = await alone(clock, plan, calls)
    caplog.set_level(logging.INFO, logger="pingan.scheduler")
    try:
        assert await scheduler.run_due() == ["broken", "after"]
        clock.advance(60)
        assert await scheduler.run_due() == ["broken", "after"]  # it keeps its schedule
    finally:
        await scheduler.stop()
    failures = [r for r in caplog.records if "job broken failed" in r.getMessage()]
    assert len(failures) == 2
    assert "ValueError" in failures[0].getMessage()
    assert all("oSECRET123" not in r.getMessage() for r in caplog.records)


async def test_a_job_never_runs_twice_at_once() -> None:
    clock = FakeClock(beijing(2026, 9, 21, 12, 0))
    release = asyncio.Event()
    runs: list[int] = []

    async def slow(calls: Calls) -> None:
        runs.append(1)
        await release.wait()

    scheduler = await alone(clock, [Job("slow", Every(60), slow)], [])
    try:
        first = asyncio.create_task(scheduler.run_due())
        await asyncio.sleep(0)
        clock.advance(60)
        assert await scheduler.run_due() == []  # still running: this run is dropped
        release.set()
        assert await first == ["slow"]
        assert runs == [1]
    finally:
        await scheduler.stop()


async def test_apscheduler_drives_the_same_jobs_on_real_time() -> None:
    """Production's path: APScheduler's timer fires the jobs; a failure is only logged."""
    fired = asyncio.Event()
    calls: Calls = []

    async def broken(calls: Calls) -> None:
        raise RuntimeError

    async def quick(calls: Calls) -> None:
        calls.append(("quick", 0.0))
        fired.set()

    plan = [Job("broken", Every(3600), broken), Job("quick", Every(3600), quick)]
    scheduler = Scheduler(plan, calls, leadership=SqliteLeadership(None))
    await scheduler.start()
    try:
        await asyncio.wait_for(fired.wait(), 0.5)  # first runs at once, not after an hour
        with pytest.raises(RuntimeError):
            await scheduler.run_due()  # one driver at a time: no double runs
    finally:
        await scheduler.stop()
    assert calls == [("quick", 0.0)]


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[tuple[str, list[AsyncEngine]]]:
    made = [create_engine(database_url), create_engine(database_url)]
    yield database_url, made
    for engine in made:
        await engine.dispose()


async def until(scheduler: Scheduler[Calls], *, leading: bool = True) -> None:
    for _ in range(25):  # at most 0.5 s of real time
        if scheduler.leading == leading:
            return
        await asyncio.sleep(ROUND)
    raise AssertionError(f"leading never became {leading}")


def contender(engine: AsyncEngine, clock: FakeClock, calls: Calls) -> Scheduler[Calls]:
    """A scheduler as one process of several would run it (its own engine: its own pool)."""
    plan = [recorder("minute", clock)]
    return Scheduler(plan, calls, leadership=leadership_for(engine), clock=clock, retry=ROUND)


async def test_one_of_two_schedulers_leads_and_the_standby_takes_over(
    engines: tuple[str, list[AsyncEngine]],
) -> None:
    _, (first_engine, second_engine) = engines
    clock = FakeClock(beijing(2026, 9, 21, 12, 0))
    first_calls: Calls = []
    second_calls: Calls = []
    first = contender(first_engine, clock, first_calls)
    second = contender(second_engine, clock, second_calls)
    await first.start()
    await second.start()
    try:
        assert first.leading and not second.leading
        for _ in range(3):
            await first.run_due()
            await second.run_due()
            clock.advance(60)
        assert len(first_calls) == 3 and second_calls == []
        await first.stop()  # closes its lock connection / file
        await until(second)
        assert await second.run_due() == ["minute"]  # the new leader runs at once
        await first.start()
        assert not first.leading  # the old leader, back, stands by
        assert await first.run_due() == []
    finally:
        await first.stop()
        await second.stop()
    assert len(first_calls) == 3 and len(second_calls) == 1


async def test_a_dead_leaders_lock_passes_to_the_standby(
    engines: tuple[str, list[AsyncEngine]],
) -> None:
    """PostgreSQL: the leader's session is killed (its process died, or the server dropped
    it): the lock goes with it, the standby leads, and the old leader notices and stands by.
    SQLite: the leading process is killed."""
    url, (first_engine, second_engine) = engines
    if is_sqlite(url):
        await sqlite_leader_killed(second_engine)
        return
    clock = FakeClock(beijing(2026, 9, 21, 12, 0))
    first, second = contender(first_engine, clock, []), contender(second_engine, clock, [])
    await first.start()
    await second.start()
    try:
        assert first.leading and not second.leading
        async with second_engine.connect() as conn:
            killed = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND classid::bigint = :c AND granted"
                ),
                {"c": 0x7061_0002},
            )
            await conn.commit()
        assert killed == 1
        await until(second)
        await until(first, leading=False)  # its next check of the lock fails
    finally:
        await first.stop()
        await second.stop()


async def sqlite_leader_killed(engine: AsyncEngine) -> None:
    """A leading process is killed (SIGKILL): the kernel frees its flock, the standby leads."""
    lock = f"{make_url(engine.url).database}.clock"  # the test's file has an absolute path
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import fcntl, os, sys, time\n"
        f"fd = os.open({lock!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "print('held', flush=True)\n"
        "time.sleep(30)\n",
        stdout=asyncio.subprocess.PIPE,
    )
    assert holder.stdout is not None
    assert await holder.stdout.readline() == b"held\n"
    clock = FakeClock(beijing(2026, 9, 21, 12, 0))
    standby = contender(engine, clock, [])
    await standby.start()
    try:
        assert not standby.leading
        holder.kill()
        await holder.wait()
        await until(standby)
    finally:
        await standby.stop()


async def test_the_app_runs_the_features_jobs(
    start_bot: Callable[..., Awaitable[Bot]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pingan.scheduler")
    await start_bot()  # its scheduler leads: no other bot shares its store
    assert any(
        "scheduler leads: visit-reminders, retry-pushes, escalate-alerts, weekly-digest"
        in r.getMessage()
        for r in caplog.records
    )


async def test_of_two_bots_on_one_store_one_runs_the_clock(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    first, second = await start_bot(), await start_bot()
    leading = [bot.app[scheduler_key].leading for bot in (first, second)]
    assert leading == [True, False]


async def test_a_leader_whose_store_stops_answering_stands_by(
    engines: tuple[str, list[AsyncEngine]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network cut: the lock check hangs. Past the timeout the leader drops its connection
    (freeing the lock, should the server still hold it) rather than lead on regardless."""
    url, (first_engine, second_engine) = engines
    if is_sqlite(url):
        pytest.skip("a flock has no store to stop answering")
    first = PostgresLeadership(first_engine, timeout=ROUND)
    second = PostgresLeadership(second_engine, timeout=ROUND)
    try:
        assert await first.acquire()
        assert not await second.acquire()

        conn = first._conn
        original = AsyncConnection.scalar

        async def scalar(self: AsyncConnection, *args: Any, **kwargs: Any) -> Any:
            if self is conn:
                await asyncio.sleep(10)  # this connection's server is out of reach
            return await original(self, *args, **kwargs)

        monkeypatch.setattr(AsyncConnection, "scalar", scalar)
        assert not await first.held()
        assert await second.acquire()
    finally:
        await first.release()
        await second.release()
