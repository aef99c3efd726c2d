"""The plan as a responder reads it: order, role advice, links, review notices."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from plans import plan_view
from plans.hours import TeamContacts
from plans.models import PlanVersion
from tests.plans.factories import document

TODAY = dt.date(2026, 11, 23)


def full_document(**plan: Any) -> dict[str, Any]:
    """Return a synthetic document with every section filled in."""
    values: dict[str, Any] = {
        "summary": "Alexandra may be found near the bridge. Speak calmly.",
        "risk": {"likelihood": 3, "impact": 4, "level": "high"},
        "advice_for": {
            "police": "Stand back, use her name, offer a lift to the crisis cafe.",
            "ambulance": "Check for overdose; she accepts paramedics.",
            "emergency_department": "Offer a quiet room.",
            "control_room": "Call the team first in hours.",
        },
        "boundaries": [
            {
                "boundary": "Will not be touched without warning.",
                "if_breached": "Step back, explain, and offer choices.",
            }
        ],
        "behaviours": [
            {
                "description": "Climbs the railings on the bridge.",
                "triggers": "Anniversaries, loud sirens.",
                "advice": "Turn off sirens on approach.",
            }
        ],
        "places_of_safety": [
            {
                "name": "Crisis cafe",
                "address": "2 Example Road, Testtown",
                "postcode": "TE1 1ST",
                "lat": 50.91,
                "lon": -1.41,
            }
        ],
        "crisis_locations": [{"name": "Itchen Bridge", "lat": 50.898, "lon": -1.388}],
        "nominated_people": [
            {
                "name": "Sam Example",
                "relationship": "Sister",
                "phone": "+44 (0)7700 900123",
                "consent_recorded": True,
            }
        ],
        "mentors": [
            {"name": "PC Mentor", "role": "police", "phone": "01632 960111"},
            {"name": "Nurse Mentor", "role": "clinician"},
        ],
        "capacity": {
            "assessed_on": "2026-05-01",
            "communicate": True,
            "understand": False,
            "notes": "Fluctuates when intoxicated.",
        },
        "diagnosis": {
            "name": "Emotionally unstable personality disorder",
            "plain_explanation": "Intense feelings that change fast.",
        },
    }
    values.update(plan)
    return document(**values)


def test_police_read_their_own_advice_then_the_summary_first() -> None:
    view = plan_view.build(full_document(), "police", today=TODAY)

    assert view.keys[:2] == ("advice_police", "summary")
    assert view.keys.index("boundaries") < view.keys.index("behaviours")
    assert view.keys.index("behaviours") < view.keys.index("places_of_safety")
    assert view.keys.index("places_of_safety") < view.keys.index("nominated_people")
    assert view.keys.index("team") < view.keys.index("capacity")
    assert view.keys.index("capacity") < view.keys.index("diagnosis")
    assert view.keys.index("diagnosis") < view.keys.index("person_statement")
    assert view.keys[-1] == "about"
    advice = view.section("advice_police")
    assert advice is not None and advice.lead
    assert "crisis cafe" in (advice.entries[0].text or "")


@pytest.mark.parametrize(
    ("role", "own", "absent"),
    [
        ("ambulance", "Check for overdose", "Stand back"),
        ("emergency_department", "quiet room", "Check for overdose"),
        ("control_room", "Call the team first", "quiet room"),
    ],
)
def test_each_role_leads_with_its_own_advice(role: str, own: str, absent: str) -> None:
    view = plan_view.build(full_document(), role, today=TODAY)

    lead = view.sections[0]
    assert lead.key == f"advice_{role}"
    assert own in (lead.entries[0].text or "")
    assert absent not in (lead.entries[0].text or "")
    others = view.section("advice_other_roles")
    assert others is not None
    assert all(own not in (entry.text or "") for entry in others.entries)


def test_a_role_without_advice_is_told_to_use_the_summary() -> None:
    view = plan_view.build(
        full_document(advice_for={"police": "x"}), "ambulance", today=TODAY
    )

    advice = view.section("advice_ambulance")
    assert advice is not None
    assert "use the summary" in (advice.entries[0].text or "")


def test_staff_and_the_person_see_every_roles_advice_without_a_lead_role() -> None:
    view = plan_view.build(full_document(), "mentor", today=TODAY)

    assert view.role is None
    assert view.sections[0].key == "summary"
    assert {
        "advice_police",
        "advice_ambulance",
        "advice_emergency_department",
        "advice_control_room",
    } <= set(view.keys)


def test_boundaries_carry_the_agreed_response() -> None:
    view = plan_view.build(full_document(), "police", today=TODAY)

    entry = view.section("boundaries").entries[0]  # type: ignore[union-attr]
    assert entry.text == "Will not be touched without warning."
    assert entry.details == (
        ("Agreed response", "Step back, explain, and offer choices."),
    )


def test_behaviours_show_triggers_and_advice() -> None:
    view = plan_view.build(full_document(), "police", today=TODAY)

    entry = view.section("behaviours").entries[0]  # type: ignore[union-attr]
    assert dict(entry.details) == {
        "Triggers": "Anniversaries, loud sirens.",
        "Advice": "Turn off sirens on approach.",
    }


def test_places_of_safety_link_to_directions_by_coordinates() -> None:
    view = plan_view.build(full_document(), "police", today=TODAY)

    entry = view.section("places_of_safety").entries[0]  # type: ignore[union-attr]
    assert entry.heading == "Crisis cafe"
    assert entry.text == "2 Example Road, Testtown, TE1 1ST"
    hrefs = [link.href for link in entry.links]
    assert hrefs[0] == "geo:50.910000,-1.410000?q=50.910000,-1.410000"
    assert "mlat=50.910000" in hrefs[1]


def test_a_place_with_only_a_postcode_still_gets_directions() -> None:
    links = plan_view.map_links({"name": "Cafe", "postcode": "TE1 1ST"})

    assert [link.href for link in links] == ["geo:0,0?q=TE1%201ST"]
    assert plan_view.map_links({"name": "Somewhere"}) == ()


def test_people_to_call_have_tap_to_call_links() -> None:
    view = plan_view.build(full_document(), "police", today=TODAY)

    sister = view.section("nominated_people").entries[0]  # type: ignore[union-attr]
    assert sister.links[0].href == "tel:+4407700900123"
    mentors = view.section("mentors").entries  # type: ignore[union-attr]
    assert mentors[0].text == "Police mentor"
    assert mentors[0].links[0].href == "tel:01632960111"
    assert mentors[1].links == ()
    assert view.team_links[0].href == "tel:+441632960000"
    team = view.section("team").entries[0]  # type: ignore[union-attr]
    assert ("In hours", "Mon-Fri 09:00-17:00") in team.details


@pytest.mark.parametrize(
    ("phone", "href"),
    [
        ("+44 1632 960000", "tel:+441632960000"),
        ("01632 960 111 ext", "tel:01632960111"),
        ("ask at desk", None),
        ("+44+7700", "tel:+447700"),
    ],
)
def test_tel_links_keep_only_digits_and_a_leading_plus(
    phone: str, href: str | None
) -> None:
    assert plan_view.tel_href(phone) == href


def test_capacity_and_diagnosis_are_in_plain_words() -> None:
    view = plan_view.build(full_document(), "ambulance", today=TODAY)

    capacity = view.section("capacity").entries[0]  # type: ignore[union-attr]
    assert "1 May 2026" in (capacity.text or "")
    assert "assess it now" in (capacity.text or "")
    assert ("Communicate a decision", "Yes") in capacity.details
    assert ("Understand information", "No") in capacity.details
    diagnosis = view.section("diagnosis").entries[0]  # type: ignore[union-attr]
    assert diagnosis.text == "Intense feelings that change fast."
    assert diagnosis.details == (
        ("Diagnosis", "Emotionally unstable personality disorder"),
    )


def test_the_persons_own_statement_is_shown() -> None:
    view = plan_view.build(full_document(), "police", today=TODAY)

    statement = view.section("person_statement")
    assert statement is not None
    assert statement.entries[0].text == "Please tell me your name."


def test_version_approval_agreement_and_review_date_are_recorded() -> None:
    view = plan_view.build(full_document(), "police", today=TODAY)

    about = dict(view.section("about").entries[0].details)  # type: ignore[union-attr]
    assert about == {
        "Version": "1",
        "Approved": "Dr Example on 1 June 2026",
        "Review by": "1 June 2027",
        "Agreed with the person": "Yes, on 20 May 2026",
        "Shared on the basis of": "the person's consent",
    }
    assert view.advice_only == "Advice only: always assess and treat"
    assert not view.review_overdue
    assert view.review_notice is None


def test_an_overdue_plan_is_still_shown_with_when_it_was_last_reviewed() -> None:
    view = plan_view.build(full_document(review_by="2026-10-01"), "police", today=TODAY)

    assert view.review_overdue
    assert view.review_notice == (
        "Not reviewed since 1 June 2026: its review was due on 1 October 2026."
    )
    assert view.section("summary") is not None


def test_a_retired_plan_is_never_built() -> None:
    with pytest.raises(plan_view.PlanNotShown):
        plan_view.build(full_document(status="retired"), "police", today=TODAY)


def test_identity_comes_from_the_document() -> None:
    doc = full_document()
    doc["person"]["preferred_name"] = "Ali"
    doc["person"]["aliases"] = ["Lexi"]
    view = plan_view.build(doc, "police", today=TODAY)

    assert view.name == "Ali Testperson"
    assert view.aliases == ("Lexi",)
    assert view.age == 38
    assert view.home == "1 Example Street, Testtown"
    assert view.description == "Woman in her 30s, short, red hair."
    assert view.risk == "High"


def test_a_stored_version_uses_its_recorded_columns() -> None:
    version = PlanVersion(version=3, status="live", document=full_document())
    version.sync_recorded_fields()
    version.approved_by_name = "Dr Column"

    view = plan_view.build(version, "police", today=TODAY)

    assert view.version == 3
    assert view.approved_by == "Dr Column"
    assert view.review_by == dt.date(2027, 6, 1)


def test_a_bare_plan_still_has_summary_team_and_about() -> None:
    bare = document()
    bare["plan"].pop("capacity")
    view = plan_view.build(bare, "police", today=TODAY)

    assert view.keys == (
        "advice_police",
        "summary",
        "team",
        "person_statement",
        "about",
    )


def test_long_dates_are_written_the_uk_way() -> None:
    assert plan_view.long_date(dt.date(2027, 6, 1)) == "1 June 2027"
    assert plan_view.long_date(None) == ""


def test_legal_and_preferred_names_show_together_with_the_date_of_birth() -> None:
    doc = full_document()
    doc["person"].update(
        given_name="Kayleigh", family_name="Jones", preferred_name="Kay"
    )
    view = plan_view.build(doc, "police", today=TODAY)

    assert view.name == "Kay Jones"
    assert view.identity_name == "Kayleigh Jones (known as Kay)"
    assert view.date_of_birth_text == "14 March 1988"
    assert view.age == 38


def test_a_preferred_name_equal_to_the_given_one_is_not_repeated() -> None:
    doc = full_document()
    doc["person"]["preferred_name"] = doc["person"]["given_name"]
    view = plan_view.build(doc, "police", today=TODAY)

    assert view.identity_name == view.name
    assert view.legal_name is None


def test_the_first_screen_jumps_to_safety_people_and_boundaries() -> None:
    view = plan_view.build(full_document(), "police", today=TODAY)

    assert [s.key for s in view.jumps] == [
        "places_of_safety",
        "nominated_people",
        "boundaries",
    ]
    assert plan_view.build(document(), "police", today=TODAY).jumps == ()


CONTACTS = TeamContacts(
    team_name="Test team",
    in_hours_phone="01632 960000",
    in_hours="Mon-Sat 09:00-19:00",
    out_of_hours_phone="01632 960999",
    crisis_line="0800 000 1111",
)


@pytest.mark.parametrize(
    ("at", "which"),
    [
        # Thursday 26 November 2026, GMT.
        (dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC), "out_of_hours"),
        (dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC), "in_hours"),
    ],
)
def test_the_call_button_offers_the_line_open_now(at: dt.datetime, which: str) -> None:
    view = plan_view.build(
        full_document(), "police", today=TODAY, now=at, team_contacts=CONTACTS
    )

    assert view.call is not None and view.call.which == which
    team = view.section("team").entries[0]  # type: ignore[union-attr]
    assert [line.which for line in view.team_lines if line.open_now] == [which]
    assert any("(open now)" in label for label, _ in team.details)
