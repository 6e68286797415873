"""partial indexes for the sweeper: it runs every 2 s on the event loop's thread (the SQLite
writer is inline), and each run scanned the whole delivery ledger (SQLite took the index on
all of ``status`` for ``status = 'done'``; it is replaced by one on the rows in flight)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 20:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# As storage.models spells them: migrations do not import the models.
PROCESSING = sa.text("status = 'processing'")
REPLIED = sa.text("reply IS NOT NULL")
LINKED = sa.text("status = 'done' AND user_key IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_status")
    op.create_index(
        "ix_deliveries_processing",
        "deliveries",
        ["id"],
        sqlite_where=PROCESSING,
        postgresql_where=PROCESSING,
    )
    op.create_index(
        "ix_deliveries_replied",
        "deliveries",
        ["finished_at"],
        sqlite_where=REPLIED,
        postgresql_where=REPLIED,
    )
    op.create_index(
        "ix_deliveries_linked",
        "deliveries",
        ["finished_at"],
        sqlite_where=LINKED,
        postgresql_where=LINKED,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_linked", table_name="deliveries")
    op.drop_index("ix_deliveries_replied", table_name="deliveries")
    op.drop_index("ix_deliveries_processing", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.create_index("ix_deliveries_status", ["status"], unique=False)
