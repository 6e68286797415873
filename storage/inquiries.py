"""Unanswered questions, handoffs to officers, and visit reminders."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from storage.alerts import raise_alert
from storage.deferred import defer, flush_deferred
from storage.models import Handoff, OfficerAlert, Reminder, UnansweredQuestion
from storage.upsert import insert_for, table_of

#: What an officer reads of a hand-off and the questions folded into it.
HANDOFF_CHARS = 2000


@cache
def _count(dialect: str, suggested: bool) -> Insert:
    """The upsert that counts an unanswered question, built once (its SQL is compiled once
    and its cache key computed once, not per question)."""
    counted = table_of(UnansweredQuestion).c
    again: dict[str, Any] = {"asked": counted.asked + 1, "last_asked_at": bindparam("now")}
    if suggested:
        again["suggested_answer"] = bindparam("suggested")
    return (
        insert_for(dialect, table_of(UnansweredQuestion))
        .values(
            normalized=bindparam("key"),
            example=bindparam("example"),
            asked=1,
            first_asked_at=bindparam("now"),
            last_asked_at=bindparam("now"),
            suggested_answer=bindparam("suggested") if suggested else None,
        )
        .on_conflict_do_update(index_elements=[counted.normalized], set_=again)
    )


class InquiryRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unanswered(
        self, normalized: str, example: str, now: datetime, *, suggested: str | None = None
    ) -> None:
        """Count a question the knowledge base could not answer; ``suggested`` is an officer's
        answer to it, the draft of its FAQ entry."""
        # Asked often on the webhook's hot path, and read back by nothing but ``gaps``: one
        # upsert, deferred to the commit with the rest of the batch's (``storage.deferred``).
        params = {"key": normalized[:200], "example": example[:500], "now": now}
        if suggested is not None:
            params["suggested"] = suggested
        dialect = self.session.get_bind().dialect.name
        defer(self.session, _count(dialect, suggested is not None), params)

    async def gaps(self, limit: int = 20) -> list[UnansweredQuestion]:
        await self.session.run_sync(flush_deferred)  # counts made in this transaction too
        stmt = (
            select(UnansweredQuestion)
            .order_by(UnansweredQuestion.asked.desc(), UnansweredQuestion.last_asked_at.desc())
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def hand_off(self, openid: str, question: str, now: datetime) -> Handoff:
        """Queue a question for the officers; while one is unanswered, more fold into it."""
        stmt = (
            select(Handoff)
            .where(Handoff.openid == openid, Handoff.answered_at.is_(None))
            .order_by(Handoff.id.desc())
            .limit(1)
        )
        open_row = (await self.session.execute(stmt)).scalar_one_or_none()
        if open_row is not None:
            open_row.repeats += 1
            if len(open_row.question) < HANDOFF_CHARS:  # the officer reads the first ones
                open_row.question = (open_row.question + "\n" + question)[:HANDOFF_CHARS]
            return open_row
        row = Handoff(openid=openid, question=question[:HANDOFF_CHARS], created_at=now)
        self.session.add(row)
        await self.session.flush()
        raise_alert(self.session, OfficerAlert(handoff_id=row.id, kind="handoff", created_at=now))
        return row

    async def remind(self, openid: str, due_at: datetime, text: str) -> Reminder:
        row = Reminder(openid=openid, due_at=due_at, text=text)
        self.session.add(row)
        await self.session.flush()
        return row

    async def due(self, now: datetime, limit: int = 100) -> list[Reminder]:
        stmt = (
            select(Reminder)
            .where(
                Reminder.sent_at.is_(None), Reminder.due_at <= now, Reminder.openid.is_not(None)
            )
            .order_by(Reminder.due_at)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def mark_sent(self, reminder_id: int, now: datetime) -> bool:
        """Claim a reminder for sending; False when another process already did."""
        result = await self.session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id, Reminder.sent_at.is_(None))
            .values(sent_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def forget_user(self, openid: str) -> None:
        await self.session.execute(
            update(Handoff).where(Handoff.openid == openid).values(openid=None)
        )
        await self.session.execute(
            update(Reminder).where(Reminder.openid == openid).values(openid=None)
        )
