"""The search index on a real database: kept in step with live plans, fetched safely."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans.exchange.landing import import_documents
from plans.models import Person
from plans.search import SearchEntry, rebuild_index, search
from plans.search.index import SearchPlace, fetch_candidates
from plans.search.query import parse_query
from plans.versions import retire

TODAY = dt.date(2026, 11, 23)
ITCHEN_BRIDGE = (50.8990, -1.3890)


def document(
    ref: str,
    given: str,
    family: str,
    *,
    version: int = 1,
    home: tuple[float, float] = (50.925, -1.43),
    **person: Any,
) -> dict[str, Any]:
    """Return a valid synthetic response-plan/1 document."""
    behaviours = person.pop("behaviours", ["Walks to the docks at night"])
    crisis = person.pop("crisis", {"Southampton docks": (50.898, -1.405)})
    review_by = person.pop("review_by", "2027-06-01")
    # Approved, agreed and assessed on one day that meets the publish rules.
    review_on = dt.date.fromisoformat(review_by)
    approved_on = (
        dt.date(2026, 6, 1)
        if review_on > dt.date(2026, 6, 1)
        else review_on - dt.timedelta(days=180)
    ).isoformat()
    return {
        "format": "response-plan/1",
        "team": {"code": "SOTON", "name": "Southampton High Intensity Team"},
        "person": {
            "ref": ref,
            "given_name": given,
            "family_name": family,
            "aliases": person.pop("aliases", []),
            "date_of_birth": person.pop("date_of_birth", "1985-06-30"),
            "sex": person.pop("sex", "female"),
            "description": person.pop("description", "Woman, slim, dark hair."),
            "address": {
                "name": "Home",
                "address": "1 Test Street, Southampton",
                "lat": home[0],
                "lon": home[1],
            },
            **person,
        },
        "plan": {
            "version": version,
            "status": "live",
            "review_by": review_by,
            "approved_by": "Dr Example",
            "approved_on": approved_on,
            "summary": f"{given} has a plan agreed with the team.",
            "behaviours": [
                {"description": text, "advice": "Speak calmly, use first name."}
                for text in behaviours
            ],
            "crisis_locations": [
                {"name": name, "lat": lat, "lon": lon}
                for name, (lat, lon) in crisis.items()
            ],
            "capacity": {
                "assessed_on": approved_on,
                "communicate": True,
                "understand": True,
                "retain": True,
                "employ": True,
            },
            "coproduction": {
                "agreed_with_person": True,
                "agreed_on": approved_on,
                "channel": "in_person",
            },
            "sharing_basis": "consent",
        },
    }


PEOPLE = [
    document("SOTON/1", "Robert", "Smith", sex="male", date_of_birth="1990-04-12"),
    document("SOTON/2", "Siobhan", "Doyle", date_of_birth="1988-03-03"),
    document(
        "SOTON/3",
        "Mark",
        "Ellery",
        sex="male",
        behaviours=["Stands on the Itchen Bridge and threatens to jump"],
        crisis={"Itchen Bridge": ITCHEN_BRIDGE},
        review_by="2026-01-01",
    ),
    document(
        "SOTON/4",
        "Catherine",
        "Holmes",
        aliases=["Cat Jay"],
        description="Woman, wears a red puffer jacket, sleeve tattoo.",
    ),
]


def land(session: Session, documents: list[dict[str, Any]]) -> None:
    """Import documents the way `responder import` does."""
    report = import_documents(session, documents, actor=None, source="test")
    assert not [p for p in report.problems if getattr(p, "severity", "") == "error"]
    session.flush()


def refs(session: Session, typed: str, **kwargs: Any) -> list[str]:
    """Return the refs a search returns, best first."""
    return [r.ref for r in search(session, typed, today=TODAY, **kwargs)]


@pytest.fixture
def landed(session: Session) -> Session:
    """Return a session whose database holds the synthetic people's live plans."""
    land(session, PEOPLE)
    return session


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Robert Smith", "SOTON/1"),
        ("Bob Smith", "SOTON/1"),
        ("Robret Smiht", "SOTON/1"),
        ("smith 12/04/1990", "SOTON/1"),
        ("Shivaun Doyle", "SOTON/2"),
        ("Siob Doy", "SOTON/2"),
        ("Kathryn Holmes", "SOTON/4"),
        ("Cat Jay", "SOTON/4"),
        ("woman red puffer jacket", "SOTON/4"),
        ("man threatening to jump", "SOTON/3"),
        ("12.4.90", "SOTON/1"),
    ],
)
def test_search_finds_live_people(landed: Session, typed: str, expected: str) -> None:
    assert refs(landed, typed)[0] == expected


