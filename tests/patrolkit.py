"""Helpers for the patrol tests: a team, an invitation through the CLI, an enrolled
volunteer, what the store holds."""

from __future__ import annotations

import argparse
import re
from typing import Any

from sqlalchemy import select

from bot.patroladmin import invite, team_add
from bot.typedefs import sessionmaker_key, settings_key
from storage.patrol_models import PatrolShift, PointEntry, Volunteer
from tests.conftest import Bot
from tests.test_tips import say

#: The team's area: 新华村, 500 m around this point.
HOME = (39.9000, 116.4000)


async def team(bot: Bot, name: str = "新华村红袖标队") -> int:
    printed = await team_add(
        bot.app[settings_key],
        argparse.Namespace(name=name, community=None, lat=HOME[0], lng=HOME[1], radius=500),
    )
    found = re.search(r"team (\d+)", printed)
    assert found is not None, printed
    return int(found[1])


async def invitation(bot: Bot, team_id: int, name: str, role: str = "情报员", **extra: Any) -> str:
    args = argparse.Namespace(team=team_id, name=name, role=role, days=None)
    for key, value in extra.items():
        setattr(args, key, value)
    printed = await invite(bot.app[settings_key], args)
    found = re.search(r"注册 (\w+)", printed)
    assert found is not None, printed
    assert "showqrcode?ticket=" in printed  # and a QR code for the scene e:CODE
    return found[1]


async def volunteer(bot: Bot, openid: str, name: str = "王芳", team_id: int | None = None) -> str:
    """An enrolled volunteer; returns the enrolment reply."""
    team_id = team_id if team_id is not None else await team(bot)
    code = await invitation(bot, team_id, name)
    return await say(bot, openid, f"注册 {code}")


async def record_of(bot: Bot, openid: str) -> Volunteer | None:
    async with bot.app[sessionmaker_key]() as session:
        return await session.scalar(select(Volunteer).where(Volunteer.openid == openid))


async def shifts(bot: Bot) -> list[PatrolShift]:
    async with bot.app[sessionmaker_key]() as session:
        return list((await session.scalars(select(PatrolShift).order_by(PatrolShift.id))).all())


async def ledger(bot: Bot) -> list[PointEntry]:
    async with bot.app[sessionmaker_key]() as session:
        return list((await session.scalars(select(PointEntry).order_by(PointEntry.id))).all())


def north(metres: float) -> tuple[float, float]:
    """A point this many metres north of HOME (a degree of latitude is about 111.2 km)."""
    return HOME[0] + metres / 111_195.0, HOME[1]
