"""plans.document: the response-plan/2 document read once into typed structures."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from plans import document as plan_document
from plans.document import NominatedPerson, Place
from plans.exchange.reading import schema_problems
from plans.exchange.upgrade import current
from tests.plans import factories

EXAMPLE = Path(__file__).resolve().parents[3] / "shared/plan-format/example.json"


def full_document() -> dict[str, Any]:
    """Return a valid v2 document that fills every part the readers ask about."""
    doc = factories.document(
        risk={"likelihood": 2, "impact": 3, "level": "medium"},
        behaviours=[
            {"description": "Climbs the bridge", "triggers": "Court dates"},
            {"description": "Leaves home at night"},
        ],
        crisis_locations=[
            {"name": "The bridge", "lat": 50.91, "lon": -1.41, "notes": "Twice"},
            {"name": "Bus station", "postcode": "TE1 1ST"},
        ],
        places_of_safety=[{"name": "Crisis cafe", "lat": 50.92, "lon": -1.42}],
        nominated_people=[
            {"name": "Sam Sister", "relationship": "sister", "consent_recorded": False},
            {"name": "Pat Parent", "phone": "07700 900000", "consent_recorded": True},
        ],
        please_do=["Use my first name"],
        coping_strategies=["Walking the dog"],
        advice_for={"police": "Two officers at most."},
        review={"responsible": "Care coordinator", "interval_months": 6},
    )
    doc["person"]["nhs_number"] = "9434765919"
    doc["person"]["preferred_name"] = "Alex"
    doc["person"]["address"]["postcode"] = "TE1 2AB"
    return doc


def test_the_full_document_is_valid_for_the_schema() -> None:
    assert schema_problems(full_document()) == []


def test_a_whole_document_reads_into_typed_parts() -> None:
    content = plan_document.read(full_document())

    assert content.format == "response-plan/2"
    assert content.team.code == "TEST-TEAM"
    person = content.person
    assert person.ref == "TEST-TEAM/00001"
    assert person.display_name == "Alex Testperson"
    assert person.date_of_birth == dt.date(1988, 3, 14)
    assert person.nhs_number == "9434765919"
    assert person.postcode == "TE1 2AB"
    assert person.address is not None and person.address.point == (50.9, -1.4)

    plan = content.plan
    assert (plan.version, plan.status) == (1, "live")
    assert plan.review_by == dt.date(2027, 6, 1)
    assert plan.approved_on == dt.date(2026, 6, 1)
    assert plan.risk is not None
    assert (plan.risk.likelihood, plan.risk.impact, plan.risk.level) == (
        2,
        3,
        "medium",
    )
    assert [b.description for b in plan.behaviours] == [
        "Climbs the bridge",
        "Leaves home at night",
    ]
    assert plan.triggers == ("Court dates",)
    assert plan.please_do == ("Use my first name",)
    assert plan.coping_strategies == ("Walking the dog",)
    assert plan.advice_for["police"] == "Two officers at most."
    assert plan.capacity is not None and plan.capacity.ability("retain") is True
    assert plan.agreement is not None
    assert plan.agreement.agreed_on == dt.date(2026, 5, 20)
    assert plan.agreement.channel == "in_person"
    assert plan.review is not None and plan.review.interval_months == 6


def test_the_accessors_answer_the_questions_modules_ask() -> None:
    doc = full_document()

    assert plan_document.ref(doc) == "TEST-TEAM/00001"
    assert plan_document.version_number(doc) == 1
    assert plan_document.status(doc) == "live"
    assert (
        plan_document.summary(doc) == "Alexandra has a plan agreed with the test team."
    )
    assert [b.triggers for b in plan_document.behaviours(doc)] == ["Court dates", None]
    assert plan_document.display_name(doc) == "Alex Testperson"
    assert plan_document.date_of_birth(doc) == dt.date(1988, 3, 14)
    assert plan_document.review_by(doc) == dt.date(2027, 6, 1)
    assert [p.name for p in plan_document.crisis_locations(doc)] == [
        "The bridge",
        "Bus station",
    ]
    assert plan_document.nominated_people(doc)[0] == NominatedPerson(
        name="Sam Sister", relationship="sister", consent_recorded=False
    )
    # The first contact the person consented to, never one they did not.
    nominated = plan_document.nominated_person(doc)
    assert nominated is not None and nominated.name == "Pat Parent"


def test_places_are_home_then_crisis_locations_then_safety_with_a_position() -> None:
    found = plan_document.places(full_document())

    assert [(kind, place.name) for kind, place in found] == [
        ("home", "Home"),
        ("crisis_locations", "The bridge"),
        ("places_of_safety", "Crisis cafe"),
    ]
    # The bus station has a postcode but no lat/lon: not a place on the map.
    assert all(place.point is not None for _kind, place in found)


def test_a_minimal_document_gives_none_and_empty() -> None:
    content = plan_document.read(
        {
            "format": "response-plan/2",
            "team": {"code": "T", "name": "Team"},
            "person": {"ref": "T/1", "given_name": "Ann", "family_name": "Example"},
            "plan": {"version": 1, "status": "draft", "summary": "Short."},
        }
    )

    assert content.person.display_name == "Ann Example"
    assert content.person.date_of_birth is None
    assert content.person.address is None
    assert content.person.postcode is None
    assert content.person.aliases == ()
    plan = content.plan
    assert plan.summary == "Short."
    assert plan.review_by is None
    assert plan.risk is None
    assert plan.capacity is None
    assert plan.agreement is None
    assert plan.crisis_locations == ()
    assert plan.nominated_people == ()
    assert dict(plan.advice_for) == {}
    assert plan_document.version_number({}) == 0
    assert plan_document.status({}) == "draft"
    assert plan_document.summary({}) == ""


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"person": None, "plan": []},
        {"person": {"date_of_birth": "14/03/1988", "address": "1 Street"}},
        {"plan": {"review_by": "", "risk": {}, "crisis_locations": "nowhere"}},
        {"plan": {"crisis_locations": [None, {"lat": True, "lon": 1.0}]}},
    ],
    ids=["empty", "wrong-types", "bad-date-and-address", "empties", "bad-places"],
)
def test_a_partial_or_odd_draft_reads_as_missing_never_raises(
    document: dict[str, Any],
) -> None:
    content = plan_document.read(document)

    assert content.person.date_of_birth is None
    assert content.person.address is None
    assert content.plan.review_by is None
    assert content.plan.risk is None
    assert plan_document.places(document) == []


def test_the_structures_are_read_only() -> None:
    place = Place(name="Home", lat=1.0, lon=2.0)

    with pytest.raises(AttributeError):
        place.name = "Elsewhere"  # type: ignore[misc]


def test_the_shared_example_reads_after_its_upgrade() -> None:
    if not EXAMPLE.exists():
        pytest.skip("the shared example is not on this machine")
    doc = current(json.loads(EXAMPLE.read_text(encoding="utf-8")))

    content = plan_document.read(doc)

    assert content.format == "response-plan/2"
    assert content.person.ref == "DEV-NORWICH/00000"
    assert content.person.date_of_birth == dt.date(1970, 7, 24)
    assert content.plan.review_by == dt.date(2026, 10, 21)
    assert [p.name for p in content.plan.crisis_locations] == [
        "Norwich bus station",
        "Norwich railway station",
    ]
    assert [kind for kind, _place in plan_document.places(doc)] == [
        "home",
        "crisis_locations",
        "crisis_locations",
        "places_of_safety",
    ]
    nominated = plan_document.nominated_person(doc)
    assert nominated is not None and nominated.name == "Sarah Griffiths"
