"""The nightly purge: ledger rows and finished pushes past the retention go, nothing else
(both stores), by the scheduler at 03:30 Beijing time and by ``pingan purge``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

import storage.retention
from bot.config import Settings
from bot.keys import Keys
from bot.leader import SqliteLeadership
from bot.retention import JOBS, purge, purge_command
from bot.scheduler import CHINA, Scheduler
from bot.timetable import Context, all_jobs
from simulator import FakeClock
from storage.db import open_database
from storage.models import Delivery, OutboundMessage
from tests.conftest import TEST_SEAL_KEY


def delivery(key: str, status: str, finished: datetime | None) -> Delivery:
    return Delivery(
        dedup_key=key,
        user_key=None,
        msg_type="text",
        event=None,
        payload="",
        status=status,
        owner=None,
        received_at=finished or datetime(2026, 1, 1, tzinfo=UTC),
        finished_at=finished,
    )


def push(status: str, created: datetime) -> OutboundMessage:
    return OutboundMessage(
        openid=None, kind="text", payload={}, status=status, attempts=1, created_at=created
    )


async def fill(url: str, now: datetime) -> None:
    old, recent = now - timedelta(days=91), now - timedelta(days=89)
    database = open_database(url)
    async with database.sessionmaker.begin() as session:
        session.add_all(
            [
                delivery("old-done", "done", old),
                delivery("old-failed", "failed", old),
                delivery("old-processing", "processing", None),  # still being handled
                delivery("recent-done", "done", recent),
                push("sent", old),
                push("dead", old),
                push("held", old),  # waiting for the user's next message
                push("pending", old),
                push("sent", recent),
            ]
        )
    await database.dispose()


async def left(url: str) -> tuple[set[str], list[str]]:
    database = open_database(url)
    async with database.reader() as session:
        keys = set((await session.scalars(select(Delivery.dedup_key))).all())
        pushes = sorted((await session.scalars(select(OutboundMessage.status))).all())
    await database.dispose()
    return keys, pushes


async def test_what_is_past_the_retention_goes_and_nothing_else(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    await fill(database_url, now)
    monkeypatch.setattr(storage.retention, "CHUNK", 1)  # several chunks, one per transaction
    database = open_database(database_url)
    async with database.reader() as session:
        found = await storage.retention.count_expired(session, now - timedelta(days=90))
    assert (found.deliveries, found.pushes) == (2, 2)
    gone = await purge(database.sessionmaker, now - timedelta(days=90))
    await database.dispose()
    assert (gone.deliveries, gone.pushes) == (2, 2)
    assert await left(database_url) == (
        {"old-processing", "recent-done"},
        ["held", "pending", "sent"],
    )


async def test_the_scheduler_purges_at_half_past_three_beijing_time(database_url: str) -> None:
    assert "purge-expired" in [job.name for job in all_jobs()]
    clock = FakeClock(datetime(2026, 11, 25, 3, 0, tzinfo=CHINA).timestamp())
    await fill(database_url, datetime.fromtimestamp(clock(), UTC))
    database = open_database(database_url)
    settings = Settings(_env_file=None, database_url=database_url, seal_key=TEST_SEAL_KEY)  # type: ignore[call-arg]
    context = Context(
        sessionmaker=database.sessionmaker,
        pusher=None,  # type: ignore[arg-type]  # the purge sends nothing
        keys=Keys.from_setting(TEST_SEAL_KEY),
        settings=settings,
        clock=clock,
    )
    scheduler = Scheduler(JOBS, context, leadership=SqliteLeadership(None), clock=clock)
    await scheduler.start()
    try:
        assert await scheduler.run_due() == []  # 03:00: not yet
        clock.advance(30 * 60)
        assert await scheduler.run_due() == ["purge-expired"]
        clock.advance(60)
        assert await scheduler.run_due() == []  # once a night
    finally:
        await scheduler.stop()
        await database.dispose()
    keys, _ = await left(database_url)
    assert keys == {"old-processing", "recent-done"}


async def test_pingan_purge_previews_then_deletes(database_url: str) -> None:
    await fill(database_url, datetime.now(UTC))  # the command uses the system's clock
    settings = Settings(_env_file=None, database_url=database_url, seal_key=TEST_SEAL_KEY)  # type: ignore[call-arg]
    preview = await purge_command(settings, argparse.Namespace(dry_run=True))
    assert preview.startswith("would delete 2 deliveries and 2 finished pushes older than 90")
    assert len((await left(database_url))[0]) == 4  # the preview deleted nothing
    done = await purge_command(settings, argparse.Namespace(dry_run=False))
    assert done.startswith("deleted 2 deliveries and 2 finished pushes")
    assert (await left(database_url))[0] == {"old-processing", "recent-done"}
