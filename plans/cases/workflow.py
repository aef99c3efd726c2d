"""A case from the group's decision to the first plan: allocation, permission, consent.

Drafting a plan for a person who came through a case waits for two things,
checked by `drafting_refusal` inside `plans.drafts.create_draft` on every
channel: the named lead clinician's permission (capacity checked with C-U-R-E,
likely benefit, no disruption to other treatment; Guide s.20, s.21, s.33) and
the person's own acceptance (s.22, s.28). People without a case are untouched.

A refusal is the person's: it is recorded in their words, shown to them and to
their mentors, never to responders, and it changes nothing a responder sees.
They can come back at any time with a new answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import clock
from plans.cases import contacts, guard, linking
from plans.cases.models import (
    CONSENT_ANSWERS,
    Case,
    Consent,
    Discussion,
    ListEntry,
    Meeting,
    NomineeConsent,
    Permission,
)
from plans.models import Person, PlanVersion, User
from plans.vocabulary import Channel

CURE: tuple[tuple[str, str], ...] = (
    ("communicate", "can communicate a decision"),
    ("understand", "understands the information"),
    ("retain", "retains it long enough to decide"),
    ("employ", "can use and weigh it"),
)
ANSWERS = tuple(a for a in CONSENT_ANSWERS if a != "invited")


class CaseError(ValueError):
    """A case action that cannot be done as asked; the message says why."""


def get_case(
    session: Session, case_id: int, *, by: User | str, channel: Channel
) -> Case:
    """Return a case of the user's group; LookupError for any other."""
    return guard.get_for_case_work(
        session,
        Case,
        case_id,
        by=by,
        channel=channel,
        team_of=lambda case: case.team_id,
        what="case",
        hide="outsiders",
    )


def open_case(
    session: Session, entry_id: int, *, by: User | str, channel: Channel
) -> Case:
    """Open a case for a listed person (or return the one already open)."""
    entry = guard.get_for_case_work(
        session,
        ListEntry,
        entry_id,
        by=by,
        channel=channel,
        team_of=lambda entry: entry.agency_list.team_id,
        what="list row",
    )
    team_id = entry.agency_list.team_id
    rows = linking.rows_of_person(session, team_id, entry_id)
    existing = session.scalar(
        select(Case).where(Case.entry_id.in_([row.id for row in rows])).limit(1)
    )
    if existing is not None:
        return existing
    case = Case(
        team_id=team_id,
        entry_id=entry.id,
        given_name=entry.given_name,
        family_name=entry.family_name,
        date_of_birth=entry.date_of_birth,
        nhs_number=next((r.nhs_number for r in rows if r.nhs_number), None),
        opened_by_id=by.id if isinstance(by, User) else None,
    )
    session.add(case)
    session.flush()
    guard.record(
        session, by, action="case_opened", channel=channel, detail={"case_id": case.id}
    )
    return case


def _member(session: Session, user_id: int | None, case: Case, what: str) -> User:
    user = session.get(User, user_id) if user_id else None
    if user is None or not user.active:
        raise CaseError(f"choose the {what}")
    if case.team_id not in user.team_ids:
        raise CaseError(f"the {what} must belong to the group's team")
    return user


