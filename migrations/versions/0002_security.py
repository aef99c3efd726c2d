"""security: re-authentication time on session records

Adding a passkey, an authenticator app, recovery codes or a chat link needs the
password proved recently in the same session (issue 12, finding 11).

Revision ID: 0002_security
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plans.db

revision = "0002_security"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reauthenticated_at", plans.db.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_column("reauthenticated_at")
