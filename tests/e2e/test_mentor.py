"""The mentors' desk in a real browser: draft, guardrail, submit, approve, publish."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from plans import clock
from plans.models import Person, PlanVersion
from tests.e2e.conftest import Account, LiveServer

pytestmark = pytest.mark.e2e

TEAM = "TEST-TEAM"


@pytest.fixture
def desk_context(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """Return a desktop-sized context: mentors draft plans at a desk."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        timezone_id="Europe/London",
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


def field(page: Any, name: str) -> Any:
    """Return the form control posted under `name`."""
    return page.locator(f'[name="{name}"]')


def save(page: Any) -> None:
    """Press the form's last "Save draft" button and wait for the next page."""
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").last.click()


def test_a_mentor_drafts_the_guardrail_refuses_and_a_lead_clinician_publishes(
    desk_context: Any,
    live_server: LiveServer,
    make_account: Callable[..., Account],
    sign_in: Callable[..., None],
) -> None:
    mentor = make_account(role="mentor", teams=(TEAM,))
    lead = make_account(role="lead_clinician", teams=(TEAM,))
    page = desk_context.new_page()
    sign_in(page, mentor, "/mentor/")
    page.goto("/mentor/")
    page.get_by_role("link", name="Start a plan for someone new").click()

    page.get_by_label("Given name").fill("Robin")
    page.get_by_label("Family name").fill("Exampleton")
    page.get_by_label("Summary").fill("Robin finds loud places hard; speak quietly.")
    field(page, "plan.advice_for.ambulance").fill("Do not convey to hospital.")
    field(page, "plan.behaviours.0.description").fill("Walks by the railway.")
    # "Add another" works without JavaScript: the server adds the row and keeps
    # everything typed so far.
    with page.expect_navigation():
        page.get_by_role("button", name="Add another behaviour").click()
    assert field(page, "plan.behaviours.1.description").count() == 1
    assert field(page, "person.given_name").input_value() == "Robin"
    field(page, "plan.behaviours.1.description").fill("Goes quiet before a crisis.")
    # Dates from the one clock, so the publish rules hold whenever this runs.
    today = clock.today()
    field(page, "plan.capacity.assessed_on").fill(today.isoformat())
    for ability in ("communicate", "understand", "retain", "employ"):
        field(page, f"plan.capacity.{ability}").select_option("yes")
    page.get_by_label("The plan was agreed with the person").check()
    page.get_by_label("Agreed on").fill(today.isoformat())
    page.get_by_label("How the person agreed this version").select_option("in_person")
    page.get_by_label("The person's statement").fill("Please use my name.")
    page.get_by_label("Lawful basis for sharing").select_option("consent")
    page.get_by_label("Review by").fill((today + dt.timedelta(days=180)).isoformat())
    save(page)

    # The draft page says why it cannot go further, in the mentor's words.
    blocks = page.locator("[data-blocks]")
    assert "“Do not convey”" in blocks.inner_text()
    assert "Advice for › Ambulance" in blocks.inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Submit for approval").click()
    assert "withholds care" in page.locator(".messages").inner_text()
    preview = page.locator("article.plan")
    assert "Advice only: always assess and treat" in preview.inner_text()
    assert "Goes quiet before a crisis." in preview.inner_text()

    page.get_by_role("link", name="Edit the draft").click()
    field(page, "plan.advice_for.ambulance").fill(
        "Explain each step before touching; convey if injured."
    )
    field(page, "plan.boundaries.0.boundary").fill("Keeps away from the station.")
    field(page, "plan.boundaries.0.if_breached").fill(
        "Police may arrest only as a last resort; call the team."
    )
    save(page)
    assert page.locator("[data-blocks]").count() == 0
    assert "“arrest”" in page.locator("[data-to-acknowledge]").inner_text()
    # New words took the person's agreement back; they agree to these words.
    assert "person agreed this version" in page.locator("[data-problems]").inner_text()
    page.get_by_role("link", name="Edit the draft").click()
    page.get_by_label("The plan was agreed with the person").check()
    page.get_by_label("Agreed on").fill(today.isoformat())
    page.get_by_label("How the person agreed this version").select_option("phone")
    save(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Submit for approval").click()
    assert "Waiting for approval" in page.locator("[data-status]").inner_text()

    # The lead clinician, in their own browser session.
    approver = desk_context.browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    try:
        lead_page = approver.new_page()
        sign_in(lead_page, lead, "/mentor/")
        lead_page.goto("/mentor/")
        lead_page.locator("[data-awaiting]").get_by_role(
            "link", name="Robin Exampleton"
        ).click()
        acknowledgements = lead_page.locator("[data-acknowledgements]")
        assert "“arrest”" in acknowledgements.inner_text()
        with lead_page.expect_navigation():
            lead_page.get_by_role("button", name="Approve and publish").click()
        assert "acknowledge “arrest” with a reason" in (
            lead_page.locator("[data-refused]").inner_text()
        )
        acknowledgements.locator("textarea").first.fill(
            "A last resort the police partner agreed; worded neutrally."
        )
        with lead_page.expect_navigation():
            lead_page.get_by_role("button", name="Approve and publish").click()
        assert re.search(r"Version 1 is live", lead_page.content())
        assert "Live" in lead_page.locator("[data-version='1']").inner_text()
    finally:
        approver.close()

    with live_server.session() as session:
        person = session.scalar(
            select(Person).where(Person.family_name == "Exampleton")
        )
        assert person is not None
        version = session.scalar(
            select(PlanVersion).where(PlanVersion.person_id == person.id)
        )
        assert version is not None
        assert version.status == "live"
        assert version.approved_by_id == lead.id
        assert version.acknowledgements[0]["code"] == "sanction_arrest"
        assert version.document["plan"]["behaviours"][1] == {
            "description": "Goes quiet before a crisis."
        }


def test_the_desk_fits_a_phone(
    page: Any,
    live_server: LiveServer,
    make_account: Callable[..., Account],
    sign_in: Callable[..., None],
) -> None:
    from plans import drafts, versions
    from plans.models import User
    from tests.plans import factories

    mentor = make_account(role="mentor", teams=(TEAM,))
    with live_server.session() as session:
        who = factories.person(session)
        versions.make_live(
            session, factories.draft(session, who, summary="A long summary. " * 20)
        )
        author = session.get(User, mentor.id)
        assert author is not None
        draft = drafts.start_from_live(session, who, author=author)
        session.commit()
        paths = [
            "/mentor/",
            f"/mentor/people/{who.id}",
            f"/mentor/people/{who.id}/access",
            f"/mentor/drafts/{draft.id}",
            f"/mentor/drafts/{draft.id}/edit",
            "/mentor/new",
        ]
    sign_in(page, mentor, "/mentor/")
    for path in paths:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
