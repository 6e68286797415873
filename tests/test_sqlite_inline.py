"""The SQLite write connection runs inline in the event loop (storage/sqlite_inline.py).

It must behave as the aiosqlite one did (pragmas, BEGIN IMMEDIATE, savepoints), and a write
lock held by another connection or process must make it wait in asyncio, never in SQLite's
busy handler, which would freeze every other coroutine of the process.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_inline
from storage.db import SYNCHRONOUS, Database, create_engine, open_database
from storage.deferred import defer

ROWS = 150


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "inline.db"


@pytest.fixture
async def database(path: Path) -> AsyncIterator[Database]:
    database = open_database(f"sqlite+aiosqlite:///{path}")
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT, n INTEGER)"))
    yield database
    await database.dispose()


async def _insert(engine: AsyncEngine, who: str, count: int) -> None:
    for n in range(count):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (who, n) VALUES (:w, :n)"), {"w": who, "n": n})
            await asyncio.sleep(0)  # hold the write lock across a turn of the loop


def _hold_write_lock(path: Path, seconds: float, held: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        other.execute("INSERT INTO t (who, n) VALUES ('holder', 0)")
        other.execute("COMMIT")
    finally:
        other.close()


async def _ticks_while(coro_done: asyncio.Future[object]) -> int:
    ticks = 0
    while not coro_done.done():
        await asyncio.sleep(0.001)
        ticks += 1
    return ticks


async def test_the_writer_runs_in_the_loops_thread_with_the_same_pragmas(
    database: Database,
) -> None:
    engine = database.engine
    assert engine.dialect.driver == sqlite_inline.DRIVER
    assert database.read_engine.dialect.driver == "aiosqlite"
    assert engine.sync_engine.hide_parameters
    threads = threading.active_count()
    async with engine.begin() as conn:
        pragmas = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
        raw = (await conn.get_raw_connection()).driver_connection
        assert isinstance(raw, sqlite_inline.InlineConnection)
        assert raw.raw.isolation_level is None and raw.raw.in_transaction  # BEGIN IMMEDIATE
        await conn.execute(text("INSERT INTO t (who, n) VALUES ('a', 1)"))
    assert threading.active_count() == threads  # no driver thread
    levels = {"OFF": 0, "NORMAL": 1, "FULL": 2, "EXTRA": 3}
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": levels[SYNCHRONOUS],
        "foreign_keys": 1,
        "busy_timeout": 0,  # never wait in SQLite's busy handler: it would block the loop
    }


async def test_savepoints_work_on_the_inline_connection(database: Database) -> None:
    async with database.sessionmaker.begin() as session:
        await session.execute(text("INSERT INTO t (who, n) VALUES ('outer', 1)"))
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                await session.execute(text("INSERT INTO t (who, n) VALUES ('undone', 2)"))
                raise RuntimeError
        async with session.begin_nested():
            await session.execute(text("INSERT INTO t (who, n) VALUES ('kept', 3)"))
    async with database.reader() as session:
        rows = (await session.execute(text("SELECT who FROM t ORDER BY n"))).scalars().all()
    assert rows == ["outer", "kept"]


async def test_concurrent_writers_on_one_file_lose_nothing(path: Path, database: Database) -> None:
    """Two engines here (each waits for the other's lock in asyncio) and a process of its own."""
    other = create_engine(f"sqlite+aiosqlite:///{path}")
    script = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)\n"
        f"for n in range({ROWS}):\n"
        "    db.execute('BEGIN IMMEDIATE')\n"
        "    db.execute(\"INSERT INTO t (who, n) VALUES ('process', ?)\", (n,))\n"
        "    db.execute('COMMIT')\n"
    )
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, str(path))
    try:
        await asyncio.gather(
            _insert(database.engine, "first", ROWS),
            _insert(other, "second", ROWS),
            process.wait(),
        )
    finally:
        await other.dispose()
    assert process.returncode == 0
    async with database.reader() as session:
        counts = dict(
            (await session.execute(text("SELECT who, count(*) FROM t GROUP BY who"))).all()
        )
    assert counts == {"first": ROWS, "second": ROWS, "process": ROWS}


