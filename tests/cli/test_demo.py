"""The synthetic demo plans: valid, varied, deterministic and kindly worded."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from plans.exchange import schema_problems
from plans.search.geo import haversine_m
from responder.demo import GIVEN_NAMES, TOWNS, demo_teams, generate_documents

TODAY = dt.date(2026, 11, 23)
SAMPLE_SIZE = 3000

# Wording that withholds care, threatens sanctions or stigmatises. Plans advise;
# none of this may ever appear in a demo plan someone might copy.
FORBIDDEN_PHRASES = (
    "do not convey",
    "don't convey",
    "do not attend",
    "not to be treated",
    "do not treat",
    "refuse admission",
    "refuse treatment",
    "arrest",
    "prosecute",
    "prosecution",
    "consequences",
    "frequent flyer",
    "frequent attender",
    "attention seeking",
    "attention-seeking",
    "manipulative",
    "time waster",
    "timewaster",
    "bed blocker",
    "non-compliant",
    "ignore calls",
    "ignore her",
    "ignore him",
    "do not respond",
    "no response required",
)


@pytest.fixture(scope="module")
def sample() -> list[dict[str, Any]]:
    """Return a few thousand demo documents."""
    return list(generate_documents(SAMPLE_SIZE, seed=7, today=TODAY))


def strings_in(value: object) -> Iterator[str]:
    """Yield every string anywhere inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def test_every_document_is_valid_response_plan_1(sample: list[dict[str, Any]]) -> None:
    invalid = {
        doc["person"]["ref"]: [str(p) for p in schema_problems(doc)]
        for doc in sample
        if schema_problems(doc)
    }
    assert invalid == {}


@pytest.mark.parametrize("phrase", FORBIDDEN_PHRASES)
def test_no_document_withholds_care_or_stigmatises(
    sample: list[dict[str, Any]], phrase: str
) -> None:
    pattern = re.compile(rf"\b{re.escape(phrase)}", re.IGNORECASE)
    offenders = [
        (doc["person"]["ref"], text)
        for doc in sample
        for text in strings_in(doc["plan"])
        if pattern.search(text)
    ]
    assert offenders == []


def test_the_guardrails_find_nothing_in_demo_plans(
    sample: list[dict[str, Any]],
) -> None:
    guardrails = pytest.importorskip("plans.guardrails")
    flagged = {
        doc["person"]["ref"]: guardrails.check_plan(doc)
        for doc in sample[:500]
        if guardrails.check_plan(doc)
    }
    assert flagged == {}


def test_the_same_seed_gives_the_same_plans() -> None:
    first = list(generate_documents(50, seed=3, today=TODAY))
    again = list(generate_documents(50, seed=3, today=TODAY))
    other = list(generate_documents(50, seed=4, today=TODAY))
    assert first == again
    assert [d["person"] for d in first] != [d["person"] for d in other]


def test_a_longer_run_begins_with_the_shorter_one() -> None:
    short = list(generate_documents(20, seed=1, today=TODAY))
    long = list(generate_documents(200, seed=1, today=TODAY))
    assert long[:20] == short


def test_refs_are_unique_and_differ_between_seeds(
    sample: list[dict[str, Any]],
) -> None:
    refs = [doc["person"]["ref"] for doc in sample]
    assert len(set(refs)) == len(refs)
    other = {d["person"]["ref"] for d in generate_documents(100, seed=8, today=TODAY)}
    assert other.isdisjoint(refs)


def test_a_million_plans_stream_without_being_built_up_front() -> None:
    plans = generate_documents(1_000_000, today=TODAY)
    assert isinstance(plans, Iterator)
    first_three = list(itertools.islice(plans, 3))
    assert [doc["person"]["ref"][-6:] for doc in first_three] == [
        "000001",
        "000002",
        "000003",
    ]


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        next(generate_documents(-1))


def test_phone_numbers_are_in_ofcom_drama_ranges(
    sample: list[dict[str, Any]],
) -> None:
    drama = re.compile(
        r"^\+44 (7700 900\d{3}|1632 960\d{3}|1[1-9]1 496 0\d{3}|11[3-8] 496 0\d{3}"
        r"|191 498 0\d{3}|29 2018 0\d{3}|28 9649 6\d{3})$"
    )
    phones = [
        text for doc in sample for key, text in _phone_fields(doc) if key == "phone"
    ]
    assert phones and [phone for phone in phones if not drama.match(phone)] == []


