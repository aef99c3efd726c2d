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
    allocation = {
        "clinician_mentor": group.mentor.id,
        "police_mentor": group.police_mentor.id,
        "lead_clinician": group.lead.id,
    }
    client.post(f"/cases/{case_id}/allocate", data=allocation)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "not decided to allocate mentors" in page
    meeting = client.post(
        "/cases/meetings?team=HIU-TEST",
        data={
            "held_on": "2026-10-20",
            "attendee_0": "DS Example",
            "agency_0": "police",
        },
    ).headers["Location"]
    client.post(
        meeting + "/discuss",
        data={
            **{f"answer_{n}": "yes" for n in range(5)},
            "case_id": case_id,
            "decision": "allocate",
            "reasons": "Three agencies; the person's view was sought.",
            "next_review": "2026-11-17",
        },
    )
    client.post(f"/cases/{case_id}/allocate", data=allocation)
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


def open_case_for_robert(client: FlaskClient, db: Session) -> int:
    post_list(client, "police", ROBERT)
    entry_id = db.scalar(select(ListEntry.id).where(ListEntry.given_name == "Robert"))
    client.post("/cases/open", data={"entry_id": entry_id})
    case_id = db.scalar(select(Case.id))
    assert case_id is not None
    return case_id


def test_a_meeting_is_recorded_from_the_pages(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    sign_in(auth, arranged(db))
    case_id = open_case_for_robert(client, db)
    response = client.post(
        "/cases/meetings?team=HIU-TEST",
        data={
            "held_on": "2026-10-20",
            "attendee_0": "PC Example",
            "agency_0": "police",
        },
    )
    assert response.status_code == 302
    meeting_page = response.headers["Location"]
    page = client.get(meeting_page).get_data(as_text=True)
    assert "PC Example (Police)" in page and "Is it proportionate?" in page
    answers = {f"answer_{n}": "yes" for n in range(5)}
    client.post(
        meeting_page + "/discuss",
        data={
            **answers,
            "case_id": case_id,
            "decision": "review",
            "reasons": "Calls are falling; see again next month.",
            "next_review": "2026-11-17",
        },
    )
    page = client.get(meeting_page).get_data(as_text=True)
    assert "keep under review. Calls are falling" in page
    assert "Next review 17 November 2026" in page
    empty = client.post("/cases/meetings?team=HIU-TEST", data={"held_on": "2026-10-20"})
    assert empty.status_code == 422
    assert "name at least one attendee" in empty.get_data(as_text=True)


def test_contacts_are_logged_and_police_mentors_see_no_trust_reference(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    group = arranged(db)
    sign_in(auth, group)
    case_id = open_case_for_robert(client, db)
    client.post(
        f"/cases/{case_id}/contacts",
        data={
            "on": "2026-10-02",
            "kind": "face_to_face",
            "trust_reference": "RiO-12345",
        },
    )
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "face to face (trust record RiO-12345)" in page
    auth.logout()
    sign_in(auth, group, "police_mentor")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "face to face" in page and "RiO-12345" not in page


def test_a_question_across_borders_from_the_pages(
    client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    group = arranged(db)
    south = make_group(db, "HIU-SOUTH", password=TEST_PASSWORD)
    db.commit()
    sign_in(auth, group)
    open_case_for_robert(client, db)
    entry_id = db.scalar(select(ListEntry.id))
    page = client.get(f"/cases/borders?team=HIU-TEST&entry_id={entry_id}")
    assert "Ask another group" in page.get_data(as_text=True)
    client.post(
        "/cases/borders/ask",
        data={"entry_id": entry_id, "to_team": "HIU-SOUTH", "team": "HIU-TEST"},
    )
    auth.logout()
    auth.login(role="mentor", teams=("HIU-SOUTH",), email=south.mentor.email)
    client.post(
        "/cases/lists?team=HIU-SOUTH",
        data={
            "agency": "ambulance",
            "month": "2026-10",
            "file": (io.BytesIO(csv_text(BOB).encode()), "list.csv"),
        },
        content_type="multipart/form-data",
    )
    page = client.get("/cases/borders?team=HIU-SOUTH").get_data(as_text=True)
    assert "asked about Robert Smith" in page
    from plans.cases.models import BorderQuestion

    question_id = db.scalar(select(BorderQuestion.id))
    page = client.get(f"/cases/borders/{question_id}").get_data(as_text=True)
    assert "Bob Smith" in page and "nickname of Robert" in page
    bob = db.scalar(select(ListEntry.id).where(ListEntry.given_name == "Bob"))
    client.post(
        f"/cases/borders/{question_id}/answer",
        data={"entry_id": bob, "contact": "Call the South HIU duty line, 01632 960001"},
    )
    auth.logout()
    sign_in(auth, group)
    page = client.get("/cases/borders?team=HIU-TEST").get_data(as_text=True)
    assert "known there; contact: Call the South HIU duty line" in page
    assert "Bob" not in page
    # The asking group cannot open the other group's question.
    assert client.get(f"/cases/borders/{question_id}").status_code == 404


def test_the_groups_questions_come_from_the_configuration(
    app: object, client: FlaskClient, auth: AuthActions, db: Session
) -> None:
    app.config["CASE_MEETING_QUESTIONS"] = ["Is this the right group for them?"]  # type: ignore[attr-defined]
    sign_in(auth, arranged(db))
    page = client.get("/cases/meetings?team=HIU-TEST").get_data(as_text=True)
    assert "Is this the right group for them?" in page
    assert "Is it proportionate?" not in page
