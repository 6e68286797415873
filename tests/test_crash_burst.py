"""kill -9 in the middle of a burst: every message handled exactly once, on both stores.

Real ``pingan serve`` processes on loopback, the fake WeChat platform in this process, and a
sender that retries as WeChat does (no 200 within its timeout: try again, three tries in all).
SQLite: one process is killed and a new one started on the same file. PostgreSQL: two
processes serve one store and one is killed while the other lives on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from simulator import FakeWeChat
from simulator.replies import Attempt
from simulator.transport import WebhookClient
from simulator.wire import Value
from storage.db import open_database
from storage.models import Delivery, UnansweredQuestion
from tests.conftest import APPID, ORIGINAL_ID, SECRET, TEST_SEAL_KEY, TOKEN

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = 150
USERS = 30
CLIENTS = 16
KILL_AFTER = 50  # answers received before the kill


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving(
    database_url: str, api_base: str
) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]]]:
    """``pingan serve`` in a process of its own; yields its webhook URL and the process."""
    port = _free_port()
    env = {
        **os.environ,
        "PINGAN_DATABASE_URL": database_url,
        "PINGAN_WECHAT_TOKEN": TOKEN,
        "PINGAN_WECHAT_APPID": APPID,
        "PINGAN_WECHAT_SECRET": SECRET,
        "PINGAN_WECHAT_MODE": "plain",
        "PINGAN_SEAL_KEY": TEST_SEAL_KEY,
        "PINGAN_WECHAT_API_BASE": api_base,
        "PINGAN_SWEEP_INTERVAL": "0.2",
        "PINGAN_USER_RATE_LIMIT": "1000",
        "PINGAN_LOG_LEVEL": "WARNING",
    }
    env.pop("PINGAN_WECHAT_AES_KEY", None)
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, returns at once
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):  # start-up: imports, migrations, jieba's dictionary
                try:
                    async with http.get(url + "/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if process.poll() is not None:
                    raise RuntimeError("pingan serve exited during start-up")
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("pingan serve did not come up")
        yield url + "/wechat", process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)


class WeChat:
    """Delivers each message until some process answers 200, as WeChat does (three tries)."""

    def __init__(self) -> None:
        self.client = WebhookClient(
            url="", token=TOKEN, appid=APPID, original_id=ORIGINAL_ID, timeout=5.0
        )
        self.answered: dict[int, Attempt] = {}

    async def post(self, http: aiohttp.ClientSession, url: str, fields: dict[str, Value]) -> bool:
        body, query = self.client.build(fields)
        try:
            async with http.post(url, data=body, params=query) as resp:
                attempt = Attempt(resp.status, await resp.text())
        except (aiohttp.ClientError, TimeoutError):
            return False
        if attempt.status == 200:
            self.answered[int(fields["MsgId"])] = attempt  # type: ignore[arg-type]
            return True
        return False


async def _settled(database_url: str) -> None:
    """Wait (bounded) until no delivery is left "processing": the sweep has run."""
    database = open_database(database_url)
    try:
        for _ in range(600):
            async with database.reader() as session:
                left = await session.scalar(
                    select(func.count()).where(Delivery.status == "processing")
                )
            if not left:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{left} deliveries still processing")
    finally:
        await database.dispose()


async def _taken_over(webhook: str) -> float:
    """How many deliveries the surviving process finished for the dead one."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(webhook.removesuffix("/wechat") + "/metrics") as resp,
    ):
        text = await resp.text()
    line = next(x for x in text.splitlines() if x.startswith("pingan_deliveries_taken_over_total"))
    return float(line.split()[-1])


async def _check(database_url: str, messages: list[dict[str, Value]]) -> None:
    database = open_database(database_url)
    try:
        async with database.reader() as session:
            statuses = dict(
                (
                    await session.execute(
                        select(Delivery.status, func.count()).group_by(Delivery.status)
                    )
                ).all()
            )
            asked = dict(
                (
                    await session.execute(
                        select(UnansweredQuestion.example, UnansweredQuestion.asked)
                    )
                ).all()
            )
    finally:
        await database.dispose()
    texts = {str(m["Content"]) for m in messages}
    assert statuses == {"done": len(messages)}, statuses
    lost = texts - set(asked)
    twice = {text: n for text, n in asked.items() if n != 1}
    assert not lost, f"{len(lost)} lost"
    assert not twice, f"{len(twice)} handled more than once"


def _killer(
    wechat: WeChat, process: subprocess.Popen[bytes], half_done: Callable[[], bool] | None = None
) -> tuple[asyncio.Event, Callable[[], Awaitable[None]]]:
    """SIGKILL ``process`` once KILL_AFTER messages were answered: mid-burst, no warning.

    With ``half_done``, only while a delivery is "processing": the process is frozen
    (SIGSTOP), ``half_done`` looks at the store, and the process is killed where it stands
    or let go on (SIGCONT) and looked at again a moment later. Messages that arrive together
    are handled together, so an answer often comes in the instant between two batches, when
    nothing is half-done; killed then, the takeover would go untested.
    """
    killed = asyncio.Event()
    hunting = False

    async def maybe_kill() -> None:
        nonlocal hunting
        if len(wechat.answered) < KILL_AFTER or killed.is_set() or hunting:
            return
        hunting = True
        for _ in range(2000):
            if half_done is not None:
                _freeze(process.pid)
                if not half_done():
                    os.kill(process.pid, signal.SIGCONT)
                    await asyncio.sleep(0.0005)
                    continue
            os.kill(process.pid, signal.SIGKILL)
            killed.set()
            return

    return killed, maybe_kill