def _phone_fields(value: object) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                yield key, item
            else:
                yield from _phone_fields(item)
    elif isinstance(value, list):
        for item in value:
            yield from _phone_fields(item)


def _km_apart(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return haversine_m(lat1, lon1, lat2, lon2) / 1000


def test_places_lie_near_the_team_town(sample: list[dict[str, Any]]) -> None:
    towns = {town.code: town for town in TOWNS}
    far = []
    for doc in sample:
        town = towns[doc["team"]["code"]]
        places = [doc["person"]["address"], *doc["plan"]["crisis_locations"]]
        places += doc["plan"]["places_of_safety"]
        for place in places:
            distance = _km_apart(town.lat, town.lon, place["lat"], place["lon"])
            if distance > 25:
                far.append((doc["person"]["ref"], place["name"], round(distance)))
    assert far == []


def test_some_plans_are_overdue_for_review_but_most_are_not(
    sample: list[dict[str, Any]],
) -> None:
    overdue = sum(
        dt.date.fromisoformat(doc["plan"]["review_by"]) < TODAY for doc in sample
    )
    assert 0.05 * SAMPLE_SIZE < overdue < 0.25 * SAMPLE_SIZE


def test_dates_are_in_a_sensible_order(sample: list[dict[str, Any]]) -> None:
    wrong = []
    for doc in sample:
        plan = doc["plan"]
        approved = dt.date.fromisoformat(plan["approved_on"])
        born = dt.date.fromisoformat(doc["person"]["date_of_birth"])
        if not (
            dt.date.fromisoformat(plan["review_by"]) > approved
            and approved < TODAY
            and (TODAY - born).days >= 18 * 365
            and dt.date.fromisoformat(plan["coproduction"]["agreed_on"]) <= approved
        ):
            wrong.append(doc["person"]["ref"])
    assert wrong == []


def test_names_reflect_the_people_uk_services_meet(
    sample: list[dict[str, Any]],
) -> None:
    heritage_of = {
        name: heritage
        for heritage, (female, male) in GIVEN_NAMES.items()
        for name in (*female, *male)
    }
    seen = Counter(heritage_of[doc["person"]["given_name"]] for doc in sample)
    assert set(seen) == set(GIVEN_NAMES)
    given = {doc["person"]["given_name"] for doc in sample}
    assert {"Siobhan", "Niamh"} <= given
    assert any("preferred_name" in doc["person"] for doc in sample)
    assert any(doc["person"]["aliases"] for doc in sample)


def test_every_plan_carries_the_fields_responders_rely_on(
    sample: list[dict[str, Any]],
) -> None:
    plan_keys = Counter(key for doc in sample for key in doc["plan"])
    for key in (
        "summary",
        "behaviours",
        "crisis_locations",
        "places_of_safety",
        "mentors",
        "advice_for",
        "capacity",
        "diagnosis",
        "coproduction",
        "sharing_basis",
        "risk",
        "review_by",
    ):
        assert plan_keys[key] == SAMPLE_SIZE, key
    roles = {m["role"] for doc in sample for m in doc["plan"]["mentors"]}
    assert roles == {"police", "clinician"}
    statuses = Counter(doc["plan"]["status"] for doc in sample)
    assert statuses["live"] > 0.9 * SAMPLE_SIZE and statuses["draft"] > 0


def test_each_demo_town_has_a_team() -> None:
    codes = [team["code"] for team in demo_teams()]
    assert len(codes) == len(set(codes)) >= 20
    assert all(code.startswith("DEMO-") for code in codes)


def test_every_demo_team_has_a_line_open_at_any_hour(session) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from plans.exchange.landing import ensure_teams
    from plans.hours import number_open_now
    from plans.models import Team
    from responder.demo import apply_demo_contacts

    ensure_teams(session, demo_teams())
    assert apply_demo_contacts(session) == len(TOWNS)
    monday = dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)
    for team in session.query(Team):
        for hour in range(0, 7 * 24, 1):
            at = monday + dt.timedelta(hours=hour, minutes=30)
            assert number_open_now(team.contacts, at) is not None, (team.code, at)
