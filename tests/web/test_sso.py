"""Staff single sign-on against a real OpenID provider started on 127.0.0.1.

The provider (tests/oidc_provider.py) signs real ID tokens and checks PKCE and the
client's authentication; every refusal the issue lists has a test here: wrong
issuer, bad signature, expired token, replayed code, wrong nonce, missing MFA
claim, unmapped role.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

pytest.importorskip("authlib", reason="authlib is not installed (pip install authlib)")
import requests  # noqa: E402
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import accounts
from plans.audit import AuditEvent
from plans.db import create_schema, make_session_factory
from plans.identity import ExternalIdentity
from plans.models import Team
from tests.conftest import TEST_HASH_COST
from tests.oidc_provider import Client, LocalProvider, client_key_pair, running_provider

CALLBACK = "http://localhost/login/sso/{name}/callback"
POLICE_GROUP = "6f1c0a52-0000-4000-8000-00000000beef"
TENANT = "11111111-2222-4333-8444-555555555555"

OFFICER = {
    "sub": "officer-1",
    "name": "PC Synthetic Officer",
    "email": "pc.officer@force.example",
    "groups": [POLICE_GROUP],
    "amr": ["pwd", "mfa"],
}
MENTOR = {
    "sub": "555000111222",
    "name": "Synthetic Mentor",
    "email": "mentor@nhs.example",
    "nhsid_nrbac_roles": [
        {
            "org_code": "RX1",
            "role_code": "S8000:G8000:R8003",
            "role_name": '"Clinical":"Clinical Provision":"Health Professional"',
        }
    ],
    "acr": "AAL3_ANY",
}


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    with running_provider() as provider:
        yield provider


def sso_app(
    database_url: str, providers: dict[str, Any], **extra: Any
) -> Iterator[Flask]:
    from responder import create_app

    app = create_app(
        {
            "TESTING": True,
            "ENVIRONMENT": "test",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "PASSWORD_HASH_COST": TEST_HASH_COST,
            "SSO_PROVIDERS": providers,
            **extra,
        }
    )
    create_schema(app.extensions["responder.engine"])
    yield app
    app.extensions["responder.engine"].dispose()


@pytest.fixture
def app(database_url: str, provider: LocalProvider) -> Iterator[Flask]:
    """The app with two providers: a force (client secret) and CIS2 (private key)."""
    private, public = client_key_pair()
    provider.register(
        Client("force-client", [CALLBACK.format(name="force")], secret="s3cret-value")
    )
    provider.register(
        Client("cis2-client", [CALLBACK.format(name="cis2")], public_key=public)
    )
    providers = {
        "force": {
            "label": "Demo Constabulary",
            "issuer": provider.url,
            "client_id": "force-client",
            "client_secret": "s3cret-value",
            "mappings": [
                {"claim": "groups", "value": POLICE_GROUP, "role": "police"},
            ],
        },
        "cis2": {
            "label": "NHS smartcard",
            "issuer": provider.url,
            "client_id": "cis2-client",
            "private_key": private,
            "mfa_acr": ["AAL3_ANY"],
            "mappings": [
                {
                    "claim": "nhsid_nrbac_roles",
                    "role_code": "R8003",
                    "org_code": "RX1",
                    "role": "mentor",
                    "teams": ["DEMO-X"],
                },
            ],
        },
    }
    yield from sso_app(database_url, providers)


@pytest.fixture
def db_with_team(db: Session) -> Session:
    db.add(Team(code="DEMO-X", name="Team X (synthetic)"))
    db.commit()
    return db


def go_to_provider(client: FlaskClient, name: str) -> str:
    """Start a sign-in and return the provider's answer (our callback URL)."""
    start = client.get(f"/login/sso/{name}")
    assert start.status_code == 302, start.get_data(as_text=True)
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])


def come_back(client: FlaskClient, callback_url: str) -> Any:
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(
    client: FlaskClient, provider: LocalProvider, name: str, claims: Any
) -> Any:
    provider.sign_in_as(claims)
    return come_back(client, go_to_provider(client, name))


