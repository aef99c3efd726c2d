"""The cases pages and the `cases` commands, end to end through Flask."""

from __future__ import annotations

import io
from pathlib import Path

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans.cases.models import AgencyList, Case, ListEntry, MatchProposal
from plans.models import Person
from tests.conftest import TEST_PASSWORD, AuthActions
from tests.plans.case_factories import Group, csv_text, make_group

ROBERT = "Robert,Smith,1980-04-05,,3,1,0,0,0"
BOB = "Bob,Smith,1980-05-04,,0,2,2,0,0"


def sign_in(auth: AuthActions, group: Group, who: str = "mentor") -> None:
    user = getattr(group, who)
    auth.login(role=user.role, teams=(group.team.code,), email=user.email)


def post_list(
    client: FlaskClient, agency: str, *rows: str, month: str = "2026-10"
) -> object:
    return client.post(
        "/cases/lists?team=HIU-TEST",
        data={
            "agency": agency,
            "month": month,
            "file": (io.BytesIO(csv_text(*rows).encode()), "list.csv"),
        },
        content_type="multipart/form-data",
    )


def arranged(db: Session) -> Group:
    group = make_group(db, password=TEST_PASSWORD)
    db.commit()
    return group


def test_a_list_with_a_bad_row_is_refused_whole(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    sign_in(auth, arranged(db))
    response = post_list(client, "police", ROBERT, "Ann,Other,1990-13-01,,1,0,0,0,0")
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "Nothing was stored" in page and "line 3: date_of_birth" in page
    assert db.scalar(select(func.count()).select_from(ListEntry)) == 0


def test_a_large_list_streams_its_progress(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    sign_in(auth, arranged(db))
    rows = [
        f"P{chr(97 + i // 26 % 26)}{chr(97 + i % 26)},F{chr(97 + i // 676)},"
        "1980-01-01,,1,0,0,0,0"
        for i in range(1200)
    ]
    response = post_list(client, "police", *rows)
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert page.count('class="progress-step"') == 3
    assert "1200 rows stored" in page
    assert "<script" not in page.split("</head>")[1]
    assert db.scalar(select(func.count()).select_from(ListEntry)) == 1200


def test_a_month_from_lists_to_the_first_plan(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    group = arranged(db)
    sign_in(auth, group)
    assert post_list(client, "police", ROBERT).status_code == 302  # type: ignore[attr-defined]
    assert post_list(client, "ambulance", BOB).status_code == 302  # type: ignore[attr-defined]
    page = client.get("/cases/matches?team=HIU-TEST").get_data(as_text=True)
    assert "day and month swapped" in page and "nickname of Robert" in page
    proposal_id = db.scalar(select(MatchProposal.id))
    response = client.post(
        f"/cases/matches/{proposal_id}",
        data={"decision": "confirm", "team": "HIU-TEST"},
    )
    assert response.status_code == 302
    page = client.get("/cases/ranking?team=HIU-TEST&month=2026-10").get_data(
        as_text=True
    )
    assert page.count("<h2>") == 1 and "Ambulance, Police" in page
    entry_id = db.scalar(select(ListEntry.id).order_by(ListEntry.id))
    response = client.post("/cases/open", data={"entry_id": entry_id})
    case_id = db.scalar(select(Case.id))
    assert response.headers["Location"].endswith(f"/cases/{case_id}")
    # Drafting before anything is in place is refused, and says why.
    client.post(f"/cases/{case_id}/draft")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "allocate mentors" in page
    client.post(
        f"/cases/{case_id}/allocate",
        data={
            "clinician_mentor": group.mentor.id,
            "police_mentor": group.police_mentor.id,
            "lead_clinician": group.lead.id,
        },
    )
    assert client.post(f"/cases/{case_id}/permission").status_code == 403
    client.post(f"/cases/{case_id}/consent", data={"answer": "invited"})
    client.post(
        f"/cases/{case_id}/consent",
        data={"answer": "accepted", "person_words": "I will try it."},
    )
    response = client.post(f"/cases/{case_id}/draft")
    assert db.scalar(select(func.count()).select_from(Person)) == 0
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "has not given permission" in page and "I will try it." in page

    auth.logout()
    sign_in(auth, group, "lead")
    client.post(
        f"/cases/{case_id}/permission",
        data={
            "communicate": "yes",
            "understand": "yes",
            "retain": "yes",
            "employ": "yes",
            "likely_benefit": "yes",
            "no_disruption": "yes",
            "notes": "Seen in clinic; capacity intact.",
        },
    )
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Permission given" in page and "capacity intact" in page

    auth.logout()
    sign_in(auth, group, "police_mentor")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Permission given" in page and "capacity intact" not in page
    caseload = client.get("/cases/").get_data(as_text=True)
    assert "Robert Smith" in caseload and "Missing" not in caseload
    response = client.post(f"/cases/{case_id}/draft")
    assert "/mentor/drafts/" in response.headers["Location"]
    person = db.scalars(select(Person)).one()
    assert person.given_name == "Robert"


def test_responders_have_no_case_pages(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    sign_in(auth, arranged(db), "responder")
    for path in ("/cases/", "/cases/lists", "/cases/ranking", "/cases/matches"):
        assert client.get(path).status_code == 403, path


def test_another_groups_case_is_not_found(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    group = arranged(db)
    sign_in(auth, group)
    post_list(client, "police", ROBERT)
    entry_id = db.scalar(select(ListEntry.id))
    client.post("/cases/open", data={"entry_id": entry_id})
    case_id = db.scalar(select(Case.id))
    auth.logout()
    other = make_group(db, "HIU-OTHER", password=TEST_PASSWORD)
    db.commit()
    auth.login(role="mentor", teams=("HIU-OTHER",), email=other.mentor.email)
    assert client.get(f"/cases/{case_id}").status_code == 404
    assert client.post("/cases/open", data={"entry_id": entry_id}).status_code == 404


def test_the_cli_uploads_a_list_or_names_every_bad_line(
    runner: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    arranged(db)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        csv_text(ROBERT, "Ann,,1990-01-01,,1,0,0,0,0", "X,Y,1990-01-01,,a,0,0,0,0")
    )
    args = [
        "cases",
        "upload",
        "--team",
        "HIU-TEST",
        "--agency",
        "police",
        "--month",
        "2026-10",
    ]
    result = runner.invoke(args=[*args, str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: family_name is empty" in result.output
    assert f"{bad}:4: calls 'a' is not a count" in result.output
    assert db.scalar(select(func.count()).select_from(AgencyList)) == 0
    good = tmp_path / "good.csv"
    good.write_text(csv_text(ROBERT))
    result = runner.invoke(args=[*args, str(good)])
    assert result.exit_code == 0, result.output
    assert "stored 1 rows" in result.output
    assert runner.invoke(args=["cases", "template"]).output.startswith("given_name,")