def test_near_me_with_no_words_lists_the_nearest_first(landed: Session) -> None:
    lat, lon = ITCHEN_BRIDGE
    results = search(landed, "", lat=lat + 0.00288, lon=lon, today=TODAY)
    assert results[0].ref == "SOTON/3"
    assert "a crisis location 320 m away" in results[0].reasons
    assert [r.distance_m for r in results] == sorted(r.distance_m for r in results)


def test_results_carry_minimal_identity_and_review_state(landed: Session) -> None:
    mark = search(landed, "Mark Ellery", today=TODAY)[0]
    assert (mark.name, mark.town, mark.team) == (
        "Mark Ellery",
        "Southampton",
        "Southampton High Intensity Team",
    )
    assert mark.age == 41
    assert mark.review_overdue
    assert not search(landed, "Robert Smith", today=TODAY)[0].review_overdue


def test_nothing_typed_and_no_position_lists_nobody(landed: Session) -> None:
    assert refs(landed, "") == []
    assert refs(landed, "   ") == []


def test_limit_bounds_the_results(landed: Session) -> None:
    assert len(refs(landed, "", lat=50.9, lon=-1.4, limit=2)) == 2


def test_a_new_version_replaces_the_search_row(landed: Session) -> None:
    land(landed, [document("SOTON/1", "Robert", "Smithers", version=2, sex="male")])
    assert refs(landed, "Robert Smithers")[0] == "SOTON/1"
    assert landed.scalar(select(func.count()).select_from(SearchEntry)) == len(PEOPLE)


def test_a_retired_plan_leaves_the_search_at_once(landed: Session) -> None:
    person = landed.scalar(select(Person).where(Person.ref == "SOTON/2"))
    assert person is not None
    retire(landed, person, reason="moved away")
    assert "SOTON/2" not in refs(landed, "Siobhan Doyle")
    assert "SOTON/2" not in refs(landed, "", lat=50.925, lon=-1.43)


def test_rebuild_gives_the_same_answers_as_keeping_in_step(landed: Session) -> None:
    before = {typed: refs(landed, typed) for typed in ("Smith", "Cat", "jump")}
    places = landed.scalar(select(func.count()).select_from(SearchPlace))
    assert rebuild_index(landed) == len(PEOPLE)
    after = {typed: refs(landed, typed) for typed in before}
    assert after == before
    assert landed.scalar(select(func.count()).select_from(SearchPlace)) == places


@pytest.mark.parametrize(
    "typed",
    [
        "x" * 10_000,
        'Smith" OR "a',
        "smith*",
        "NEAR(smith jones)",
        "name_keys : smith",
        "'; DROP TABLE people; --",
        "^smith AND -jones {col}",
        "🙂 " * 3000,
        "Sm\u0131th \u00d8stergaard",
    ],
)
def test_typed_text_never_reaches_sql_syntax(landed: Session, typed: str) -> None:
    assert isinstance(search(landed, typed, lat=50.9, lon=-1.4, today=TODAY), list)
    assert isinstance(search(landed, typed, today=TODAY), list)
    assert landed.scalar(select(func.count()).select_from(Person)) == len(PEOPLE)


def test_candidate_fetch_is_bounded(session: Session) -> None:
    many = [
        document(f"SOTON/{n}", "Sam", f"Smith{chr(97 + n % 26)}", sex="male")
        for n in range(10, 70)
    ]
    land(session, many)
    query = parse_query("Sam", lat=50.9, lon=-1.4, today=TODAY)
    assert 0 < len(fetch_candidates(session, query)[0]) <= 60