def refusals(db: Session) -> list[str]:
    db.expire_all()
    return [
        e.detail["reason_code"]
        for e in db.scalars(
            select(AuditEvent).where(AuditEvent.action == "sso_refused")
        )
    ]


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


# -- signing in ----------------------------------------------------------------------


def test_a_police_officer_signs_in_with_their_force(
    client: FlaskClient, provider: LocalProvider, db_with_team: Session
) -> None:
    response = sign_in(client, provider, "force", OFFICER)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/"
    assert signed_in(client)
    user = accounts.find_user(db_with_team, "pc.officer@force.example")
    assert user is not None and user.role == "police" and user.password_hash is None
    # The request carried PKCE and the client secret; the code went back once.
    [exchange] = provider.token_requests
    assert exchange["code_verifier"] and exchange["client_secret"] == "s3cret-value"
    page = client.get("/account").get_data(as_text=True)
    assert "PC Synthetic Officer" in page


def test_a_mentor_signs_in_with_cis2_and_private_key_jwt(
    client: FlaskClient, provider: LocalProvider, db_with_team: Session
) -> None:
    response = sign_in(client, provider, "cis2", MENTOR)
    assert response.headers["Location"] == "/mentor/"
    [exchange] = provider.token_requests
    assert "client_secret" not in exchange
    assert exchange["client_assertion_type"].endswith("jwt-bearer")
    user = accounts.find_user(db_with_team, "mentor@nhs.example")
    assert user is not None and user.role == "mentor"
    assert [t.code for t in user.teams] == ["DEMO-X"]
    identity = db_with_team.scalar(select(ExternalIdentity))
    assert identity is not None and identity.managed_by_claims
    assert identity.provider == "cis2" and identity.subject == "555000111222"


def test_a_second_sign_in_finds_the_same_account(
    app: Flask, provider: LocalProvider, db_with_team: Session
) -> None:
    for _ in range(2):
        client = app.test_client()
        sign_in(client, provider, "force", OFFICER)
        assert signed_in(client)
    assert len(list(db_with_team.scalars(select(ExternalIdentity)))) == 1
    assert accounts.count_users(db_with_team) == 1


def test_parallel_first_sign_ins_make_one_account(
    app: Flask, provider: LocalProvider, db_with_team: Session
) -> None:
    """Two tabs coming back at once with the same new identity: one account."""
    import threading

    callbacks = []
    clients = [app.test_client() for _ in range(4)]
    provider.sign_in_as(MENTOR)
    for client in clients:
        callbacks.append(go_to_provider(client, "cis2"))
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def come_back_together(client: FlaskClient, url: str) -> None:
        barrier.wait()
        statuses.append(come_back(client, url).status_code)

    threads = [
        threading.Thread(target=come_back_together, args=pair)
        for pair in zip(clients, callbacks, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302] * len(clients)
    assert all(signed_in(client) for client in clients)
    db_with_team.expire_all()
    assert len(list(db_with_team.scalars(select(ExternalIdentity)))) == 1
    assert accounts.count_users(db_with_team) == 1


def test_the_sign_in_page_offers_each_provider(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with Demo Constabulary" in page
    assert "Sign in with NHS smartcard" in page


def test_an_unknown_provider_is_not_found(client: FlaskClient) -> None:
    assert client.get("/login/sso/nobody").status_code == 404
    assert client.get("/login/sso/nobody/callback?code=x&state=y").status_code == 404


# -- refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("wrong_issuer", "wrong_issuer"),
        ("bad_signature", "bad_signature"),
        ("expired", "expired"),
        ("wrong_nonce", "wrong_nonce"),
        ("wrong_audience", "wrong_audience"),
        ("no_id_token", "no_id_token"),
    ],
)
def test_a_bad_id_token_is_refused(
    client: FlaskClient,
    provider: LocalProvider,
    db_with_team: Session,
    fault: str,
    code: str,
) -> None:
    provider.misbehave(fault)
    response = sign_in(client, provider, "force", OFFICER)
    assert response.status_code == 401
    assert "You are not signed in" in response.get_data(as_text=True)
    assert not signed_in(client)
    assert refusals(db_with_team) == [code]
    assert accounts.count_users(db_with_team) == 0


