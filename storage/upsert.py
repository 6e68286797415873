"""Dialect-aware INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL both have it)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


def table_of(model: type[DeclarativeBase]) -> Table:
    """A model's table, for Core statements that bypass the ORM's per-object work."""
    return cast(Table, model.__table__)


def dialect_insert(
    session: AsyncSession, model: type[DeclarativeBase] | Table
) -> postgresql.Insert | sqlite.Insert:
    """The INSERT of the session's dialect, which knows ON CONFLICT. Given a model's table
    rather than the model, it skips the ORM's per-row work (for many rows at a time)."""
    return insert_for(session.get_bind().dialect.name, model)


def insert_for(
    dialect: str, model: type[DeclarativeBase] | Table
) -> postgresql.Insert | sqlite.Insert:
    """The INSERT of a dialect by name (for statements built once and kept)."""
    if dialect == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


async def insert_ignore(
    session: AsyncSession, model: type[DeclarativeBase], **values: Any
) -> bool:
    """Insert one row unless it collides with a unique key; True when the row was inserted."""
    stmt = dialect_insert(session, model).values(**values).on_conflict_do_nothing()
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))