def allocate(
    session: Session,
    case: Case,
    *,
    clinician_mentor_id: int | None,
    police_mentor_id: int | None,
    lead_clinician_id: int | None,
    by: User | str,
    channel: Channel,
) -> Case:
    """Allocate a clinician mentor, a police partner mentor and a lead clinician."""
    guard.require_case_work(session, by, channel, case.team_id, "manage_cases")
    if latest_decision(session, case) != "allocate":
        # The group's questions come first: an intervention must be lawful,
        # necessary and proportionate before anyone is allocated (s.18, s.59).
        raise CaseError("the group has not decided to allocate mentors at a meeting")
    clinician = _member(session, clinician_mentor_id, case, "clinician mentor")
    police = _member(session, police_mentor_id, case, "police partner mentor")
    lead = _member(session, lead_clinician_id, case, "lead clinician")
    if clinician.role not in ("mentor", "lead_clinician") or guard.is_police_mentor(
        clinician
    ):
        raise CaseError("the clinician mentor must be a clinical mentor")
    if not guard.is_police_mentor(police):
        raise CaseError("the police partner must be a police mentor")
    if lead.role != "lead_clinician":
        raise CaseError("the lead clinician must have the lead clinician role")
    changed_lead = case.lead_clinician_id not in (None, lead.id)
    case.clinician_mentor_id = clinician.id
    case.police_mentor_id = police.id
    case.lead_clinician_id = lead.id
    case.allocated_at = clock.now()
    if changed_lead and permission_granted(case):
        # A new lead clinician gives their own permission.
        case.permissions.append(_not_granted(case, by))
    session.flush()
    guard.record(
        session,
        by,
        action="case_allocated",
        channel=channel,
        detail={"case_id": case.id},
    )
    return case


def latest_decision(session: Session, case: Case) -> str | None:
    """Return the group's newest meeting decision on the case, if any."""
    return session.scalar(
        select(Discussion.decision)
        .join(Meeting)
        .where(Discussion.case_id == case.id)
        .order_by(Meeting.held_on.desc(), Discussion.id.desc())
        .limit(1)
    )


def _not_granted(case: Case, by: User | str) -> Permission:
    return Permission(
        case_id=case.id,
        granted=False,
        capacity={},
        likely_benefit=False,
        no_disruption=False,
        notes=None,
        recorded_by_id=by.id if isinstance(by, User) else None,
    )


def record_permission(
    session: Session,
    case: Case,
    *,
    capacity: Mapping[str, bool],
    likely_benefit: bool,
    no_disruption: bool,
    notes: str | None,
    by: User,
    channel: Channel,
) -> Permission:
    """Record the named lead clinician's decision on mentoring this person.

    Permission is granted only when every part of C-U-R-E holds, mentoring is
    likely to help and it will not disrupt other treatment.
    """
    guard.require_case_work(session, by, channel, case.team_id, "give_permission")
    if case.lead_clinician_id is None:
        raise CaseError("allocate a lead clinician first")
    if case.lead_clinician_id != by.id:
        raise guard.CaseRefused("only the case's named lead clinician gives permission")
    checked = {key: bool(capacity.get(key)) for key, _words in CURE}
    permission = Permission(
        case_id=case.id,
        granted=all(checked.values()) and likely_benefit and no_disruption,
        capacity=checked,
        likely_benefit=likely_benefit,
        no_disruption=no_disruption,
        notes=(notes or "").strip() or None,
        recorded_by_id=by.id,
    )
    case.permissions.append(permission)
    session.flush()
    guard.record(
        session,
        by,
        action="case_permission_recorded",
        channel=channel,
        person_ref=case.person.ref if case.person else None,
        detail={
            "case_id": case.id,
            "outcome": "granted" if permission.granted else "not_granted",
        },
    )
    return permission


def record_capacity_change(
    session: Session, case: Case, *, by: User | str, channel: Channel
) -> Permission:
    """Record that capacity changed: permission lapses until it is reviewed."""
    guard.require_case_work(session, by, channel, case.team_id, "manage_cases")
    permission = _not_granted(case, by)
    case.permissions.append(permission)
    session.flush()
    guard.record(
        session,
        by,
        action="case_permission_recorded",
        channel=channel,
        detail={"case_id": case.id, "outcome": "capacity_changed"},
    )
    return permission


def permission_granted(case: Case) -> bool:
    """Say whether the newest permission of the case is granted."""
    return bool(case.permissions) and case.permissions[-1].granted


def consent_answer(case: Case) -> str | None:
    """Return the person's newest answer (or "invited", or None if never asked)."""
    return case.consents[-1].answer if case.consents else None