def test_a_replayed_code_is_refused(
    app: Flask, provider: LocalProvider, db_with_team: Session
) -> None:
    first = app.test_client()
    provider.sign_in_as(OFFICER)
    callback = go_to_provider(first, "force")
    assert come_back(first, callback).status_code == 302
    # The same answer again, in the same browser: the state was spent.
    again = come_back(first, callback)
    assert again.status_code == 401
    # An attacker's own fresh flow carrying the spent code: the provider refuses.
    attacker = app.test_client()
    fresh = urlsplit(go_to_provider(attacker, "force"))
    state = dict(p.split("=", 1) for p in fresh.query.split("&"))["state"]
    old_code = dict(p.split("=", 1) for p in urlsplit(callback).query.split("&"))[
        "code"
    ]
    replay = attacker.get(f"{fresh.path}?code={old_code}&state={state}")
    assert replay.status_code == 401
    assert not signed_in(attacker)
    assert refusals(db_with_team) == ["no_flow", "code_refused"]


def test_a_forged_state_is_refused(
    client: FlaskClient, provider: LocalProvider, db_with_team: Session
) -> None:
    provider.sign_in_as(OFFICER)
    callback = go_to_provider(client, "force")
    forged = callback.replace("state=", "state=x")
    assert come_back(client, forged).status_code == 401
    assert refusals(db_with_team) == ["bad_state"]


def test_a_sign_in_that_took_too_long_is_refused(
    client: FlaskClient, provider: LocalProvider, db_with_team: Session
) -> None:
    import datetime as dt

    from plans import clock

    provider.sign_in_as(OFFICER)
    callback = go_to_provider(client, "force")
    with clock.travel(clock.now() + dt.timedelta(minutes=11)):
        assert come_back(client, callback).status_code == 401
    assert refusals(db_with_team) == ["flow_expired"]
    assert not signed_in(client)


def test_without_a_multi_factor_claim_our_second_factor_is_owed(
    client: FlaskClient, provider: LocalProvider, db_with_team: Session
) -> None:
    claims = {k: v for k, v in OFFICER.items() if k != "amr"}
    response = sign_in(client, provider, "force", claims)
    assert response.headers["Location"] == "/login/enrol"
    assert not signed_in(client)
    claims_pwd_only = {**claims, "amr": ["pwd"]}
    other = sign_in(client, provider, "force", claims_pwd_only)
    assert other.headers["Location"] == "/login/enrol"
    assert not signed_in(client)


def test_an_unmapped_first_sign_in_waits_for_an_administrator(
    app: Flask,
    client: FlaskClient,
    provider: LocalProvider,
    db_with_team: Session,
) -> None:
    from tests.conftest import AuthActions

    stranger = {**OFFICER, "sub": "civilian-9", "email": "civ@force.example"}
    stranger["groups"] = ["some-other-group"]
    waiting = sign_in(client, provider, "force", stranger)
    assert waiting.status_code == 202
    assert "Waiting for approval" in waiting.get_data(as_text=True)
    assert not signed_in(client)
    assert accounts.find_user(db_with_team, "civ@force.example") is None
    # An administrator sees it on the phone list and approves it as control room.
    admin_client = app.test_client()
    AuthActions(app, admin_client).login(role="admin")
    listing = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Waiting for approval (1)" in listing
    identity = db_with_team.scalar(select(ExternalIdentity))
    assert identity is not None
    approved = admin_client.post(
        f"/admin/sign-ins/{identity.id}",
        data={"decision": "approve", "role": "control_room", "team": "DEMO-X"},
    )
    assert approved.status_code == 303
    again = sign_in(client, provider, "force", stranger)
    assert again.status_code == 302 and signed_in(client)
    user = accounts.find_user(db_with_team, "civ@force.example")
    assert user is not None and user.role == "control_room"


def test_a_declined_sign_in_stays_refused(
    app: Flask, client: FlaskClient, provider: LocalProvider, db_with_team: Session
) -> None:
    from tests.conftest import AuthActions

    stranger = {**OFFICER, "sub": "x-1", "groups": []}
    sign_in(client, provider, "force", stranger)
    admin_client = app.test_client()
    AuthActions(app, admin_client).login(role="admin")
    identity = db_with_team.scalar(select(ExternalIdentity))
    assert identity is not None
    admin_client.post(f"/admin/sign-ins/{identity.id}", data={"decision": "decline"})
    refused = sign_in(client, provider, "force", stranger)
    assert refused.status_code == 403
    assert "declined" in refused.get_data(as_text=True)
    assert refusals(db_with_team) == ["declined"]


