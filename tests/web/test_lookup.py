"""The responder's app: search, near me, opening a plan on a basis, the plan page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import clock, versions
from plans.access import AccessGrant, PrivacyAlert
from plans.audit import AuditEvent
from plans.exchange.landing import import_documents
from plans.models import Person
from tests.plans.factories import document

pytestmark = pytest.mark.usefixtures("app")


def land(db: Session, *docs: dict[str, Any]) -> None:
    """Land synthetic documents as live plans and commit."""
    report = import_documents(db, list(docs), actor=None, source="test")
    assert not report.refused, report
    db.commit()


def alexandra(**plan: Any) -> dict[str, Any]:
    """Return a synthetic plan with advice for every role."""
    values: dict[str, Any] = {
        "summary": "Alexandra may be on the bridge. Speak calmly and use her name.",
        "advice_for": {
            "police": "POLICE-ADVICE: offer a lift to the crisis cafe.",
            "ambulance": "AMBULANCE-ADVICE: check for overdose.",
            "emergency_department": "ED-ADVICE: offer a quiet room.",
            "control_room": "CONTROL-ADVICE: call the team in hours.",
        },
        "places_of_safety": [{"name": "Crisis cafe", "lat": 50.9085, "lon": -1.4100}],
        "nominated_people": [
            {
                "name": "Sam Example",
                "relationship": "Sister",
                "phone": "07700 900123",
                "consent_recorded": True,
            }
        ],
    }
    values.update(plan)
    return document("TEST-TEAM/00001", **values)


def csrf(client: FlaskClient, path: str) -> dict[str, str]:
    """Return the CSRF field of the form on a page, if the page has one."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return {"csrf_token": match.group(1)} if match else {}


def open_with_reason(
    client: FlaskClient, ref: str = "TEST-TEAM/00001", **form: str
) -> Any:
    """Press the one-tap reason button on the basis page."""
    path = f"/open/{ref}"
    data = {"basis": "attending_incident", **form, **csrf(client, path)}
    return client.post(path, data=data)


def audit_rows(db: Session, action: str) -> list[AuditEvent]:
    """Return the audit rows of one action."""
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# -- who may use it -------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_home_is_one_search_box_near_me_and_scan(client: FlaskClient, auth) -> None:
    auth.login(role="police")

    response = client.get("/")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert page.count('type="search"') == 1
    assert "Near me" in page
    assert 'href="/scan"' in page
    assert "Sign out" in page


def test_staff_on_the_home_page_go_to_their_own_desk(client: FlaskClient, auth) -> None:
    auth.login(role="mentor")

    response = client.get("/")

    assert response.status_code == 302
    assert response.headers["Location"] != "/"


@pytest.mark.parametrize("path", ["/search?q=alexandra", "/open/TEST-TEAM/00001"])
def test_staff_cannot_search_or_open_plans_as_responders(
    client: FlaskClient, auth, db: Session, path: str
) -> None:
    land(db, alexandra())
    auth.login(role="mentor")

    assert client.get(path).status_code == 403


# -- search ---------------------------------------------------------------------------

BEHAVIOUR = "Swallows batteries or sharp objects"
CRISIS_PLACE = "Testtown bus station"


def swallowing(ref: str = "TEST-TEAM/00001") -> dict[str, Any]:
    """Return Alexandra's plan with a behaviour and a crisis location."""
    doc = alexandra(
        behaviours=[{"description": BEHAVIOUR, "triggers": "Court dates"}],
        crisis_locations=[{"name": CRISIS_PLACE, "lat": 50.91, "lon": -1.41}],
    )
    doc["person"]["ref"] = ref
    return doc


def test_results_say_how_strong_each_match_is_in_words(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, swallowing())
    auth.login(role="police")

    strong = client.get("/search?q=alexandra+testperson+14/3/88").get_data(as_text=True)
    loose = client.get("/search?q=alexandra").get_data(as_text=True)

    assert "Strong match" in strong and "may have no plan" not in strong
    assert "1 person matches." in strong
    assert "Possible match" in loose or "Weak match" in loose
    assert "None of these is a strong match: the person may have no plan." in loose


