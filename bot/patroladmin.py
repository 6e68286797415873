"""`pingan patrol team-add|teams|invite|list|suspend|resume`: the station manages its red-armband
teams and the single-use codes that enrol their volunteers."""

from __future__ import annotations

import argparse
from datetime import timedelta

from bot.admin import enrolment_qr, opened
from bot.config import Settings
from handlers.patrols.rules import load_patrol_rules
from storage.clock import system_clock, utc
from storage.codes import new_code
from storage.patrols import PatrolRepo
from storage.users import CommunityRepo


async def team_add(settings: Settings, args: argparse.Namespace) -> str:
    async with opened(settings) as (database, _), database.sessionmaker.begin() as session:
        community_id = None
        if args.community:
            community = await CommunityRepo(session).by_code(args.community)
            if community is None:
                return f"no community {args.community}: pingan community add first"
            community_id = community.id
        team = await PatrolRepo(session).add_team(
            name=args.name,
            community_id=community_id,
            lat=args.lat,
            lng=args.lng,
            radius_m=args.radius,
            now=utc(system_clock),
        )
    return f"team {team.id} ({team.name}) added"


async def invite(settings: Settings, args: argparse.Namespace) -> str:
    """A pending volunteer of a team and the code (and QR scene) that enrols them."""
    rules = load_patrol_rules()
    role = rules.role(args.role)
    if role is None:
        return f"role must be one of {', '.join(rules.roles.values())}"
    valid = timedelta(days=args.days) if args.days else rules.enrolment
    code = new_code("P")
    async with opened(settings) as (database, api):
        async with database.sessionmaker.begin() as session:
            repo = PatrolRepo(session)
            team = await repo.team(args.team)
            if team is None:
                return f"no team {args.team}: pingan patrol team-add first"
            volunteer = await repo.invite(
                team, name=args.name, role=role, code=code, now=utc(system_clock), valid=valid
            )
        days = valid.days
        lines = [
            f"volunteer {volunteer.id} ({volunteer.name}, {rules.roles[role]}) "
            f"invited to {team.name}",
            f"enrolment code: {code} (single use, valid {days} days): send 注册 {code}",
        ]
        lines.append(await enrolment_qr(api, code, valid))
    return "\n".join(lines)


#: A team of at least five per village (治安联防队): `pingan patrol teams` marks those short.
TEAM_MINIMUM = 5


async def team_list(settings: Settings, args: argparse.Namespace) -> str:
    async with opened(settings) as (database, _), database.reader() as session:
        repo = PatrolRepo(session)
        rows = []
        for team in await repo.teams():
            active = [v for v in await repo.volunteers(team.id) if v.status == "active"]
            short = f" (fewer than {TEAM_MINIMUM})" if len(active) < TEAM_MINIMUM else ""
            rows.append(f"{team.id}\t{team.name}\t{len(active)} active{short}")
    return "\n".join(rows) or "no teams yet: pingan patrol team-add --name NAME"


async def volunteer_list(settings: Settings, args: argparse.Namespace) -> str:
    async with opened(settings) as (database, _), database.reader() as session:
        repo = PatrolRepo(session)
        teams = {t.id: t.name for t in await repo.teams()}
        rows = [
            f"{v.id}\t{v.name}\t{teams.get(v.team_id, '?')}\t{v.role}\t{v.status}"
            f"\t{await repo.balance(v.id)} points"
            for v in await repo.volunteers(args.team)
        ]
    return "\n".join(rows) or "no volunteers yet: pingan patrol invite --team ID --name NAME"


async def set_status(settings: Settings, args: argparse.Namespace) -> str:
    status = "suspended" if args.suspend else "active"
    async with opened(settings) as (database, _), database.sessionmaker.begin() as session:
        volunteer = await PatrolRepo(session).volunteer(args.id)
        if volunteer is None or volunteer.status not in ("active", "suspended"):
            return f"no enrolled volunteer {args.id}"
        volunteer.status = status
    return f"volunteer {args.id} ({volunteer.name}) is {status}"
