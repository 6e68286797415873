"""Station staff's commands: `pingan menu push`, `pingan community …`, `pingan faq gaps`,
`pingan keys rotate`.

Each opens the store and, when it needs one, a WeChat API gateway (sharing the service's
access_token through the store), does one thing, and prints the result.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp

from bot.api import WeChatAPI
from bot.config import Settings
from bot.errors import WeChatAPIError
from bot.keys import WeakKey
from handlers.community import named_tag
from handlers.menu import load_menu
from handlers.officers.menu import load_officer_menu
from handlers.officers.tag import OFFICER_TAG, set_tag
from handlers.patrols.menu import load_patrol_menu
from handlers.patrols.tag import PATROL_TAG
from handlers.scenes import community_scene, enrolment_scene
from storage.clock import system_clock, utc
from storage.db import Database, open_database
from storage.inquiries import InquiryRepo
from storage.keychecks import KeyMismatch, rotate_store
from storage.officers import OfficerRepo
from storage.patrols import PatrolRepo
from storage.users import CommunityRepo

SHOW_QR = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket="


async def enrolment_qr(api: WeChatAPI, code: str, valid: timedelta) -> str:
    """The line that shows an enrolment code's QR code (scene ``e:CODE``), or why not."""
    seconds = min(int(valid.total_seconds()), 30 * 24 * 3600)  # a temporary code's limit
    try:
        qr = await api.create_qrcode(enrolment_scene(code), expire_seconds=seconds)
    except WeChatAPIError as exc:
        return f"(no QR code: WeChat answered errcode {exc.errcode}; the code works)"
    return f"or scan: {SHOW_QR}{qr.ticket}"


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[tuple[Database, WeChatAPI]]:
    database = open_database(settings.database_url)
    try:
        async with aiohttp.ClientSession() as http:
            yield (
                database,
                WeChatAPI(
                    http=http,
                    base=settings.wechat_api_base,
                    appid=settings.wechat_appid,
                    secret=settings.wechat_secret.get_secret_value(),
                    sessionmaker=database.sessionmaker,
                    clock=system_clock,
                    timeout=settings.api_timeout,
                ),
            )
    finally:
        await database.dispose()


async def menu_push(settings: Settings, args: argparse.Namespace) -> str:
    """The default menu, then each role's menu for its tag (the officers' for 民警, the
    volunteers' for 巡防队员) in place of the one pushed before; the role's active members
    are (re)tagged, so those bound before the tag existed see it."""
    async with opened(settings) as (database, api):
        await api.create_menu(load_menu())
        async with database.reader() as session:
            officers = [o.openid for o in await OfficerRepo(session).active_all() if o.openid]
            volunteers = [
                v.openid
                for v in await PatrolRepo(session).volunteers()
                if v.openid and v.status == "active"
            ]
        lines = ["default menu pushed (handlers/menu.yaml)"]
        for who, tag, menu, members in (
            ("officers", OFFICER_TAG, load_officer_menu(), officers),
            ("volunteers", PATROL_TAG, load_patrol_menu(), volunteers),
        ):
            lines.append(
                f"{who}' menu pushed for tag {await _push_for_tag(api, tag, menu, members)}"
            )
    return "\n".join(lines)


async def _push_for_tag(api: WeChatAPI, tag: str, menu: dict[str, Any], members: list[str]) -> str:
    tag_id = await named_tag(api, tag)
    pushed = (await api.get_menu()).get("conditionalmenu", [])
    stale = [str(m["menuid"]) for m in pushed if _rule_tag(m.get("matchrule")) == tag_id]
    for menuid in stale:
        await api.delete_conditional_menu(menuid)
    menuid = await api.add_conditional_menu(menu, tag_id)
    tagged = await set_tag(api, tag, members)  # best effort: the tag grants nothing
    replaced = f", replacing {', '.join(stale)}" if stale else ""
    state = "in the tag" if tagged else "NOT tagged (WeChat refused: see the log)"
    return f"{tag} ({tag_id}): menuid {menuid}{replaced}; {len(members)} active {state}"


def _rule_tag(rule: Any) -> int | None:
    """A conditional menu's tag: menu/get names it group_id (its older name), or tag_id."""
    tag = rule.get("tag_id", rule.get("group_id")) if isinstance(rule, dict) else None
    return int(str(tag)) if str(tag).isdigit() else None


async def community_add(settings: Settings, args: argparse.Namespace) -> str:
    async with opened(settings) as (database, _), database.sessionmaker.begin() as session:
        repo = CommunityRepo(session)
        if await repo.by_code(args.code):
            return f"community {args.code} exists already"
        await repo.create(
            code=args.code,
            name=args.name,
            aliases=list(args.alias or []),
            area=args.area,
            now=utc(system_clock),
        )
    return f"community {args.code} ({args.name}) added"


async def community_list(settings: Settings, args: argparse.Namespace) -> str:
    async with opened(settings) as (database, _), database.reader() as session:
        rows = await CommunityRepo(session).all()
    lines = [f"{c.code}\t{c.name}\ttag={c.tag_id or '-'}\t{' '.join(c.aliases)}" for c in rows]
    return "\n".join(lines) or "no communities yet: pingan community add CODE NAME"


async def community_qr(settings: Settings, args: argparse.Namespace) -> str:
    async with opened(settings) as (database, api):
        async with database.reader() as session:
            community = await CommunityRepo(session).by_code(args.code)
        if community is None:
            return f"no community {args.code}"
        expire = None if args.permanent else int(timedelta(days=args.days).total_seconds())
        qr = await api.create_qrcode(community_scene(community.code), expire_seconds=expire)
    life = "permanent" if qr.expire_seconds is None else f"valid {qr.expire_seconds // 86400} days"
    return f"{community.name}: {SHOW_QR}{qr.ticket}\n({life}; scene {community_scene(args.code)})"


async def faq_gaps(settings: Settings, args: argparse.Namespace) -> str:
    async with opened(settings) as (database, _), database.reader() as session:
        rows = await InquiryRepo(session).gaps(args.limit)
    lines: list[str] = []
    for row in rows:
        lines.append(f"{row.asked:5}  {row.example}")
        if row.suggested_answer:
            lines.append(f"       officer's answer: {row.suggested_answer}")
    return "\n".join(["asked  question (most asked first)", *lines]) if rows else "no gaps"


async def keys_rotate(settings: Settings, args: argparse.Namespace) -> str:
    """Re-seal every sealed value with the newest key; then the older keys can be dropped."""
    try:
        keys = settings.seal_keys()
    except WeakKey as exc:
        raise SystemExit(str(exc)) from None
    database = open_database(settings.database_url)
    try:
        results = await rotate_store(database.sessionmaker, keys)
    except KeyMismatch as exc:
        raise SystemExit(str(exc)) from None
    finally:
        await database.dispose()
    lines = [
        f"{r.name:22} {r.resealed:6} re-sealed {r.current:6} already newest"
        + (f" {r.unreadable:6} unreadable (left as they are)" if r.unreadable else "")
        for r in results
    ]
    lines.append(
        "every readable sealed value now uses the newest key: "
        "the keys after it can be removed from PINGAN_SEAL_KEY"
    )
    return "\n".join(lines)
