"""NRL pointers: the queue of pointer changes and the pointers held

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 17:30:00

Two new tables and nothing else changes: `nrl_outbox` (a sibling of the
notification outbox, one row per pointer change) and `nrl_pointers` (the id the
NRL gave each person's current pointer, to supersede or delete it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plans.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nrl_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("lease_until", plans.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", plans.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_nrl_outbox_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["plan_versions.id"],
            name=op.f("fk_nrl_outbox_version_id_plan_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nrl_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_nrl_outbox_key")),
    )
    with op.batch_alter_table("nrl_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_nrl_outbox_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_nrl_outbox_person_id"), ["person_id"], unique=False
        )
    op.create_table(
        "nrl_pointers",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("pointer_id", sa.String(length=200), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", plans.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_nrl_pointers_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_nrl_pointers")),
    )


def downgrade() -> None:
    op.drop_table("nrl_pointers")
    with op.batch_alter_table("nrl_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nrl_outbox_person_id"))
        batch_op.drop_index("ix_nrl_outbox_due")
    op.drop_table("nrl_outbox")
