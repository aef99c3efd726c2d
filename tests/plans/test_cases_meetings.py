"""The meeting record, the contact log and questions across borders."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from plans import clock
from plans.audit import AuditEvent
from plans.cases import borders, contacts, guard, meetings, workflow
from plans.cases.models import ListEntry
from plans.db import make_session_factory
from plans.models import User
from plans.people import own_view
from tests.plans.case_factories import (
    Group,
    accept,
    allocated_case,
    make_group,
    permit,
    upload,
)

NOW = dt.datetime(2026, 11, 12, 10, 0, tzinfo=dt.UTC)
HELD = dt.date(2026, 11, 10)
ALL_YES = dict.fromkeys(meetings.DEFAULT_QUESTIONS, "yes")


@pytest.fixture(autouse=True)
def _clock() -> object:
    with clock.frozen(NOW) as at:
        yield at


def test_a_meeting_records_attendees_answers_decision_and_review(
    session: Session,
) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    meeting = meetings.record_meeting(
        session,
        group.team,
        held_on=HELD,
        attendees=[("PC Test", "police"), ("Dr Test", "mental_health"), ("", "")],
        by=group.mentor,
        channel="web",
    )
    assert [a["agency"] for a in meeting.attendees] == ["police", "mental_health"]
    meetings.record_discussion(
        session,
        meeting,
        case,
        answers=ALL_YES,
        decision="allocate",
        reasons="Frequent conveyances; the person wants help.",
        next_review=dt.date(2026, 12, 8),
        by=group.mentor,
        channel="web",
    )
    assert case.next_review == dt.date(2026, 12, 8)
    assert meeting.discussions[0].answers == ALL_YES


@pytest.mark.parametrize(
    ("answers", "decision", "reasons", "review", "expected"),
    [
        ({}, "review", "r", dt.date(2026, 12, 1), "answer every question"),
        (ALL_YES, "merge", "r", dt.date(2026, 12, 1), "choose the decision"),
        (ALL_YES, "review", " ", dt.date(2026, 12, 1), "give the reasons"),
        (
            {**ALL_YES, "Is it proportionate?": "no"},
            "allocate",
            "r",
            dt.date(2026, 12, 1),
            "every question is answered yes",
        ),
        (ALL_YES, "review", "r", None, "set the next review"),
        (ALL_YES, "review", "r", HELD, "after the meeting"),
    ],
)
def test_a_discussion_needs_answers_reasons_and_a_review(
    session: Session,
    answers: dict[str, str],
    decision: str,
    reasons: str,
    review: dt.date | None,
    expected: str,
) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    meeting = meetings.record_meeting(
        session,
        group.team,
        held_on=HELD,
        attendees=[("A", "police")],
        by=group.mentor,
        channel="web",
    )
    with pytest.raises(meetings.MeetingError, match=expected):
        meetings.record_discussion(
            session,
            meeting,
            case,
            answers=answers,
            decision=decision,
            reasons=reasons,
            next_review=review,
            by=group.mentor,
            channel="web",
        )


def test_the_groups_questions_are_configurable(session: Session) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    meeting = meetings.record_meeting(
        session,
        group.team,
        held_on=HELD,
        attendees=[("A", "ambulance")],
        questions=["Does the person know we discuss them?"],
        by=group.mentor,
        channel="web",
    )
    meetings.record_discussion(
        session,
        meeting,
        case,
        answers={"Does the person know we discuss them?": "yes"},
        decision="not_suitable",
        reasons="Already under a community team.",
        next_review=None,
        by=group.mentor,
        channel="web",
    )
    assert meeting.questions == ["Does the person know we discuss them?"]


def test_contacts_are_logged_without_notes_and_three_start_s57(
    session: Session,
) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    for day, kind in ((1, "face_to_face"), (3, "did_not_attend"), (5, "phone")):
        contacts.record_contact(
            session,
            case,
            on=dt.date(2026, 11, day),
            kind=kind,
            trust_reference=f"RiO-{day}",
            next_contact=None,
            by=group.police_mentor,
            channel="web",
        )
    assert not contacts.summary(session, case).data_requirement
    contacts.record_contact(
        session,
        case,
        on=dt.date(2026, 11, 9),
        kind="face_to_face",
        trust_reference=None,
        next_contact=dt.date(2026, 11, 16),
        by=group.mentor,
        channel="web",
    )
    log = contacts.summary(session, case)
    assert log.supported == 3 and log.data_requirement
    assert log.next_contact == dt.date(2026, 11, 16)
    line = workflow.caseload(session, group.mentor, channel="web", today=HELD)[0]
    assert line.next_contact == dt.date(2026, 11, 16) and line.data_requirement


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"kind": "chat"}, "kind of contact"),
        ({"on": dt.date(2026, 11, 13)}, "on or after the day"),
        ({"trust_reference": "Seen at home.\nLow mood, said ..."}, "not the note"),
        ({"next_contact": dt.date(2026, 11, 1)}, "comes after"),
    ],
)
def test_a_contact_is_refused_with_a_reason(
    session: Session, kwargs: dict[str, object], expected: str
) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    arguments: dict[str, object] = {
        "on": dt.date(2026, 11, 2),
        "kind": "phone",
        "trust_reference": None,
        "next_contact": None,
        **kwargs,
    }
    with pytest.raises(contacts.ContactError, match=expected):
        contacts.record_contact(
            session,
            case,
            **arguments,
            by=group.mentor,
            channel="web",  # type: ignore[arg-type]
        )


def two_groups(session: Session) -> tuple[Group, Group, int, int]:
    ours = make_group(session, "HIU-NORTH")
    theirs = make_group(session, "HIU-SOUTH")
    upload(session, ours, "police", "Robert,Smith,1980-04-05,,3,1,0,0,0")
    upload(session, theirs, "ambulance", "Bob,Smith,1980-04-05,,0,2,0,0,0")
    asked = session.scalar(select(ListEntry.id).where(ListEntry.given_name == "Robert"))
    known = session.scalar(select(ListEntry.id).where(ListEntry.given_name == "Bob"))
    assert asked is not None and known is not None
    return ours, theirs, asked, known


def test_a_question_across_borders_is_answered_with_a_contact(
    session: Session,
) -> None:
    ours, theirs, asked, known = two_groups(session)
    question = borders.ask(
        session,
        asked,
        to_team=theirs.team,
        by=ours.mentor,
        channel="web",
    )
    # The other group learns of the question, and sees its own rows to check.
    assert borders.incoming(session, theirs.team, by=theirs.mentor, channel="web") == [
        question
    ]
    found = borders.candidates(session, question.id, by=theirs.mentor, channel="web")
    assert [c.entry.id for c in found] == [known]
    # The asking group cannot answer, or read the other group's rows.
    with pytest.raises(LookupError):
        borders.candidates(session, question.id, by=ours.mentor, channel="web")
    with pytest.raises(borders.BorderError, match="contact"):
        borders.answer(
            session,
            question.id,
            confirmed_entry_id=known,
            contact=" ",
            by=theirs.mentor,
            channel="web",
        )
    borders.answer(
        session,
        question.id,
        confirmed_entry_id=known,
        contact="Call Jo Mentor, South HIU team, 01632 960123",
        by=theirs.mentor,
        channel="web",
    )
    seen = borders.outgoing(session, ours.team, by=ours.mentor, channel="web")
    assert seen[0].status == "known"
    assert seen[0].contact == "Call Jo Mentor, South HIU team, 01632 960123"
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.action.like("case_border_%"))
        .order_by(AuditEvent.seq)
    ).all()
    assert actions == ["case_border_asked", "case_border_answered"]


def test_only_a_row_of_the_answering_group_confirms_a_match(session: Session) -> None:
    ours, theirs, asked, _known = two_groups(session)
    question = borders.ask(
        session,
        asked,
        to_team=theirs.team,
        by=ours.mentor,
        channel="web",
    )
    with pytest.raises(borders.BorderError, match="your own group"):
        borders.answer(
            session,
            question.id,
            confirmed_entry_id=asked,
            contact="x",
            by=theirs.mentor,
            channel="web",
        )
    with pytest.raises(borders.BorderError, match="another group"):
        borders.ask(session, asked, to_team=ours.team, by=ours.mentor, channel="web")
    with pytest.raises(guard.CaseRefused):
        borders.ask(
            session, asked, to_team=theirs.team, by=ours.responder, channel="web"
        )


def test_a_question_is_answered_once_by_two_people_at_once(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory() as session:
        ours, theirs, asked, known = two_groups(session)
        question = borders.ask(
            session,
            asked,
            to_team=theirs.team,
            by=ours.mentor,
            channel="web",
        )
        ids = (question.id, theirs.mentor.id, theirs.lead.id)
        session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(user_id: int, entry_id: int | None) -> None:
        with factory() as session:
            user = session.get(User, user_id)
            barrier.wait()
            try:
                borders.answer(
                    session,
                    ids[0],
                    confirmed_entry_id=entry_id,
                    contact="Call 01632 960000",
                    by=user,
                    channel="web",  # type: ignore[arg-type]
                )
                session.commit()
                outcomes.append("answered")
            except borders.BorderError:
                session.rollback()
                outcomes.append("refused")

    threads = [
        threading.Thread(target=answer, args=(ids[1], known)),
        threading.Thread(target=answer, args=(ids[2], None)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["answered", "refused"]
    with factory() as session:
        answered = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case_border_answered")
        ).all()
        assert len(answered) == 1


def test_the_person_sees_their_answers_and_who_may_be_told(session: Session) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    permit(session, group, case)
    accept(session, group, case)
    workflow.record_nominee(
        session,
        case,
        nominee="Jo Smith",
        relationship="sister",
        may_be_told="That I am safe",
        until=dt.date(2027, 6, 1),
        by=group.mentor,
        channel="web",
    )
    version = workflow.draft_first_plan(session, case, by=group.mentor, channel="web")
    view = own_view(session, version.person)
    assert view.consent is not None and view.consent.taking_part
    assert [a.person_words for a in view.consent.answers] == [None, "I want some help."]
    assert view.consent.nominees[0].may_be_told == "That I am safe"
