"""The JSON API: bearer tokens, parameter checks, health and OpenAPI."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import accounts, clock
from plans.audit import AuditEvent
from plans.exchange.landing import import_documents
from tests.plans.factories import document


@pytest.fixture
def token(db: Session) -> str:
    """Return a bearer token of a police user."""
    user = accounts.create_user(db, "officer@example.org", role="police")
    _row, token = accounts.create_token(db, user)
    db.commit()
    return token


def test_healthz_answers_when_the_database_is_up(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer rsp_forged", "Basic dXNlcjpwYXNz", "rsp_x"]
)
def test_search_needs_a_valid_token(client: FlaskClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/search?q=smith", headers=headers)
    assert response.status_code == 401
    assert response.is_json
    assert "results" not in response.get_json()


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ("lat=91&lon=0", "lat"),
        ("lat=-90.5&lon=0", "lat"),
        ("lat=0&lon=180.1", "lon"),
        ("lat=nan&lon=0", "lat"),
        ("lat=inf&lon=0", "lat"),
        ("lat=1e999&lon=0", "lat"),
        ("lat=abc&lon=0", "lat"),
        ("lat=51.5", "together"),
        ("limit=10000", "limit"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("q=" + "x" * 10_000, "q must be at most"),
        ("q=a%00b", "NUL"),
    ],
)
def test_bad_parameters_get_400_with_a_reason(
    client: FlaskClient, token: str, query: str, complaint: str
) -> None:
    response = client.get(
        f"/api/v1/search?{query}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    assert complaint in response.get_json()["error"]


def test_search_answers_and_is_audited(
    client: FlaskClient, token: str, db: Session
) -> None:
    response = client.get(
        "/api/v1/search?q=smith&lat=50.9&lon=-1.4",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["results"], body["total"], body["next_offset"]) == ([], 0, None)
    assert "may have no plan" in body["note"]
    assert response.headers["Cache-Control"] == "no-store"
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "search")).one()
    assert event.channel == "api"
    assert event.actor == "officer@example.org"
    assert "smith" not in str(event.detail)


def test_openapi_document_describes_search(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    search = document["paths"]["/api/v1/search"]["get"]
    assert {p["name"] for p in search["parameters"]} == {
        "q",
        "lat",
        "lon",
        "limit",
        "offset",
    }
    result = document["components"]["schemas"]["SearchResult"]
    assert "match" in result["required"]
    assert result["properties"]["match"]["enum"] == ["strong", "possible", "weak"]


BEHAVIOUR = "Swallows batteries or sharp objects"
CRISIS_PLACE = "Testtown bus station"


def land_people(db: Session, count: int = 1) -> None:
    """Land `count` Testpersons, each swallowing things near the bus station."""
    docs = []
    for number in range(1, count + 1):
        doc = document(
            f"TEST-TEAM/{number:05d}",
            behaviours=[{"description": BEHAVIOUR, "triggers": "Court dates"}],
            crisis_locations=[{"name": CRISIS_PLACE, "lat": 50.91, "lon": -1.41}],
        )
        doc["person"]["given_name"] = ["Alexandra", "Beatrice", "Cora"][
            (number - 1) % 3
        ]
        docs.append(doc)
    report = import_documents(db, docs, actor=None, source="test")
    assert not report.refused, report
    db.commit()


def test_results_carry_match_strength_and_never_quote_the_plan(
    client: FlaskClient, token: str, db: Session
) -> None:
    land_people(db)
    headers = {"Authorization": f"Bearer {token}"}

    by_name_and_birth = client.get(
        "/api/v1/search?q=alexandra+testperson+14/3/1988", headers=headers
    ).get_json()
    by_behaviour = client.get(
        "/api/v1/search?q=has+eaten+batteries&lat=50.9103&lon=-1.41", headers=headers
    ).get_json()

    assert by_name_and_birth["results"][0]["match"] == "strong"
    assert by_name_and_birth["note"] is None
    first = by_behaviour["results"][0]
    assert first["match"] in ("possible", "weak")
    assert "may have no plan" in by_behaviour["note"]
    # Security finding 7: what matched in the responder's words, never plan text.
    assert "a crisis behaviour (you typed “eaten batteries”)" in first["reasons"]
    assert "a crisis location 30 m away" in first["reasons"]
    for body in (by_name_and_birth, by_behaviour):
        text = str(body)
        assert BEHAVIOUR not in text and CRISIS_PLACE not in text
        assert "Example Street" not in text and "1988" not in text


def test_results_say_how_many_matched_and_page_on_demand(
    client: FlaskClient, token: str, db: Session
) -> None:
    land_people(db, count=5)
    headers = {"Authorization": f"Bearer {token}"}

    first = client.get("/api/v1/search?q=testperson&limit=2", headers=headers)
    body = first.get_json()
    assert (len(body["results"]), body["total"], body["next_offset"]) == (2, 5, 2)
    last = client.get(
        "/api/v1/search?q=testperson&limit=2&offset=4", headers=headers
    ).get_json()
    assert (len(last["results"]), last["total"], last["next_offset"]) == (1, 5, None)
    seen = [r["ref"] for r in body["results"]] + [r["ref"] for r in last["results"]]
    assert len(set(seen)) == 3
    assert (
        client.get("/api/v1/search?q=x&offset=-1", headers=headers).status_code == 400
    )


def test_unknown_api_route_answers_json_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


def test_errors_never_show_a_stack_trace(app: Flask, client: FlaskClient) -> None:
    @app.get("/api/v1/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = client.get("/api/v1/boom")
    assert response.status_code == 500
    assert b"secret internals" not in response.data
    assert b"Traceback" not in response.data


@pytest.mark.parametrize(
    "role", ["mentor", "lead_clinician", "privacy_officer", "admin"]
)
def test_search_refuses_a_staff_token(
    client: FlaskClient, db: Session, role: str
) -> None:
    user = accounts.create_user(db, f"{role}@example.org", role=role)
    _row, staff_token = accounts.create_token(db, user)
    db.commit()
    response = client.get(
        "/api/v1/search?q=smith", headers={"Authorization": f"Bearer {staff_token}"}
    )
    assert response.status_code == 403
    assert "results" not in response.get_json()
    assert (
        db.scalars(select(AuditEvent).where(AuditEvent.action == "search")).all() == []
    )


def test_search_slows_one_token_down(
    app: Flask, client: FlaskClient, token: str
) -> None:
    from plans.lookup import SearchRate
    from plans.ratelimit import Limit

    app.extensions["responder.search_rate"] = SearchRate(limits=(Limit(2, 60),))
    headers = {"Authorization": f"Bearer {token}"}
    # One instant: three requests that straddled the edge of a minute's window
    # (a loaded machine makes that likely) were counted in two windows.
    with clock.frozen(clock.now()):
        codes = [
            client.get("/api/v1/search?q=x", headers=headers).status_code
            for _ in range(3)
        ]
    assert codes == [200, 200, 429]
