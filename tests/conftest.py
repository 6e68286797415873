"""Shared fixtures: a store per backend, the fake WeChat platform, bot instances, a sender.

Every test that uses ``database_url`` runs on SQLite and on PostgreSQL. PostgreSQL comes from
``PINGAN_TEST_POSTGRES_URL`` (default: the local server, database ``test``); when it cannot be
reached its runs are skipped, except under ``CI=true`` where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import text

from bot.app import create_app
from bot.config import Settings
from bot.dispatcher import Dispatcher
from simulator import FakeClock, FakeWeChat, WeChatSender, create_platform_app
from storage import migrate
from storage.db import create_engine

POSTGRES_URL = os.environ.get(
    "PINGAN_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = os.environ.get("PINGAN_TEST_BACKENDS", "sqlite,postgres").split(",")

TOKEN = "pamtest"
APPID = "wxb11529c136998cb6"
SECRET = "test-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ORIGINAL_ID = "gh_0123456789ab"
START = 1_790_000_000.0  # 2026-09-21, an arbitrary fixed instant
# A valid seal key (from `pingan keys new`), fixed so failures are reproducible; tests only.
TEST_SEAL_KEY = "l2LZ81LT2hauT7sq21M4VVZtXP-wwTlBIiyt7xOt80Y"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


# -- the store ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test copies the file (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def build() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate.upgrade(engine)
        await engine.dispose()  # the last connection to close checkpoints the WAL

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> str:
    async def build() -> None:
        engine = create_engine(POSTGRES_URL)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    try:
        # Requested from inside a running test loop: set up on a loop of its own.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(lambda: asyncio.run(build())).result()
    except (OSError, ConnectionError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true and unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    return POSTGRES_URL


async def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        names = (
            await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ).scalars()
        tables = ", ".join(f'"{n}"' for n in names)
        if tables:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "pingan.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        url: str = request.getfixturevalue("postgres_ready")
        await _truncate_postgres(url)
        yield url


# -- the fake platform and the bot ----------------------------------------------------------


@pytest.fixture
async def platform(clock: FakeClock) -> FakeWeChat:
    return FakeWeChat(appid=APPID, secret=SECRET, clock=clock)


@pytest.fixture
async def platform_server(
    platform: FakeWeChat, aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> TestServer:
    return await aiohttp_server(create_platform_app(platform))


@pytest.fixture
def settings_for(database_url: str, platform_server: TestServer) -> Callable[..., Settings]:
    base = str(platform_server.make_url("")).rstrip("/")

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "wechat_token": TOKEN,
            "wechat_appid": APPID,
            "wechat_secret": SECRET,
            "wechat_aes_key": AES_KEY,
            # Tests send plain and safe calls to one bot, as an account in 兼容 mode does.
            "wechat_mode": "compatible",
            # The fake clock stands still: long scripted dialogs would trip the flood limit,
            # which tests/test_floods.py exercises at its default.
            "user_rate_limit": 1000,
            "seal_key": TEST_SEAL_KEY,
            "wechat_api_base": base,
            "wecom_api_base": base,
            "api_backoff": 0.0,
            "api_timeout": 2.0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@dataclass
class Bot:
    """A running bot instance and a sender aimed at it."""

    app: web.Application
    server: TestServer
    sender: WeChatSender

    @property
    def url(self) -> str:
        return str(self.server.make_url("/wechat"))

    async def settle(self) -> None:
        """Wait for what updates do after their reply: late pushes, tag calls to WeChat."""
        from bot.typedefs import pipeline_key

        while tasks := list(self.app[pipeline_key].tasks):
            await asyncio.gather(*tasks)


@pytest.fixture
def start_bot(
    settings_for: Callable[..., Settings],
    platform: FakeWeChat,
    clock: FakeClock,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> Callable[..., Awaitable[Bot]]:
    async def start(
        *, dispatcher: Dispatcher | None = None, safe: bool = False, **overrides: Any
    ) -> Bot:
        settings = settings_for(**overrides)
        app = create_app(settings, clock=clock, dispatcher=dispatcher)
        # Like `pingan serve`: no access log (its query strings carry openids).
        server = await aiohttp_server(app, access_log=None)
        sender = WeChatSender(
            url=str(server.make_url("/wechat")),
            token=TOKEN,
            appid=APPID,
            original_id=ORIGINAL_ID,
            aes_key=AES_KEY if safe else None,
            platform=platform,
            clock=clock,
        )
        return Bot(app=app, server=server, sender=sender)

    return start


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]]) -> Bot:
    return await start_bot()


async def until(condition: Callable[[], bool]) -> None:
    """Wait for something the platform records (it offers no hook to await), at most 10 s."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never met")
