"""Followers, their communities and the enrolment codes that grant roles."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import to_the_hour
from storage.deliveries import DeliveryRepo
from storage.models import Community, DialogState, EnrolmentCode, OutboundMessage, User

#: Built once: compiled and keyed once per process, not per batch.
_PRELOAD = (
    select(User, DialogState)
    .outerjoin(DialogState, DialogState.openid == User.openid)
    .where(User.openid.in_(bindparam("openids", expanding=True)))
)


async def preload(session: AsyncSession, openids: Iterable[str]) -> list[object]:
    """Load these senders' profiles and dialogs into the session, one statement for a whole
    batch: the handlers' own lookups by openid then find them without a query. The session
    holds its objects weakly: keep the returned list as long as the lookups should hit."""
    rows = (await session.execute(_PRELOAD, {"openids": list(openids)})).all()
    return [obj for row in rows for obj in row if obj is not None]


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, openid: str) -> User | None:
        return await self.session.get(User, openid)

    async def seen(self, openid: str, *, kind: str, now: datetime) -> tuple[User, bool]:
        """Load the user, creating the profile on first contact; record this inbound contact.

        Returns the user and whether it was created now.
        """
        user = await self.session.get(User, openid)
        created = user is None
        hour = to_the_hour(now)
        if user is None:
            user = User(openid=openid, subscribed_at=hour, role="resident", language="zh_CN")
            self.session.add(user)
        if user.last_inbound_at != hour or user.last_inbound_kind != kind:
            # Most messages change neither (the hour is coarse on purpose): leave it clean.
            user.last_inbound_at = hour
            user.last_inbound_kind = kind
        if created:  # the row exists from here on; changes to known users wait for the commit
            await self.session.flush()
        return user, created

    async def forget(self, openid: str, *, user_key: str, enrolment_key: str) -> None:
        """Unsubscribe: delete the profile and dialog state, unlink and empty everything else
        that ties the openid to content (pushes naming a tip code, replies, payloads)."""
        await self.session.execute(delete(DialogState).where(DialogState.openid == openid))
        await self.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.openid == openid)
            .values(openid=None, payload={})
        )
        await DeliveryRepo(self.session).forget_user(user_key)
        await self.session.execute(
            update(EnrolmentCode)
            .where(EnrolmentCode.used_by == enrolment_key)
            .values(used_by=None)
        )
        await self.session.execute(delete(User).where(User.openid == openid))


class CommunityRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_code(self, code: str) -> Community | None:
        stmt = select(Community).where(Community.code == code)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def all(self) -> list[Community]:
        return list(
            (await self.session.execute(select(Community).order_by(Community.id))).scalars()
        )

    async def by_id(self, community_id: int) -> Community | None:
        return await self.session.get(Community, community_id)

    async def create(
        self,
        *,
        code: str,
        name: str,
        now: datetime,
        aliases: list[str] | None = None,
        area: str | None = None,
    ) -> Community:
        community = Community(
            code=code, name=name, aliases=aliases or [], area=area, created_at=now
        )
        self.session.add(community)
        await self.session.flush()
        return community


class EnrolmentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        *,
        code: str,
        role: str,
        community_id: int | None,
        now: datetime,
        expires_at: datetime,
    ) -> EnrolmentCode:
        row = EnrolmentCode(
            code=code, role=role, community_id=community_id, created_at=now, expires_at=expires_at
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def redeem(self, code: str, *, user_key: str, now: datetime) -> EnrolmentCode | None:
        """Use a code once: the conditional UPDATE makes two redeemers race safely.

        ``user_key`` is a keyed hash of the redeemer, never the openid itself."""
        result = await self.session.execute(
            update(EnrolmentCode)
            .where(
                EnrolmentCode.code == code,
                EnrolmentCode.used_at.is_(None),
                EnrolmentCode.expires_at > now,
            )
            .values(used_by=user_key, used_at=now)
        )
        if not getattr(result, "rowcount", 0):
            return None
        return await self.session.get(EnrolmentCode, code, populate_existing=True)
