"""The person's own view: PIN from the card, their plan, history and requests."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import access, cards, people
from plans.audit import AuditEvent
from plans.models import Person
from responder.person import COOKIE
from tests.web.test_cards_support import (
    live_person,
    sign_in,
    staff,
    use_fresh_keys,
)

PIN = "4826"


@pytest.fixture
def holder(db: Session) -> Person:
    """Return a person with a live plan and a PIN."""
    person = live_person(db)
    people.set_pin(db, person, PIN)
    db.commit()
    return person


@pytest.fixture
def card(app: Flask, db: Session, holder: Person) -> cards.Card:
    """Return a card issued for the holder under this app's keys."""
    keys = use_fresh_keys(app)
    card = cards.issue(db, holder, keys, by=None, channel="cli")
    db.commit()
    return card


def enter_pin(client: FlaskClient, card: cards.Card, pin: str = PIN) -> object:
    """Post the PIN form the way the card's page does."""
    return client.post("/me/pin", data={"card": card.token, "pin": pin})


def test_the_holder_reaches_their_plan_from_the_card_with_their_pin(
    client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    scan = client.get(f"/C/{card.token}").get_data(as_text=True)
    assert 'action="/me/pin"' in scan
    response = enter_pin(client, card)
    assert response.status_code == 302 and response.headers["Location"] == "/me/"
    cookie = client.get_cookie(COOKIE, path="/me")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    page = client.get("/me/")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "It never stops anyone giving you care" in text
    assert "Alexandra has a plan agreed with the test team." in text
    assert "Please tell me your name." in text  # their own statement
    assert "Sam Mentor" in text and "01632 960001" in text
    assert "1 June 2027" in text  # review date
    assert "person_view" in list(db.scalars(select(AuditEvent.action)))


def test_the_holder_sees_who_opened_their_plan(
    app: Flask, client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    officer = staff(db, "pc@example.org", "police")
    access.open_plan(
        db,
        officer,
        holder,
        basis="attending_incident",
        channel="web",
        incident="INC-42",
    )
    db.commit()
    enter_pin(client, card)
    text = client.get("/me/").get_data(as_text=True)
    assert "Police, Test Constabulary" in text
    assert access.BASES["attending_incident"] in text
    assert "pc@example.org" not in text  # role and organisation, not the officer


def test_a_wrong_pin_is_refused_and_repeated_ones_must_wait(
    client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    for _ in range(people.FREE_ATTEMPTS):
        response = enter_pin(client, card, "0000")
        assert response.status_code == 200
        assert "not right" in response.get_data(as_text=True)
    waiting = enter_pin(client, card)
    assert waiting.status_code == 429
    assert "wait" in waiting.get_data(as_text=True)
    assert int(waiting.headers["Retry-After"]) >= 1
    assert client.get("/me/").status_code == 302  # still not in
    assert PIN not in str(list(db.scalars(select(AuditEvent.detail))))


def test_no_session_means_no_view(client: FlaskClient) -> None:
    response = client.get("/me/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/me/pin")
    client.set_cookie(COOKIE, "forged", path="/me")
    assert client.get("/me/").status_code == 302


def test_the_person_session_expires_and_signs_out(
    app: Flask, client: FlaskClient, holder: Person, card: cards.Card
) -> None:
    app.config["PERSON_SESSION_LIFETIME"] = dt.timedelta(seconds=-1)
    enter_pin(client, card)
    assert client.get("/me/").status_code == 302
    app.config["PERSON_SESSION_LIFETIME"] = dt.timedelta(minutes=5)
    enter_pin(client, card)
    assert client.get("/me/").status_code == 200
    assert client.get("/me/pin").headers["Location"] == "/me/"
    client.post("/me/signout")
    assert client.get("/me/").status_code == 302


def test_the_person_session_opens_no_staff_page(
    client: FlaskClient, holder: Person, card: cards.Card
) -> None:
    enter_pin(client, card)
    assert client.get("/concerns/").status_code in (302, 401)
    assert client.get(f"/cards/for/{holder.ref}").status_code in (302, 401)


def test_a_revoked_card_does_not_take_a_pin(
    client: FlaskClient, db: Session, card: cards.Card
) -> None:
    cards.revoke(db, card, by=None, channel="cli")
    db.commit()
    assert enter_pin(client, card).status_code == 410
    forged = client.post("/me/pin", data={"card": "AAAA", "pin": PIN})
    assert forged.status_code == 400


def test_a_concern_reaches_the_team_and_its_answer_reaches_the_person(
    app: Flask, client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    enter_pin(client, card)
    client.post("/me/requests", data={"kind": "change", "message": "Add my sister"})
    assert "Received" in client.get("/me/").get_data(as_text=True)

    mentor = staff(db, "mentor@example.org", "mentor")
    db.commit()
    desk = app.test_client()
    sign_in(app, desk, mentor)
    queue = desk.get("/concerns/")
    assert queue.status_code == 200
    assert holder.ref in queue.get_data(as_text=True)
    [item] = people.request_queue(db, team_ids=None)
    assert "Add my sister" in desk.get(f"/concerns/{item.id}").get_data(as_text=True)
    desk.post(
        f"/concerns/{item.id}",
        data={"status": "answered", "response": "Added her as a contact."},
    )
    text = client.get("/me/").get_data(as_text=True)
    assert "Answered" in text and "Added her as a contact." in text
    actions = list(db.scalars(select(AuditEvent.action)))
    assert "concern_raised" in actions and "concern_updated" in actions
    details = str(list(db.scalars(select(AuditEvent.detail))))
    assert "sister" not in details


def test_a_privacy_officer_without_teams_sees_every_concern(
    app: Flask, client: FlaskClient, db: Session, holder: Person
) -> None:
    people.raise_request(db, holder, kind="concern", message="Worried", via="web")
    officer = staff(db, "po@example.org", "privacy_officer", team=False)
    outsider = staff(db, "other@example.org", "mentor", team=False)
    db.commit()
    sign_in(app, client, officer)
    assert holder.ref in client.get("/concerns/").get_data(as_text=True)
    other = app.test_client()
    sign_in(app, other, outsider)
    assert holder.ref not in other.get("/concerns/").get_data(as_text=True)
    [item] = people.request_queue(db, team_ids=None)
    assert other.get(f"/concerns/{item.id}").status_code == 404


def test_withdrawal_is_tracked_and_retiring_stops_the_card_at_once(
    app: Flask, client: FlaskClient, db: Session, holder: Person, card: cards.Card
) -> None:
    assert client.get("/me/withdraw").status_code == 302  # not signed in
    enter_pin(client, card)
    confirm = client.get("/me/withdraw").get_data(as_text=True)
    assert "Yes, ask to withdraw" in confirm and "card will stop working" in confirm
    refused = client.post("/me/withdraw", data={})
    assert refused.status_code == 302
    assert people.request_queue(db, team_ids=None) == []
    client.post("/me/withdraw", data={"confirm": "yes"})
    assert "Your team has your request to leave the scheme" in client.get(
        "/me/"
    ).get_data(as_text=True)

    lead = staff(db, "lead@example.org", "lead_clinician")
    officer = staff(db, "pc@example.org", "police")
    db.commit()
    desk = app.test_client()
    sign_in(app, desk, lead)
    [item] = people.request_queue(db, team_ids=None)
    assert item.kind == "withdrawal"
    desk.post(f"/concerns/{item.id}/withdraw", data={"confirm": "yes"})
    db.expire_all()
    assert holder.live_version(db) is None

    responder = app.test_client()
    sign_in(app, responder, officer)
    assert responder.get(f"/C/{card.token}").status_code == 410
    assert access.active_grant(db, officer, holder) is None
    text = client.get("/me/").get_data(as_text=True)
    assert "Plan withdrawn" in text and "no plan in use" in text
    actions = list(db.scalars(select(AuditEvent.action)))
    assert "withdrawal_requested" in actions and "plan_withdrawn" in actions


def test_a_chat_link_opens_the_view_once_and_previews_do_not_use_it(
    client: FlaskClient, db: Session, holder: Person
) -> None:
    token = people.create_link(db, holder, via="telegram")
    db.commit()
    preview = client.get(f"/me/link/{token}")
    assert preview.status_code == 200 and "Open my plan" in preview.get_data(
        as_text=True
    )
    assert client.get(f"/me/link/{token}").status_code == 200  # still unused
    opened = client.post("/me/link", data={"token": token})
    assert opened.status_code == 302
    assert client.get("/me/").status_code == 200
    other = client.application.test_client()
    assert other.post("/me/link", data={"token": token}).status_code == 410
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "person_signed_in")
    ).one()
    assert event.channel == "telegram" and token not in str(event.detail)


def test_current_person_is_none_for_staff_and_strangers(
    app: Flask, client: FlaskClient, holder: Person, card: cards.Card
) -> None:
    from responder.person import current_person

    with app.test_request_context("/me/"):
        assert current_person() is None
    enter_pin(client, card)
    cookie = client.get_cookie(COOKIE, path="/me")
    assert cookie is not None
    with app.test_request_context(
        "/me/", headers={"Cookie": f"{COOKIE}={cookie.value}"}
    ):
        person = current_person()
        assert person is not None and person.ref == holder.ref