def record_consent(
    session: Session,
    case: Case,
    answer: str,
    *,
    person_words: str | None,
    by: User | str,
    channel: Channel,
) -> Consent:
    """Record an invitation, or the person's answer in their own words.

    An answer needs an invitation first. Declining or stopping is the person's
    right at any moment, and so is coming back: a new answer replaces the last.
    """
    guard.require_case_work(session, by, channel, case.team_id, "manage_cases")
    if answer not in CONSENT_ANSWERS:
        raise CaseError(f"the answer must be one of {', '.join(CONSENT_ANSWERS)}")
    if answer != "invited" and not case.consents:
        raise CaseError("invite the person before recording their answer")
    if answer == "stopped" and consent_answer(case) != "accepted":
        raise CaseError("only someone taking part can stop")
    consent = Consent(
        case_id=case.id,
        answer=answer,
        person_words=(person_words or "").strip() or None,
        recorded_by_id=by.id if isinstance(by, User) else None,
    )
    case.consents.append(consent)
    session.flush()
    guard.record(
        session,
        by,
        action="case_consent_recorded",
        channel=channel,
        detail={"case_id": case.id, "outcome": answer},
    )
    return consent


def record_nominee(
    session: Session,
    case: Case,
    *,
    nominee: str,
    relationship: str | None,
    may_be_told: str,
    until: dt.date | None,
    by: User | str,
    channel: Channel,
) -> NomineeConsent:
    """Record what one family member or friend may be told, and until when."""
    guard.require_case_work(session, by, channel, case.team_id, "manage_cases")
    if consent_answer(case) != "accepted":
        raise CaseError("the person has not accepted; nobody can be told anything")
    if not nominee.strip() or not may_be_told.strip():
        raise CaseError("name the person and say what they may be told")
    if until is not None and until < clock.today():
        raise CaseError("the end date has already passed")
    row = NomineeConsent(
        case_id=case.id,
        nominee=nominee.strip()[:200],
        relationship_to_person=(relationship or "").strip()[:100] or None,
        may_be_told=may_be_told.strip(),
        until=until,
    )
    case.nominees.append(row)
    session.flush()
    guard.record(
        session,
        by,
        action="case_nominee_recorded",
        channel=channel,
        detail={"case_id": case.id, "outcome": "recorded"},
    )
    return row


def withdraw_nominee(
    session: Session, nominee_id: int, *, by: User | str, channel: Channel
) -> NomineeConsent:
    """Record that the person withdrew consent for one nominated person."""
    row = guard.get_for_case_work(
        session,
        NomineeConsent,
        nominee_id,
        by=by,
        channel=channel,
        team_of=lambda row: row.case.team_id,
        what="nominated person",
    )
    if row.withdrawn_at is None:
        row.withdrawn_at = clock.now()
        session.flush()
        guard.record(
            session,
            by,
            action="case_nominee_recorded",
            channel=channel,
            detail={"case_id": row.case_id, "outcome": "withdrawn"},
        )
    return row


def drafting_refusal(case: Case) -> str | None:
    """Say why no plan may be drafted for the case yet, or None when one may."""
    if case.lead_clinician_id is None:
        return "allocate mentors and a lead clinician before drafting a plan"
    if not permission_granted(case):
        return "the lead clinician has not given permission to start mentoring"
    answer = consent_answer(case)
    if answer in ("declined", "stopped"):
        return "the person is not taking part; no plan is drafted for them"
    if answer != "accepted":
        return "the person has not agreed to take part yet"
    return None


def refusal_for_person(session: Session, person: Person) -> str | None:
    """Say why a known person's plan may not be drafted (None: no case, or ready)."""
    case = session.scalar(select(Case).where(Case.person_id == person.id))
    return drafting_refusal(case) if case is not None else None


def release_person(session: Session, person: Person) -> None:
    """Let go of a person whose only draft was discarded: the case drafts anew."""
    case = session.scalar(select(Case).where(Case.person_id == person.id))
    if case is not None:
        case.person_id = None
        session.flush()


