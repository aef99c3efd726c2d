"""The group's monthly meeting: who came for which agency, questions, decisions.

The group's questions make sure any intervention is lawful, necessary and
proportionate (Guide s.18, s.59). They are configurable (`CASE_MEETING_QUESTIONS`
in the app's configuration); these are the defaults.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from plans.cases import guard
from plans.cases.models import AGENCIES, DECISIONS, Case, Discussion, Meeting
from plans.models import Team, User
from plans.vocabulary import Channel

DEFAULT_QUESTIONS: tuple[str, ...] = (
    "Is the intervention lawful?",
    "Is it necessary?",
    "Is it proportionate?",
    "Is it the least restrictive option?",
    "Has the person's view been sought?",
)
ANSWERS: tuple[str, ...] = ("yes", "no", "unsure")
DECISION_WORDS: dict[str, str] = {
    "allocate": "allocate mentors",
    "review": "keep under review",
    "not_suitable": "not suitable",
}
# Attendees may also come from outside the four listing agencies.
ATTENDEE_AGENCIES: tuple[str, ...] = (*AGENCIES, "other")


class MeetingError(ValueError):
    """A meeting record that cannot be stored as given; the message says why."""


def record_meeting(
    session: Session,
    team: Team,
    *,
    held_on: dt.date,
    attendees: Sequence[tuple[str, str]],
    questions: Sequence[str] = DEFAULT_QUESTIONS,
    by: User | str,
    channel: Channel,
) -> Meeting:
    """Record a meeting: its date, who attended for which agency, its questions."""
    guard.require_case_work(session, by, channel, team.id, "manage_cases")
    people = [(name.strip(), agency) for name, agency in attendees if name.strip()]
    if not people:
        raise MeetingError("name at least one attendee and their agency")
    for name, agency in people:
        if agency not in ATTENDEE_AGENCIES:
            raise MeetingError(f"choose the agency {name} attended for")
    if not [q for q in questions if q.strip()]:
        raise MeetingError("the group needs at least one question")
    meeting = Meeting(
        team_id=team.id,
        held_on=held_on,
        attendees=[{"name": name[:200], "agency": agency} for name, agency in people],
        questions=[q.strip() for q in questions if q.strip()],
        recorded_by_id=by.id if isinstance(by, User) else None,
    )
    session.add(meeting)
    session.flush()
    guard.record(
        session,
        by,
        action="case_meeting_recorded",
        channel=channel,
        detail={"count": len(people), "outcome": "meeting"},
    )
    return meeting


def record_discussion(
    session: Session,
    meeting: Meeting,
    case: Case,
    *,
    answers: Mapping[str, str],
    decision: str,
    reasons: str,
    next_review: dt.date | None,
    by: User | str,
    channel: Channel,
) -> Discussion:
    """Record the group's answers, decision with reasons and next review for one case.

    Every question is answered; mentors are allocated only when every answer is
    yes; a decision other than "not suitable" sets the next review.
    """
    guard.require_case_work(session, by, channel, meeting.team_id, "manage_cases")
    if case.team_id != meeting.team_id:
        raise MeetingError("the case belongs to another group")
    unanswered = [q for q in meeting.questions if answers.get(q) not in ANSWERS]
    if unanswered:
        raise MeetingError(f"answer every question: {'; '.join(unanswered)}")
    if decision not in DECISIONS:
        raise MeetingError("choose the decision")
    if not reasons.strip():
        raise MeetingError("give the reasons for the decision")
    if decision == "allocate" and any(answers[q] != "yes" for q in meeting.questions):
        raise MeetingError(
            "mentors are allocated only when every question is answered yes"
        )
    if decision != "not_suitable":
        if next_review is None:
            raise MeetingError("set the next review")
        if next_review <= meeting.held_on:
            raise MeetingError("the next review comes after the meeting")
    discussion = Discussion(
        meeting_id=meeting.id,
        case_id=case.id,
        answers={q: answers[q] for q in meeting.questions},
        decision=decision,
        reasons=reasons.strip(),
        next_review=next_review,
    )
    meeting.discussions.append(discussion)
    case.next_review = next_review
    session.flush()
    guard.record(
        session,
        by,
        action="case_meeting_recorded",
        channel=channel,
        detail={"case_id": case.id, "outcome": decision},
    )
    return discussion


def meetings_of(
    session: Session, team: Team, *, by: User | str, channel: Channel
) -> list[Meeting]:
    """Return the group's meetings, newest first."""
    from sqlalchemy import select

    guard.require_case_work(session, by, channel, team.id, "manage_cases")
    return list(
        session.scalars(
            select(Meeting)
            .where(Meeting.team_id == team.id)
            .order_by(Meeting.held_on.desc(), Meeting.id.desc())
        )
    )


def get_meeting(
    session: Session, meeting_id: int, *, by: User | str, channel: Channel
) -> Meeting:
    """Return a meeting of the user's group; LookupError for any other."""
    return guard.get_for_case_work(
        session,
        Meeting,
        meeting_id,
        by=by,
        channel=channel,
        team_of=lambda meeting: meeting.team_id,
        what="meeting",
        hide="always",
    )
