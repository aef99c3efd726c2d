"""The mentors' desk on the web: drafting, conflicts, approval, retiring, scope."""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import access, clock, drafts, versions
from plans.audit import AuditEvent
from plans.models import Person, PlanVersion, User
from tests.conftest import AuthActions
from tests.plans import factories

TEAM = "TEST-TEAM"


class PlanForm(HTMLParser):
    """Read the values a browser would submit from the page's plan form."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._in_form = "plan-form" in found.get("class", "")
        if not self._in_form:
            return
        name = found.get("name")
        if tag == "input" and name:
            kind = found.get("type", "text")
            if kind in ("submit", "button"):
                return
            if kind in ("checkbox", "radio") and "checked" not in found:
                return
            self.values[name] = html.unescape(found.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
            self._first_option = None
        elif tag == "option" and self._select:
            value = found.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self.values.setdefault(self._select, value)
            if "selected" in found:
                self.values[self._select] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def plan_form(page: str) -> dict[str, str]:
    """Return the plan form's current values, as a browser would post them."""
    parser = PlanForm()
    parser.feed(page)
    return parser.values


def text_of(page: str) -> str:
    """Return the page's visible words, tags stripped, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# Dates from the one clock, so the desk's rules hold whenever the suite runs.
TODAY = clock.today()
REVIEW_BY = TODAY + dt.timedelta(days=150)
FILLED = {
    "person.given_name": "Robin",
    "person.family_name": "Exampleton",
    "person.date_of_birth": "1990-02-03",
    "person.sex": "other",
    "person.description": "Tall, green coat.",
    "plan.summary": "Robin finds loud places hard; speak quietly and give time.",
    "plan.advice_for.ambulance": "Explain each step before touching.",
    "plan.behaviours.count": "1",
    "plan.behaviours.0.description": "Walks along the railway when distressed.",
    "plan.behaviours.0.advice": "Speak calmly and offer to walk together.",
    "plan.capacity.assessed_on": TODAY.isoformat(),
    "plan.capacity.communicate": "yes",
    "plan.capacity.understand": "yes",
    "plan.capacity.retain": "yes",
    "plan.capacity.employ": "yes",
    "plan.coproduction.agreed_with_person": "on",
    "plan.coproduction.agreed_on": TODAY.isoformat(),
    "plan.coproduction.channel": "in_person",
    "plan.coproduction.person_statement": "Please use my name.",
    "plan.sharing_basis": "consent",
    "plan.review_by": REVIEW_BY.isoformat(),
}


@pytest.fixture
def mentor(auth: AuthActions) -> User:
    return auth.login(role="mentor", teams=(TEAM,))


def _new_plan(client: FlaskClient, db: Session, **changes: str) -> PlanVersion:
    page = client.get("/mentor/new").get_data(as_text=True)
    form = {**plan_form(page), **FILLED, **changes, "action": "save"}
    response = client.post("/mentor/new", data=form)
    assert response.status_code == 303, text_of(response.get_data(as_text=True))
    db.expire_all()
    version = db.scalars(select(PlanVersion).order_by(PlanVersion.id.desc())).first()
    assert version is not None
    return version


def _actions(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def _user(db: Session, email: str, role: str, team: str = TEAM) -> User:
    from plans.accounts import create_user

    factories.team(db, team)
    user = create_user(db, email, role=role, team_codes=[team], display_name=email)
    db.commit()
    return user


# --- who may use the desk -----------------------------------------------------


@pytest.mark.parametrize("role", ["police", "ambulance", "privacy_officer"])
def test_the_desk_is_for_mentors_and_lead_clinicians(
    client: FlaskClient, auth: AuthActions, role: str
) -> None:
    auth.login(role=role, teams=(TEAM,))
    assert client.get("/mentor/").status_code == 403
    assert client.get("/mentor/new").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/mentor/")
    assert response.status_code in (302, 401)


def test_another_teams_plans_are_not_found(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    theirs = factories.person(db, "OTHER-TEAM/00001", "OTHER-TEAM")
    draft = factories.draft(db, theirs)
    db.commit()
    for path in (
        f"/mentor/people/{theirs.id}",
        f"/mentor/people/{theirs.id}/access",
        f"/mentor/drafts/{draft.id}",
        f"/mentor/drafts/{draft.id}/edit",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/mentor/drafts/{draft.id}/submit").status_code == 404
    assert client.post(f"/mentor/people/{theirs.id}/retire").status_code == 404
    page = client.get("/mentor/").get_data(as_text=True)
    assert "OTHER-TEAM/00001" not in page


# --- drafting -----------------------------------------------------------------


def test_a_behaviour_can_carry_a_snomed_code(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    page = client.get("/mentor/new").get_data(as_text=True)
    assert "Self-injurious behaviour (248062006)" in page
    version = _new_plan(client, db, **{"plan.behaviours.0.code": "248062006"})
    [behaviour] = version.document["plan"]["behaviours"]
    assert behaviour["code"] == "248062006"
    assert behaviour["description"] == "Walks along the railway when distressed."


def test_a_behaviour_code_outside_the_list_is_refused_in_words(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    page = client.get("/mentor/new").get_data(as_text=True)
    form = {**plan_form(page), **FILLED, "plan.behaviours.0.code": "55680006"}
    response = client.post("/mentor/new", data={**form, "action": "save"})
    assert response.status_code in (200, 400, 422)
    assert "SNOMED CT code: choose one of the options" in text_of(
        response.get_data(as_text=True)
    )
    assert db.scalars(select(PlanVersion)).first() is None


def test_a_mentor_drafts_a_new_plan_and_previews_it(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    version = _new_plan(client, db)
    assert version.status == "draft"
    assert version.person.display_name == "Robin Exampleton"
    plan = version.document["plan"]
    assert plan["behaviours"] == [
        {
            "description": "Walks along the railway when distressed.",
            "advice": "Speak calmly and offer to walk together.",
        }
    ]
    assert plan["coproduction"]["agreed_with_person"] is True
    assert version.review_by == REVIEW_BY
    response = client.get(f"/mentor/drafts/{version.id}?role=ambulance")
    page = text_of(response.get_data(as_text=True))
    assert response.headers["Cache-Control"] == "no-store"
    assert "Advice only: always assess and treat" in page
    assert "Explain each step before touching." in page
    assert "Nothing stands in the way." in page
    desk = text_of(client.get("/mentor/").get_data(as_text=True))
    assert "Robin Exampleton" in desk


def test_every_field_of_the_format_round_trips_through_the_form(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    version = _new_plan(client, db)
    full = factories.document(version.person.ref, 1, status="draft")
    full["person"].update(
        preferred_name="Rob",
        aliases=["Bobby", "R.E."],
        address={
            "name": "Home",
            "address": "2 Sample Road, Testtown",
            "postcode": "SO14 7DU",
            "lat": 50.9,
            "lon": -1.4,
            "notes": "Ground floor flat.",
        },
    )
    place = {"name": "Crisis cafe", "address": "3 High St", "lat": 50.1, "lon": -1.1}
    full["plan"].update(
        risk={"likelihood": 2, "impact": 4, "level": "medium"},
        diagnosis={"name": "Autism", "plain_explanation": "Noise hurts."},
        capacity={
            "assessed_on": "2026-10-01",
            "communicate": True,
            "understand": True,
            "retain": False,
            "employ": True,
            "notes": "Fluctuates when tired.",
        },
        behaviours=[{"description": "Paces", "triggers": "Noise", "advice": "Quiet"}],
        crisis_locations=[{"name": "Bridge", "notes": "Often at dusk."}],
        places_of_safety=[place],
        boundaries=[{"boundary": "Calls the team first.", "if_breached": "Call us."}],
        nominated_people=[
            {
                "name": "Sam Example",
                "relationship": "Sister",
                "phone": "+44 1632 960001",
                "consent_recorded": True,
            }
        ],
        mentors=[{"name": "PC Example", "role": "police", "phone": "101"}],
        advice_for={
            "police": "Use first names.",
            "ambulance": "Explain before touching.",
            "emergency_department": "A quiet cubicle helps.",
            "control_room": "Send the nearest crew as usual.",
        },
    )
    for key in ("approved_by", "approved_on"):
        full["plan"].pop(key)
    db.get(PlanVersion, version.id).document = full  # type: ignore[union-attr]
    db.commit()
    page = client.get(f"/mentor/drafts/{version.id}/edit").get_data(as_text=True)
    form = {**plan_form(page), "action": "save"}
    response = client.post(f"/mentor/drafts/{version.id}/edit", data=form)
    assert response.status_code == 303, text_of(response.get_data(as_text=True))
    db.expire_all()
    saved = db.get(PlanVersion, version.id)
    assert saved is not None
    for part in ("person", "plan"):
        assert drafts.diff_documents(full[part], saved.document[part]) == []


def test_add_another_is_done_by_the_server_and_saves_nothing(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    version = _new_plan(client, db)
    page = client.get(f"/mentor/drafts/{version.id}/edit").get_data(as_text=True)
    form = plan_form(page)
    form["plan.summary"] = "Changed but not saved."
    response = client.post(
        f"/mentor/drafts/{version.id}/edit",
        data={**form, "action": "add:plan.behaviours"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="plan.behaviours.1.description"' in page
    assert "not saved yet" in text_of(page)
    assert "Changed but not saved." in page
    db.expire_all()
    assert db.get(PlanVersion, version.id).summary != "Changed but not saved."  # type: ignore[union-attr]
    form = plan_form(page)
    response = client.post(
        f"/mentor/drafts/{version.id}/edit",
        data={**form, "action": "remove:plan.behaviours:0"},
    )
    page = response.get_data(as_text=True)
    assert "Walks along the railway" not in page


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("plan.review_by", "next spring", "Review by: write a date"),
        ("person.address.lat", "north", "Latitude: write a number"),
        ("plan.risk.likelihood", "9", "choose 1 to 5"),
        ("plan.sharing_basis", "because", "choose one of the options"),
    ],
)
def test_unreadable_values_are_refused_with_the_field_named(
    client: FlaskClient, db: Session, mentor: User, name: str, value: str, words: str
) -> None:
    version = _new_plan(client, db)
    page = client.get(f"/mentor/drafts/{version.id}/edit").get_data(as_text=True)
    form = {**plan_form(page), name: value, "action": "save"}
    response = client.post(f"/mentor/drafts/{version.id}/edit", data=form)
    assert response.status_code == 422
    assert words in text_of(response.get_data(as_text=True))
    assert _actions(db).count("draft_saved") == 1


def test_a_stale_save_is_refused_and_shows_both_versions(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    version = _new_plan(client, db)
    page = client.get(f"/mentor/drafts/{version.id}/edit").get_data(as_text=True)
    my_form = plan_form(page)
    colleague = _user(db, "colleague@example.test", "mentor")
    theirs = db.get(PlanVersion, version.id)
    assert theirs is not None
    changed = dict(theirs.document)
    changed["plan"] = {**changed["plan"], "summary": "Colleague's summary."}
    drafts.edit_draft(db, theirs, changed, editor=colleague, based_on=theirs.edit_count)
    db.commit()
    my_form.update({"plan.summary": "My summary.", "action": "save"})
    response = client.post(f"/mentor/drafts/{version.id}/edit", data=my_form)
    page = text_of(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "Not saved: someone else changed this draft" in page
    assert "Summary Colleague's summary. My summary." in page
    db.expire_all()
    assert db.get(PlanVersion, version.id).summary == "Colleague's summary."  # type: ignore[union-attr]
    # Saving again, with the differences seen, is a deliberate choice.
    again = plan_form(response.get_data(as_text=True))
    response = client.post(
        f"/mentor/drafts/{version.id}/edit", data={**again, "action": "save"}
    )
    assert response.status_code == 303
    db.expire_all()
    assert db.get(PlanVersion, version.id).summary == "My summary."  # type: ignore[union-attr]


# --- submitting, approving, publishing ----------------------------------------


def test_a_care_withholding_directive_cannot_be_submitted(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    version = _new_plan(
        client, db, **{"plan.advice_for.ambulance": "Do not convey to hospital."}
    )
    draft_page = text_of(client.get(f"/mentor/drafts/{version.id}").get_data(True))
    assert "“Do not convey” in Advice for › Ambulance" in draft_page
    response = client.post(f"/mentor/drafts/{version.id}/submit")
    assert response.status_code == 303
    page = text_of(client.get(f"/mentor/drafts/{version.id}").get_data(as_text=True))
    assert "withholds care" in page
    db.expire_all()
    assert db.get(PlanVersion, version.id).submitted_at is None  # type: ignore[union-attr]


def test_a_lead_clinician_acknowledges_and_publishes(
    client: FlaskClient, db: Session, auth: AuthActions, mentor: User
) -> None:
    version = _new_plan(
        client,
        db,
        **{"plan.behaviours.0.advice": "He was cautioned last year; speak calmly."},
    )
    assert client.post(f"/mentor/drafts/{version.id}/submit").status_code == 303
    assert client.get(f"/mentor/drafts/{version.id}/approve").status_code == 403
    auth.logout()
    lead = auth.login(role="lead_clinician", teams=(TEAM,))
    desk = text_of(client.get("/mentor/").get_data(as_text=True))
    assert "Waiting for approval Robin Exampleton" in desk
    page = client.get(f"/mentor/drafts/{version.id}/approve").get_data(as_text=True)
    assert "“cautioned”" in text_of(page)
    # How the person agreed, read from the version's document.
    assert "Agreed with the person (this version)" in page
    assert ", in person" in text_of(page)
    refused = client.post(f"/mentor/drafts/{version.id}/approve", data={"ack-0": ""})
    assert refused.status_code == 422
    assert "acknowledge “cautioned” with a reason" in text_of(
        refused.get_data(as_text=True)
    )
    published = client.post(
        f"/mentor/drafts/{version.id}/approve",
        data={"ack-0": "A fact responders need; worded neutrally."},
    )
    assert published.status_code == 303
    db.expire_all()
    live = db.get(PlanVersion, version.id)
    assert live is not None
    assert live.status == "live"
    assert live.approved_by_id == lead.id
    assert live.acknowledgements[0]["reason"] == (
        "A fact responders need; worded neutrally."
    )
    assert _actions(db)[-2:] == ["acknowledgement", "published"]
    person_page = text_of(
        client.get(f"/mentor/people/{live.person_id}").get_data(as_text=True)
    )
    assert "Live" in person_page and "1 acknowledged" in person_page


def test_a_lead_clinician_of_another_team_cannot_publish(
    client: FlaskClient, db: Session, auth: AuthActions, mentor: User
) -> None:
    version = _new_plan(client, db)
    client.post(f"/mentor/drafts/{version.id}/submit")
    auth.logout()
    auth.login(role="lead_clinician", teams=("OTHER-TEAM",))
    assert client.post(f"/mentor/drafts/{version.id}/approve").status_code == 404
    db.expire_all()
    assert db.get(PlanVersion, version.id).status == "draft"  # type: ignore[union-attr]


def test_a_new_version_shows_its_changes_against_the_live_one(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    lead = _user(db, "lead@example.test", "lead_clinician")
    version = _new_plan(client, db)
    client.post(f"/mentor/drafts/{version.id}/submit")
    db.expire_all()
    first = db.get(PlanVersion, version.id)
    assert first is not None
    drafts.publish(db, first, approver=db.get(User, lead.id))  # type: ignore[arg-type]
    db.commit()
    response = client.post(f"/mentor/people/{first.person_id}/drafts")
    assert response.status_code == 303
    edit_url = response.headers["Location"]
    form = plan_form(client.get(edit_url).get_data(as_text=True))
    form.update({"plan.summary": "Robin now prefers text messages.", "action": "save"})
    response = client.post(edit_url, data=form)
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert (
        "Summary Robin finds loud places hard; speak quietly and give time. "
        "Robin now prefers text messages." in page
    )


# --- retiring and the access log ----------------------------------------------


def _live_person(db: Session) -> Person:
    who = factories.person(db)
    versions.make_live(db, factories.draft(db, who))
    db.commit()
    return who


def test_retiring_a_plan_stops_it_being_shown(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    who = _live_person(db)
    refused = client.post(
        f"/mentor/people/{who.id}/retire", data={"reason": "moved", "person_told": ""}
    )
    assert refused.status_code == 303
    assert versions.live_version(db, who) is not None
    client.post(
        f"/mentor/people/{who.id}/retire",
        data={"reason": "moved", "person_told": "by letter"},
    )
    db.expire_all()
    assert versions.live_version(db, who) is None
    page = text_of(client.get(f"/mentor/people/{who.id}").get_data(as_text=True))
    assert "Retired" in page and "moved: person told by letter" in page
    assert "retired" in _actions(db)


def test_mentors_and_privacy_officers_see_who_opened_a_plan(
    client: FlaskClient, db: Session, auth: AuthActions, mentor: User
) -> None:
    who = _live_person(db)
    medic = _user(db, "medic@example.test", "ambulance")
    medic.organisation = "South Ambulance Service"
    db.commit()
    access.open_plan(
        db, medic, who, basis="attending_incident", channel="web", incident="INC-42"
    )
    db.commit()
    page = text_of(client.get(f"/mentor/people/{who.id}/access").get_data(True))
    assert (
        "medic@example.test (Ambulance, South Ambulance Service) · "
        "Attending an incident with this person · incident INC-42 · by web" in page
    )
    auth.logout()
    auth.login(role="privacy_officer", teams=())
    response = client.get(f"/mentor/people/{who.id}/access")
    assert response.status_code == 200
    assert "INC-42" in response.get_data(as_text=True)


def test_discarding_a_new_persons_draft_forgets_them(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    version = _new_plan(client, db)
    response = client.post(f"/mentor/drafts/{version.id}/discard")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/mentor/")
    db.expire_all()
    assert db.scalar(select(Person).where(Person.family_name == "Exampleton")) is None


def test_every_desk_and_privacy_route_declares_who_may_call_it(app: Flask) -> None:
    unguarded = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("mentor.", "privacy."))
        and not hasattr(app.view_functions[rule.endpoint], "access_rule")
    ]
    assert unguarded == []


def test_imported_documents_become_drafts_never_live(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    import io
    import json

    good = factories.document("TEST-TEAM/00007", 3, summary="Imported words.")
    flagged = factories.document(
        "TEST-TEAM/00008", 1, advice_for={"police": "No police attendance."}
    )
    elsewhere = factories.document("ELSEWHERE/00001", 1)
    elsewhere["team"]["code"] = "ELSEWHERE"
    factories.team(db, "ELSEWHERE")
    db.commit()
    broken = {"format": "response-plan/1"}
    lines = "\n".join(json.dumps(doc) for doc in (good, flagged, elsewhere, broken))
    response = client.post(
        "/mentor/import",
        data={"file": (io.BytesIO(lines.encode()), "plans.jsonl")},
        content_type="multipart/form-data",
    )
    page = text_of(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "1: draft of TEST-TEAM/00007, version 1" in page
    assert "2: draft of TEST-TEAM/00008, version 1 (1 flagged phrase)" in page
    assert "3: not drafted: you can only work on plans of your own teams" in page
    assert "4 /team: is required" in page
    db.expire_all()
    statuses = set(db.scalars(select(PlanVersion.status)))
    assert statuses == {"draft"}


def test_a_mentor_reading_a_plan_is_audited_on_their_team_basis(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    from sqlalchemy import select

    from plans.audit import AuditEvent

    who = _live_person(db)
    db.commit()
    assert client.get(f"/mentor/people/{who.id}").status_code == 200
    db.expire_all()
    event = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "plan_viewed", AuditEvent.person_ref == who.ref
        )
    ).one()
    assert event.actor_id == mentor.id
    assert event.detail == {"basis": "team_mentor", "status": "live"}
