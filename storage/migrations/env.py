"""Alembic environment: runs on a connection handed in by ``storage.migrate``.

Standalone use (``alembic -c storage/alembic.ini revision --autogenerate``) reads the URL from
``PINGAN_DATABASE_URL`` like the service does.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from storage.models import Base

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone() -> None:
    from bot.config import Settings
    from storage.db import create_engine

    engine = create_engine(Settings().database_url)
    async with engine.begin() as conn:
        await conn.run_sync(run_on)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    asyncio.run(_run_standalone())