def test_a_role_withdrawn_at_the_provider_is_refused(
    app: Flask, provider: LocalProvider, db_with_team: Session
) -> None:
    sign_in(app.test_client(), provider, "cis2", MENTOR)
    withdrawn = {**MENTOR, "nhsid_nrbac_roles": []}
    client = app.test_client()
    refused = sign_in(client, provider, "cis2", withdrawn)
    assert refused.status_code == 403
    assert "no longer gives access" in refused.get_data(as_text=True)
    assert not signed_in(client)
    assert refusals(db_with_team) == ["unmapped"]


def test_a_disabled_account_is_told_whom_to_ask(
    app: Flask, provider: LocalProvider, db_with_team: Session
) -> None:
    sign_in(app.test_client(), provider, "force", OFFICER)
    user = accounts.find_user(db_with_team, "pc.officer@force.example")
    assert user is not None
    accounts.disable_account(db_with_team, user, by=None, channel="cli", reason="left")
    db_with_team.commit()
    client = app.test_client()
    refused = sign_in(client, provider, "force", OFFICER)
    assert refused.status_code == 403
    assert "Responder administrator" in refused.get_data(as_text=True)
    assert not signed_in(client)


# -- configuration -------------------------------------------------------------------


def test_a_bad_provider_configuration_names_every_problem() -> None:
    from plans.identity import providers_from_config

    with pytest.raises(ValueError) as raised:
        providers_from_config(
            {
                "Bad Name": {"issuer": "https://x", "client_id": "c"},
                "entra": {
                    "issuer": "https://login.example/{tenantid}/v2.0",
                    "client_id": "c",
                    "client_secret": "s",
                    "mappings": [{"claim": "groups", "value": "g", "role": "chief"}],
                },
            }
        )
    message = str(raised.value)
    assert "lower-case" in message and "needs private_key or client_secret" in message
    assert "needs tenants" in message and "'chief' is not one of" in message


def test_entra_multi_tenant_accepts_only_listed_tenants(
    database_url: str, provider: LocalProvider
) -> None:
    """Entra's multi-tenant issuer: each tenant's own issuer, on the allowlist only."""
    provider.register(
        Client("entra-client", [CALLBACK.format(name="entra")], secret="entra-secret")
    )
    # The local provider's issuer stands in for Entra's per-tenant issuer.
    template = provider.url + "/{tenantid}"
    settings = {
        "entra": {
            "issuer": template,
            "tenants": [TENANT],
            "discovery_url": provider.url + "/.well-known/openid-configuration",
            "client_id": "entra-client",
            "client_secret": "entra-secret",
            "mappings": [{"claim": "groups", "value": POLICE_GROUP, "role": "police"}],
        }
    }
    app = next(sso_app(database_url, settings))
    try:
        client = app.test_client()
        other_tenant = {**OFFICER, "tid": "99999999-0000-4000-8000-000000000000"}
        provider.sign_in_as(other_tenant)
        assert come_back(client, go_to_provider(client, "entra")).status_code == 401
        # A listed tenant, but the token names the common issuer, not the tenant's.
        provider.sign_in_as({**OFFICER, "tid": TENANT})
        assert come_back(client, go_to_provider(client, "entra")).status_code == 401
        provider.per_tenant_issuer = True
        provider.sign_in_as({**OFFICER, "tid": TENANT})
        signed = come_back(client, go_to_provider(client, "entra"))
        assert signed.status_code == 302 and signed_in(client)
        with make_session_factory(app.extensions["responder.engine"])() as db:
            identity = db.scalar(select(ExternalIdentity))
            assert identity is not None and identity.subject == f"{TENANT}/officer-1"
            assert refusals(db) == ["tenant_not_allowed", "wrong_issuer"]
    finally:
        app.extensions["responder.engine"].dispose()
