"""at scene: team out-of-hours and crisis lines, the person's photo

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plans.db


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("out_of_hours_phone", sa.String(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column("out_of_hours", sa.String(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("crisis_line", sa.String(length=40), nullable=True)
        )

    with op.batch_alter_table("access_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agency", sa.String(length=100), nullable=True))
    with op.batch_alter_table("privacy_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=True))

    op.create_table(
        "plan_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("plan_version_id", sa.Integer(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("agreed_with_person", sa.Boolean(), nullable=False),
        sa.Column("added_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", plans.db.UTCDateTime(), nullable=True),
        sa.Column("removed_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_plan_photos_added_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_plan_photos_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_versions.id"],
            name=op.f("fk_plan_photos_plan_version_id_plan_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_photos")),
    )
    with op.batch_alter_table("plan_photos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_photos_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_photos_person_id"))
    op.drop_table("plan_photos")
    with op.batch_alter_table("privacy_alerts", schema=None) as batch_op:
        batch_op.drop_column("evidence")
        batch_op.drop_column("count")
    with op.batch_alter_table("access_grants", schema=None) as batch_op:
        batch_op.drop_column("agency")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("crisis_line")
        batch_op.drop_column("out_of_hours")
        batch_op.drop_column("out_of_hours_phone")
