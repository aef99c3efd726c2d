"""NHS standards: NHS number, response-plan/2, the new responder kinds

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


_OLD_ROLES = (
    "police",
    "ambulance",
    "emergency_department",
    "control_room",
    "mentor",
    "lead_clinician",
    "privacy_officer",
    "admin",
)
_NEW_ROLES = (
    "police",
    "ambulance",
    "emergency_department",
    "control_room",
    "mental_health_crisis_team",
    "home_treatment_team",
    "liaison_psychiatry",
    "nhs_111_crisis_line",
    "street_triage",
    "liaison_and_diversion",
    "mentor",
    "lead_clinician",
    "privacy_officer",
    "admin",
)


def _roles_check(roles: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{role}'" for role in roles) + ")"


def _set_role_check(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Replace the users.role CHECK with one naming `new` roles."""
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role"), "users", _roles_check(new))
        return
    # SQLite cannot alter a CHECK, and a batch rebuild of `users` fails its
    # foreign keys once any row refers to it (foreign_keys is on, and cannot be
    # turned off inside the migration's transaction). SQLite documents editing
    # the stored CREATE TABLE for exactly this change of a CHECK constraint
    # (sqlite.org/lang_altertable.html, "otherwise").
    stored = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'"
    ).scalar_one()
    old_check, new_check = _roles_check(old), _roles_check(new)
    if old_check not in stored:
        raise RuntimeError("users.role CHECK is not the one this migration expects")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'users'",
        (stored.replace(old_check, new_check),),
    )
    connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _set_role_check(_OLD_ROLES, _NEW_ROLES)
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
    held = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT count(*) FROM users WHERE role NOT IN ("
                + ", ".join(f"'{role}'" for role in _OLD_ROLES)
                + ")"
            )
        )
        .scalar_one()
    )
    if held:
        raise RuntimeError(
            f"{held} accounts have a role 0005 does not know; disable and change "
            "their role before downgrading"
        )
    _set_role_check(_NEW_ROLES, _OLD_ROLES)
    _rewrite_documents(_to_v1)
    op.drop_index("uq_people_nhs_number", table_name="people")
    # A plain DROP COLUMN (SQLite 3.35 and later): a batch rebuild of `people`
    # would fail the foreign keys of every plan version.
    op.execute(sa.text("ALTER TABLE people DROP COLUMN nhs_number"))
