"""Synthetic HIU groups for case tests: a team, its mentors and agency lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from plans import accounts
from plans.cases import lists, meetings, workflow
from plans.cases.lists import TEMPLATE_HEADER
from plans.cases.models import Case
from plans.models import Team, User

MONTH = dt.date(2026, 10, 1)


def synthetic_nhs_number(serial: int) -> str:
    """Return a valid NHS number in the 999 synthetic test range."""
    while True:
        digits = f"999{serial:06d}"
        total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10:
            return digits + str(check)
        serial += 1


def csv_text(*rows: str) -> str:
    """Return an agency list in the template with these data lines."""
    return "\n".join((TEMPLATE_HEADER, *rows)) + "\n"


@dataclass
class Group:
    """A High Intensity User group: its team and one account per job."""

    team: Team
    mentor: User
    police_mentor: User
    lead: User
    other_lead: User
    responder: User


def make_group(
    session: Session, code: str = "HIU-TEST", password: str | None = None
) -> Group:
    """Create a team with a clinician mentor, a police mentor and lead clinicians."""
    team = Team(code=code, name=f"{code} High Intensity Team (synthetic)")
    session.add(team)
    session.flush()
    slug = code.lower()

    def user(name: str, role: str, organisation: str | None = None) -> User:
        return accounts.create_user(
            session,
            f"{name}@{slug}.example.test",
            role=role,
            organisation=organisation,
            team_codes=[code],
            password=password,
        )

    group = Group(
        team=team,
        mentor=user("mentor", "mentor", "Test Mental Health Trust"),
        police_mentor=user("police-mentor", "mentor", "Test Police"),
        lead=user("lead", "lead_clinician", "Test Mental Health Trust"),
        other_lead=user("lead2", "lead_clinician", "Test Mental Health Trust"),
        responder=user("officer", "police", "Test Police"),
    )
    session.flush()
    return group


def upload(
    session: Session, group: Group, agency: str, *rows: str, month: dt.date = MONTH
) -> object:
    """Upload an agency list for the group's month as its clinician mentor."""
    return lists.upload_list(
        session,
        csv_text(*rows),
        team=group.team,
        agency=agency,
        month=month,
        by=group.mentor,
        channel="web",
    )


def decide_to_allocate(session: Session, group: Group, case: Case) -> None:
    """Record a meeting that answers every question yes and allocates mentors."""
    meeting = meetings.record_meeting(
        session,
        group.team,
        held_on=dt.date(2026, 10, 20),
        attendees=[("DS Example", "police"), ("Dr Example", "mental_health")],
        by=group.mentor,
        channel="web",
    )
    meetings.record_discussion(
        session,
        meeting,
        case,
        answers=dict.fromkeys(meetings.DEFAULT_QUESTIONS, "yes"),
        decision="allocate",
        reasons="Frequent conveyances; the person's view has been sought.",
        next_review=dt.date(2026, 11, 17),
        by=group.mentor,
        channel="web",
    )


def allocated_case(session: Session, group: Group) -> Case:
    """Return a case with mentors and a lead clinician allocated."""
    agency_list = upload(session, group, "police", "Robert,Smith,1980-04-05,,3,1,0,0,0")
    entry = agency_list.entries[0]  # type: ignore[attr-defined]
    case = workflow.open_case(session, entry.id, by=group.mentor, channel="web")
    decide_to_allocate(session, group, case)
    workflow.allocate(
        session,
        case,
        clinician_mentor_id=group.mentor.id,
        police_mentor_id=group.police_mentor.id,
        lead_clinician_id=group.lead.id,
        by=group.mentor,
        channel="web",
    )
    return case


CURE_ALL = {"communicate": True, "understand": True, "retain": True, "employ": True}


def permit(session: Session, group: Group, case: Case) -> None:
    """Record the named lead clinician's permission."""
    workflow.record_permission(
        session,
        case,
        capacity=CURE_ALL,
        likely_benefit=True,
        no_disruption=True,
        notes="Capacity checked at clinic.",
        by=group.lead,
        channel="web",
    )


def accept(session: Session, group: Group, case: Case) -> None:
    """Invite the person and record their acceptance."""
    workflow.record_consent(
        session, case, "invited", person_words=None, by=group.mentor, channel="web"
    )
    workflow.record_consent(
        session,
        case,
        "accepted",
        person_words="I want some help.",
        by=group.mentor,
        channel="web",
    )