async def test_a_write_waits_for_another_connections_lock_without_blocking_the_loop(
    path: Path,
    database: Database,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sqlite_inline, "SLOW_WAIT", 0.1)
    caplog.set_level(logging.WARNING, logger="pingan.db")
    held = threading.Event()
    holder = asyncio.ensure_future(asyncio.to_thread(_hold_write_lock, path, 0.3, held))
    await asyncio.to_thread(held.wait)
    began = time.monotonic()
    write = asyncio.ensure_future(_insert(database.engine, "waiter", 1))
    ticks = await _ticks_while(write)
    await write
    waited = time.monotonic() - began
    await holder
    assert waited >= 0.2  # it did wait for the lock
    assert ticks >= 50  # and the loop kept running meanwhile (about one tick a millisecond)
    async with database.reader() as session:
        rows = (await session.execute(text("SELECT who FROM t ORDER BY id"))).scalars().all()
    assert rows == ["holder", "waiter"]
    [line] = [r.getMessage() for r in caplog.records if r.name == "pingan.db"]
    assert "waited" in line


async def test_a_write_gives_up_when_the_lock_is_held_past_its_timeout(
    path: Path, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pingan.db")
    impatient = create_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 0.15})
    held = threading.Event()
    holder = asyncio.ensure_future(asyncio.to_thread(_hold_write_lock, path, 0.4, held))
    await asyncio.to_thread(held.wait)
    try:
        began = time.monotonic()
        write = asyncio.ensure_future(_insert(impatient, "impatient", 1))
        ticks = await _ticks_while(write)
        with pytest.raises(OperationalError, match="database is locked"):
            await write
        assert 0.15 <= time.monotonic() - began < 0.35
        assert ticks >= 30
    finally:
        await holder
        await impatient.dispose()
    assert any("gave up" in r.getMessage() for r in caplog.records if r.name == "pingan.db")


async def test_leaving_a_write_session_commits_and_frees_the_writer_at_once(
    database: Database,
) -> None:
    """No turn of the loop between the end of the block and the connection's return."""
    loop = asyncio.get_running_loop()
    pool = database.engine.sync_engine.pool
    turned: list[str] = []
    async with database.sessionmaker.begin() as session:
        await session.execute(text("INSERT INTO t (who, n) VALUES ('begin', 1)"))
        loop.call_soon(turned.append, "begin")
    assert turned == [] and pool.checkedout() == 0  # type: ignore[attr-defined]
    async with database.sessionmaker() as session:
        await session.execute(text("INSERT INTO t (who, n) VALUES ('plain', 2)"))
        await session.commit()
        await session.execute(text("SELECT 1"))  # begins again: left open for close()
        loop.call_soon(turned.append, "plain")
    assert turned == [] and pool.checkedout() == 0  # type: ignore[attr-defined]
    await asyncio.sleep(0)
    async with database.reader() as session:
        rows = (await session.execute(text("SELECT who FROM t ORDER BY n"))).scalars().all()
    assert rows == ["begin", "plain"]


async def test_a_write_session_cancelled_or_failing_rolls_back_and_frees_the_writer(
    database: Database,
) -> None:
    inside = asyncio.Event()

    async def cancelled() -> None:
        async with database.sessionmaker.begin() as session:
            await session.execute(text("INSERT INTO t (who, n) VALUES ('cancelled', 1)"))
            inside.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(cancelled())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ZeroDivisionError):
        async with database.sessionmaker.begin() as session:
            await session.execute(text("INSERT INTO t (who, n) VALUES ('failed', 2)"))
            _ = 1 / 0
    assert database.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    async with database.sessionmaker.begin() as session:  # the writer works on
        await session.execute(text("INSERT INTO t (who, n) VALUES ('after', 3)"))
        assert (await session.execute(text("SELECT who FROM t"))).scalars().all() == ["after"]


async def test_a_commit_that_fails_frees_the_writer(database: Database) -> None:
    """What runs at the commit (writes deferred to it, here one that breaks a key) may fail
    there: the one write connection must still go back to the pool."""
    from sqlalchemy import Column, Integer, MetaData, Table, insert

    t = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    with pytest.raises(IntegrityError):
        async with database.sessionmaker.begin() as session:
            defer(session, insert(t), {"id": 1})
            defer(session, insert(t), {"id": 1})
    assert database.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    async with database.sessionmaker.begin() as session:  # nothing of it was kept
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
