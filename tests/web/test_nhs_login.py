"""The person through NHS login (P9 only), against the local stand-in provider.

Matching on the plan's NHS number waits for the NHS number column (issue 16):
these tests inject the matcher the app will use once people carry the number.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import identity, versions
from plans.audit import AuditEvent
from plans.models import Person
from tests.oidc_provider import Client, LocalProvider, running_provider
from tests.plans import factories
from tests.web.test_sso import come_back, refusals, sso_app

# From the synthetic range (999 ...), with a right check digit.
NHS_NUMBER = "9990000018"
CALLBACK = "http://localhost/me/nhs-login/nhslogin/callback"


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    with running_provider() as provider:
        provider.register(Client("nhs-client", [CALLBACK], secret="nhs-secret"))
        yield provider


@pytest.fixture
def app(database_url: str, provider: LocalProvider) -> Iterator[Flask]:
    settings = {
        "nhslogin": {
            "label": "NHS login",
            "issuer": provider.url,
            "client_id": "nhs-client",
            "client_secret": "nhs-secret",
            "purpose": "person",
            "required_identity_level": "P9",
            "scopes": ["openid", "profile", "nhs_number"],
        }
    }
    yield from sso_app(database_url, settings, NHS_LOGIN_ENABLED=True)


@pytest.fixture
def person(app: Flask, db: Session) -> Person:
    person = factories.person(db)
    versions.make_live(db, factories.draft(db, person))
    db.commit()
    known = {NHS_NUMBER: person.id}

    def matcher(session: Session, number: str) -> Person | None:
        person_id = known.get(number)
        return session.get(Person, person_id) if person_id else None

    app.extensions["responder.nhs_login_matcher"] = matcher
    return person


def nhs_login(client: FlaskClient, provider: LocalProvider, claims: Any) -> Any:
    provider.sign_in_as(claims)
    start = client.get("/me/nhs-login")
    assert start.status_code == 302
    assert "vtr=" in start.headers["Location"]
    return come_back(client, go_to_provider_from(start.headers["Location"]))


def go_to_provider_from(url: str) -> str:
    import requests

    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])


P9 = {"sub": "nhs-login-1", "identity_proofing_level": "P9", "nhs_number": NHS_NUMBER}


def test_a_verified_person_sees_their_own_plan(
    client: FlaskClient, provider: LocalProvider, person: Person, db: Session
) -> None:
    response = nhs_login(client, provider, P9)
    assert response.status_code == 302 and response.headers["Location"] == "/me/"
    page = client.get("/me/")
    assert page.status_code == 200
    [signed] = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "person_signed_in")
    )
    assert signed.person_ref == person.ref and signed.detail["method"] == "nhs_login"


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({**P9, "identity_proofing_level": "P5"}, "identity_level"),
        ({**P9, "nhs_number": "9990000019"}, "no_nhs_number"),
        ({**P9, "nhs_number": "9990000026"}, "no_plan"),
    ],
)
def test_anything_short_of_a_matching_p9_is_refused(
    client: FlaskClient,
    provider: LocalProvider,
    person: Person,
    db: Session,
    claims: Any,
    code: str,
) -> None:
    response = nhs_login(client, provider, claims)
    assert response.status_code == 403
    assert "card and PIN" in response.get_data(as_text=True)
    assert client.get("/me/").status_code != 200
    assert refusals(db) == [code]


def test_a_bad_token_from_nhs_login_is_refused(
    client: FlaskClient, provider: LocalProvider, person: Person, db: Session
) -> None:
    provider.misbehave("wrong_nonce")
    assert nhs_login(client, provider, P9).status_code == 401
    assert refusals(db) == ["wrong_nonce"]


def test_nhs_login_is_off_by_default(
    database_url: str, provider: LocalProvider
) -> None:
    settings = {
        "nhslogin": {
            "issuer": provider.url,
            "client_id": "nhs-client",
            "client_secret": "nhs-secret",
            "purpose": "person",
        }
    }
    app = next(sso_app(database_url, settings))
    try:
        client = app.test_client()
        assert client.get("/me/nhs-login").status_code == 404
        assert "NHS login" not in client.get("/me/pin").get_data(as_text=True)
    finally:
        app.extensions["responder.engine"].dispose()


def test_nhs_numbers_are_checked_before_matching() -> None:
    assert identity.nhs_number_is_valid(NHS_NUMBER)
    assert not identity.nhs_number_is_valid("9990000019")
    assert not identity.nhs_number_is_valid("999000001")
    assert not identity.nhs_number_is_valid("99900000１8")


def test_until_people_carry_an_nhs_number_nobody_matches(session: Session) -> None:
    assert identity.match_by_nhs_number(session, NHS_NUMBER) is None