def test_results_name_what_matched_in_the_responders_words_not_the_plans(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, swallowing())
    auth.login(role="police")

    page = client.get("/search?q=has+eaten+batteries&lat=50.9103&lon=-1.41").get_data(
        as_text=True
    )

    assert "Alexandra Testperson" in page
    assert "a crisis behaviour (you typed “eaten batteries”)" in page
    assert "a crisis location 30 m away" in page
    # Security finding 7: no plan text before an access basis is given.
    assert BEHAVIOUR not in page and CRISIS_PLACE not in page
    assert "Example Street" not in page


def test_results_say_how_many_matched_and_show_more_on_demand(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, *(swallowing(f"TEST-TEAM/{n:05d}") for n in range(1, 13)))
    auth.login(role="police")

    page = client.get("/search?q=testperson").get_data(as_text=True)
    more = client.get("/search?q=testperson&shown=20").get_data(as_text=True)

    assert "Showing 10 of 12 people who match." in page
    assert 'href="/search?q=testperson&amp;shown=20"' in page
    assert page.count('class="result"') == 10
    assert more.count('class="result"') == 12
    assert "12 people match." in more and "Show more" not in more


def test_search_shows_minimal_identity_and_why_it_matched(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="police")

    response = client.get("/search?q=alexandra+testperson")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Alexandra Testperson" in page
    assert "Testtown" in page
    assert "Matched:" in page
    assert 'href="/open/TEST-TEAM/00001"' in page
    # Minimal identity only: nothing from the plan itself.
    assert "bridge" not in page
    assert "POLICE-ADVICE" not in page
    assert "Sister" not in page


def test_each_search_is_audited_without_the_words_typed(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="ambulance")

    client.get("/search?q=alexandra")

    rows = audit_rows(db, "search")
    assert len(rows) == 1
    assert rows[0].channel == "web"
    assert rows[0].detail == {
        "query_length": 9,
        "has_location": False,
        "result_count": 1,
        "query_kind": "text",
    }
    assert "alexandra" not in str(rows[0].detail).lower()


def test_an_overdue_review_is_flagged_in_results(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra(review_by="2020-01-01"))
    auth.login(role="police")

    page = client.get("/search?q=alexandra").get_data(as_text=True)

    assert "Review overdue" in page


def test_no_match_says_what_to_try(client: FlaskClient, auth, db: Session) -> None:
    land(db, alexandra())
    auth.login(role="police")

    page = client.get("/search?q=zzqxv").get_data(as_text=True)

    assert "No live plans match" in page


def test_an_empty_search_goes_back_home(client: FlaskClient, auth) -> None:
    auth.login(role="police")

    response = client.get("/search?q=+")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_an_over_long_search_is_refused_in_words(
    client: FlaskClient, auth, app: Flask
) -> None:
    auth.login(role="police")
    text = "a" * (app.config["SEARCH_MAX_QUERY_LENGTH"] + 1)

    response = client.get(f"/search?q={text}")

    assert response.status_code == 400
    assert "at most" in response.get_data(as_text=True)


def test_near_me_lists_plans_with_places_nearby(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="police")

    response = client.get("/near?lat=50.9086&lon=-1.4101")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Plans near you" in page
    assert "Alexandra Testperson" in page
    assert "a place in the plan" in page and "m away" in page
    row = audit_rows(db, "search")[0]
    assert row.detail["has_location"] is True
    assert row.detail["query_length"] == 0


@pytest.mark.parametrize("query", ["", "lat=91&lon=0", "lat=x&lon=1", "lat=nan&lon=1"])
def test_near_me_without_a_usable_location_says_so(
    client: FlaskClient, auth, query: str
) -> None:
    auth.login(role="police")

    response = client.get(f"/near?{query}")

    assert response.status_code == 400
    assert "Location not available" in response.get_data(as_text=True)


# -- opening a plan -------------------------------------------------------------------


