"""trust: keyed delivery ledger, nonces, sealed reporters, push retries, key check

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    linked = bind.execute(
        sa.text("SELECT count(*) FROM tips WHERE reporter_lookup IS NOT NULL")
    ).scalar()
    if linked:
        # Sealing needs the key, which migrations never see; no station ran 0003 in service.
        msg = (
            "0004 re-seals reporters and cannot run on a store that already holds tips: "
            "export them, start from an empty store and re-import"
        )
        raise RuntimeError(msg)

    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_openid")
        batch.drop_column("openid")
        batch.add_column(sa.Column("user_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("owner", sa.String(length=32), nullable=True))
        batch.alter_column(
            "dedup_key", type_=sa.String(length=64), existing_type=sa.String(length=200)
        )
        batch.create_index("ix_deliveries_user_key", ["user_key"], unique=False)
        batch.create_index("ix_deliveries_status", ["status"], unique=False)
    # What earlier versions kept for ever: inbound XML and replies of finished deliveries.
    op.execute("UPDATE deliveries SET payload = '', reply = NULL WHERE status <> 'processing'")

    op.create_table(
        "webhook_nonces",
        sa.Column("nonce_key", sa.String(length=64), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce_key"),
    )
    op.create_index("ix_webhook_nonces_seen_at", "webhook_nonces", ["seen_at"], unique=False)
    op.create_table(
        "key_checks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )

    with op.batch_alter_table("tips") as batch:
        batch.drop_index("ix_tips_reporter_lookup")
        batch.drop_column("reporter_lookup")
        batch.drop_column("reporter_openid")
        batch.add_column(sa.Column("reporter_name", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("reporter_phone", sa.String(length=20), nullable=True))

    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("tips_sealed", sa.Text(), nullable=True))

    # used_by now holds a keyed hash; the raw openids it held cannot be converted.
    op.execute("UPDATE enrolment_codes SET used_by = NULL")

    with op.batch_alter_table("outbound_messages") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch.create_index(
            "ix_outbound_messages_next_attempt_at", ["next_attempt_at"], unique=False
        )
    # Pushes still to send are due now; the texts of pushes that went out are not kept.
    op.execute(
        "UPDATE outbound_messages SET next_attempt_at = created_at "
        "WHERE status IN ('pending', 'failed')"
    )
    op.execute(
        "UPDATE outbound_messages SET payload = '{}' WHERE status IN ('sent', 'shown', 'dropped')"
    )

    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("repeats", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("repeats")
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_index("ix_outbound_messages_next_attempt_at")
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("tips_sealed")
    with op.batch_alter_table("tips") as batch:
        batch.drop_column("reporter_phone")
        batch.drop_column("reporter_name")
        batch.add_column(sa.Column("reporter_openid", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("reporter_lookup", sa.String(length=64), nullable=True))
        batch.create_index("ix_tips_reporter_lookup", ["reporter_lookup"], unique=False)
    op.drop_table("key_checks")
    op.drop_index("ix_webhook_nonces_seen_at", table_name="webhook_nonces")
    op.drop_table("webhook_nonces")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_status")
        batch.drop_index("ix_deliveries_user_key")
        batch.alter_column(
            "dedup_key", type_=sa.String(length=200), existing_type=sa.String(length=64)
        )
        batch.drop_column("owner")
        batch.drop_column("user_key")
        batch.add_column(sa.Column("openid", sa.String(length=64), nullable=True))
        batch.create_index("ix_deliveries_openid", ["openid"], unique=False)
