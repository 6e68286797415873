"""The ``pingan`` command: serve, db upgrade, demo."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from aiohttp import web

from bot import loggers
from bot.config import Settings


def _serve(args: argparse.Namespace) -> int:
    settings = Settings()
    settings.require_wechat()
    loggers.configure(settings.log_level)
    from bot.app import create_app

    web.run_app(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        access_log=None,  # the webhook logs one line per request itself
    )
    return 0


async def _upgrade(url: str) -> None:
    from storage import migrate
    from storage.db import create_engine

    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def _db(args: argparse.Namespace) -> int:
    settings = Settings()
    loggers.configure(settings.log_level)
    asyncio.run(_upgrade(settings.database_url))
    print("database is up to date")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from simulator.demo import run_demo

    return run_demo(script=args.script, database=args.database)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pingan", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the webhook service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=_serve)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply migrations")
    upgrade.set_defaults(run=_db)

    demo = commands.add_parser("demo", help="bot + fake WeChat platform + a terminal chat")
    demo.add_argument("--script", help="play a transcript file instead of chatting")
    demo.add_argument("--database", help="SQLite file for the demo (default: a temporary one)")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
