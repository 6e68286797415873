"""Writes that nothing in the transaction reads back, put off to its commit and sent together.

A batch of messages (``bot.effects``) shares one transaction; a write each of its messages
makes (counting an unanswered question, say) would otherwise be a statement, and on
PostgreSQL a round trip, per message. Deferred, they go as one executemany per statement
right before the commit, in the order they were made; a rollback drops them with the rest.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

_KEY = "pingan.deferred"


def defer(session: AsyncSession, statement: UpdateBase, params: dict[str, Any]) -> None:
    """Run ``statement`` with ``params`` just before the session commits."""
    pending: dict[UpdateBase, list[dict[str, Any]]] = session.sync_session.info.setdefault(
        _KEY, {}
    )
    pending.setdefault(statement, []).append(params)


def flush_deferred(session: Session) -> None:
    """Run what was deferred now (before reading what it writes, or at the commit)."""
    pending: dict[UpdateBase, list[dict[str, Any]]] = session.info.pop(_KEY, {})
    for statement, rows in pending.items():
        session.connection().execute(statement, rows)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    flush_deferred(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)
