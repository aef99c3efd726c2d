"""The portal's pages: who reaches them, desk entry, import, charts under the CSP, PDFs.

Runs on SQLite and, with RESPONDER_TEST_POSTGRES_URL set, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans import clock, people
from plans.audit import AuditEvent
from plans.models import Person
from plans.portal.models import DemandCount, SavedReport
from responder.person import COOKIE
from tests.conftest import AuthActions
from tests.plans import factories

TEAM = "TEST-TEAM"


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return match.group(1) if match else ""


@pytest.fixture
def person(db: Session) -> Person:
    found = factories.person(db)
    db.commit()
    return found


def month_form(month: str, **counts: Any) -> dict[str, Any]:
    return {"month": month, **{k: str(v) for k, v in counts.items()}}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("police", 403),
        ("ambulance", 403),
        ("emergency_department", 403),
        ("control_room", 403),
        ("network", 403),
        ("privacy_officer", 403),
        ("team_lead", 200),
        ("mentor", 200),
        ("lead_clinician", 200),
    ],
)
def test_who_sees_a_persons_demand(
    client: FlaskClient, auth: AuthActions, person: Person, role: str, status: int
) -> None:
    auth.login(role, teams=(TEAM,))
    assert client.get(f"/portal/people/{person.id}").status_code == status


def test_a_mentor_of_another_team_gets_404_and_the_probe_is_audited(
    client: FlaskClient, auth: AuthActions, db: Session, person: Person
) -> None:
    auth.login("mentor", teams=("OTHER",))
    assert client.get(f"/portal/people/{person.id}").status_code == 404
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "out_of_team")
        )
        == 1
    )


def test_a_mentor_enters_a_month_and_sees_it_drawn_beside_the_harms(
    client: FlaskClient, auth: AuthActions, db: Session, person: Person
) -> None:
    auth.login("mentor", teams=(TEAM,))
    # Last month by the one clock: the page draws the months before today.
    month = (clock.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    path = f"/portal/people/{person.id}/demand?month={month}"
    form = month_form(month, police_incidents=3, ed_attendances=2)
    form["csrf_token"] = csrf(client, path)
    response = client.post(f"/portal/people/{person.id}/demand", data=form)
    assert response.status_code == 302
    assert db.scalar(select(func.sum(DemandCount.count))) == 5
    page = client.get(f"/portal/people/{person.id}")
    html = page.get_data(as_text=True)
    assert "What the person experienced" in html
    assert f'data-month="{month}" data-series="Police" data-value="3"' in html
    assert "style=" not in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("field", "value"),
    [("police_incidents", "-2"), ("police_incidents", "lots"), ("month", "2025-13")],
)
def test_bad_desk_input_is_refused_and_nothing_is_saved(
    client: FlaskClient,
    auth: AuthActions,
    db: Session,
    person: Person,
    field: str,
    value: str,
) -> None:
    auth.login("mentor", teams=(TEAM,))
    form = month_form("2025-11", police_incidents=1, ed_attendances=1)
    form[field] = value
    form["csrf_token"] = csrf(client, f"/portal/people/{person.id}/demand")
    response = client.post(f"/portal/people/{person.id}/demand", data=form)
    assert response.status_code == 400
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(DemandCount)) == 0


def test_an_import_names_every_bad_line_then_a_good_file_lands_once(
    client: FlaskClient, auth: AuthActions, db: Session, person: Person
) -> None:
    auth.login("mentor", teams=(TEAM,))
    team_id = person.team_id
    token = csrf(client, f"/portal/teams/{team_id}/import")
    bad = (
        b"person_ref,month,police_incidents\n"
        b"TEST-TEAM/00001,2025-10,x\nNOBODY,2025-10,1\n"
    )
    response = client.post(
        f"/portal/teams/{team_id}/import",
        data={
            "csrf_token": token,
            "agency": "Police",
            "file": (io.BytesIO(bad), "police.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "line 2:" in html and "line 3:" in html
    good = b"person_ref,month,police_incidents\nTEST-TEAM/00001,2025-10,4\n"
    for _ in range(2):
        response = client.post(
            f"/portal/teams/{team_id}/import",
            data={
                "csrf_token": token,
                "agency": "Police",
                "file": (io.BytesIO(good), "police.csv"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 302
    assert db.scalar(select(func.count()).select_from(DemandCount)) == 1


def test_two_parallel_imports_of_one_file_store_each_cell_once(
    app: Flask, auth: AuthActions, client: FlaskClient, db: Session, person: Person
) -> None:
    user = auth.login("mentor", teams=(TEAM,))
    from plans.portal import demand
    from responder.db import session_factory

    body = "person_ref,month,police_incidents\nTEST-TEAM/00001,2025-10,4\n"
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context(), session_factory()() as session:
            me = session.get(type(user), user.id)
            team = session.get(type(person.team), person.team_id)
            try:
                demand.import_csv(session, team, body, agency="Police", by=me)
                session.commit()
            except Exception as error:  # noqa: BLE001 - the loser's error is the point
                session.rollback()
                errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # one wins; the other either saw the row (unchanged) or lost on the unique
    # cell and was told so in words, with nothing of it kept
    assert db.scalar(select(func.count()).select_from(DemandCount)) == 1
    assert all(isinstance(e, demand.ConcurrentEntry) for e in errors), errors
    assert len(errors) <= 1


def test_the_team_page_draws_xmr_charts_with_their_tables(
    client: FlaskClient, auth: AuthActions, db: Session, person: Person
) -> None:
    auth.login("team_lead", teams=(TEAM,))
    page = client.get(f"/portal/teams/{person.team_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-kind="xmr"') == 6
    assert "mean ± 2.66 × the mean moving range" in html


def test_a_report_is_built_saved_and_printed(
    client: FlaskClient, auth: AuthActions, db: Session, person: Person
) -> None:
    auth.login("mentor", teams=(TEAM,))
    token = csrf(client, f"/portal/people/{person.id}")
    response = client.post(
        f"/portal/people/{person.id}/reports", data={"csrf_token": token}
    )
    assert response.status_code == 302
    report = db.scalars(select(SavedReport)).one()
    pdf = client.get(f"/portal/reports/{report.id}/report.pdf")
    assert pdf.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "Report for Alexandra Testperson" in text


def test_the_person_reads_and_comments_on_their_own_report(
    client: FlaskClient, db: Session, person: Person
) -> None:
    from plans import accounts
    from plans.portal import reports

    mentor = accounts.create_user(
        db, "m@example.test", role="mentor", team_codes=[TEAM]
    )
    report = reports.build_report(db, person, by=mentor)
    _row, token = people.start_session(db, person, via="card")
    db.commit()
    client.set_cookie(COOKIE, token, path="/me")
    listing = client.get("/me/reports/")
    assert listing.status_code == 200
    page = client.get(f"/me/reports/{report.id}")
    assert page.status_code == 200
    token_csrf = re.search(
        r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)
    )
    response = client.post(
        f"/me/reports/{report.id}/comment",
        data={
            "text": "May was a hard month.",
            "csrf_token": token_csrf.group(1) if token_csrf else "",
        },
    )
    assert response.status_code == 302
    assert "May was a hard month." in client.get(f"/me/reports/{report.id}").get_data(
        as_text=True
    )
    other = factories.person(db, "TEST-TEAM/00002")
    other_report = reports.build_report(db, other, by=mentor)
    db.commit()
    assert client.get(f"/me/reports/{other_report.id}").status_code == 404


def test_the_network_sees_suppressed_figures_and_the_directory(
    client: FlaskClient, auth: AuthActions, db: Session, person: Person
) -> None:
    auth.login("network", teams=())
    page = client.get("/portal/network").get_data(as_text=True)
    assert "&lt;5" in page and person.ref not in page
    assert client.get("/portal/directory?place=testtown").status_code == 200
    assert client.get("/portal/experience?q=bridge").status_code == 200
    assert client.get(f"/portal/teams/{person.team_id}").status_code == 403


def test_the_chart_svg_is_well_formed(
    client: FlaskClient, auth: AuthActions, person: Person
) -> None:
    auth.login("mentor", teams=(TEAM,))
    html = client.get(f"/portal/people/{person.id}").get_data(as_text=True)
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(svgs) == 2
    for svg in svgs:
        ET.fromstring(svg)


def test_the_cli_imports_all_or_nothing_and_prints_the_team_report(
    runner: Any, db: Session, person: Person, tmp_path: Any
) -> None:
    good = tmp_path / "police.csv"
    good.write_text("person_ref,month,police_incidents\nTEST-TEAM/00001,2025-10,4\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("person_ref,month,police_incidents\nTEST-TEAM/00001,2025-10,-4\n")
    command = ["portal", "import", TEAM]
    result = runner.invoke(args=[*command, str(bad), "--agency", "Police"])
    assert result.exit_code != 0 and "line 2" in result.output
    result = runner.invoke(args=[*command, str(good), "--agency", "Police"])
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output
    result = runner.invoke(args=["portal", "team-report", TEAM, "--months", "120"])
    assert result.exit_code == 0, result.output
    assert "2025-10,4,0,0,0,0,0," in result.output


def test_a_visit_is_recorded_and_printable_by_its_team_only(
    client: FlaskClient, auth: AuthActions, db: Session, person: Person
) -> None:
    from plans.portal.assessment import MEASURES

    auth.login("team_lead", teams=(TEAM,))
    path = f"/portal/teams/{person.team_id}/assessments"
    form: dict[str, str] = {
        "visited_on": "2025-06-01",
        "csrf_token": csrf(client, path),
    }
    for measure in MEASURES:
        form[f"score-{measure.code}"] = "2"
        form[f"evidence-{measure.code}"] = "notes"
    response = client.post(path, data=form)
    assert response.status_code == 302
    record = client.get(response.headers["Location"])
    assert record.status_code == 200
    assert record.get_data(as_text=True).count("2 of 4") == 11
    auth.logout()
    auth.login("mentor", teams=("OTHER",))
    assert client.get(response.headers["Location"]).status_code == 404
