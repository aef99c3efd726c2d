"""A synthetic month of a High Intensity User group, in a real browser at 390 px.

Four agencies upload their lists, a mentor confirms the proposed matches, reads
the ranked month, records the meeting, allocates mentors; the lead clinician
gives permission; the person's acceptance is recorded; the first plan is drafted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from plans import clock
from plans.cases.models import Case, MatchProposal
from plans.models import Person, User
from tests.e2e.conftest import Account, LiveServer
from tests.e2e.test_accessibility import axe_page, axe_source, violations

pytestmark = pytest.mark.e2e

__all__ = ["axe_page", "axe_source"]  # fixtures shared with the main scan

TEAM = "HIU-E2E"
HEADER = (
    "given_name,family_name,date_of_birth,nhs_number,"
    "calls,attendances,conveyances,detentions,serious_incidents"
)
LISTS = {
    "police": [
        "Robert,Smith,1980-04-05,,6,2,0,1,0",
        "Alice,Jones,1991-11-05,,2,0,0,0,0",
    ],
    "ambulance": ["Bob,Smith,05/04/1980,,0,4,3,0,0", "Dan,Evans,1975-07-21,,1,1,1,0,0"],
    "emergency_department": ["Robert,Smyth,1980-05-04,,0,3,0,0,1"],
    "mental_health": ["Alice,Jonse,05/11/1991,,1,0,0,0,0"],
}
PHONE = {"width": 390, "height": 844}


def context_for(browser: Any, live_server: LiveServer) -> Any:
    """Return a phone-sized context on the live server."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id="Europe/London",
    )
    context.set_default_timeout(10_000)
    return context


def fits_the_phone(page: Any) -> bool:
    """Say whether the page needs no sideways scrolling at 390 px."""
    return bool(
        page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    )


