"""Search asked the way responders really ask, and how sure each result is."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from plans.exchange.landing import import_documents
from plans.search import candidate_from_document, parse_query, rank, search
from tests.plans import factories

TODAY = dt.date(2026, 11, 23)
# Places in Plymouth and Carlisle: neither is among the development set's towns.
HOE = (50.3640, -4.1420)
DERRIFORD = (50.4160, -4.1130)
CARLISLE = (54.8925, -2.9329)


def document(
    ref: str,
    given: str,
    family: str,
    *,
    town: str = "Plymouth",
    street: str = "12 Mill Lane",
    postcode: str | None = None,
    home: tuple[float, float] = (50.3755, -4.1427),
    behaviours: tuple[str, ...] = (),
    crisis: dict[str, tuple[float, float]] | None = None,
    **person: Any,
) -> dict[str, Any]:
    """Return a valid synthetic response-plan/1 document."""
    address: dict[str, Any] = {
        "name": "Home",
        "address": f"{street}, {town}",
        "lat": home[0],
        "lon": home[1],
    }
    if postcode:
        address["postcode"] = postcode
    return {
        "format": "response-plan/1",
        "team": {"code": "PLYM", "name": "Plymouth High Intensity Team"},
        "person": {
            "ref": ref,
            "given_name": given,
            "family_name": family,
            "aliases": person.pop("aliases", []),
            "date_of_birth": person.pop("date_of_birth", "1985-06-30"),
            "sex": person.pop("sex", "female"),
            "description": person.pop("description", "Woman, slim, dark hair."),
            "address": address,
            **person,
        },
        "plan": {
            "version": 1,
            "status": "live",
            "review_by": "2027-06-01",
            "approved_by": "Dr Example",
            "approved_on": "2026-06-01",
            "summary": f"{given} has a plan agreed with the team.",
            "behaviours": [
                {"description": text, "advice": "Speak calmly, use first name."}
                for text in behaviours
            ],
            "crisis_locations": [
                {"name": name, "lat": lat, "lon": lon}
                for name, (lat, lon) in (crisis or {}).items()
            ],
            "coproduction": {"agreed_with_person": True, "agreed_on": "2026-05-20"},
            "sharing_basis": "consent",
        },
    }


PEOPLE = [
    document(
        "P/1",
        "Jonathan",
        "Smith",
        sex="male",
        date_of_birth="1987-04-03",
        street="57 Church Street",
        postcode="PL1 4AB",
    ),
    document(
        "P/2",
        "Jon",
        "Smyth",
        sex="male",
        date_of_birth="1987-09-09",
        street="3 Grove Road",
        postcode="PL4 6QZ",
    ),
    document(
        "P/3",
        "Carla",
        "Parker",
        street="8 Church Lane",
        behaviours=("Swallows batteries or sharp objects",),
        crisis={"Plymouth Hoe": HOE},
    ),
    document(
        "P/4",
        "Dawn",
        "Mills",
        date_of_birth="1960-02-02",
        behaviours=("Walks onto the railway line at the station",),
        crisis={"Union Square car park": DERRIFORD},
    ),
    document(
        "P/5",
        "Steven",
        "Hall",
        sex="male",
        date_of_birth="1970-01-15",
        town="Carlisle",
        home=CARLISLE,
        behaviours=("Walks onto the railway line at the station",),
        crisis={"Carlisle station": (54.8906, -2.9335)},
    ),
    document(
        "P/6",
        "Mary",
        "Hill",
        date_of_birth="1990-12-12",
        behaviours=("Takes overdoses of paracetamol",),
        crisis={"Plymouth bus station": (50.3720, -4.1380)},
    ),
    document(
        "P/7",
        "Linda",
        "Gray",
        town="Carlisle",
        home=CARLISLE,
        date_of_birth="1990-12-12",
        behaviours=("Takes overdoses of paracetamol",),
        crisis={"Carlisle bus station": (54.8920, -2.9300)},
    ),
]
CANDIDATES = [candidate_from_document(doc) for doc in PEOPLE]


def ranked(typed: str, **where: Any) -> list[tuple[str, str]]:
    """Return (ref, match) for a query ranked over every candidate."""
    query = parse_query(typed, today=TODAY, **where)
    return [
        (item.candidate.ref, item.match)
        for item in rank(query, CANDIDATES, today=TODAY)
    ]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("57 Church Street", "P/1"),
        ("57 church st", "P/1"),
        ("pl1 4ab", "P/1"),
        ("Smyth PL4", "P/2"),
        ("jon smiff dob 3/4/87", "P/1"),
        ("jonathan smith born 87", "P/1"),
        ("smith aged 39", "P/1"),
        ("Steve Hall about 60", "P/5"),
        ("Steven Hall from Plymouth", "P/5"),
        ("man on the train tracks carlisle", "P/5"),
        ("walks onto railway line Plymouth", "P/4"),
        ("union sq car park woman", "P/4"),
        ("female od bus stn carlisle", "P/7"),
        ("has eaten batteries", "P/3"),
    ],
)
def test_what_responders_type_finds_the_person(typed: str, expected: str) -> None:
    assert ranked(typed)[0][0] == expected


def test_an_exact_place_outranks_a_fuzzy_name() -> None:
    # "car park" could be Carla Parker; Union Square car park is a place typed whole.
    assert ranked("union square car park")[0][0] == "P/4"


def test_a_town_narrows_rather_than_being_dropped() -> None:
    in_plymouth = ranked("overdose plymouth")
    in_carlisle = ranked("overdose carlisle")
    assert in_plymouth[0][0] == "P/6" and in_carlisle[0][0] == "P/7"


@pytest.mark.parametrize(
    "typed",
    ["jonathan smith 3/4/87", "jon smith 3.4.87", "Jonathan Smith 57 Church Street"],
)
def test_a_name_with_a_date_of_birth_or_a_place_is_strong(typed: str) -> None:
    results = ranked(typed)
    assert results[0] == ("P/1", "strong")
    assert [match for _ref, match in results[1:]].count("strong") == 0


@pytest.mark.parametrize(
    "typed",
    [
        "Jonathan Smith",  # a name alone could be someone without a plan
        "Jonathan Smith 5/5/1990",  # the wrong date of birth
        "Jonathan Smith about 70",  # the wrong age
        "57 Church Street",  # an address is a household
        "has eaten batteries",
    ],
)
def test_anything_less_is_never_strong(typed: str) -> None:
    assert all(match != "strong" for _ref, match in ranked(typed))


def test_two_people_who_both_fit_are_each_only_possible() -> None:
    twins = [
        document("T/1", "Sam", "Reed", date_of_birth="1990-12-12", sex="male"),
        document("T/2", "Sam", "Reed", date_of_birth="1990-12-12", sex="male"),
    ]
    query = parse_query("sam reed 12/12/90", today=TODAY)
    results = rank(query, [candidate_from_document(d) for d in twins], today=TODAY)
    assert [item.match for item in results] == ["possible", "possible"]


def test_people_with_no_plan_are_not_labelled_strong() -> None:
    for typed in (
        "Jonathan Smithers 3/4/87",
        "Joanne Smith 3/4/87",
        "Mary Hillier 12/12/90",
        "Steven Halls Carlisle",
    ):
        assert all(match != "strong" for _ref, match in ranked(typed)), typed


def test_with_no_position_the_responders_area_ranks_first_and_says_so() -> None:
    query = parse_query("overdose", today=TODAY, area=CARLISLE)
    first = rank(query, CANDIDATES, today=TODAY)[0]
    assert first.candidate.ref == "P/7"
    assert "in your team's area" in first.reasons


def test_a_position_wins_over_the_area() -> None:
    query = parse_query(
        "overdose", today=TODAY, lat=50.3721, lon=-4.1381, area=CARLISLE
    )
    first = rank(query, CANDIDATES, today=TODAY)[0]
    assert first.candidate.ref == "P/6"
    assert "in your team's area" not in first.reasons


@pytest.mark.parametrize(
    ("typed", "words", "postcode"),
    [
        ("AB10", (), "ab10"),
        ("ab10 1aa woman", (), "ab101aa"),
        ("f od bus stn", ("od", "bus", "station"), None),
        ("158 church st", ("158", "church", "street"), None),
        ("M Smith", ("m", "smith"), None),
    ],
)
def test_parsing_text_message_words(
    typed: str, words: tuple[str, ...], postcode: str | None
) -> None:
    query = parse_query(typed, today=TODAY)
    assert (query.words, query.postcode) == (words, postcode)


def test_a_lone_f_or_m_beside_a_clue_is_the_sex() -> None:
    assert parse_query("f od bus stn", today=TODAY).sex == "female"
    assert parse_query("m headbanging", today=TODAY).sex == "male"
    assert parse_query("M Smith", today=TODAY).sex is None


# -- on a real database ---------------------------------------------------------------


@pytest.fixture
def landed(session: Session) -> Session:
    people = [factories.meeting_publish_rules(doc) for doc in PEOPLE]
    report = import_documents(session, people, actor=None, source="test")
    assert not report.refused and not report.drafted, report
    session.flush()
    return session


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("57 Church Street", "P/1"),
        ("PL1 4AB", "P/1"),
        ("pl14ab", "P/1"),
        ("Smyth PL4", "P/2"),
        ("jon smiff dob 3/4/87", "P/1"),
        ("man on the train tracks carlisle", "P/5"),
        ("union sq car park woman", "P/4"),
        ("female od bus stn carlisle", "P/7"),
    ],
)
def test_the_database_path_finds_them_too(
    landed: Session, typed: str, expected: str
) -> None:
    assert search(landed, typed, today=TODAY)[0].ref == expected


def test_an_outward_code_alone_lists_everyone_in_it(landed: Session) -> None:
    results = search(landed, "PL1", today=TODAY)
    assert [r.ref for r in results] == ["P/1"]
    assert results[0].match == "weak"  # a postcode area is thousands of homes


def test_results_say_how_many_matched_and_page_on(landed: Session) -> None:
    first = search(landed, "railway line", today=TODAY, limit=1)
    rest = search(landed, "railway line", today=TODAY, limit=1, offset=1)
    assert (first.total, len(first), first.more) == (2, 1, True)
    assert (rest.total, len(rest), rest.more) == (2, 1, False)
    assert {first[0].ref, rest[0].ref} == {"P/4", "P/5"}


def test_the_area_is_fetched_and_ranked_first(landed: Session) -> None:
    results = search(landed, "overdose", today=TODAY, area=CARLISLE)
    assert results[0].ref == "P/7"
    assert results.area_first
    assert not search(landed, "overdose", today=TODAY).area_first
