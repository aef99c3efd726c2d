"""cases: HIU lists, matches, meetings, allocation, permission, consent

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import plans.db


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "agency IN ('police', 'ambulance', 'emergency_department', 'mental_health')",
            name=op.f("ck_case_lists_agency"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_case_lists_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_case_lists_uploaded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_lists")),
        sa.UniqueConstraint("team_id", "agency", "month", name="uq_case_lists_month"),
    )
    with op.batch_alter_table("case_lists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_lists_team_id"), ["team_id"], unique=False
        )

    op.create_table(
        "case_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("recorded_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_case_meetings_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_case_meetings_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_meetings")),
    )
    with op.batch_alter_table("case_meetings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_meetings_team_id"), ["team_id"], unique=False
        )

    op.create_table(
        "case_list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["case_lists.id"],
            name=op.f("fk_case_list_entries_list_id_case_lists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_list_entries")),
    )
    with op.batch_alter_table("case_list_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_list_entries_list_id"), ["list_id"], unique=False
        )

    op.create_table(
        "case_border_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_team_id", sa.Integer(), nullable=False),
        sa.Column("to_team_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("contact", sa.String(length=300), nullable=True),
        sa.Column("answered_at", plans.db.UTCDateTime(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["users.id"],
            name=op.f("fk_case_border_questions_answered_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["asked_by_id"],
            ["users.id"],
            name=op.f("fk_case_border_questions_asked_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["case_list_entries.id"],
            name=op.f("fk_case_border_questions_entry_id_case_list_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["from_team_id"],
            ["teams.id"],
            name=op.f("fk_case_border_questions_from_team_id_teams"),
        ),
        sa.ForeignKeyConstraint(
            ["to_team_id"],
            ["teams.id"],
            name=op.f("fk_case_border_questions_to_team_id_teams"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_border_questions")),
    )
    with op.batch_alter_table("case_border_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_border_questions_from_team_id"),
            ["from_team_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_case_border_questions_to_team_id"),
            ["to_team_id"],
            unique=False,
        )

    op.create_table(
        "case_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("other_entry_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_at", plans.db.UTCDateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'confirmed', 'rejected')",
            name=op.f("ck_case_matches_status"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_case_matches_decided_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["case_list_entries.id"],
            name=op.f("fk_case_matches_entry_id_case_list_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["other_entry_id"],
            ["case_list_entries.id"],
            name=op.f("fk_case_matches_other_entry_id_case_list_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_case_matches_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_matches")),
        sa.UniqueConstraint("entry_id", "other_entry_id", name="uq_case_matches_pair"),
    )
    with op.batch_alter_table("case_matches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_matches_team_id"), ["team_id"], unique=False
        )

    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("clinician_mentor_id", sa.Integer(), nullable=True),
        sa.Column("police_mentor_id", sa.Integer(), nullable=True),
        sa.Column("lead_clinician_id", sa.Integer(), nullable=True),
        sa.Column("allocated_at", plans.db.UTCDateTime(), nullable=True),
        sa.Column("next_review", sa.Date(), nullable=True),
        sa.Column("opened_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinician_mentor_id"],
            ["users.id"],
            name=op.f("fk_cases_clinician_mentor_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["case_list_entries.id"],
            name=op.f("fk_cases_entry_id_case_list_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_clinician_id"],
            ["users.id"],
            name=op.f("fk_cases_lead_clinician_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["users.id"], name=op.f("fk_cases_opened_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_cases_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["police_mentor_id"],
            ["users.id"],
            name=op.f("fk_cases_police_mentor_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_cases_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_cases_entry_id")),
        sa.UniqueConstraint("person_id", name=op.f("uq_cases_person_id")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_team_id"), ["team_id"], unique=False)

    op.create_table(
        "case_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=12), nullable=False),
        sa.Column("person_words", sa.Text(), nullable=True),
        sa.Column("recorded_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "answer IN ('invited', 'accepted', 'declined', 'stopped')",
            name=op.f("ck_case_consents_answer"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_consents_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_case_consents_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_consents")),
    )
    with op.batch_alter_table("case_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_consents_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "case_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("trust_reference", sa.String(length=100), nullable=True),
        sa.Column("next_contact", sa.Date(), nullable=True),
        sa.Column("recorded_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('face_to_face', 'phone', 'did_not_attend', 'attempt', 'significant_event')",
            name=op.f("ck_case_contacts_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_contacts_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_case_contacts_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_contacts")),
    )
    with op.batch_alter_table("case_contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_contacts_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "case_discussions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("next_review", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "decision IN ('allocate', 'review', 'not_suitable')",
            name=op.f("ck_case_discussions_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_discussions_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["case_meetings.id"],
            name=op.f("fk_case_discussions_meeting_id_case_meetings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_discussions")),
    )
    with op.batch_alter_table("case_discussions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_discussions_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_case_discussions_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "case_nominee_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("nominee", sa.String(length=200), nullable=False),
        sa.Column("relationship_to_person", sa.String(length=100), nullable=True),
        sa.Column("may_be_told", sa.Text(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("recorded_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", plans.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_nominee_consents_case_id_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_nominee_consents")),
    )
    with op.batch_alter_table("case_nominee_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_nominee_consents_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "case_permissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.JSON(), nullable=False),
        sa.Column("likely_benefit", sa.Boolean(), nullable=False),
        sa.Column("no_disruption", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_at", plans.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_permissions_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_case_permissions_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_permissions")),
    )
    with op.batch_alter_table("case_permissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_permissions_case_id"), ["case_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_permissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_permissions_case_id"))

    op.drop_table("case_permissions")
    with op.batch_alter_table("case_nominee_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_nominee_consents_case_id"))

    op.drop_table("case_nominee_consents")
    with op.batch_alter_table("case_discussions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_discussions_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_case_discussions_case_id"))

    op.drop_table("case_discussions")
    with op.batch_alter_table("case_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_contacts_case_id"))

    op.drop_table("case_contacts")
    with op.batch_alter_table("case_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_consents_case_id"))

    op.drop_table("case_consents")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_team_id"))

    op.drop_table("cases")
    with op.batch_alter_table("case_matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_matches_team_id"))

    op.drop_table("case_matches")
    with op.batch_alter_table("case_border_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_border_questions_to_team_id"))
        batch_op.drop_index(batch_op.f("ix_case_border_questions_from_team_id"))

    op.drop_table("case_border_questions")
    with op.batch_alter_table("case_list_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_list_entries_list_id"))

    op.drop_table("case_list_entries")
    with op.batch_alter_table("case_meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_meetings_team_id"))

    op.drop_table("case_meetings")
    with op.batch_alter_table("case_lists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_lists_team_id"))

    op.drop_table("case_lists")
