"""Officers: added by station staff, bound by their enrolment code, revoked at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.duty import DutyRepo
from storage.models import EnrolmentCode, Handoff, Officer, User

RANKS = ("officer", "auxiliary", "chief")


class OfficerRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, *, name: str, rank: str, code: str, now: datetime, valid: timedelta
    ) -> Officer:
        """A pending officer and the single-use code that binds them."""
        officer = Officer(name=name, rank=rank, status="pending", created_at=now)
        self.session.add(officer)
        await self.session.flush()
        self.session.add(
            EnrolmentCode(
                code=code,
                role="officer",
                officer_id=officer.id,
                created_at=now,
                expires_at=now + valid,
            )
        )
        await self.session.flush()
        return officer

    async def get(self, officer_id: int) -> Officer | None:
        return await self.session.get(Officer, officer_id)

    async def active(self, openid: str) -> Officer | None:
        stmt = select(Officer).where(Officer.openid == openid, Officer.status == "active")
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def active_all(self) -> list[Officer]:
        stmt = select(Officer).where(Officer.status == "active").order_by(Officer.id)
        return list((await self.session.execute(stmt)).scalars())

    async def on_duty(self, now: datetime) -> list[Officer]:
        """Who is on duty at ``now`` by the roster; with no roster, every active officer."""
        officers = await self.active_all()
        on = await DutyRepo(self.session).on_duty(now)
        return officers if on is None else [o for o in officers if o.id in on]

    async def all(self) -> list[Officer]:
        return list((await self.session.execute(select(Officer).order_by(Officer.id))).scalars())

    async def bind(self, officer_id: int, openid: str, now: datetime) -> Officer | None:
        """Bind a pending officer to the account that redeemed their code."""
        officer = await self.session.get(Officer, officer_id)
        if officer is None or officer.status != "pending":
            return None
        # One account, one officer: an earlier binding of this account is revoked.
        await self.session.execute(
            update(Officer)
            .where(Officer.openid == openid)
            .values(openid=None, status="revoked", revoked_at=now)
        )
        officer.openid, officer.status, officer.bound_at = openid, "active", now
        return officer

    async def revoke(self, officer_id: int, now: datetime) -> Officer | None:
        """Every power goes at once: the record, any unused code and the account's role."""
        officer = await self.session.get(Officer, officer_id)
        if officer is None or officer.status == "revoked":
            return None
        officer.status, officer.revoked_at = "revoked", now
        await self.session.execute(
            update(EnrolmentCode)
            .where(EnrolmentCode.officer_id == officer_id, EnrolmentCode.used_at.is_(None))
            .values(expires_at=now)
        )
        if officer.openid is not None:
            await self.session.execute(
                update(User).where(User.openid == officer.openid).values(role="resident")
            )
        return officer

    async def open_handoffs(self, limit: int = 8) -> list[Handoff]:
        """Questions residents handed to the officers that nobody has answered, oldest first."""
        stmt = (
            select(Handoff)
            .where(Handoff.answered_at.is_(None), Handoff.openid.is_not(None))
            .order_by(Handoff.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def answer(
        self, handoff_id: int, *, officer_id: int, text: str, now: datetime
    ) -> Handoff | None:
        """Record the answer once; None when it is unknown, answered, or its asker left."""
        result = await self.session.execute(
            update(Handoff)
            .where(
                Handoff.id == handoff_id,
                Handoff.answered_at.is_(None),
                Handoff.openid.is_not(None),
            )
            .values(answered_at=now, answered_by=officer_id, answer=text)
        )
        if not getattr(result, "rowcount", 0):
            return None
        return await self.session.get(Handoff, handoff_id, populate_existing=True)
