"""Where a message's CPU goes: the app under cProfile with the load of bench/webhook.py.

Usage: python bench/profile_webhook.py [--seconds 8] [--database-url URL] [--top 25]

Serves the app in this process (as `pingan serve` does), drives it from a separate process
with bench/webhook.py's load, profiles only the measured load (not start-up or warm-up) and
prints the time spent per message grouped by where the code lives (SQLAlchemy, the driver,
asyncio, aiohttp, pingan's own packages…), then the functions that cost most. Waiting in
epoll is left out. cProfile slows Python code down about twofold and sees only this thread
(not aiosqlite's): read the shares, not the totals.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import pstats
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from aiohttp import web  # noqa: E402
from webhook import APPID, TOKEN, count_stored, free_port, new_key, reset_postgres  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.config import Settings  # noqa: E402

#: (where, a path fragment that identifies it), first match wins.
AREAS = [
    ("sqlalchemy", "/sqlalchemy/"),
    ("asyncpg", "/asyncpg/"),
    ("aiosqlite", "/aiosqlite/"),
    ("sqlite3", "sqlite3"),
    ("greenlet", "greenlet"),
    ("aiohttp", "/aiohttp/"),
    ("multidict/yarl", "/yarl/"),
    ("asyncio", "/asyncio/"),
    ("xml/crypto", "/defusedxml/"),
    ("pingan bot/", "/bot/"),
    ("pingan handlers/", "/handlers/"),
    ("pingan storage/", "/storage/"),
    ("logging", "/logging/"),
    ("threading", "threading"),
]


def area(filename: str) -> str:
    for name, fragment in AREAS:
        if fragment in filename:
            return name
    return "builtins/other" if filename.startswith("~") else "other python"


async def drive(
    url: str, seconds: float, concurrency: int, users: int, tag: str
) -> dict[str, float]:
    """bench/webhook.py's load, from a process of its own (its CPU is not profiled)."""
    code = (
        "import asyncio, json, sys; sys.path.insert(0, sys.argv[1]); from webhook import load; "
        "print(json.dumps(asyncio.run(load(sys.argv[2], seconds=float(sys.argv[3]), "
        "concurrency=int(sys.argv[4]), users=int(sys.argv[5]), tag=sys.argv[6]))))"
    )
    here = str(HERE)
    args = [here, url, str(seconds), str(concurrency), str(users), tag]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, *args, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    result: dict[str, float] = json.loads(out)
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--database-url")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", help="also write the raw profile here (for pstats, snakeviz)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="pingan-profile-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    if not url.startswith("sqlite"):
        await reset_postgres(url)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        seal_key=new_key(),
        wechat_token=TOKEN,
        wechat_appid=APPID,
        wechat_secret="unused",
        wechat_api_base="http://127.0.0.1:9",  # never called by these messages
        user_rate_limit=1_000_000,  # as in bench/webhook.py: the ordinary path
    )
    logging.basicConfig(level=logging.WARNING)
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    webhook = f"http://127.0.0.1:{port}/wechat"
    profile = cProfile.Profile()
    try:
        await drive(webhook, 1, args.concurrency, args.users, "92")  # warm up
        before = await count_stored(url)
        profile.enable()
        result = await drive(webhook, args.seconds, args.concurrency, args.users, "95")
        profile.disable()
    finally:
        await runner.cleanup()
    messages = await count_stored(url) - before
    if args.save:
        profile.dump_stats(args.save)
    stats = pstats.Stats(profile)
    by_area: Counter[str] = Counter()
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        if "epoll" not in name:  # waiting for the network, not work
            by_area[area(filename)] += row[2]  # tottime
    total = sum(by_area.values())
    print(f"{messages} messages, {result['rps']:.0f} req/s under the profiler")
    print(f"{'where':20} {'ms/message':>10} {'share':>7}")
    for where, seconds in by_area.most_common():
        print(f"{where:20} {seconds * 1000 / messages:10.3f} {seconds / total:7.1%}")
    print(f"{'total':20} {total * 1000 / messages:10.3f}")
    print()
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    asyncio.run(main())
