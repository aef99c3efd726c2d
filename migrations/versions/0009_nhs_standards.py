"""NHS standards: NHS number, response-plan/2, the new responder kinds

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00

response-plan/2 only adds fields to response-plan/1, so upgrading a stored
document is renaming its format. Published versions are immutable to the
application (plans.models refuses the edit); a migration is the one place
allowed to rewrite them, and it changes nothing else. The readers upgrade any
v1 document they meet as well (plans.exchange.upgrade), so a version restored
from an older backup still reads.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
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


# The responder kinds this revision adds. The roles already allowed are read
# from the database's own CHECK, so the revision holds wherever it is chained.
_NEW_KINDS = (
    "mental_health_crisis_team",
    "home_treatment_team",
    "liaison_psychiatry",
    "nhs_111_crisis_line",
    "street_triage",
    "liaison_and_diversion",
)
_ROLE_CHECK = re.compile(r"role IN \(([^)]*)\)")


def _roles_check(roles: list[str]) -> str:
    return "role IN (" + ", ".join(f"'{role}'" for role in roles) + ")"


def _allowed_roles(connection: sa.Connection) -> tuple[list[str], str]:
    """Return the roles users.role's CHECK allows now, and its stored text."""
    if connection.dialect.name == "sqlite":
        stored = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'"
        ).scalar_one()
        match = _ROLE_CHECK.search(stored)
        if match is None:
            raise RuntimeError("users has no role CHECK this revision can read")
        return re.findall(r"'([^']+)'", match.group(1)), stored
    definition = connection.execute(
        sa.text(
            # The users table on the search path: another schema in the same
            # database (a second deployment, or the tests) has its own.
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname = 'ck_users_role' AND conrelid = 'users'::regclass"
        )
    ).scalar_one()
    return re.findall(r"'([^']+)'", definition), definition


def _set_roles(roles: list[str]) -> None:
    """Make users.role's CHECK allow exactly `roles`."""
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role"), "users", _roles_check(roles))
        return
    # SQLite cannot alter a CHECK, and a batch rebuild of `users` fails its
    # foreign keys once any row refers to it (foreign_keys is on, and cannot be
    # turned off inside the migration's transaction). SQLite documents editing
    # the stored CREATE TABLE for a change of a CHECK constraint
    # (sqlite.org/lang_altertable.html, "otherwise").
    _old, stored = _allowed_roles(connection)
    rewritten = _ROLE_CHECK.sub(lambda _m: _roles_check(roles), stored, count=1)
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'users'",
        (rewritten,),
    )
    connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    roles, _stored = _allowed_roles(op.get_bind())
    _set_roles([*roles, *(kind for kind in _NEW_KINDS if kind not in roles)])
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("nhs_number", sa.String(length=10), nullable=True)
        )
    # An index, not a constraint: SQLite would rebuild the whole table for one,
    # and every plan version refers to it.
    op.create_index("uq_people_nhs_number", "people", ["nhs_number"], unique=True)
    _rewrite_documents(_to_v2)


def downgrade() -> None:
    # Accounts of the new kinds cannot stay under the old CHECK; an operator
    # decides what becomes of them, not a downgrade.
    kinds = ", ".join(f"'{kind}'" for kind in _NEW_KINDS)
    held = (
        op.get_bind()
        .execute(sa.text(f"SELECT count(*) FROM users WHERE role IN ({kinds})"))
        .scalar_one()
    )
    if held:
        raise RuntimeError(
            f"{held} accounts have a responder kind this revision added; disable "
            "them and change their role before downgrading"
        )
    roles, _stored = _allowed_roles(op.get_bind())
    _set_roles([role for role in roles if role not in _NEW_KINDS])
    _rewrite_documents(_to_v1)
    op.drop_index("uq_people_nhs_number", table_name="people")
    # A plain DROP COLUMN (SQLite 3.35 and later): a batch rebuild of `people`
    # would fail the foreign keys of every plan version.
    op.execute(sa.text("ALTER TABLE people DROP COLUMN nhs_number"))
