"""The person's own view: plain words, no crisis maps, who read it, their say, privacy.

Runs on SQLite and, with RESPONDER_TEST_POSTGRES_URL set, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans import agreement, clock, drafts, people, plan_view, versions
from plans.access import PrivacyAlert
from plans.models import Person, PlanVersion, User
from plans.working_days import add_working_days, bank_holidays, is_working_day
from responder.person import COOKIE
from tests.plans import factories
from tests.web.test_cards_support import staff

CAR_PARK = {
    "name": "Multi-storey car park",
    "address": "Level 6, Town Car Park",
    "lat": 50.905,
    "lon": -1.404,
}


def _person_with_plan(db: Session, **plan: Any) -> Person:
    person = factories.person(db)
    version = factories.draft(db, person, **plan)
    versions.make_live(db, version)
    db.commit()
    return person


def _open_own_view(client: FlaskClient, db: Session, person: Person) -> str:
    _row, token = people.start_session(db, person, via="card")
    db.commit()
    client.set_cookie(COOKIE, token, path="/me")
    response = client.get("/me/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- plain words, no crisis maps, the privacy notice ------------------------------


def test_the_person_gets_no_directions_to_their_crisis_places(
    client: FlaskClient, db: Session
) -> None:
    person = _person_with_plan(db, crisis_locations=[CAR_PARK])
    page = _open_own_view(client, db, person)
    assert "Multi-storey car park" in page
    assert "geo:" not in page and "openstreetmap" not in page
    # Responders keep their one-tap directions.
    version = versions.live_version(db, person)
    assert version is not None
    responder = plan_view.build(version, "police", today=clock.today())
    crisis = responder.section("crisis_locations")
    assert crisis is not None and crisis.entries[0].links


def test_the_own_view_speaks_plainly_and_carries_the_privacy_notice(
    client: FlaskClient, db: Session
) -> None:
    person = _person_with_plan(db)
    page = _open_own_view(client, db, person)
    assert "What police, ambulance and hospital staff can read" in page
    assert "How your information is used" in page
    for words in (
        "What we share",
        "Who sees it",
        "Why we are allowed to share it",
        "Information Commissioner",
        "withdraw from the scheme",
    ):
        assert words in page
    assert "within 5 working days" in page


def test_the_privacy_notice_is_printed_with_the_card(
    app: Flask, client: FlaskClient, db: Session, auth: Any
) -> None:
    person = _person_with_plan(db)
    auth.login(role="mentor", teams=("TEST-TEAM",))
    page = client.get(f"/cards/for/{person.ref}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Give the person this notice with their card" in text
    assert "How your information is used" in text


def test_staff_reads_are_listed_beside_responders_openings(
    app: Flask, client: FlaskClient, db: Session, auth: Any
) -> None:
    person = _person_with_plan(db)
    auth.login(role="mentor", teams=("TEST-TEAM",))
    assert client.get(f"/mentor/people/{person.id}").status_code == 200
    auth.logout()
    page = _open_own_view(client, db, person)
    section = page.split("data-staff-reads", 1)
    assert len(section) == 2, "no staff reads table"
    assert "Mentor" in section[1].split("</table>")[0]
    assert "Your team, looking after your plan" in page


# --- a nominated person needs consent ---------------------------------------------


def test_a_nominated_person_without_consent_is_hidden_from_responders() -> None:
    doc = factories.document(
        nominated_people=[
            {"name": "Sam Example", "phone": "07700 900123"},
            {"name": "Jo Consent", "phone": "07700 900124", "consent_recorded": True},
        ]
    )
    responder = plan_view.build(doc, "ambulance", today=dt.date(2026, 11, 23))
    contacts = responder.section("nominated_people")
    assert contacts is not None
    assert [entry.heading for entry in contacts.entries] == ["Jo Consent"]
    desk = plan_view.build(doc, None, today=dt.date(2026, 11, 23))
    hidden = desk.section("nominated_people").entries[0]  # type: ignore[union-attr]
    assert hidden.heading == "Sam Example"
    assert ("Not shown to responders",) == hidden.details[0][:1]


def test_the_desk_says_why_a_contact_is_hidden(
    client: FlaskClient, db: Session, auth: Any
) -> None:
    person = factories.person(db)
    version = factories.draft(
        db, person, nominated_people=[{"name": "Sam Example", "phone": "07700 900123"}]
    )
    db.commit()
    auth.login(role="mentor", teams=("TEST-TEAM",))
    page = client.get(f"/mentor/drafts/{version.id}").get_data(as_text=True)
    assert "Not shown to responders: Sam Example" in page
    police = client.get(f"/mentor/drafts/{version.id}?role=police").get_data(
        as_text=True
    )
    assert "07700 900123" not in police


# --- the person reads a proposed version and agrees or comments -------------------


def _proposal(db: Session) -> tuple[Person, PlanVersion]:
    person = _person_with_plan(db)
    mentor = staff(db, "mentor@example.test", "mentor")
    proposed = drafts.start_from_live(db, person, author=mentor)
    db.commit()
    return person, proposed


def test_the_person_reads_a_proposed_version_and_agrees_to_it(
    client: FlaskClient, db: Session
) -> None:
    person, proposed = _proposal(db)
    assert proposed.agreed_with_person is None
    page = _open_own_view(client, db, person)
    assert "Your team suggests a new version of your plan" in page
    response = client.post(
        "/me/proposed/agree",
        data={
            "confirm": "yes",
            "version_id": proposed.id,
            "edit_count": proposed.edit_count,
        },
    )
    assert response.status_code == 302
    db.expire_all()
    agreed = db.get(PlanVersion, proposed.id)
    assert agreed is not None
    coproduction = agreed.document["plan"]["coproduction"]
    assert coproduction["agreed_with_person"] is True
    assert coproduction["agreed_on"] == clock.today().isoformat()
    assert coproduction["channel"] == "own_view"
    [row] = agreement.responses_for(db, agreed)
    assert (row.kind, row.channel) == ("agreed", "own_view")
    assert "You agreed to this version" in client.get("/me/").get_data(as_text=True)


def test_an_agreement_to_words_that_changed_since_is_refused(
    client: FlaskClient, db: Session
) -> None:
    person, proposed = _proposal(db)
    _open_own_view(client, db, person)
    seen = proposed.edit_count
    mentor = db.scalar(select(User).where(User.role == "mentor"))
    assert mentor is not None
    doc = dict(proposed.document)
    doc["plan"] = {**doc["plan"], "summary": "Sanction wording added later."}
    drafts.edit_draft(db, proposed, doc, editor=mentor, based_on=proposed.edit_count)
    db.commit()
    client.post(
        "/me/proposed/agree",
        data={"confirm": "yes", "version_id": proposed.id, "edit_count": seen},
    )
    db.expire_all()
    assert db.get(PlanVersion, proposed.id).agreed_with_person is None  # type: ignore[union-attr]


def test_the_persons_comment_reaches_the_desk(
    client: FlaskClient, db: Session, auth: Any
) -> None:
    person, proposed = _proposal(db)
    _open_own_view(client, db, person)
    client.post(
        "/me/proposed/comment",
        data={
            "message": "Please take out the part about the bridge.",
            "version_id": proposed.id,
            "edit_count": proposed.edit_count,
        },
    )
    db.expire_all()
    [row] = agreement.responses_for(db, proposed)
    assert row.kind == "comment"
    auth.login(role="mentor", teams=("TEST-TEAM",))
    desk = client.get(f"/mentor/drafts/{proposed.id}").get_data(as_text=True)
    assert "Please take out the part about the bridge." in desk


# --- withdrawal deadlines -----------------------------------------------------------


def test_working_days_skip_weekends_and_england_bank_holidays() -> None:
    assert dt.date(2026, 12, 25) in bank_holidays(2026)
    assert dt.date(2026, 12, 28) in bank_holidays(2026)  # Boxing Day substitute
    assert dt.date(2027, 3, 26) in bank_holidays(2027)  # Good Friday
    assert not is_working_day(dt.date(2026, 12, 5))  # a Saturday
    # Friday 4 December 2026 + 5 working days: the next Friday.
    assert add_working_days(dt.date(2026, 12, 4), 5) == dt.date(2026, 12, 11)
    # Over Christmas and New Year 2026.
    assert add_working_days(dt.date(2026, 12, 23), 5) == dt.date(2027, 1, 4)


def test_an_overdue_withdrawal_alerts_the_privacy_officer_and_the_person_sees_it(
    client: FlaskClient, db: Session
) -> None:
    person = _person_with_plan(db)
    start = dt.datetime(2026, 12, 4, 10, tzinfo=dt.UTC)  # a Friday
    with clock.frozen(start):
        request = people.raise_request(
            db, person, kind="withdrawal", message="", via="web"
        )
        db.commit()
        assert request.due_on == dt.date(2026, 12, 11)
        page = _open_own_view(client, db, person)
        assert "Your team will do this by 11 December 2026" in page
    with clock.frozen(dt.datetime(2026, 12, 14, 9, tzinfo=dt.UTC)):
        page = _open_own_view(client, db, person)
        assert "the privacy officer has been told" in page
        client.get("/me/")
    alerts = db.scalars(
        select(PrivacyAlert).where(PrivacyAlert.kind == "withdrawal_overdue")
    ).all()
    assert len(alerts) == 1 and alerts[0].person_id == person.id
    assert person.ref in alerts[0].summary


def test_the_withdrawal_deadline_is_configurable(
    app: Flask, client: FlaskClient, db: Session
) -> None:
    app.config["WITHDRAWAL_DEADLINE_WORKING_DAYS"] = 2
    person = _person_with_plan(db)
    with clock.frozen(dt.datetime(2026, 12, 4, 10, tzinfo=dt.UTC)):
        _open_own_view(client, db, person)
        client.post("/me/withdraw", data={"confirm": "yes"})
    db.expire_all()
    due = db.scalar(select(people.PersonRequest.due_on))
    assert due == dt.date(2026, 12, 8)
    assert db.scalar(select(func.count()).select_from(people.PersonRequest)) == 1
