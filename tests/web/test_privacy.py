"""The privacy officer's queue of alerts and the access log search."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import access, versions
from plans.access import PrivacyAlert
from plans.accounts import create_user
from plans.audit import AuditEvent
from plans.models import Person, User
from tests.conftest import AuthActions
from tests.plans import factories
from tests.web.test_mentor import text_of


def _live_person(db: Session, ref: str, team: str) -> Person:
    who = factories.person(db, ref, team)
    versions.make_live(db, factories.draft(db, who))
    return who


def _responder(db: Session, email: str, team: str = "TEST-TEAM") -> User:
    factories.team(db, team)
    return create_user(
        db, email, role="police", team_codes=[team], display_name=email.split("@")[0]
    )


@pytest.fixture
def opened(db: Session) -> PrivacyAlert:
    """Three plans opened without an incident number: an open alert (on the last)."""
    earlier = [_live_person(db, f"TEST-TEAM/0000{n}", "TEST-TEAM") for n in (2, 3)]
    who = _live_person(db, "TEST-TEAM/00001", "TEST-TEAM")
    officer = _responder(db, "pc-one@example.test")
    for person in earlier:
        access.open_plan(db, officer, person, basis="attending_incident", channel="web")
    result = access.open_plan(
        db, officer, who, basis="attending_incident", channel="web"
    )
    db.commit()
    (alert,) = result.alerts
    return alert


@pytest.mark.parametrize("role", ["mentor", "lead_clinician", "police"])
def test_only_privacy_officers_reach_the_queue(
    client: FlaskClient, auth: AuthActions, role: str
) -> None:
    auth.login(role=role, teams=("TEST-TEAM",))
    assert client.get("/privacy/").status_code == 403
    assert client.get("/privacy/log").status_code == 403


def test_the_officer_reviews_and_closes_an_alert(
    client: FlaskClient, db: Session, auth: AuthActions, opened: PrivacyAlert
) -> None:
    auth.login(role="privacy_officer", teams=())
    queue = client.get("/privacy/")
    assert queue.headers["Cache-Control"] == "no-store"
    page = text_of(queue.get_data(as_text=True))
    assert "1 open alert." in page
    assert "opened plans 3 times without an incident number" in page
    detail = text_of(client.get(f"/privacy/alerts/{opened.id}").get_data(True))
    assert "pc-one@example.test" in detail
    assert "Attending an incident with this person" in detail
    refused = client.post(f"/privacy/alerts/{opened.id}", data={"resolution": " "})
    assert refused.status_code == 422
    assert "say how the alert was resolved" in text_of(refused.get_data(True))
    closed = client.post(
        f"/privacy/alerts/{opened.id}",
        data={"resolution": "Confirmed with the duty sergeant: a real incident."},
    )
    assert closed.status_code == 303
    assert "No open alerts." in text_of(client.get("/privacy/").get_data(True))
    history = text_of(client.get("/privacy/?status=closed").get_data(True))
    assert "Confirmed with the duty sergeant" in history
    db.expire_all()
    assert db.get(PrivacyAlert, opened.id).status == "closed"  # type: ignore[union-attr]


def test_a_team_officer_sees_only_their_teams_alerts(
    client: FlaskClient, db: Session, auth: AuthActions, opened: PrivacyAlert
) -> None:
    auth.login(role="privacy_officer", teams=("OTHER-TEAM",))
    assert "No open alerts." in text_of(client.get("/privacy/").get_data(True))
    assert client.get(f"/privacy/alerts/{opened.id}").status_code == 404


def test_the_access_log_search_finds_openings_and_is_audited(
    client: FlaskClient, db: Session, auth: AuthActions
) -> None:
    first = _live_person(db, "TEST-TEAM/00001", "TEST-TEAM")
    second = _live_person(db, "TEST-TEAM/00002", "TEST-TEAM")
    one = _responder(db, "pc-one@example.test")
    two = _responder(db, "pc-two@example.test")
    access.open_plan(
        db, one, first, basis="attending_incident", channel="web", incident="INC-1"
    )
    access.open_plan(
        db, two, second, basis="attending_incident", channel="sms", incident="INC-2"
    )
    db.commit()
    auth.login(role="privacy_officer", teams=())
    everything = client.get("/privacy/log").get_data(as_text=True)
    assert "INC-1" in everything and "INC-2" in everything
    by_person = text_of(
        client.get("/privacy/log?person=TEST-TEAM/00002").get_data(True)
    )
    assert "INC-2" in by_person and "INC-1" not in by_person
    by_user = text_of(
        client.get("/privacy/log?user=PC-ONE@example.test").get_data(True)
    )
    assert "INC-1" in by_user and "INC-2" not in by_user
    nothing = text_of(
        client.get("/privacy/log?since=2001-01-01&until=2001-01-02").get_data(True)
    )
    assert "No openings match the search." in nothing
    db.expire_all()
    searches = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "access_log_searched")
    ).all()
    assert [event.detail["query_kind"] for event in searches] == [
        "person",
        "user",
        "dates",
    ]
    assert all("INC" not in str(event.detail) for event in searches)


def test_closing_an_alert_needs_the_csrf_token(
    app: Flask, client: FlaskClient, auth: AuthActions, opened: PrivacyAlert
) -> None:
    auth.login(role="privacy_officer", teams=())
    app.config["WTF_CSRF_ENABLED"] = True
    forged = client.post(
        f"/privacy/alerts/{opened.id}", data={"resolution": "Closed by a forged form."}
    )
    assert forged.status_code == 400
    page = client.get(f"/privacy/alerts/{opened.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    genuine = client.post(
        f"/privacy/alerts/{opened.id}",
        data={"resolution": "Checked with the team.", "csrf_token": token.group(1)},
    )
    assert genuine.status_code == 303
