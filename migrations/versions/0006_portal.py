"""the network portal: demand, costs, harms, reports, directory, self-assessment

Also widens the users.role CHECK for the team_lead and network roles.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plans.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_ROLES = (
    "role IN ('police', 'ambulance', 'emergency_department', 'control_room', "
    "'mentor', 'lead_clinician', 'privacy_officer', 'admin')"
)
NEW_ROLES = (
    "role IN ('police', 'ambulance', 'emergency_department', 'control_room', "
    "'mentor', 'lead_clinician', 'privacy_officer', 'admin', 'team_lead', "
    "'network')"
)


def _roles(check: str) -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint("role", check)


def upgrade() -> None:
    _roles(NEW_ROLES)
    op.create_table(
        "portal_self_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("worked_well", sa.Text(), nullable=True),
        sa.Column("still_hard", sa.Text(), nullable=True),
        sa.Column("learn_from", sa.Text(), nullable=True),
        sa.Column("recorded_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_portal_self_assessments_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_portal_self_assessments_team_id_teams"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_self_assessments")),
    )
    with op.batch_alter_table("portal_self_assessments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_portal_self_assessments_team", ["team_id", "visited_on"], unique=False
        )

    op.create_table(
        "portal_team_profiles",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("police_force_area", sa.String(length=120), nullable=True),
        sa.Column("icb", sa.String(length=160), nullable=True),
        sa.Column("towns", sa.JSON(), nullable=False),
        sa.Column("member_agencies", sa.JSON(), nullable=False),
        sa.Column("mentors", sa.JSON(), nullable=False),
        sa.Column("declared_experience", sa.JSON(), nullable=False),
        sa.Column("updated_at", plans.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_portal_team_profiles_team_id_teams"),
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_portal_team_profiles")),
    )
    op.create_table(
        "portal_unit_costs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("pounds", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("set_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("pounds >= 0", name=op.f("ck_portal_unit_costs_pounds")),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["users.id"],
            name=op.f("fk_portal_unit_costs_set_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_portal_unit_costs_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_unit_costs")),
        sa.UniqueConstraint(
            "team_id", "unit", "valid_from", name="uq_portal_unit_costs"
        ),
    )
    with op.batch_alter_table("portal_unit_costs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_unit_costs_team_id"), ["team_id"], unique=False
        )

    op.create_table(
        "portal_demand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("entered_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", plans.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_portal_demand_count")),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["users.id"],
            name=op.f("fk_portal_demand_entered_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_portal_demand_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_demand")),
        sa.UniqueConstraint("person_id", "month", "unit", name="uq_portal_demand_cell"),
    )
    with op.batch_alter_table("portal_demand", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_demand_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "portal_harm_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('death', 'complaint', 'serious_incident')",
            name=op.f("ck_portal_harm_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_portal_harm_events_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_portal_harm_events_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_harm_events")),
    )
    with op.batch_alter_table("portal_harm_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_harm_events_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "portal_mentoring_starts",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_portal_mentoring_starts_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_portal_mentoring_starts_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_portal_mentoring_starts")),
    )
    op.create_table(
        "portal_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("built_on", sa.Date(), nullable=False),
        sa.Column("built_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("built_by_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["built_by_id"],
            ["users.id"],
            name=op.f("fk_portal_reports_built_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_portal_reports_person_id_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_reports")),
    )
    with op.batch_alter_table("portal_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_reports_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "portal_demand_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demand_id", sa.Integer(), nullable=False),
        sa.Column("old_count", sa.Integer(), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("changed_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_portal_demand_revisions_changed_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["demand_id"],
            ["portal_demand.id"],
            name=op.f("fk_portal_demand_revisions_demand_id_portal_demand"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_demand_revisions")),
    )
    with op.batch_alter_table("portal_demand_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_demand_revisions_demand_id"),
            ["demand_id"],
            unique=False,
        )

    op.create_table(
        "portal_report_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("added_at", plans.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["portal_reports.id"],
            name=op.f("fk_portal_report_comments_report_id_portal_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_report_comments")),
    )
    with op.batch_alter_table("portal_report_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_report_comments_report_id"),
            ["report_id"],
            unique=False,
        )


def downgrade() -> None:
    _roles(OLD_ROLES)
    with op.batch_alter_table("portal_report_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_report_comments_report_id"))

    op.drop_table("portal_report_comments")
    with op.batch_alter_table("portal_demand_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_demand_revisions_demand_id"))

    op.drop_table("portal_demand_revisions")
    with op.batch_alter_table("portal_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_reports_person_id"))

    op.drop_table("portal_reports")
    op.drop_table("portal_mentoring_starts")
    with op.batch_alter_table("portal_harm_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_harm_events_person_id"))

    op.drop_table("portal_harm_events")
    with op.batch_alter_table("portal_demand", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_demand_person_id"))

    op.drop_table("portal_demand")
    with op.batch_alter_table("portal_unit_costs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_unit_costs_team_id"))

    op.drop_table("portal_unit_costs")
    op.drop_table("portal_team_profiles")
    with op.batch_alter_table("portal_self_assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_portal_self_assessments_team")

    op.drop_table("portal_self_assessments")