def test_the_plan_page_first_asks_why(client: FlaskClient, auth, db: Session) -> None:
    land(db, alexandra())
    auth.login(role="police")

    response = client.get("/plans/TEST-TEAM/00001")

    assert response.status_code == 302
    assert response.headers["Location"] == "/open/TEST-TEAM/00001"
    page = client.get("/open/TEST-TEAM/00001").get_data(as_text=True)
    assert "Attending an incident with this person" in page
    assert "CAD or log number" in page
    assert "e.g. CAD 1234" in page
    assert 'name="agency"' in page
    assert "POLICE-ADVICE" not in page


@pytest.mark.parametrize(
    ("role", "default"),
    [
        ("police", "attending_incident"),
        ("ambulance", "attending_incident"),
        ("emergency_department", "ed_attendance"),
        ("control_room", "control_room_incident"),
    ],
)
def test_the_one_tap_reason_fits_the_role(
    client: FlaskClient, auth, db: Session, role: str, default: str
) -> None:
    land(db, alexandra())
    auth.login(role=role)

    page = client.get("/open/TEST-TEAM/00001").get_data(as_text=True)

    big = re.search(
        r'<button type="submit" class="big" name="basis" value="(\w+)"', page
    )
    assert big is not None and big.group(1) == default
    assert 'value="card_scan"' not in page