def _freeze(pid: int) -> None:
    """SIGSTOP, and wait until the process has really stopped (the signal is asynchronous)."""
    os.kill(pid, signal.SIGSTOP)
    stat = Path(f"/proc/{pid}/stat")
    for _ in range(10_000):
        if stat.read_text().rsplit(")", 1)[1].split()[0] == "T":
            return
    raise AssertionError("the process did not stop")


def _sqlite_processing(path: Path, pid: int | None = None) -> Callable[[], bool]:
    """Whether a delivery is "processing" (committed as such: the frozen writer's open
    transaction, if any, is not seen); with ``pid``, one that process owns."""

    def check() -> bool:
        query = "SELECT 1 FROM deliveries WHERE status = 'processing'"
        args: tuple[str, ...] = ()
        if pid is not None:
            query += " AND owner = ?"
            args = (_sqlite_owner(path, pid),)
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return db.execute(query + " LIMIT 1", args).fetchone() is not None

    return check


def _sqlite_owner(path: Path, pid: int) -> str:
    """The ledger owner name of a process on a SQLite store: the lock file it holds open
    (``bot.liveness.SqliteLiveness``)."""
    owners = path.with_name(path.name + ".owners")
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = Path(os.readlink(fd))
        if target.parent == owners:
            return target.stem
    raise AssertionError("the process holds no owner lock")


def _burst() -> tuple[WeChat, list[dict[str, Value]]]:
    wechat = WeChat()
    messages = [
        wechat.client.message(f"o-burst-{n % USERS:02d}", "text", Content=f"zqx burst {n:04d} vk")
        for n in range(MESSAGES)
    ]
    return wechat, messages


async def _send_all(
    wechat: WeChat,
    messages: list[dict[str, Value]],
    urls: list[str],
    on_answer: Callable[[], Awaitable[None]] | None = None,
) -> None:
    queue: asyncio.Queue[dict[str, Value]] = asyncio.Queue()
    for message in messages:
        queue.put_nowait(message)

    async def client(n: int) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            while not queue.empty():
                message = queue.get_nowait()
                if await wechat.post(http, urls[n % len(urls)], message) and on_answer:
                    await on_answer()

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))


async def _retry_unanswered(wechat: WeChat, messages: list[dict[str, Value]], url: str) -> None:
    """WeChat's further tries of everything that got no 200 (up to three tries in all)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        for _ in range(2):
            missing = [m for m in messages if int(m["MsgId"]) not in wechat.answered]  # type: ignore[arg-type]
            await asyncio.gather(*(wechat.post(http, url, m) for m in missing))


async def test_kill_mid_burst_sqlite(
    tmp_path: Path, sqlite_template: Path, platform_server: TestServer, platform: FakeWeChat
) -> None:
    import shutil

    path = tmp_path / "burst.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    api = str(platform_server.make_url("")).rstrip("/")
    wechat, messages = _burst()
    for n in range(USERS):
        platform.follow(f"o-burst-{n:02d}")
    async with serving(url, api) as (webhook, process):
        killed, maybe_kill = _killer(wechat, process, _sqlite_processing(path))
        await _send_all(wechat, messages, [webhook], maybe_kill)
        assert killed.is_set()
    async with serving(url, api) as (webhook, _):
        await _retry_unanswered(wechat, messages, webhook)
        await _settled(url)
        taken = await _taken_over(webhook)
    print(f"sqlite: {taken:.0f} of {MESSAGES} taken over from the killed process")
    assert taken >= 1, "the kill left nothing half-done: the takeover path went untested"
    await _check(url, messages)


async def _kill_one_of_two(
    url: str,
    api: str,
    platform: FakeWeChat,
    half_done: Callable[[int], Callable[[], bool]] | None = None,
) -> float:
    """Two processes serve one store; one (``half_done`` given its pid: while a message of its
    own is half-done) is killed mid-burst. Every message handled once; how many the other
    process took over."""
    wechat, messages = _burst()
    for n in range(USERS):
        platform.follow(f"o-burst-{n:02d}")
    async with serving(url, api) as (first, victim), serving(url, api) as (second, _):
        check = half_done(victim.pid) if half_done is not None else None
        killed, maybe_kill = _killer(wechat, victim, check)
        await _send_all(wechat, messages, [first, second], maybe_kill)
        assert killed.is_set()
        await _retry_unanswered(wechat, messages, second)
        await _settled(url)
        taken = await _taken_over(second)
    assert taken >= 1, "the kill left nothing half-done: the takeover path went untested"
    await _check(url, messages)
    return taken


async def test_kill_one_of_two_processes_postgres(
    postgres_ready: str, platform_server: TestServer, platform: FakeWeChat
) -> None:
    from tests.conftest import _truncate_postgres

    await _truncate_postgres(postgres_ready)
    api = str(platform_server.make_url("")).rstrip("/")
    taken = await _kill_one_of_two(postgres_ready, api, platform)
    print(f"postgres: {taken:.0f} of {MESSAGES} taken over from the killed process")


async def test_kill_one_of_two_processes_on_one_sqlite_file(
    tmp_path: Path, sqlite_template: Path, platform_server: TestServer, platform: FakeWeChat
) -> None:
    """Two processes share one SQLite file (each write waits for the other's lock without
    stalling its loop); one is killed mid-burst and the other finishes its messages."""
    import shutil

    path = tmp_path / "shared.db"
    shutil.copy(sqlite_template, path)
    api = str(platform_server.make_url("")).rstrip("/")
    taken = await _kill_one_of_two(
        f"sqlite+aiosqlite:///{path}", api, platform, lambda pid: _sqlite_processing(path, pid)
    )
    print(f"sqlite, two processes: {taken:.0f} of {MESSAGES} taken over from the killed one")
