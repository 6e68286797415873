"""casework: tips assigned to an officer, hand-off answers as FAQ drafts, job runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tips") as batch:
        batch.add_column(sa.Column("assigned_to", sa.Integer(), nullable=True))
        batch.create_index("ix_tips_assigned_to", ["assigned_to"])
        batch.create_foreign_key(
            "fk_tips_assigned_to", "officers", ["assigned_to"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.add_column(sa.Column("suggested_answer", sa.Text(), nullable=True))
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", "period"),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.drop_column("suggested_answer")
    with op.batch_alter_table("tips") as batch:
        batch.drop_constraint("fk_tips_assigned_to", type_="foreignkey")
        batch.drop_index("ix_tips_assigned_to")
        batch.drop_column("assigned_to")
