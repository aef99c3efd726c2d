"""publish rules: the person's responses to each version, withdrawal deadlines

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plans.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_version_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("created_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_plan_responses_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_versions.id"],
            name=op.f("fk_plan_responses_plan_version_id_plan_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_plan_responses_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_responses")),
    )
    with op.batch_alter_table("plan_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_responses_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_plan_responses_plan_version_id"),
            ["plan_version_id"],
            unique=False,
        )
    with op.batch_alter_table("person_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("overdue_alerted_at", plans.db.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("person_requests", schema=None) as batch_op:
        batch_op.drop_column("overdue_alerted_at")
        batch_op.drop_column("due_on")
    with op.batch_alter_table("plan_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_responses_plan_version_id"))
        batch_op.drop_index(batch_op.f("ix_plan_responses_person_id"))
    op.drop_table("plan_responses")
