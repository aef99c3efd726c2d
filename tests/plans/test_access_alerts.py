"""Privacy alerts on the patterns that matter, counted in full, with the evidence;
an ordinary shift raises none."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import access, accounts
from plans.exchange.landing import import_documents
from plans.models import Person, User
from tests.plans.factories import document

START = dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)


def land_people(session: Session, count: int, code: str = "TEST-TEAM") -> list[Person]:
    docs = []
    for index in range(1, count + 1):
        doc = document(f"{code}/{index:05d}")
        doc["team"]["code"] = code
        doc["team"]["name"] = f"{code} team"
        docs.append(doc)
    report = import_documents(session, docs, actor=None, source="test")
    assert not report.refused
    session.flush()
    refs = [d["person"]["ref"] for d in docs]
    people = {
        p.ref: p for p in session.scalars(select(Person).where(Person.ref.in_(refs)))
    }
    return [people[ref] for ref in refs]


def officer(session: Session, teams: tuple[str, ...] = ("TEST-TEAM",)) -> User:
    return accounts.create_user(
        session,
        "pc.smith@example.test",
        role="police",
        display_name="PC Smith",
        organisation="Hampshire Constabulary",
        team_codes=teams,
    )


def alerts(session: Session) -> list[access.PrivacyAlert]:
    return list(
        session.scalars(select(access.PrivacyAlert).order_by(access.PrivacyAlert.id))
    )


def open_at(
    session: Session, user: User, person: Person, at: dt.datetime, **kwargs: str
) -> access.OpenedPlan:
    kwargs.setdefault("basis", "attending_incident")
    return access.open_plan(session, user, person, channel="web", now=at, **kwargs)


def test_three_quick_openings_without_a_number_raise_one_alert_counting_three(
    session: Session,
) -> None:
    people = land_people(session, 3)
    user = officer(session)

    for minute, person in enumerate(people):
        open_at(session, user, person, START + dt.timedelta(minutes=minute))

    [alert] = alerts(session)
    assert alert.kind == "no_incident_number"
    assert alert.count == 3
    assert "PC Smith" in alert.summary and "3 times" in alert.summary
    assert [g["person_ref"] for g in alert.evidence["grants"]] == [
        p.ref for p in people
    ]


def test_one_or_two_openings_without_a_number_raise_nothing(session: Session) -> None:
    people = land_people(session, 2)
    user = officer(session)

    for minute, person in enumerate(people):
        open_at(session, user, person, START + dt.timedelta(minutes=minute))

    assert alerts(session) == []


def test_37_plans_in_a_minute_under_one_incident_are_counted_in_full(
    session: Session,
) -> None:
    people = land_people(session, 37)
    user = officer(session)

    for second, person in enumerate(people):
        open_at(
            session,
            user,
            person,
            START + dt.timedelta(seconds=second),
            incident="CAD 1234",
        )

    [alert] = alerts(session)
    assert alert.kind == "many_plans"
    assert alert.count == 37
    assert "37 different plans" in alert.summary
    assert "under incident CAD 1234" in alert.summary
    assert len(alert.evidence["grants"]) == 37


def test_plans_outside_the_responders_area_raise_an_alert_with_the_teams(
    session: Session,
) -> None:
    away = land_people(session, 3, code="FAR-TEAM")
    land_people(session, 1)
    user = officer(session)

    for hour, person in enumerate(away):
        open_at(
            session,
            user,
            person,
            START + dt.timedelta(hours=hour),
            incident=f"INC{hour}",
        )

    [alert] = alerts(session)
    assert alert.kind == "out_of_area"
    assert alert.count == 3
    assert "FAR-TEAM team" in alert.summary


def test_an_ordinary_shift_raises_no_alert(session: Session) -> None:
    people = land_people(session, 12)
    visitor = land_people(session, 1, code="NEXT-TEAM")[0]
    user = officer(session)
    # A 12-hour day shift: nine incidents, some plans opened twice, a card scan,
    # one opening before the CAD number came through, one person from the next
    # area over, and a busy hour with four plans.
    shift = [
        (0, people[0], "attending_incident", "CAD 0101"),
        (35, people[1], "attending_incident", "CAD 0102"),
        (50, people[1], "attending_incident", "CAD 0102"),
        (130, people[2], "card_scan", None),
        (200, people[3], "attending_incident", None),
        (260, people[4], "attending_incident", "CAD 0105"),
        (300, visitor, "attending_incident", "CAD 0106"),
        (390, people[5], "attending_incident", "CAD 0107"),
        (400, people[6], "attending_incident", "CAD 0107"),
        (410, people[7], "attending_incident", "CAD 0107"),
        (420, people[8], "attending_incident", "CAD 0107"),
        (540, people[0], "attending_incident", "CAD 0108"),
        (660, people[9], "attending_incident", "CAD 0109"),
    ]
    for minute, person, basis, incident in shift:
        kwargs = {"basis": basis}
        if incident:
            kwargs["incident"] = incident
        open_at(session, user, person, START + dt.timedelta(minutes=minute), **kwargs)

    assert alerts(session) == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", "Hampshire Constabulary"),
        ("  British  Transport Police ", "British Transport Police"),
    ],
)
def test_the_agency_defaults_to_the_responders_own(
    session: Session, given: str, expected: str
) -> None:
    person = land_people(session, 1)[0]
    user = officer(session)

    opened = open_at(session, user, person, START, incident="CAD 1", agency=given)

    assert opened.grant.agency == expected