def test_a_synthetic_month_from_four_lists_to_the_first_plan(
    browser: Any,
    live_server: LiveServer,
    make_account: Callable[..., Account],
    sign_in: Callable[..., None],
) -> None:
    mentor = make_account(role="mentor", teams=(TEAM,))
    police = make_account(role="mentor", teams=(TEAM,))
    lead = make_account(role="lead_clinician", teams=(TEAM,))
    with live_server.session() as session:
        officer = session.get(User, police.id)
        assert officer is not None
        officer.organisation = "Example Constabulary"
        officer.display_name = "PC Partner"
        session.commit()
    month = clock.today().replace(day=1).strftime("%Y-%m")

    desk = context_for(browser, live_server)
    page = desk.new_page()
    sign_in(page, mentor, "/cases/")
    for agency, rows in LISTS.items():
        page.goto("/cases/lists")
        page.get_by_label("Agency").select_option(agency)
        page.get_by_label("Month (YYYY-MM)").fill(month)
        page.get_by_label("CSV file").set_input_files(
            {
                "name": f"{agency}.csv",
                "mimeType": "text/csv",
                "buffer": "\n".join((HEADER, *rows)).encode(),
            }
        )
        with page.expect_navigation():
            page.get_by_role("button", name="Upload the list").click()
        assert page.get_by_text(re.compile(r"rows stored")).count() == 1

    # Each proposal shows its reasons; a person confirms every one.
    page.goto("/cases/matches")
    assert page.get_by_text("date of birth with day and month swapped").count() >= 1
    while page.get_by_role("button", name="Same person").count():
        with page.expect_navigation():
            page.get_by_role("button", name="Same person").first.click()
    with live_server.session() as session:
        statuses = set(session.scalars(select(MatchProposal.status)))
    assert statuses == {"confirmed"}

    page.goto(f"/cases/ranking?month={month}")
    ranked = page.locator("[data-ranked] > li h2")
    assert ranked.count() == 3
    assert ranked.first.inner_text().startswith("Robert Smith")
    assert fits_the_phone(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Open a case").first.click()
    case_url = page.url

    page.goto("/cases/meetings")
    page.get_by_label("Attendee 1", exact=True).fill("DS Example")
    page.get_by_label("Agency of attendee 1", exact=True).select_option("police")
    page.get_by_label("Attendee 2", exact=True).fill("Dr Example")
    page.get_by_label("Agency of attendee 2", exact=True).select_option("mental_health")
    with page.expect_navigation():
        page.get_by_role("button", name="Record the meeting").click()
    for fieldset in page.locator("fieldset").all():
        fieldset.get_by_label("yes", exact=True).check()
    page.get_by_label("Decision").select_option("allocate")
    page.get_by_label("Reasons").fill("Frequent conveyances across three agencies.")
    page.get_by_label("Next review").fill(
        (clock.today() + dt.timedelta(days=28)).isoformat()
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Record the discussion").click()
    assert page.get_by_text("allocate mentors.").count() == 1

    page.goto(case_url)
    page.get_by_label("Clinician mentor", exact=True).select_option(label="Test mentor")
    page.get_by_label("Police partner mentor", exact=True).select_option(
        label="PC Partner"
    )
    page.get_by_label("Lead clinician", exact=True).select_option(
        label="Test lead clinician"
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Allocate").click()
    # Nothing can be drafted yet: the refusal says why.
    assert "permission" in page.locator("[data-refusal]").inner_text()

    lead_context = context_for(browser, live_server)
    lead_page = lead_context.new_page()
    sign_in(lead_page, lead, case_url.replace(live_server.url, ""))
    lead_page.goto(case_url)
    for label in (
        "The person can communicate a decision",
        "The person understands the information",
        "The person retains it long enough to decide",
        "The person can use and weigh it",
        "Mentoring is likely to benefit them",
        "It will not disrupt their other treatment",
    ):
        lead_page.get_by_label(label).check()
    lead_page.get_by_label(re.compile("^Note")).fill("Capacity assessed in clinic.")
    with lead_page.expect_navigation():
        lead_page.get_by_role("button", name="Record permission").click()
    assert "Permission given" in lead_page.locator("[data-permission]").inner_text()
    lead_context.close()

    page.goto(case_url)
    assert "not agreed to take part" in page.locator("[data-refusal]").inner_text()
    page.get_by_label("What to record").select_option("invited")
    with page.expect_navigation():
        page.get_by_role("button", name="Record the answer").click()
    page.get_by_label("What to record").select_option("accepted")
    page.get_by_label("Reasons, in the person’s own words").fill("I'd like to try.")
    with page.expect_navigation():
        page.get_by_role("button", name="Record the answer").click()
    assert page.get_by_text("“I'd like to try.”").count() == 1

    # The police partner sees the case but not the clinical note.
    police_context = context_for(browser, live_server)
    police_page = police_context.new_page()
    sign_in(police_page, police, "/cases/")
    police_page.goto("/cases/")
    assert police_page.get_by_text("Robert Smith").count() == 1
    assert fits_the_phone(police_page)
    police_page.goto(case_url)
    assert police_page.get_by_text("Capacity assessed in clinic.").count() == 0
    assert fits_the_phone(police_page)
    police_context.close()

    page.goto(case_url)
    with page.expect_navigation():
        page.get_by_role("button", name="Draft the first plan").click()
    assert "/mentor/drafts/" in page.url
    with live_server.session() as session:
        case = session.scalars(select(Case)).one()
        person = session.get(Person, case.person_id)
        assert person is not None and person.given_name == "Robert"
    page.goto("/cases/")
    assert page.get_by_text("Permission and consent recorded.").count() == 1
    assert fits_the_phone(page)
    desk.close()


def test_the_case_pages_pass_axe_at_390_px(
    axe_page: Any,
    axe_source: str,
    live_server: LiveServer,
    make_account: Callable[..., Account],
    sign_in: Callable[..., None],
) -> None:
    from plans.cases import lists, workflow
    from tests.plans.case_factories import decide_to_allocate

    mentor = make_account(role="mentor", teams=(TEAM,))
    police = make_account(role="mentor", teams=(TEAM,))
    lead = make_account(role="lead_clinician", teams=(TEAM,))
    month = clock.today().replace(day=1)
    with live_server.session() as session:
        officer = session.get(User, police.id)
        user = session.get(User, mentor.id)
        assert officer is not None and user is not None
        officer.organisation = "Example Constabulary"
        for agency in ("police", "ambulance"):
            lists.upload_list(
                session,
                "\n".join((HEADER, *LISTS[agency])),
                team=user.teams[0],
                agency=agency,
                month=month,
                by=user,
                channel="web",
            )
        entry = session.scalars(select(MatchProposal)).first()
        assert entry is not None
        case = workflow.open_case(session, entry.entry_id, by=user, channel="web")
        group = type("G", (), {"team": user.teams[0], "mentor": user})()
        decide_to_allocate(session, group, case)  # type: ignore[arg-type]
        workflow.allocate(
            session,
            case,
            clinician_mentor_id=mentor.id,
            police_mentor_id=police.id,
            lead_clinician_id=lead.id,
            by=user,
            channel="web",
        )
        session.commit()
        case_id = case.id
    sign_in(axe_page, mentor, "/cases/")
    axe_page.set_viewport_size(PHONE)
    for path in (
        "/cases/",
        f"/cases/{case_id}",
        f"/cases/ranking?month={month:%Y-%m}",
        "/cases/matches",
        "/cases/lists",
        "/cases/meetings",
        "/cases/meetings/1",
        "/cases/borders",
    ):
        axe_page.goto(path)
        assert violations(axe_page, axe_source) == [], path
        assert fits_the_phone(axe_page), path
