"""The portal in a real browser at phone width: a year of demand, the report, XmR.

A mentor enters twelve months of a synthetic person's figures through the desk
form, records when mentoring began, builds and prints the report (the PDF's text
is read back with pypdf), and a team lead reads the team's XmR chart and its
table. The portal pages are scanned with axe-core in light and dark mode.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from plans import clock
from plans.portal import demand
from tests.e2e.conftest import Account, LiveServer
from tests.e2e.test_accessibility import violations
from tests.plans import factories

pytestmark = pytest.mark.e2e

TEAM = "TEST-TEAM"
PHONE = {"width": 390, "height": 844}
POLICE = [3, 5, 4, 6, 5, 7, 2, 1, 2, 1, 0, 1]
ED = [2, 2, 3, 1, 2, 2, 1, 0, 1, 0, 1, 0]


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """Return a 390 px page (a common phone width)."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id="Europe/London",
        accept_downloads=True,
        # lets axe-core be injected; the app's own pages need no script
        bypass_csp=True,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def year_of_months() -> list[dt.date]:
    """Return the twelve months before this one."""
    this = clock.today().replace(day=1)
    start = (this - dt.timedelta(days=365)).replace(day=1)
    return demand.month_range(start, this)[-13:-1]


def test_a_year_of_demand_a_printed_report_and_the_teams_xmr_chart(
    phone: Any,
    live_server: LiveServer,
    make_account: Callable[..., Account],
    sign_in: Callable[..., None],
) -> None:
    mentor = make_account(role="mentor", teams=(TEAM,))
    with live_server.session() as session:
        person_id = factories.person(session).id
        session.commit()
    months = year_of_months()
    sign_in(phone, mentor, "/portal/")

    phone.goto(f"/portal/people/{person_id}/demand?month={months[0]:%Y-%m}")
    for month, police, ed in zip(months, POLICE, ED, strict=True):
        assert (
            phone.locator('input[type="hidden"][name="month"]').input_value()
            == f"{month:%Y-%m}"
        )
        phone.get_by_label("Police incidents (minimum data set)").fill(str(police))
        phone.get_by_label("ED attendances needing treatment (minimum data set)").fill(
            str(ed)
        )
        with phone.expect_navigation():
            phone.get_by_role("button", name=re.compile(r"^Save ")).click()
        assert f"Saved {month:%B %Y}" in phone.locator(".messages").inner_text()

    phone.goto(f"/portal/people/{person_id}")
    started = months[6]
    phone.get_by_label("Mentoring began on").fill(started.isoformat())
    with phone.expect_navigation():
        phone.get_by_role("button", name="Save start").click()
    chart = phone.locator("#demand-chart svg")
    assert (
        chart.locator("line.marker").get_attribute("data-month") == f"{started:%Y-%m}"
    )
    box = chart.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    assert phone.get_by_role("heading", name="What the person experienced").is_visible()

    with phone.expect_navigation():
        phone.get_by_role("button", name="Build and save a report").click()
    assert "Report" in phone.locator("h1").inner_text()
    with phone.expect_download() as download_info:
        phone.get_by_role("link", name="Print (PDF)").click()
    pdf_bytes = Path(download_info.value.path()).read_bytes()
    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages
    )
    assert "Report for Alexandra Testperson" in text
    assert "Advice only: always assess and treat" in text
    assert "What the person experienced" in text
    assert f"Mentoring began: {started.isoformat()}" in text
    assert re.search(rf"Police incidents\s+{sum(POLICE)}\b", text), text

    lead = make_account(role="team_lead", teams=(TEAM,))
    phone.context.clear_cookies()
    sign_in(phone, lead, "/portal/")
    phone.goto("/portal/")
    phone.get_by_role("link", name="Team report and XmR charts").click()
    figure = phone.locator("#xmr-1")
    assert "Police incidents" in figure.locator("figcaption").inner_text()
    rows = figure.locator("tbody tr")
    table = {
        rows.nth(i).locator("th").inner_text(): rows.nth(i)
        .locator("td")
        .first.inner_text()
        for i in range(rows.count())
    }
    for month, police in zip(months, POLICE, strict=True):
        assert table[month.strftime("%b %Y")] == str(police)
    svg = figure.locator("svg")
    points = svg.locator(".point")
    drawn = {
        points.nth(i).get_attribute("data-month"): points.nth(i).get_attribute(
            "data-value"
        )
        for i in range(points.count())
    }
    assert all(
        drawn[f"{m:%Y-%m}"] == str(v) for m, v in zip(months, POLICE, strict=True)
    )
    assert "mean" in figure.inner_text().lower()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_portal_pages_pass_axe(
    scheme: str,
    phone: Any,
    live_server: LiveServer,
    make_account: Callable[..., Account],
    sign_in: Callable[..., None],
) -> None:
    from tests.e2e.test_accessibility import AXE

    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm install --no-save axe-core)")
    source = AXE.read_text(encoding="utf-8")
    phone.emulate_media(color_scheme=scheme)
    mentor = make_account(role="mentor", teams=(TEAM,))
    with live_server.session() as session:
        person = factories.person(session)
        session.commit()
        person_id, team_id = person.id, person.team_id
    sign_in(phone, mentor, "/portal/")
    found = {}
    for path in (
        "/portal/",
        f"/portal/people/{person_id}",
        f"/portal/people/{person_id}/demand",
        f"/portal/teams/{team_id}",
        f"/portal/teams/{team_id}/import",
        f"/portal/teams/{team_id}/costs",
        f"/portal/teams/{team_id}/assessments",
        f"/portal/teams/{team_id}/profile",
        "/portal/directory",
        "/portal/experience?q=bridge",
        "/portal/network",
    ):
        assert phone.goto(path).status == 200, path
        found[path] = violations(phone, source)
    phone.goto(f"/portal/people/{person_id}")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Build and save a report").click()
    found["report"] = violations(phone, source)
    assert {path: v for path, v in found.items() if v} == {}


def test_an_import_sent_by_script_shows_every_bad_line_then_lands(
    phone: Any,
    live_server: LiveServer,
    make_account: Callable[..., Account],
    sign_in: Callable[..., None],
    tmp_path: Path,
) -> None:
    mentor = make_account(role="mentor", teams=(TEAM,))
    with live_server.session() as session:
        team_id = factories.person(session).team_id
        session.commit()
    sign_in(phone, mentor, "/portal/")
    month = year_of_months()[0]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"person_ref,month,police_incidents\nTEST-TEAM/00001,{month:%Y-%m},x\n"
    )
    good = tmp_path / "good.csv"
    good.write_text(
        f"person_ref,month,police_incidents\nTEST-TEAM/00001,{month:%Y-%m},4\n"
    )
    phone.goto(f"/portal/teams/{team_id}/import")
    phone.get_by_label("Agency the figures came from").fill("Police")
    phone.get_by_label("CSV file").set_input_files(str(bad))
    assert phone.locator("#import-progress").is_hidden()
    phone.get_by_role("button", name="Import").click()
    problems = phone.locator("#import-problems")
    problems.wait_for()
    assert "line 2:" in problems.inner_text()
    # the page was swapped in place: the form still works, now with a good file
    phone.get_by_label("Agency the figures came from").fill("Police")
    phone.get_by_label("CSV file").set_input_files(str(good))
    phone.get_by_role("button", name="Import").click()
    phone.wait_for_url(f"**/portal/teams/{team_id}")
    assert "1 new" in phone.locator(".messages").inner_text()
