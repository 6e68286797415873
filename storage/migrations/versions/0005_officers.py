"""officers: records bound to WeChat accounts by their enrolment code; hand-off answers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "officers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("rank", sa.String(length=16), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("bound_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("openid"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("starts", sa.String(length=5), nullable=False),
        sa.Column("ends", sa.String(length=5), nullable=False),
        sa.Column("off", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_duty_shifts_officer_id", "duty_shifts", ["officer_id"], unique=False)
    op.create_table(
        "reveal_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("shown_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["officers.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["officers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _append_only()
    with op.batch_alter_table("enrolment_codes") as batch:
        batch.add_column(sa.Column("officer_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_enrolment_codes_officer_id", "officers", ["officer_id"], ["id"], ondelete="CASCADE"
        )
    with op.batch_alter_table("officer_alerts") as batch:
        batch.add_column(sa.Column("handoff_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("stage", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_escalation_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("acked_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("acked_by", sa.Integer(), nullable=True))
        batch.create_index("ix_officer_alerts_next_escalation_at", ["next_escalation_at"])
        batch.create_foreign_key(
            "fk_officer_alerts_handoff_id", "handoffs", ["handoff_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_foreign_key(
            "fk_officer_alerts_acked_by", "officers", ["acked_by"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("answered_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("answer", sa.Text(), nullable=True))
        batch.create_foreign_key(
            "fk_handoffs_answered_by", "officers", ["answered_by"], ["id"], ondelete="SET NULL"
        )


def _append_only() -> None:
    """The audit log refuses updates and deletes, whoever connects (but a DROP)."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_log is append-only'; END $$ LANGUAGE plpgsql"
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("reveal_requests")
    op.drop_index("ix_duty_shifts_officer_id", table_name="duty_shifts")
    op.drop_table("duty_shifts")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("officer_alerts") as batch:
        batch.drop_constraint("fk_officer_alerts_acked_by", type_="foreignkey")
        batch.drop_constraint("fk_officer_alerts_handoff_id", type_="foreignkey")
        batch.drop_index("ix_officer_alerts_next_escalation_at")
        for column in ("acked_by", "acked_at", "next_escalation_at", "stage", "handoff_id"):
            batch.drop_column(column)
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_constraint("fk_handoffs_answered_by", type_="foreignkey")
        batch.drop_column("answer")
        batch.drop_column("answered_by")
    with op.batch_alter_table("enrolment_codes") as batch:
        batch.drop_constraint("fk_enrolment_codes_officer_id", type_="foreignkey")
        batch.drop_column("officer_id")
    op.drop_table("officers")
