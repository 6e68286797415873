"""The ``pingan`` command: serve, db upgrade, keys, demo and the staff's commands."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections.abc import AsyncIterator, Sequence

from aiohttp import web

from bot import loggers
from bot.config import Settings


def _serve(args: argparse.Namespace) -> int:
    settings = Settings()
    settings.require_wechat()
    loggers.configure(settings.log_level)
    from bot.app import create_app

    app = create_app(settings)
    app.cleanup_ctx.append(_frozen)  # last: once everything long-lived is built
    web.run_app(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        access_log=None,  # the webhook logs one line per request itself
    )
    return 0


async def _frozen(app: web.Application) -> AsyncIterator[None]:
    """What start-up built lives as long as the process (jieba's dictionary alone is some
    350 000 objects). Frozen out of the collector's sight, a full collection under load takes
    about 3 ms instead of about 100 ms, all that time with the event loop stopped (gc.callbacks
    under bench/webhook.py's load, 8 s: one full collection of 108 ms without, two of 3 ms
    with)."""
    gc.collect()
    gc.freeze()
    yield


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


def _keys_new(args: argparse.Namespace) -> int:
    from bot.keys import new_key

    print(new_key())
    return 0


def _admin(args: argparse.Namespace) -> int:
    settings = Settings()
    loggers.configure("WARNING")
    print(asyncio.run(args.admin(settings, args)))
    return 0


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

    from bot import admin, retention

    menu = commands.add_parser("menu", help="the account's custom menu")
    menu_commands = menu.add_subparsers(dest="menu_command", required=True)
    push = menu_commands.add_parser(
        "push", help="push handlers/menu.yaml, and the officers' menu for the 民警 tag"
    )
    push.set_defaults(run=_admin, admin=admin.menu_push)

    community = commands.add_parser("community", help="communities (社区/村)")
    community_commands = community.add_subparsers(dest="community_command", required=True)
    add = community_commands.add_parser("add", help="add a community")
    add.add_argument("code", help="short latin code used in QR scenes, e.g. xinhua")
    add.add_argument("name", help="the name residents know, e.g. 新华社区")
    add.add_argument("--alias", action="append", help="another name (repeatable)")
    add.add_argument("--area", help="street, township or police grid")
    add.set_defaults(run=_admin, admin=admin.community_add)
    listing = community_commands.add_parser("list", help="list communities")
    listing.set_defaults(run=_admin, admin=admin.community_list)
    qr = community_commands.add_parser("qr", help="make a QR code that joins the community")
    qr.add_argument("code")
    qr.add_argument("--days", type=int, default=30, help="temporary code lifetime (≤ 30)")
    qr.add_argument("--permanent", action="store_true", help="a permanent code instead")
    qr.set_defaults(run=_admin, admin=admin.community_qr)

    purge = commands.add_parser("purge", help="delete ledger rows past PINGAN_RETENTION_DAYS")
    purge.add_argument("--dry-run", action="store_true", help="only count what would go")
    purge.set_defaults(run=_admin, admin=retention.purge_command)

    keys = commands.add_parser("keys", help="the seal keys (PINGAN_SEAL_KEY)")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    new = keys_commands.add_parser("new", help="print a new random key")
    new.set_defaults(run=_keys_new)
    rotate = keys_commands.add_parser(
        "rotate",
        help="re-seal the store with the newest key",
        description="With PINGAN_SEAL_KEY=NEW,OLD (and every running process restarted with "
        "it), re-seal every sealed value with NEW; afterwards OLD can be removed.",
    )
    rotate.set_defaults(run=_admin, admin=admin.keys_rotate)

    from bot import officeradmin

    officer = commands.add_parser("officer", help="officers (民警, 辅警, 所长) and their powers")
    officer_commands = officer.add_subparsers(dest="officer_command", required=True)
    add_officer = officer_commands.add_parser("add", help="add an officer; prints a binding code")
    add_officer.add_argument("--name", required=True)
    add_officer.add_argument("--role", default="officer", help="officer, auxiliary or chief")
    add_officer.set_defaults(run=_admin, admin=officeradmin.officer_add)
    list_officers = officer_commands.add_parser("list", help="list officers")
    list_officers.set_defaults(run=_admin, admin=officeradmin.officer_list)
    revoke = officer_commands.add_parser("revoke", help="take every power from an officer")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=_admin, admin=officeradmin.officer_revoke)

    duty = commands.add_parser("duty", help="the duty roster (Beijing time)")
    duty_commands = duty.add_subparsers(dest="duty_command", required=True)
    duty_set = duty_commands.add_parser("set", help="a weekly pattern or a one-day override")
    duty_set.add_argument("id", type=int, help="officer id (pingan officer list)")
    duty_set.add_argument("--days", help="weekly: mon,tue,wed,thu,fri,sat,sun")
    duty_set.add_argument("--date", help="one day, YYYY-MM-DD, replacing the weekly pattern")
    duty_set.add_argument("--from", dest="start", default="00:00", help="HH:MM")
    duty_set.add_argument("--to", dest="end", default="24:00", help="HH:MM; earlier: overnight")
    duty_set.add_argument("--off", action="store_true", help="with --date: off duty that day")
    duty_set.set_defaults(run=_admin, admin=officeradmin.duty_set)
    duty_show = duty_commands.add_parser("show", help="the roster")
    duty_show.set_defaults(run=_admin, admin=officeradmin.duty_show)

    from bot import patroladmin

    patrol = commands.add_parser("patrol", help="red-armband patrol teams and volunteers")
    patrol_commands = patrol.add_subparsers(dest="patrol_command", required=True)
    team_add = patrol_commands.add_parser("team-add", help="add a team (one per village)")
    team_add.add_argument("--name", required=True)
    team_add.add_argument("--community", help="community code (pingan community list)")
    team_add.add_argument("--lat", type=float, help="centre of the patrol area")
    team_add.add_argument("--lng", type=float)
    team_add.add_argument("--radius", type=int, help="metres around the centre")
    team_add.set_defaults(run=_admin, admin=patroladmin.team_add)
    teams = patrol_commands.add_parser("teams", help="teams and their active volunteers")
    teams.set_defaults(run=_admin, admin=patroladmin.team_list)
    invite = patrol_commands.add_parser("invite", help="a single-use enrolment code for a team")
    invite.add_argument("--team", type=int, required=True)
    invite.add_argument("--name", required=True, help="the volunteer's name")
    invite.add_argument("--role", default="宣传员", help="宣传员, 情报员 or 调解员")
    invite.add_argument("--days", type=int, help="how long the code lives (default: the rules)")
    invite.set_defaults(run=_admin, admin=patroladmin.invite)
    volunteers = patrol_commands.add_parser("list", help="volunteers, their status and points")
    volunteers.add_argument("--team", type=int)
    volunteers.set_defaults(run=_admin, admin=patroladmin.volunteer_list)
    for verb, suspend in (("suspend", True), ("resume", False)):
        status = patrol_commands.add_parser(verb, help=f"{verb} a volunteer")
        status.add_argument("id", type=int)
        status.set_defaults(run=_admin, admin=patroladmin.set_status, suspend=suspend)

    from bot import reportadmin

    report = commands.add_parser("report", help="statistics for Beijing dates, 环比 and 同比")
    report.add_argument("--from", dest="first", required=True, help="YYYY-MM-DD (Beijing)")
    report.add_argument("--to", dest="last", required=True, help="YYYY-MM-DD, included")
    report.add_argument("--csv", action="store_true", help="CSV rows instead of text")
    report.set_defaults(run=_admin, admin=reportadmin.report_show)

    audit = commands.add_parser("audit", help="officers' actions and views, newest last")
    audit.add_argument("--limit", type=int, default=50)
    audit.set_defaults(run=_admin, admin=officeradmin.audit_show)

    faq = commands.add_parser("faq", help="the knowledge base")
    faq_commands = faq.add_subparsers(dest="faq_command", required=True)
    gaps = faq_commands.add_parser("gaps", help="most asked questions without an answer")
    gaps.add_argument("--limit", type=int, default=20)
    gaps.set_defaults(run=_admin, admin=admin.faq_gaps)

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
