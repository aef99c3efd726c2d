"""Chromium signs in through a real OpenID provider on 127.0.0.1, and administers
accounts on a 390 px phone.

The provider (tests/oidc_provider.py) is the same one the server tests use: real
ID tokens, PKCE, client secret and private_key_jwt. Nothing leaves the machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from plans.db import create_schema
from plans.models import Team, User
from tests.e2e import test_accessibility
from tests.e2e.conftest import LiveServer
from tests.oidc_provider import Client, LocalProvider, client_key_pair, running_provider
from tests.web.test_sso import MENTOR, OFFICER, POLICE_GROUP

pytestmark = pytest.mark.e2e

PHONE_390 = {"width": 390, "height": 844}
# The accessibility scan's fixtures (axe-core from node_modules, light and dark).
axe_page = test_accessibility.axe_page
axe_source = test_accessibility.axe_source
CLIENT_KEYS = client_key_pair()


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture
def live_app(
    database_url: str, tmp_path: Path, provider: LocalProvider
) -> Iterator[Flask]:
    """The browser tests' app, with a police force and CIS2 configured."""
    from responder import create_app

    private, _public = CLIENT_KEYS
    app = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": True,
            "ENVIRONMENT": "development",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "e2e-secret-key-that-is-long-enough-0123456789abcdef",
            "CARD_KEY_FILE": str(tmp_path / "card-keys.json"),
            "WEBAUTHN_RP_ID": "localhost",
            "PUBLIC_BASE_URL": "http://localhost",
            "SSO_PROVIDERS": {
                "force": {
                    "label": "Demo Constabulary",
                    "issuer": provider.url,
                    "client_id": "force-client",
                    "client_secret": "force-secret",
                    "mappings": [
                        {"claim": "groups", "value": POLICE_GROUP, "role": "police"}
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
                            "role": "mentor",
                            "teams": ["DEMO-X"],
                        }
                    ],
                },
                "nhslogin": {
                    "label": "NHS login",
                    "issuer": provider.url,
                    "client_id": "nhs-client",
                    "client_secret": "nhs-secret",
                    "purpose": "person",
                    "required_identity_level": "P9",
                },
            },
            "NHS_LOGIN_ENABLED": True,
        }
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False
    create_schema(app.extensions["responder.engine"])
    yield app
    app.extensions["responder.engine"].dispose()


@pytest.fixture
def registered(live_server: LiveServer, provider: LocalProvider) -> LocalProvider:
    """Register our two clients with the provider, now the server's port is known."""
    _private, public = CLIENT_KEYS
    provider.register(
        Client(
            "force-client",
            [f"{live_server.url}/login/sso/force/callback"],
            secret="force-secret",
        )
    )
    provider.register(
        Client(
            "cis2-client",
            [f"{live_server.url}/login/sso/cis2/callback"],
            public_key=public,
        )
    )
    provider.register(
        Client(
            "nhs-client",
            [f"{live_server.url}/me/nhs-login/nhslogin/callback"],
            secret="nhs-secret",
        )
    )
    with live_server.session() as session:
        session.add(Team(code="DEMO-X", name="Team X (synthetic)"))
        session.commit()
    return provider


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE_390,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        service_workers="block",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def test_a_police_officer_signs_in_through_their_force(
    phone: Any, registered: LocalProvider, live_server: LiveServer
) -> None:
    registered.sign_in_as(OFFICER)
    phone.goto("/login")
    with phone.expect_navigation(url=f"{live_server.url}/"):
        phone.get_by_role("link", name="Sign in with Demo Constabulary").click()
    assert phone.get_by_role("heading", name="Find a crisis plan").is_visible()
    with live_server.session() as session:
        user = session.scalar(select(User).where(User.email == OFFICER["email"]))
        assert user is not None and user.role == "police"


def test_a_mentor_signs_in_with_an_nhs_smartcard(
    phone: Any, registered: LocalProvider, live_server: LiveServer
) -> None:
    registered.sign_in_as(MENTOR)
    phone.goto("/login")
    with phone.expect_navigation(url=f"{live_server.url}/mentor/"):
        phone.get_by_role("link", name="Sign in with NHS smartcard").click()
    assert phone.get_by_role("heading", name="Mentors’ desk").is_visible()


