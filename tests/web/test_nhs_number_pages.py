"""The NHS number on the pages: the mentor form, the responder's search and plan page,
and the migration that brings stored plans to response-plan/2."""

from __future__ import annotations

import copy
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plans.db import make_engine
from plans.models import PlanVersion, User
from tests.conftest import AuthActions
from tests.web.test_lookup import alexandra, land, open_with_reason
from tests.web.test_mentor import _new_plan, plan_form, text_of

NUMBER = "9434765919"


@pytest.fixture
def mentor(auth: AuthActions) -> User:
    return auth.login(role="mentor", teams=("TEST-TEAM",))


def numbered(number: str = NUMBER) -> dict:
    doc = copy.deepcopy(alexandra())
    doc["person"]["nhs_number"] = number
    return doc


def test_the_mentor_form_saves_a_spaced_number_as_ten_digits(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    version = _new_plan(client, db, **{"person.nhs_number": "943 476 5919"})
    assert version.document["person"]["nhs_number"] == NUMBER
    page = client.get(f"/mentor/drafts/{version.id}/edit").get_data(as_text=True)
    assert plan_form(page)["person.nhs_number"] == NUMBER


def test_the_mentor_form_refuses_a_wrong_number_in_words_and_keeps_the_draft(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    version = _new_plan(client, db, **{"person.nhs_number": "943 476 5919"})
    page = client.get(f"/mentor/drafts/{version.id}/edit").get_data(as_text=True)
    form = {**plan_form(page), "person.nhs_number": "943 476 5918", "action": "save"}
    response = client.post(f"/mentor/drafts/{version.id}/edit", data=form)
    assert response.status_code == 422
    assert "NHS number: this is not a valid NHS number" in text_of(
        response.get_data(as_text=True)
    )
    db.expire_all()
    kept = db.get(PlanVersion, version.id)
    assert kept is not None and kept.document["person"]["nhs_number"] == NUMBER


def test_a_responder_finds_the_person_by_number_and_sees_it_on_the_plan(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    land(db, numbered())
    auth.login(role="ambulance")
    for typed in ("9434765919", "943+476+5919", "943-476-5919"):
        page = client.get(f"/search?q={typed}").get_data(as_text=True)
        assert 'href="/open/TEST-TEAM/00001"' in page
        assert "NHS number matches" in page
    # Minimal identity in results: the number is not shown back, formatted.
    page = client.get("/search?q=9434765919").get_data(as_text=True)
    assert "943 476 5919" not in page
    assert open_with_reason(client).status_code == 303
    page = client.get("/plans/TEST-TEAM/00001").get_data(as_text=True)
    assert "NHS number 943 476 5919" in text_of(page)
    assert "Advice only: always assess and treat" in page


def test_a_plan_without_a_number_shows_none(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="police")
    open_with_reason(client)
    page = client.get("/plans/TEST-TEAM/00001").get_data(as_text=True)
    assert "data-nhs-number" not in page


def test_migration_0006_upgrades_stored_plans_to_v2(
    database_url: str, tmp_path: object
) -> None:
    from responder import create_app

    app: Flask = create_app({"TESTING": True, "DATABASE_URL": database_url})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0005"]).exit_code == 0
    document = {
        "format": "response-plan/1",
        "team": {"code": "T1", "name": "Team"},
        "person": {"ref": "T1/1", "given_name": "A", "family_name": "B"},
        "plan": {"version": 1, "status": "live", "summary": "S"},
    }
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO teams (id, code, name, created_at) "
                    "VALUES (1, 'T1', 'Team', '2026-01-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO people (id, ref, team_id, given_name, family_name, "
                    "aliases, created_at, updated_at) VALUES (1, 'T1/1', 1, 'A', 'B', "
                    "'[]', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO plan_versions (id, person_id, version, status, "
                    "document, findings, acknowledgements, created_at, updated_at, "
                    "edit_count) VALUES (1, 1, 1, 'live', :document, '[]', '[]', "
                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"
                ),
                {"document": json.dumps(document)},
            )
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        with engine.connect() as connection:
            stored = connection.execute(
                text("SELECT document FROM plan_versions WHERE id = 1")
            ).scalar_one()
        stored = json.loads(stored) if isinstance(stored, str) else stored
        assert stored == dict(document, format="response-plan/2")
        result = runner.invoke(args=["db", "downgrade", "0005"])
        assert result.exit_code == 0, result.output
        with engine.connect() as connection:
            back = connection.execute(
                text("SELECT document FROM plan_versions WHERE id = 1")
            ).scalar_one()
        back = json.loads(back) if isinstance(back, str) else back
        assert back == document
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        # The new responder kinds pass the users.role CHECK; nonsense does not.
        insert = text(
            "INSERT INTO users (email, display_name, role, active, created_at) "
            "VALUES (:email, 'X', :role, true, '2026-01-01 00:00:00')"
        )
        with engine.begin() as connection:
            connection.execute(insert, {"email": "a@x.test", "role": "street_triage"})
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert, {"email": "b@x.test", "role": "wizard"})
        # A downgrade would strand that account: it refuses, in words.
        result = runner.invoke(args=["db", "downgrade", "0005"])
        assert result.exit_code != 0
    finally:
        engine.dispose()
        app.extensions["responder.engine"].dispose()
