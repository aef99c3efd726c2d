"""WCAG 2.2 AA with axe-core on the card, person-view and concern pages."""

from __future__ import annotations

from typing import Any

import pytest

from plans import people
from tests.e2e.conftest import LiveServer
from tests.e2e.test_accessibility import axe_page, axe_source, violations
from tests.e2e.test_cards import PIN, issue_cards, path

pytestmark = pytest.mark.e2e

__all__ = ["axe_page", "axe_source"]  # fixtures shared with the main scan


def test_card_and_person_pages_have_no_violations(
    axe_page: Any, axe_source: str, live_server: LiveServer
) -> None:
    good, revoked, _phone = issue_cards(live_server)
    found: dict[str, list[str]] = {}
    axe_page.goto(path(good))
    found["genuine card"] = violations(axe_page, axe_source)
    axe_page.goto(path(revoked))
    found["revoked card"] = violations(axe_page, axe_source)
    axe_page.goto("/cards/check")
    found["offline check"] = violations(axe_page, axe_source)
    axe_page.goto("/me/pin")
    found["pin"] = violations(axe_page, axe_source)

    axe_page.goto(path(good))
    axe_page.get_by_label("Your PIN").fill(PIN)
    axe_page.get_by_role("button", name="See my plan").click()
    axe_page.wait_for_url("**/me/")
    found["own view"] = violations(axe_page, axe_source)
    axe_page.goto("/me/withdraw")
    found["withdraw"] = violations(axe_page, axe_source)

    assert found == {page: [] for page in found}


def test_mentor_card_and_concern_pages_have_no_violations(
    axe_page: Any,
    axe_source: str,
    live_server: LiveServer,
    make_account: Any,
    sign_in: Any,
) -> None:
    issue_cards(live_server)
    with live_server.session() as session:
        from plans.models import Person

        person = session.query(Person).one()
        request = people.raise_request(
            session, person, kind="withdrawal", message="", via="web"
        )
        session.commit()
        request_id = request.id
    sign_in(axe_page, make_account(role="mentor", teams=("TEST-TEAM",)))
    found: dict[str, list[str]] = {}
    for page in (
        "/cards/for/TEST-TEAM/00001",
        "/concerns/",
        f"/concerns/{request_id}",
    ):
        axe_page.goto(page)
        found[page] = violations(axe_page, axe_source)

    assert found == {page: [] for page in found}