def draft_first_plan(
    session: Session, case: Case, *, by: User, channel: Channel
) -> PlanVersion:
    """Start the first plan of a case's person, once permission and consent allow."""
    from plans import drafts

    guard.require_case_work(session, by, channel, case.team_id, "manage_cases")
    refusal = drafting_refusal(case)
    if refusal:
        raise drafts.DraftError(refusal)
    if case.person_id is not None:
        raise drafts.DraftError(
            "this person already has a plan; work on it at the desk"
        )
    document = {
        "person": {
            "given_name": case.given_name,
            "family_name": case.family_name,
            "date_of_birth": case.date_of_birth.isoformat(),
            "aliases": [],
        },
        "plan": {"summary": ""},
    }
    version = drafts.create_draft(
        session, document, author=by, team=case.team, source="case"
    )
    case.person_id = version.person_id
    session.flush()
    return version


@dataclass(frozen=True)
class CaseLine:
    """One person on a mentor's caseload, with what is missing."""

    case: Case
    next_review: dt.date | None
    review_due: bool
    missing: tuple[str, ...]
    next_contact: dt.date | None = None
    data_requirement: bool = False


def caseload(
    session: Session, user: User, *, channel: Channel, today: dt.date
) -> list[CaseLine]:
    """Return the cases the user mentors or leads, with reviews and gaps."""
    from sqlalchemy import or_

    guard.require_case_work(
        session, user, channel, next(iter(user.team_ids), -1), "manage_cases"
    )
    cases = session.scalars(
        select(Case)
        .where(
            or_(
                Case.clinician_mentor_id == user.id,
                Case.police_mentor_id == user.id,
                Case.lead_clinician_id == user.id,
            )
        )
        .order_by(Case.next_review.is_(None), Case.next_review, Case.id)
    )
    lines = []
    for case in cases:
        missing = []
        if not permission_granted(case):
            missing.append("lead clinician's permission")
        answer = consent_answer(case)
        if answer is None:
            missing.append("invitation to take part")
        elif answer == "invited":
            missing.append("the person's answer")
        log = contacts.summary(session, case)
        lines.append(
            CaseLine(
                case=case,
                next_review=case.next_review,
                review_due=case.next_review is not None and case.next_review <= today,
                missing=tuple(missing),
                next_contact=log.next_contact,
                data_requirement=log.data_requirement,
            )
        )
    return lines


def team_staff(session: Session, team_id: int) -> list[User]:
    """Return the active mentors and lead clinicians of a team, by name."""
    from plans.models import TeamMembership

    return list(
        session.scalars(
            select(User)
            .join(TeamMembership, TeamMembership.user_id == User.id)
            .where(
                TeamMembership.team_id == team_id,
                User.active.is_(True),
                User.role.in_(("mentor", "lead_clinician")),
            )
            .order_by(User.display_name)
        )
    )


@dataclass(frozen=True)
class OwnConsent:
    """What the person sees of their own taking part (Guide s.54)."""

    answers: tuple[Consent, ...]
    nominees: tuple[NomineeConsent, ...]

    @property
    def taking_part(self) -> bool:
        """Say whether the person's newest answer is that they take part."""
        answers = [a for a in self.answers if a.answer != "invited"]
        return bool(answers) and answers[-1].answer == "accepted"


def own_consent(session: Session, person: Person) -> OwnConsent | None:
    """Return the person's own answers and nominated people, if they have a case."""
    case = session.scalar(select(Case).where(Case.person_id == person.id))
    if case is None:
        return None
    return OwnConsent(answers=tuple(case.consents), nominees=tuple(case.nominees))


def team_cases(
    session: Session, team_id: int, *, by: User | str, channel: Channel
) -> list[Case]:
    """Return the group's open cases, by name."""
    guard.require_case_work(session, by, channel, team_id, "manage_cases")
    return list(
        session.scalars(
            select(Case)
            .where(Case.team_id == team_id)
            .order_by(Case.family_name, Case.given_name, Case.id)
        )
    )
