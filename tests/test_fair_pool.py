"""The SQLite write pool serves the coroutines waiting for its one connection in arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from storage.db import create_engine
from storage.fair_pool import FairAsyncQueuePool


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_timeout=2)
    assert isinstance(engine.sync_engine.pool, FairAsyncQueuePool)
    yield engine
    await engine.dispose()


async def _turns(engine: AsyncEngine) -> list[str]:
    """One coroutine waits for the connection; its holder returns it and at once asks again."""
    order: list[str] = []

    async def waiter() -> None:
        async with engine.connect() as conn:
            order.append("waiter")
            await conn.execute(text("SELECT 1"))

    holder = await engine.connect()
    task = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)  # the waiter is queued
    await holder.close()  # nothing yields between this and the next checkout
    async with engine.connect():
        order.append("holder again")
    await task
    return order


async def test_a_returned_connection_goes_to_the_coroutine_that_waited(
    engine: AsyncEngine,
) -> None:
    assert await _turns(engine) == ["waiter", "holder again"]


async def test_sqlalchemys_own_pool_lets_the_holder_jump_the_queue(tmp_path: Path) -> None:
    """Why the pool exists; if this starts failing, SQLAlchemy's pool became fair by itself."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}"
    stock = create_engine(url, poolclass=AsyncAdaptedQueuePool)
    try:
        assert await _turns(stock) == ["holder again", "waiter"]
    finally:
        await stock.dispose()


async def test_a_connection_handed_to_a_cancelled_waiter_is_passed_on(
    engine: AsyncEngine,
) -> None:
    got: list[Any] = []

    async def wait_for_it() -> None:
        async with engine.connect() as conn:
            got.append(await conn.scalar(text("SELECT 1")))

    holder = await engine.connect()
    first = asyncio.create_task(wait_for_it())
    await asyncio.sleep(0.01)
    second = asyncio.create_task(wait_for_it())
    await asyncio.sleep(0.01)
    await holder.close()  # handed to the first waiter, which has not run yet
    first.cancel()
    await asyncio.wait_for(second, timeout=1)  # not the pool's 2 s timeout
    assert got == [1]
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_waiter_past_the_pool_timeout_is_skipped(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'timeout.db'}", pool_timeout=0.05)
    try:
        holder = await engine.connect()
        with pytest.raises(exc.TimeoutError):
            await engine.connect()
        await holder.close()
        async with engine.connect() as conn:  # the connection went back to the pool
            assert await conn.scalar(text("SELECT 1")) == 1
        assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
