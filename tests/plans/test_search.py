"""The pure ranker: held-out synthetic people and the queries responders type."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from plans.search import Candidate, candidate_from_document, parse_query, rank
from plans.search.geo import describe_distance, haversine_m
from plans.search.text import stem

TODAY = dt.date(2026, 11, 23)
# Southampton, so none of these places are in the development set's towns.
ITCHEN_BRIDGE = (50.8990, -1.3890)
SHIRLEY = (50.9250, -1.4300)
PORTSWOOD = (50.9230, -1.3900)


def document(ref: str, given: str, family: str, **person: Any) -> dict[str, Any]:
    """Return a minimal response-plan/1 document for a synthetic person."""
    plan: dict[str, Any] = {
        "version": 1,
        "status": "live",
        "summary": "Synthetic.",
        "review_by": person.pop("review_by", "2027-06-01"),
        "behaviours": [
            {"description": text, "triggers": "Anniversaries"}
            for text in person.pop("behaviours", [])
        ],
        "crisis_locations": [
            {"name": name, "lat": lat, "lon": lon}
            for name, (lat, lon) in person.pop("crisis", {}).items()
        ],
    }
    home = person.pop("home", None)
    if home:
        person["address"] = {
            "name": "Home",
            "address": "1 Test Street, Southampton",
            "lat": home[0],
            "lon": home[1],
        }
    return {
        "format": "response-plan/1",
        "team": {"code": "SOTON", "name": "Southampton High Intensity Team"},
        "person": {"ref": ref, "given_name": given, "family_name": family, **person},
        "plan": plan,
    }


PEOPLE = [
    document("T/01", "Robert", "Smith", date_of_birth="1990-04-12", sex="male"),
    document("T/02", "Roberta", "Smithson", date_of_birth="1985-01-02", sex="female"),
    document("T/03", "Stephen", "Hart", date_of_birth="1979-09-30", sex="male"),
    document("T/04", "Catherine", "Smith", date_of_birth="1983-06-15", sex="female"),
    document("T/05", "Muhammad", "Rahman", date_of_birth="1995-12-01", sex="male"),
    document("T/06", "Siobhan", "Doyle", date_of_birth="1988-03-03", sex="female"),
    document("T/07", "Niamh", "Byrne", date_of_birth="2001-07-07", sex="female"),
    document("T/08", "Aoife", "Kavanagh", date_of_birth="1999-02-14", sex="female"),
    document("T/09", "Saoirse", "Quinn", date_of_birth="1992-11-11", sex="female"),
    document("T/10", "Caoimhe", "Walsh", date_of_birth="1997-05-05", sex="female"),
    document("T/11", "Sinead", "Farrell", date_of_birth="1975-08-19", sex="female"),
    document("T/12", "Grainne", "Nolan", date_of_birth="1969-10-10", sex="female"),
    document("T/13", "Padraig", "Brennan", date_of_birth="1981-04-04", sex="male"),
    document("T/14", "Elizabeth", "Harding", date_of_birth="1960-01-20", sex="female"),
    document("T/15", "Alexander", "Pike", date_of_birth="2009-03-01", sex="male"),
    document(
        "T/16",
        "Darren",
        "Holmes",
        date_of_birth="1984-02-29",
        sex="male",
        preferred_name="Daz",
        aliases=["Dazza Holt"],
    ),
    document("T/17", "Jonathan", "Smith", date_of_birth="1991-05-20", sex="male"),
    document("T/18", "Kathryn", "Smythe", date_of_birth="1993-07-01", sex="female"),
    document(
        "T/20",
        "Mark",
        "Ellery",
        sex="male",
        date_of_birth="1986-05-05",
        behaviours=["Stands on the Itchen Bridge and threatens to jump"],
        crisis={"Itchen Bridge": ITCHEN_BRIDGE},
        home=SHIRLEY,
    ),
    document(
        "T/21",
        "Jade",
        "Marsh",
        sex="female",
        date_of_birth="1990-01-01",
        description="Woman in her 30s, slim, often wears a red puffer jacket.",
        behaviours=["Takes overdoses of paracetamol"],
        crisis={"Portswood shops": PORTSWOOD},
    ),
    document(
        "T/22",
        "Lee",
        "Carver",
        sex="male",
        date_of_birth="1978-01-01",
        description="Man, stocky, shaved head, sleeve tattoo on the left arm.",
        behaviours=["Sits on the railway line near St Denys station"],
        crisis={"St Denys station": (50.9220, -1.3870)},
    ),
    document(
        "T/23",
        "Paula",
        "Denton",
        sex="female",
        date_of_birth="1970-01-01",
        behaviours=[
            "Absconds from the ward and walks to the docks",
            "Ties a ligature in the hospital grounds",
            "Calls 999 many times a night",
        ],
        crisis={"Southampton docks": (50.8980, -1.4050)},
    ),
]
CANDIDATES = [candidate_from_document(doc) for doc in PEOPLE]


def top(text: str, lat: float | None = None, lon: float | None = None) -> str:
    """Return the ref ranked first for a typed query."""
    query = parse_query(text, lat=lat, lon=lon, today=TODAY)
    results = rank(query, CANDIDATES, today=TODAY)
    assert results, f"nothing found for {text!r}"
    return results[0].candidate.ref


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Robert Smith", "T/01"),
        ("robert smith", "T/01"),
        ("Smith, Robert", "T/01"),
        ("Darren Holmes", "T/16"),
    ],
)
def test_exact_names_come_first(typed: str, expected: str) -> None:
    assert top(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Darreen Hollmes", "T/16"),
        ("Darren Homles", "T/16"),
        ("Robret Smith", "T/01"),
        ("Stephn Hart", "T/03"),
        ("Muhamad Rahman", "T/05"),
    ],
)
def test_typos_still_find_the_person(typed: str, expected: str) -> None:
    assert top(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Bob Smith", "T/01"),
        ("Rob Smith", "T/01"),
        ("Liz Harding", "T/14"),
        ("Beth Harding", "T/14"),
        ("Cath Smith", "T/04"),
        ("Kate Smith", "T/04"),
        ("Alex Pike", "T/15"),
        ("Jon Smith", "T/17"),
        ("Daz Holmes", "T/16"),
        ("Dazza Holt", "T/16"),
    ],
)
def test_nicknames_preferred_names_and_aliases(typed: str, expected: str) -> None:
    assert top(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Steven Hart", "T/03"),
        ("Cathryn Smythe", "T/18"),
        ("Katherine Smyth", "T/04"),
        ("Kathryn Smith", "T/04"),
        ("Mohammed Rahman", "T/05"),
        ("Mohamed Rahman", "T/05"),
        ("Shivaun Doyle", "T/06"),
        ("Neve Byrne", "T/07"),
        ("Eefa Kavanagh", "T/08"),
        ("Seersha Quinn", "T/09"),
        ("Keeva Walsh", "T/10"),
        ("Shinade Farrell", "T/11"),
        ("Grania Nolan", "T/12"),
        ("Pawrig Brennan", "T/13"),
    ],
)
def test_spelling_variants_and_gaelic_names(typed: str, expected: str) -> None:
    assert top(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Jon Smi", "T/17"),
        ("Dar Hol", "T/16"),
        ("Rob Smith", "T/01"),
        ("Mark Ell", "T/20"),
        ("Sio", "T/06"),
    ],
)
def test_prefixes_as_typed(typed: str, expected: str) -> None:
    assert top(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "smith 12/04/1990",
        "Smith 12.4.90",
        "smith 12 April 1990",
        "smith 12th of April 1990",
        "smith April 12, 1990",
        "smith 1990-04-12",
        "12/04/1990",
        "smith born 1990",
        "smith dob 12/4/90",
    ],
)
def test_dates_of_birth_in_the_forms_people_write(typed: str) -> None:
    assert top(typed) == "T/01"


def test_a_date_with_day_and_month_swapped_still_counts() -> None:
    query = parse_query("smith 04/12/1990", today=TODAY)
    first = rank(query, CANDIDATES, today=TODAY)[0]
    assert first.candidate.ref == "T/01"
    assert any("swapped" in reason for reason in first.reasons)


@pytest.mark.parametrize(
    ("typed", "low", "high"),
    [
        ("woman in her 40s", 40, 49),
        ("man in his forties", 40, 49),
        ("about 35", 32, 38),
        ("35ish", 32, 38),
        ("teenager", 13, 19),
        ("late 20s", 26, 29),
    ],
)
def test_age_words_become_a_range(typed: str, low: int, high: int) -> None:
    age = parse_query(typed, today=TODAY).age
    assert age is not None and (age.low, age.high) == (low, high)


@pytest.mark.parametrize(
    ("typed", "sex"),
    [
        ("man on the bridge", "male"),
        ("lad", "male"),
        ("bloke in a hoodie", "male"),
        ("woman red jacket", "female"),
        ("girl", "female"),
        ("female", "female"),
        ("Guy Fawkes", None),
    ],
)
def test_sex_words(typed: str, sex: str | None) -> None:
    assert parse_query(typed, today=TODAY).sex == sex


def test_sex_and_age_pick_between_people_with_one_name() -> None:
    assert top("Smith woman") == "T/04"
    assert top("Smith woman in her 40s") == "T/04"
    assert top("Smith man born 1990") == "T/01"
    assert top("teenage lad Pike") == "T/15"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("man on the bridge threatening to jump", "T/20"),
        ("jumper on itchen bridge", "T/20"),
        ("woman red puffer jacket", "T/21"),
        ("woman in a red coat", "T/21"),
        ("OD paracetamol", "T/21"),
        ("took too many tablets", "T/21"),
        ("man sitting on the tracks", "T/22"),
        ("bloke on the railway line", "T/22"),
        ("skinhead with a tattooed sleeve", "T/22"),
        ("man shaved head", "T/22"),
        ("awol from the ward", "T/23"),
        ("missing patient", "T/23"),
        ("ligature", "T/23"),
        ("keeps calling 999", "T/23"),
        ("repeat caller", "T/23"),
    ],
)
def test_behaviour_and_description_words(typed: str, expected: str) -> None:
    assert top(typed) == expected


def test_with_no_words_the_nearest_comes_first() -> None:
    query = parse_query("", lat=ITCHEN_BRIDGE[0] + 0.002, lon=ITCHEN_BRIDGE[1])
    results = rank(query, CANDIDATES, today=TODAY)
    assert results[0].candidate.ref == "T/20"
    distances = [r.distance_m for r in results if r.distance_m is not None]
    assert distances == sorted(distances)
    assert "a crisis location 220 m away" in results[0].reasons


def test_with_no_words_and_no_position_nothing_is_listed() -> None:
    assert rank(parse_query("", today=TODAY), CANDIDATES, today=TODAY) == []


def test_position_breaks_ties_between_people_with_one_name() -> None:
    people = [
        document("N/1", "Sam", "Murray", home=(50.95, -1.40)),
        document("N/2", "Jo", "Murray", home=SHIRLEY),
        document("N/3", "Kim", "Murray", home=(50.80, -1.10)),
    ]
    candidates = [candidate_from_document(doc) for doc in people]
    query = parse_query("Murray", lat=SHIRLEY[0], lon=SHIRLEY[1], today=TODAY)
    assert [r.candidate.ref for r in rank(query, candidates, today=TODAY)] == [
        "N/2",
        "N/1",
        "N/3",
    ]


def test_an_exact_surname_a_little_further_beats_a_typo_next_door() -> None:
    people = [
        document("N/1", "Sam", "Murray", home=(SHIRLEY[0] + 0.03, SHIRLEY[1])),
        document("N/2", "Jo", "Murry", home=SHIRLEY),
    ]
    candidates = [candidate_from_document(doc) for doc in people]
    query = parse_query("Murray", lat=SHIRLEY[0], lon=SHIRLEY[1], today=TODAY)
    assert rank(query, candidates, today=TODAY)[0].candidate.ref == "N/1"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("Bob Smith", "Bob: nickname of Robert"),
        ("Darreen Hollmes", "Hollmes: typo-tolerant match for Holmes"),
        ("Steven Hart", "Steven: spelling variant of Stephen"),
        ("smith 12/04/1990", "the date of birth typed"),
        ("Dazza Holt", "an alias (you typed “dazza holt”)"),
        ("Daz Holmes", "preferred name (you typed “daz holmes”)"),
        ("threatening to jump", "a crisis behaviour (you typed “threatening jump”)"),
    ],
)
def test_results_say_why_they_matched(typed: str, reason: str) -> None:
    query = parse_query(typed, today=TODAY)
    assert reason in rank(query, CANDIDATES, today=TODAY)[0].reasons


def test_a_result_names_its_distance_to_the_nearest_place() -> None:
    lat, lon = ITCHEN_BRIDGE
    query = parse_query("jump", lat=lat + 0.00288, lon=lon, today=TODAY)
    first = rank(query, CANDIDATES, today=TODAY)[0]
    assert first.candidate.ref == "T/20"
    assert "a crisis location 320 m away" in first.reasons


def test_words_matching_nobody_find_nobody() -> None:
    assert (
        rank(parse_query("Zebedee Quixote", today=TODAY), CANDIDATES, today=TODAY) == []
    )


@pytest.mark.parametrize(
    "typed",
    ["x" * 10_000, "\"'*(){}[]^~:-+ OR AND NEAR", "💥 " * 3000, "1/1/1 31/02/2000"],
)
def test_hostile_or_silly_queries_do_not_crash(typed: str) -> None:
    query = parse_query(typed, lat=50.9, lon=-1.4, today=TODAY)
    assert isinstance(rank(query, CANDIDATES, today=TODAY), list)


def test_candidate_carries_minimal_identity_and_review_state() -> None:
    overdue = candidate_from_document(
        document(
            "R/1", "Ann", "Lee", date_of_birth="1990-11-24", review_by="2026-11-22"
        )
    )
    assert overdue.name == "Ann Lee"
    assert overdue.age_on(TODAY) == 35
    assert overdue.review_overdue(TODAY)
    assert not overdue.review_overdue(dt.date(2026, 11, 22))
    assert overdue.team_name == "Southampton High Intensity Team"
    assert CANDIDATES[18].town == "Southampton"


def test_candidate_survives_its_compact_row() -> None:
    for candidate in CANDIDATES:
        assert Candidate.from_row(candidate.to_row()) == candidate


def test_ranking_is_deterministic() -> None:
    query = parse_query("Smith", today=TODAY)
    first = [r.candidate.ref for r in rank(query, CANDIDATES, today=TODAY)]
    second = [r.candidate.ref for r in rank(query, CANDIDATES[::-1], today=TODAY)]
    assert first == second


@pytest.mark.parametrize(
    ("words", "stemmed"),
    [
        (("pierced", "piercing"), "pierc"),
        (("tattooed", "tattoos", "tattoo"), "tattoo"),
        (("swallowed", "swallows", "swallowing"), "swallow"),
        (("overdoses", "overdosed", "overdose"), "overdos"),
        (("sitting", "sits"), "sit"),
        (("lying", "laying", "lies"), "lie"),
    ],
)
def test_light_stemming_joins_word_forms(words: tuple[str, ...], stemmed: str) -> None:
    assert {stem(word) for word in words} == {stemmed}


def test_distances() -> None:
    assert round(haversine_m(51.5, 0.0, 51.5 + 1 / 60, 0.0)) == 1853
    assert describe_distance(318) == "320 m"
    assert describe_distance(1234) == "1.2 km"
    assert describe_distance(14_400) == "14 km"