def test_an_officer_without_a_multi_factor_claim_sets_up_ours(
    phone: Any, registered: LocalProvider, live_server: LiveServer
) -> None:
    registered.sign_in_as({**OFFICER, "amr": ["pwd"]})
    phone.goto("/login")
    with phone.expect_navigation(url=f"{live_server.url}/login/enrol"):
        phone.get_by_role("link", name="Sign in with Demo Constabulary").click()
    assert phone.goto("/account").url.startswith(f"{live_server.url}/login")


def test_an_administrator_disables_and_enables_on_a_phone(
    phone: Any,
    live_server: LiveServer,
    make_account: Any,
    sign_in: Any,
) -> None:
    officer = make_account(role="police")
    sign_in(phone, make_account(role="admin"))
    phone.goto("/admin/users")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_390["width"]
    card = phone.locator(f"#user-{officer.id}")
    box = card.bounding_box()
    assert box is not None and box["width"] <= PHONE_390["width"]
    assert card.get_by_role("link").count() == 1
    card.get_by_role("link").tap()
    phone.get_by_role("link", name="Disable…").tap()
    phone.get_by_label("Why?").fill("Left the force")
    phone.get_by_role("button", name="Disable").tap()
    phone.wait_for_url("**/admin/users?done=disabled")
    assert phone.get_by_role("status").inner_text() == "Account disabled."
    assert "Disabled" in phone.locator(f"#user-{officer.id}").inner_text()
    phone.locator(f"#user-{officer.id}").get_by_role("link").tap()
    phone.get_by_role("button", name="again").tap()
    phone.wait_for_url("**/admin/users?done=enabled")
    with live_server.session() as session:
        user = session.get(User, officer.id)
        assert user is not None and user.active


def test_the_administration_pages_have_no_violations(
    axe_page: Any,
    axe_source: str,
    live_server: LiveServer,
    registered: LocalProvider,
    make_account: Any,
    sign_in: Any,
) -> None:
    officer = make_account(role="police")
    # A first sign-in nobody has mapped yet, waiting on the list.
    registered.sign_in_as({**OFFICER, "sub": "unmapped", "groups": []})
    axe_page.goto("/login")
    axe_page.get_by_role("link", name="Sign in with Demo Constabulary").click()
    axe_page.wait_for_selector("#sso-waiting")
    found = {"waiting": test_accessibility.violations(axe_page, axe_source)}
    sign_in(axe_page, make_account(role="admin"))
    with live_server.session() as session:
        from plans.identity import ExternalIdentity

        identity_id = session.scalar(select(ExternalIdentity.id))
    for path in (
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{officer.id}",
        f"/admin/users/{officer.id}/disable",
        f"/admin/users/{officer.id}/reset-factors",
        f"/admin/sign-ins/{identity_id}",
    ):
        assert axe_page.goto(path).status == 200, path
        found[path] = test_accessibility.violations(axe_page, axe_source)
    assert found == {path: [] for path in found}


def test_the_person_opens_their_own_plan_with_nhs_login(
    phone: Any, registered: LocalProvider, live_server: LiveServer
) -> None:
    """The stand-in NHS login proves P9 and an NHS number; the plan's number matches."""
    from plans import versions
    from plans.models import Person
    from tests.plans import factories

    with live_server.session() as session:
        person = factories.person(session)
        versions.make_live(session, factories.draft(session, person))
        session.commit()
        person_id = person.id
    number = "9990000018"

    def matcher(session: Any, nhs_number: str) -> Person | None:
        return session.get(Person, person_id) if nhs_number == number else None

    live_server.app.extensions["responder.nhs_login_matcher"] = matcher
    registered.sign_in_as(
        {"sub": "p-1", "identity_proofing_level": "P9", "nhs_number": number}
    )
    phone.goto("/me/pin")
    with phone.expect_navigation(url=f"{live_server.url}/me/"):
        phone.get_by_role("link", name="Or sign in with NHS login").click()
    assert phone.get_by_role("heading", name="Your crisis plan").is_visible()
