"""What PRAGMA synchronous=FULL costs against NORMAL on the write engine, same run.

Usage: python bench/sqlite_sync.py [--rounds 3] [--dir DIR]

Through storage.db's write engine (inline, BEGIN IMMEDIATE, WAL) on a fresh file per run:
(1) 200 commits of 20-row inserts, as grouped commits would be, and (2) 2000 single-row
commits, as one commit per statement would be. Each is run ``--rounds`` times per mode,
alternating; the best round is kept. Prints the wall time, the commit time (how long the
event loop is held: the inline writer fsyncs in the loop's thread), and FULL/NORMAL.
The file lives in ``--dir`` (default: the system temporary directory): on tmpfs an fsync
costs nothing, so measure on the disk the database will live on.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from storage.db import SYNCHRONOUS, create_engine

MODES = ("NORMAL", "FULL")
SHAPES = {"200 commits x 20 rows": (200, 20), "2000 commits x 1 row": (2000, 1)}
PAYLOAD = "x" * 300  # about a stored delivery's payload


async def run(directory: Path, mode: str, commits: int, rows: int) -> dict[str, float]:
    path = Path(tempfile.mkdtemp(dir=directory, prefix="sync-")) / "bench.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")

    @event.listens_for(engine.sync_engine, "connect")
    def _mode(dbapi_conn: Any, _record: Any) -> None:  # after storage.db's own pragmas
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA synchronous={mode}")
        cursor.close()

    async with engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, payload TEXT)")
        )
    insert = text("INSERT INTO t (k, payload) VALUES (:k, :p)")
    commit_ms: list[float] = []
    n = 0
    began = time.perf_counter()
    for _ in range(commits):
        async with engine.connect() as conn:
            await conn.begin()
            for _ in range(rows):
                n += 1
                await conn.execute(insert, {"k": f"key-{n}", "p": PAYLOAD})
            t0 = time.perf_counter()
            await conn.commit()
            commit_ms.append((time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - began
    await engine.dispose()
    commit_ms.sort()
    return {
        "wall": wall,
        "commit_p50": statistics.median(commit_ms),
        "commit_p99": commit_ms[int(len(commit_ms) * 0.99) - 1],
        "commit_max": commit_ms[-1],
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    print(f"PRAGMA synchronous in storage/db.py: {SYNCHRONOUS}; files in {args.dir}")
    for shape, (commits, rows) in SHAPES.items():
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.rounds):
            for mode in MODES:
                r = await run(args.dir, mode, commits, rows)
                if mode not in best or r["wall"] < best[mode]["wall"]:
                    best[mode] = r
        for mode in MODES:
            r = best[mode]
            print(
                f"{shape:22} {mode:6} {r['wall'] * 1000:8.1f} ms"
                f" ({r['wall'] * 1e6 / commits:7.1f} µs/commit)"
                f"  commit p50 {r['commit_p50']:6.3f} p99 {r['commit_p99']:6.3f}"
                f" max {r['commit_max']:6.2f} ms"
            )
        ratio = best["FULL"]["wall"] / best["NORMAL"]["wall"]
        commit = best["FULL"]["commit_p50"] / best["NORMAL"]["commit_p50"]
        print(f"{shape:22} FULL/NORMAL wall {ratio:.2f}×, commit p50 {commit:.1f}×")


if __name__ == "__main__":
    asyncio.run(main())