def test_one_tap_opens_the_plan_audits_and_grants_it(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    user = auth.login(role="police")

    response = open_with_reason(client, incident="INC-2026/123")

    assert response.status_code == 303
    assert response.headers["Location"] == "/plans/TEST-TEAM/00001"
    grant = db.scalar(select(AccessGrant).where(AccessGrant.user_id == user.id))
    assert grant is not None
    assert grant.basis == "attending_incident"
    assert grant.incident == "INC-2026/123"
    opened = audit_rows(db, "plan_opened")
    assert opened[0].detail == {
        "basis": "attending_incident",
        "incident": "INC-2026/123",
    }
    assert client.get("/plans/TEST-TEAM/00001").status_code == 200


def test_repeated_openings_without_a_number_alert_the_privacy_officer_once(
    client: FlaskClient, auth, db: Session
) -> None:
    land(
        db,
        alexandra(),
        document("TEST-TEAM/00002", summary="Second."),
        document("TEST-TEAM/00003", summary="Third."),
    )
    auth.login(role="police", teams=("TEST-TEAM",))

    response = open_with_reason(client)
    assert response.status_code == 303
    assert db.scalars(select(PrivacyAlert)).all() == []
    open_with_reason(client, "TEST-TEAM/00002")
    open_with_reason(client, "TEST-TEAM/00003")

    db.expire_all()
    alerts = db.scalars(select(PrivacyAlert)).all()
    assert [(alert.kind, alert.count) for alert in alerts] == [
        ("no_incident_number", 3)
    ]


def test_the_basis_records_the_agency_and_its_reference(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="ambulance")
    page = client.get("/open/TEST-TEAM/00001").get_data(as_text=True)
    assert "CAD incident number" in page and "Ambulance service" in page

    open_with_reason(client, incident="AMB-2026-012345", agency="SCAS")

    grant = db.scalar(select(AccessGrant))
    assert grant is not None
    assert (grant.agency, grant.incident) == ("SCAS", "AMB-2026-012345")


def test_an_odd_incident_number_is_refused_in_words(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="police")

    response = open_with_reason(client, incident="<script>")

    assert response.status_code == 400
    assert "incident number" in response.get_data(as_text=True)
    assert db.scalar(select(AccessGrant)) is None


def test_a_card_scan_cannot_be_claimed_from_the_form(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="police")

    response = open_with_reason(client, basis="card_scan")

    assert response.status_code == 400
    assert db.scalar(select(AccessGrant)) is None


def test_opening_needs_the_csrf_token(
    app: Flask, client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    app.config["WTF_CSRF_ENABLED"] = True
    auth.login(role="police")
    assert "csrf_token" in csrf(client, "/open/TEST-TEAM/00001")

    response = client.post(
        "/open/TEST-TEAM/00001", data={"basis": "attending_incident"}
    )

    assert response.status_code == 400
    assert db.scalar(select(AccessGrant)) is None


def test_an_unknown_person_is_not_found(client: FlaskClient, auth) -> None:
    auth.login(role="police")

    assert client.get("/open/NOBODY/1").status_code == 404
    assert client.get("/plans/NOBODY/1").status_code == 404


def test_results_link_straight_to_a_plan_already_opened(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="police")
    open_with_reason(client, incident="INC1")

    page = client.get("/search?q=alexandra").get_data(as_text=True)

    assert 'href="/plans/TEST-TEAM/00001"' in page


# -- the plan page --------------------------------------------------------------------


def test_the_plan_leads_with_the_advice_for_my_role_then_the_summary(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="ambulance")
    open_with_reason(client, incident="INC1")

    response = client.get("/plans/TEST-TEAM/00001")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert page.count("Advice only: always assess and treat") >= 1
    summary = page.index("Speak calmly")
    mine = page.index("AMBULANCE-ADVICE")
    assert mine < summary < page.index("POLICE-ADVICE")
    assert 'href="tel:07700900123"' in page
    assert 'href="geo:50.908500,-1.410000?q=50.908500,-1.410000"' in page
    assert "Version" in page and "Dr Example" in page and "1 June 2027" in page


def test_every_view_of_a_plan_is_audited(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="police")
    open_with_reason(client, incident="INC1")

    client.get("/plans/TEST-TEAM/00001")
    client.get("/plans/TEST-TEAM/00001")

    viewed = audit_rows(db, "plan_viewed")
    assert len(viewed) == 2
    assert viewed[0].person_ref == "TEST-TEAM/00001"
    assert viewed[0].detail == {"version": 1}


def test_an_overdue_plan_is_shown_with_when_it_was_last_reviewed(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra(review_by="2026-10-01"))
    auth.login(role="police")
    open_with_reason(client, incident="INC1")

    page = client.get("/plans/TEST-TEAM/00001").get_data(as_text=True)

    assert "Not reviewed since 1 June 2026" in page
    assert "POLICE-ADVICE" in page


def test_a_retired_plan_is_never_shown_even_with_a_grant(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="police")
    open_with_reason(client, incident="INC1")
    person = db.scalar(select(Person).where(Person.ref == "TEST-TEAM/00001"))
    assert person is not None
    versions.retire(db, person, reason="withdrawn")
    db.commit()

    response = client.get("/plans/TEST-TEAM/00001")

    page = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "no longer in use" in page
    assert "POLICE-ADVICE" not in page
    assert "Speak calmly" not in page
    assert client.get("/open/TEST-TEAM/00001").status_code == 404


def test_an_expired_grant_asks_again(client: FlaskClient, auth, db: Session) -> None:
    land(db, alexandra())
    auth.login(role="police")
    open_with_reason(client, incident="INC1")
    grant = db.scalar(select(AccessGrant))
    assert grant is not None
    grant.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    db.commit()

    response = client.get("/plans/TEST-TEAM/00001")

    assert response.status_code == 302
    assert response.headers["Location"] == "/open/TEST-TEAM/00001"


def test_the_plan_page_has_no_inline_script_or_style(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="police")
    open_with_reason(client, incident="INC1")

    page = client.get("/plans/TEST-TEAM/00001").get_data(as_text=True)

    assert "<style" not in page
    assert " style=" not in page
    for tag in re.findall(r"<script[^>]*>", page):
        assert "src=" in tag
        assert 'type="module"' in tag or "defer" in tag
    assert "http://" not in page.replace("http://localhost", "")


# -- the PWA shell --------------------------------------------------------------------


def test_the_manifest_describes_an_installable_app(client: FlaskClient) -> None:
    response = client.get("/manifest.webmanifest")

    manifest = response.get_json(force=True)
    assert response.mimetype == "application/manifest+json"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200
        assert image.mimetype == "image/png"
        image.close()


def test_the_service_worker_is_served_for_the_whole_app(client: FlaskClient) -> None:
    response = client.get("/sw.js")

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "__SHELL_VERSION__" not in body
    assert re.search(r'const VERSION = "[0-9a-f]{16}"', body)


def test_the_service_worker_caches_only_the_shell(client: FlaskClient) -> None:
    body = client.get("/sw.js").get_data(as_text=True)

    listed = set(re.findall(r'"(/[^"]*)"', body))
    assert listed == {
        "/offline",
        "/static/css/app.css",
        "/static/js/app.js",
        "/static/js/open-now.js",
        "/static/icons/icon-192.png",
        "/static/icons/icon-512.png",
        "/manifest.webmanifest",
        "/.well-known/plan-card-keys.json",
        "/cards/revoked.json",
        "/cards/check",
        "/static/js/card-verify.js",
    }
    # Only listed paths are ever put in the cache.
    assert body.count("cache.put(") == 2
    assert "CACHED.has(url.pathname)" in body


def test_the_offline_page_is_public_and_personal_free(
    client: FlaskClient, auth
) -> None:
    auth.login(role="police")

    response = client.get("/offline")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You are offline" in page
    assert "Sign out" not in page
    assert "csrf_token" not in page


@pytest.mark.parametrize(
    ("at", "which", "number"),
    [
        # Thursday 26 November 2026 (GMT): 02:00, 12:00; Sunday 29 November 12:00.
        (dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC), "out_of_hours", "960999"),
        (dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC), "in_hours", "960000"),
        (dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC), "out_of_hours", "960999"),
        # Summer (BST): 08:30 UTC is 09:30 in London, inside Mon-Fri 09:00-17:00.
        (dt.datetime(2026, 7, 16, 8, 30, tzinfo=dt.UTC), "in_hours", "960000"),
        (dt.datetime(2026, 11, 26, 8, 30, tzinfo=dt.UTC), "out_of_hours", "960999"),
    ],
)
def test_the_offline_page_and_the_call_button_offer_the_line_open_now(
    client: FlaskClient, auth, db: Session, at: dt.datetime, which: str, number: str
) -> None:
    from plans import clock
    from plans.models import Team

    land(db, alexandra())
    team = db.scalar(select(Team).where(Team.code == "TEST-TEAM"))
    assert team is not None
    team.out_of_hours_phone = "+44 1632 960999"
    team.crisis_line = "0800 000 1111"
    db.commit()
    auth.login(role="police", teams=("TEST-TEAM",))
    open_with_reason(client, incident="INC1")

    with clock.frozen(at):
        offline = client.get("/offline").get_data(as_text=True)
        plan = client.get("/plans/TEST-TEAM/00001").get_data(as_text=True)

    assert f'data-which="{which}"' in offline
    assert f'data-call="{which}"' in plan
    call = re.search(r'<p class="call"[^>]*><a[^>]*href="([^"]+)"', plan)
    assert call is not None and call.group(1).endswith(number)
    assert "Open now (" in plan


