"""`pingan officer add|list|revoke`: station staff manage who holds officer powers."""

from __future__ import annotations

import argparse
import re
from datetime import date, timedelta

from bot.admin import enrolment_qr, opened
from bot.config import Settings
from handlers.officers.tag import OFFICER_TAG, set_officer_tag
from storage.audit import AuditRepo
from storage.clock import system_clock, utc
from storage.codes import new_code
from storage.duty import DutyRepo
from storage.officers import RANKS, OfficerRepo

#: How long an officer's binding code stays valid.
CODE_LIFE = timedelta(hours=24)


async def officer_add(settings: Settings, args: argparse.Namespace) -> str:
    if args.role not in RANKS:
        return f"role must be one of {', '.join(RANKS)}"
    code = new_code("M")
    async with opened(settings) as (database, api):
        async with database.sessionmaker.begin() as session:
            officer = await OfficerRepo(session).add(
                name=args.name, rank=args.role, code=code, now=utc(system_clock), valid=CODE_LIFE
            )
            AuditRepo(session).record(
                officer_id=officer.id,
                action="add",
                subject=None,
                now=utc(system_clock),
                detail="pingan officer add",
            )
        lines = [
            f"officer {officer.id} ({officer.name}, {officer.rank}) added",
            f"binding code: {code} (single use, valid 24 h): send 绑定 {code} to the account",
        ]
        lines.append(await enrolment_qr(api, code, CODE_LIFE))
    return "\n".join(lines)


async def officer_list(settings: Settings, args: argparse.Namespace) -> str:
    async with opened(settings) as (database, _), database.reader() as session:
        officers = await OfficerRepo(session).all()
    rows = [
        f"{o.id}\t{o.name}\t{o.rank}\t{o.status}\t{'bound' if o.openid else 'not bound'}"
        for o in officers
    ]
    return "\n".join(rows) or "no officers yet: pingan officer add --name NAME --role officer"


async def officer_revoke(settings: Settings, args: argparse.Namespace) -> str:
    async with opened(settings) as (database, api):
        async with database.sessionmaker.begin() as session:
            officer = await OfficerRepo(session).revoke(args.id, utc(system_clock))
            if officer is not None:
                AuditRepo(session).record(
                    officer_id=officer.id,
                    action="revoke",
                    subject=None,
                    now=utc(system_clock),
                    detail="pingan officer revoke",
                )
        if officer is None:
            return f"no active officer {args.id}"
        done = f"officer {officer.id} ({officer.name}) revoked: every power is gone from now on"
        # After the commit, and best effort: the tag only picks the menu, it grants nothing.
        if officer.openid and not await set_officer_tag(api, [officer.openid], untag=True):
            done += f"\n(could not take them out of the {OFFICER_TAG} tag: see the log)"
    return done


async def audit_show(settings: Settings, args: argparse.Namespace) -> str:
    async with opened(settings) as (database, _), database.reader() as session:
        entries = await AuditRepo(session).latest(args.limit)
    rows = [
        f"{e.at:%Y-%m-%d %H:%M:%S}\tofficer {e.officer_id}\t{e.action}\t{e.subject or '-'}"
        f"\t{e.detail or ''}".rstrip()
        for e in reversed(entries)
    ]
    return "\n".join(rows) or "the audit log is empty"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


async def duty_set(settings: Settings, args: argparse.Namespace) -> str:
    """A weekly pattern (--days) or a one-day override (--date, with --off or a time)."""
    if not (HHMM.match(args.start) and HHMM.match(args.end)):
        return "times are HH:MM (Beijing time), e.g. --from 08:00 --to 20:00"
    async with opened(settings) as (database, _), database.sessionmaker.begin() as session:
        if await OfficerRepo(session).get(args.id) is None:
            return f"no officer {args.id}"
        duty = DutyRepo(session)
        if args.date:
            day = date.fromisoformat(args.date)
            await duty.set_day(args.id, day, args.start, args.end, off=args.off)
            what = "off" if args.off else f"{args.start}-{args.end}"
            return f"officer {args.id} on {day}: {what}"
        days = [d.strip().lower() for d in (args.days or "").split(",") if d.strip()]
        if not days or any(d not in WEEKDAYS for d in days):
            return f"--days takes {','.join(WEEKDAYS)} (comma-separated), or use --date"
        await duty.set_weekly(args.id, [WEEKDAYS.index(d) for d in days], args.start, args.end)
    return f"officer {args.id}: {','.join(days)} {args.start}-{args.end} every week"


async def duty_show(settings: Settings, args: argparse.Namespace) -> str:
    async with opened(settings) as (database, _), database.reader() as session:
        shifts = await DutyRepo(session).all()
    rows = [
        f"officer {s.officer_id}\t"
        + (str(s.day) if s.day else WEEKDAYS[s.weekday or 0])
        + ("\toff" if s.off else f"\t{s.starts}-{s.ends}")
        for s in shifts
    ]
    return "\n".join(rows) or "no roster: every active officer is on duty"
