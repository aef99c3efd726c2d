"""The privacy officer in a real browser: an alert reviewed and closed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from plans import access, versions
from plans.access import PrivacyAlert
from plans.models import User
from tests.e2e.conftest import Account, LiveServer
from tests.plans import factories

pytestmark = pytest.mark.e2e


def test_a_privacy_officer_reviews_and_closes_an_alert(
    page: Any,
    live_server: LiveServer,
    make_account: Callable[..., Account],
    sign_in: Callable[..., None],
) -> None:
    responder = make_account(role="police", teams=("TEST-TEAM",))
    officer = make_account(role="privacy_officer", teams=())
    with live_server.session() as session:
        user = session.get(User, responder.id)
        assert user is not None
        # One opening without a number is ordinary; three in a shift raise one alert.
        for number in (1, 2, 3):
            who = factories.person(session, ref=f"TEST-TEAM/0000{number}")
            versions.make_live(session, factories.draft(session, who))
            access.open_plan(
                session, user, who, basis="attending_incident", channel="web"
            )
        session.commit()

    sign_in(page, officer, "/privacy/")
    page.goto("/privacy/")
    assert "1 open alert." in page.locator("main").inner_text()
    page.get_by_role("link", name="without an incident number").click()
    assert "Attending an incident with this person" in page.locator("main").inner_text()
    # An empty resolution is refused by the browser before it is sent (and by
    # the server if it were).
    resolution = page.get_by_label("Resolution")
    assert resolution.evaluate("(el) => el.validity.valueMissing")
    page.get_by_label("Resolution").fill("Checked with the duty sergeant: real call.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with page.expect_navigation():
        page.get_by_role("button", name="Close the alert").click()
    assert "No open alerts." in page.locator("main").inner_text()

    with live_server.session() as session:
        alert = session.scalar(select(PrivacyAlert))
        assert alert is not None
        assert alert.status == "closed"
        assert alert.closed_by_id == officer.id
