"""NHS standards: the person's NHS number; stored plans upgraded to response-plan/2

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:00:00

response-plan/2 only adds fields to response-plan/1, so upgrading a stored
document is renaming its format. Published versions are immutable to the
application (plans.models refuses the edit); a migration is the one place
allowed to rewrite them, and it changes nothing else. The readers upgrade any
v1 document they meet as well (plans.exchange.upgrade), so a version restored
from an older backup still reads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_plan_versions = sa.table(
    "plan_versions",
    sa.column("id", sa.Integer()),
    sa.column("document", sa.JSON()),
)


def _rewrite_documents(change) -> None:
    """Apply `change` to every stored document, a page of rows at a time."""
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(_plan_versions.c.id, _plan_versions.c.document)
            .where(_plan_versions.c.id > last_id)
            .order_by(_plan_versions.c.id)
            .limit(500)
        ).all()
        if not rows:
            return
        for version_id, document in rows:
            changed = change(document) if isinstance(document, dict) else None
            if changed is not None:
                connection.execute(
                    _plan_versions.update()
                    .where(_plan_versions.c.id == version_id)
                    .values(document=changed)
                )
        last_id = rows[-1][0]


def _to_v2(document: dict) -> dict | None:
    if document.get("format") != "response-plan/1":
        return None
    return dict(document, format="response-plan/2")


def _to_v1(document: dict) -> dict | None:
    # response-plan/1 has no NHS number: it leaves the documents too.
    if document.get("format") != "response-plan/2":
        return None
    person = dict(document.get("person") or {})
    person.pop("nhs_number", None)
    return dict(document, format="response-plan/1", person=person)


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("nhs_number", sa.String(length=10), nullable=True)
        )
    # An index, not a constraint: SQLite would rebuild the whole table for one,
    # and every plan version refers to it.
    op.create_index("uq_people_nhs_number", "people", ["nhs_number"], unique=True)
    _rewrite_documents(_to_v2)


def downgrade() -> None:
    _rewrite_documents(_to_v1)
    op.drop_index("uq_people_nhs_number", table_name="people")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("nhs_number")
