"""Passkeys in a real Chromium, a virtual platform authenticator for the phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from plans import accounts
from plans.models import Team

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple 42"


def create_new_starter(live_server: Any, email: str) -> None:
    """Create an account that has a password but no second factor yet."""
    with live_server.session() as session:
        session.add(Team(code="DEMO-X", name="DEMO-X team"))
        session.flush()
        accounts.create_user(
            session, email, role="ambulance", password=PASSWORD, team_codes=["DEMO-X"]
        )
        session.commit()


def sign_out(page: Any) -> None:
    page.goto("/account")
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_a_responder_adds_a_passkey_then_signs_in_with_it_alone(
    page: Any,
    live_server: Any,
    make_account: Callable[..., Any],
    sign_in: Callable[..., None],
    add_virtual_authenticator: Callable[[Any], Any],
) -> None:
    authenticator = add_virtual_authenticator(page)
    account = make_account(role="police")
    sign_in(page, account, "/account")
    expect(page).to_have_url(re.compile(r"/account$"))

    page.get_by_role("link", name="Add a passkey or authenticator app").click()
    page.get_by_label("Name for this passkey").fill("Airwave handset")
    with page.expect_navigation():
        page.get_by_role("button", name="Create a passkey").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_text("Airwave handset")).to_be_visible()
    assert len(authenticator.credentials()) == 1

    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-session")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["path"] == "/"

    sign_out(page)
    # The signed-in cookie is gone; the login page may start a fresh anonymous one.
    assert cookie["value"] not in [c["value"] for c in page.context.cookies()]
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in with a passkey").click()
    page.goto("/account")
    expect(page.get_by_role("heading", name="Your sign-in")).to_be_visible()


def test_a_new_starter_is_made_to_set_up_a_passkey_on_first_sign_in(
    page: Any,
    live_server: Any,
    add_virtual_authenticator: Callable[[Any], Any],
) -> None:
    add_virtual_authenticator(page)
    create_new_starter(live_server, "new.medic@example.test")
    page.goto("/login")
    page.get_by_label("Work email address").fill("new.medic@example.test")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/login/enrol$"))
    with page.expect_navigation():
        page.get_by_role("button", name="Create a passkey").click()
    expect(page).to_have_url(re.compile(r"/account/recovery-codes"))
    page.get_by_role("button", name="Create new recovery codes").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)


def test_a_failed_user_verification_does_not_sign_in(
    page: Any,
    live_server: Any,
    make_account: Callable[..., Any],
    sign_in: Callable[..., None],
    add_virtual_authenticator: Callable[[Any], Any],
) -> None:
    authenticator = add_virtual_authenticator(page)
    account = make_account(role="ambulance")
    sign_in(page, account, "/account")
    page.goto("/login/enrol")
    with page.expect_navigation():
        page.get_by_role("button", name="Create a passkey").click()
    sign_out(page)
    authenticator.set_user_verified(False)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator("[data-passkey-error]").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login$"))
