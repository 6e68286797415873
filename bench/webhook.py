"""Webhook throughput: `pingan serve` against a bare signature-checking echo, same run.

Usage: python bench/webhook.py [--seconds 10] [--concurrency 32] [--users 200]

Starts (a) `pingan serve` on a fresh SQLite file and (b) a bare aiohttp handler that only
checks the signature and echoes a reply, drives each with signed text messages from a
bounded number of concurrent clients for a fixed time, and prints requests/s, p50 and p99
for both and the ratio a/b. It then checks that every message (a) answered was stored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.keys import new_key
from bot.protocol import parse_xml, sign, signature_ok

TOKEN = "bench-token"
APPID = "wxbench000000000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- (b) the baseline server ------------------------------------------------------------------


async def bare_handler(request: web.Request) -> web.Response:
    q = request.query
    if not signature_ok(q.get("signature", ""), TOKEN, q.get("timestamp", ""), q.get("nonce", "")):
        return web.Response(status=403)
    fields = parse_xml(await request.read())
    reply = (
        f"<xml><ToUserName><![CDATA[{fields['FromUserName']}]]></ToUserName>"
        f"<FromUserName><![CDATA[{fields['ToUserName']}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{fields.get('Content', '')}]]></Content></xml>"
    )
    return web.Response(text=reply, content_type="application/xml")


def run_bare(port: int) -> None:
    app = web.Application()
    app.router.add_post("/wechat", bare_handler)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- the load -------------------------------------------------------------------------------


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(url):
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    msg = f"server at {url} did not start"
    raise SystemExit(msg)


async def load(
    url: str, *, seconds: float, concurrency: int, users: int, tag: str
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    counter = 0
    deadline = time.perf_counter() + seconds

    async def client(http: aiohttp.ClientSession, worker: int) -> None:
        nonlocal errors, counter
        while time.perf_counter() < deadline:
            counter += 1
            n = counter
            ts, nonce = str(int(time.time())), f"{tag}{n}"
            params = {
                "signature": sign(TOKEN, ts, nonce),
                "timestamp": ts,
                "nonce": nonce,
                "openid": f"bench-{n % users}",
            }
            body = (
                f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
                f"<FromUserName><![CDATA[bench-{n % users}]]></FromUserName>"
                f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[你好 {n}]]></Content><MsgId>{tag}{n}</MsgId></xml>"
            )
            started = time.perf_counter()
            async with http.post(url, data=body.encode(), params=params) as resp:
                await resp.read()
                if resp.status != 200:
                    errors += 1
                    continue
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        began = time.perf_counter()
        await asyncio.gather(*(client(http, i) for i in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "ok": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


async def reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from storage import migrate
    from storage.db import create_engine

    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await migrate.upgrade(engine)
    await engine.dispose()


async def count_stored(url: str) -> int:
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(url)
    async with engine.connect() as conn:
        query = text("SELECT count(*) FROM deliveries WHERE status = 'done'")
        stored = int((await conn.execute(query)).scalar_one())
    await engine.dispose()
    return stored


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(
    proc: subprocess.Popen[bytes], url: str, opts: dict[str, int | float], tag: str
) -> dict[str, float]:
    """``load`` plus the server's own CPU time per answered message (steadier than req/s)."""
    before = cpu_seconds(proc.pid)
    result = await load(url, **opts, tag=tag)  # type: ignore[arg-type]
    result["cpu_ms"] = (cpu_seconds(proc.pid) - before) * 1000 / max(result["ok"], 1)
    return result


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument(
        "--database-url",
        help="store for (a); default a fresh SQLite file (a PostgreSQL URL is emptied first)",
    )
    parser.add_argument("--bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="pingan-bench-"))
    db = workdir / "bench.db"
    url = args.database_url or f"sqlite+aiosqlite:///{db}"
    if not url.startswith("sqlite"):
        await reset_postgres(url)
    env = {
        **os.environ,
        "PINGAN_DATABASE_URL": url,
        "PINGAN_SEAL_KEY": new_key(),  # a fresh store each run: a fresh key
        "PINGAN_WECHAT_TOKEN": TOKEN,
        "PINGAN_WECHAT_APPID": APPID,
        "PINGAN_WECHAT_SECRET": "unused",
        "PINGAN_WECHAT_API_BASE": "http://127.0.0.1:9",  # never called by these messages
        "PINGAN_LOG_LEVEL": "WARNING",
        # 200 users sending for seconds on end are a flood by the service's own rule (30 a
        # minute); measure the ordinary path, not the polite refusal.
        "PINGAN_USER_RATE_LIMIT": "1000000",
    }
    pingan_port, bare_port = free_port(), free_port()
    pingan = start([sys.executable, "-m", "bot.cli", "serve", "--port", str(pingan_port)], env)
    bare = start([sys.executable, __file__, "--bare", str(bare_port)], env)
    try:
        pingan_url = f"http://127.0.0.1:{pingan_port}/wechat"
        bare_url = f"http://127.0.0.1:{bare_port}/wechat"
        await wait_ready(f"http://127.0.0.1:{pingan_port}/healthz")
        await wait_ready(bare_url)
        opts = {"seconds": args.seconds, "concurrency": args.concurrency, "users": args.users}
        # Warm both, then measure each once.
        await load(bare_url, **{**opts, "seconds": 1}, tag="91")
        warm = await load(pingan_url, **{**opts, "seconds": 1}, tag="92")
        b = await measured(bare, bare_url, opts, "93")
        a = await measured(pingan, pingan_url, opts, "94")
    finally:
        for proc in (pingan, bare):
            proc.terminate()
            proc.wait(timeout=10)

    stored = await count_stored(url)
    answered = int(a["ok"] + warm["ok"])
    store = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    print(
        f"store={store} concurrency={args.concurrency} seconds={args.seconds} users={args.users}"
    )
    for name, r in (("(a) pingan serve", a), ("(b) bare aiohttp", b)):
        print(
            f"{name:18} {r['rps']:8.1f} req/s  p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms"
            f"  CPU {r['cpu_ms']:5.2f} ms/message  ok {int(r['ok'])}  errors {int(r['errors'])}"
        )
    cpu = a["cpu_ms"] / b["cpu_ms"]
    print(f"ratio a/b          {a['rps'] / b['rps']:.3f} (CPU per message: {cpu:.1f}×)")
    print(f"stored deliveries  {stored} of {answered} answered (warm-up included)")
    if stored != answered:
        raise SystemExit("some answered messages were not stored")


if __name__ == "__main__":
    if "--bare" in sys.argv:
        run_bare(int(sys.argv[sys.argv.index("--bare") + 1]))
    else:
        asyncio.run(main())
