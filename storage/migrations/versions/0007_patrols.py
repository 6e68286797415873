"""patrols: teams, volunteers, shifts with their tracks, patrol reports, activities, points

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "patrol_teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lng", sa.Double(), nullable=True),
        sa.Column("radius_m", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "patrol_volunteers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("openid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("bound_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["patrol_teams.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("openid"),
    )
    op.create_index("ix_patrol_volunteers_team_id", "patrol_volunteers", ["team_id"])
    op.create_table(
        "patrol_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=16), nullable=True),
        sa.Column("checkin_lat", sa.Double(), nullable=True),
        sa.Column("checkin_lng", sa.Double(), nullable=True),
        sa.Column("far", sa.Boolean(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lng", sa.Double(), nullable=True),
        sa.Column("located_at", sa.DateTime(), nullable=True),
        sa.Column("distance_m", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["patrol_teams.id"]),
        sa.ForeignKeyConstraint(["volunteer_id"], ["patrol_volunteers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("volunteer_id", "team_id", "ended_at"):
        op.create_index(f"ix_patrol_shifts_{column}", "patrol_shifts", [column])
    op.create_table(
        "patrol_track_points",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lng", sa.Double(), nullable=False),
        sa.Column("precision", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(["shift_id"], ["patrol_shifts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_patrol_track_points_shift_id", "patrol_track_points", ["shift_id"])
    op.create_table(
        "patrol_reports",
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("valuable", sa.Boolean(), nullable=False),
        sa.Column("solved", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shift_id"], ["patrol_shifts.id"]),
        sa.ForeignKeyConstraint(["volunteer_id"], ["patrol_volunteers.id"]),
        sa.PrimaryKeyConstraint("tip_id"),
    )
    op.create_index("ix_patrol_reports_shift_id", "patrol_reports", ["shift_id"])
    op.create_index("ix_patrol_reports_volunteer_id", "patrol_reports", ["volunteer_id"])
    op.create_table(
        "patrol_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["shift_id"], ["patrol_shifts.id"]),
        sa.ForeignKeyConstraint(["volunteer_id"], ["patrol_volunteers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_patrol_activities_shift_id", "patrol_activities", ["shift_id"])
    op.create_table(
        "patrol_points",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("shift_id", sa.Integer(), nullable=True),
        sa.Column("tip_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["volunteer_id"], ["patrol_volunteers.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"]),
        sa.ForeignKeyConstraint(["shift_id"], ["patrol_shifts.id"]),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_patrol_points_volunteer_id", "patrol_points", ["volunteer_id"])
    op.create_index("ix_patrol_points_at", "patrol_points", ["at"])
    _append_only("patrol_points")


def _append_only(table: str) -> None:
    """The ledger refuses updates and deletes, whoever connects (but a DROP)."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
        return
    op.execute(
        f"CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$ BEGIN "
        f"RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql"
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER patrol_points_append_only ON patrol_points")
        op.execute("DROP FUNCTION patrol_points_append_only()")
    for table in (
        "patrol_points",
        "patrol_activities",
        "patrol_reports",
        "patrol_track_points",
        "patrol_shifts",
        "patrol_volunteers",
        "patrol_teams",
    ):
        op.drop_table(table)