def test_the_masthead_offers_chat_only_when_a_channel_is_configured(
    app: Flask, client: FlaskClient, auth
) -> None:
    auth.login(role="police")
    assert ">Chat</a>" not in client.get("/").get_data(as_text=True)

    app.config["TELEGRAM_BOT_USERNAME"] = "responder_test_bot"
    assert ">Chat</a>" in client.get("/").get_data(as_text=True)


def test_the_plan_partial_renders_a_preview_at_any_heading_level(app: Flask) -> None:
    from flask import render_template

    from plans import plan_view

    view = plan_view.build(alexandra(), "police", today=dt.date(2026, 11, 23))
    with app.test_request_context():
        html = render_template(
            "lookup/_plan.html",
            view=view,
            plan_heading_level=2,
            plan_id_prefix="preview",
        )

    assert (
        '<h2 id="preview-name" class="identity-name">Alexandra Testperson</h2>' in html
    )
    assert '<h3 id="preview-advice_police-title">Advice for Police</h3>' in html
    assert 'id="plan-' not in html
    assert html.count("Advice only: always assess and treat") == 2


def test_paging_through_everyone_by_search_is_slowed_down(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    auth.login(role="police")

    # Mid-minute, so the 61 searches never straddle two counting windows.
    with clock.frozen(clock.now().replace(second=30, microsecond=0)):
        answers = [client.get("/search?q=alexandra").status_code for _ in range(61)]

    assert answers[:60] == [200] * 60
    assert answers[60] == 429
    assert len(audit_rows(db, "search")) == 60
