"""The NHS number: checked, normalised, stored once, found exactly, in v1 and v2."""

from __future__ import annotations

import copy
import datetime as dt
import json

import nhs_number
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import drafts, nhs_numbers
from plans.accounts import create_user
from plans.exchange import export_documents, import_documents, read_text
from plans.exchange.upgrade import upgrade_document
from plans.lookup import query_kind_of
from plans.models import Person, User
from plans.search import search
from responder.demo import generate_documents
from tests.plans import factories
from tests.plans.test_search_db import document as search_document

TODAY = dt.date(2026, 11, 23)
# From the synthetic range the nhs-number package generates (9xx): never issued.
NUMBER = "9434765919"
OTHER = nhs_numbers.synthetic_nhs_number(42)


def with_number(doc: dict, number: str | None) -> dict:
    doc = copy.deepcopy(doc)
    if number is None:
        doc["person"].pop("nhs_number", None)
    else:
        doc["person"]["nhs_number"] = number
    return doc


# --- the number itself ----------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["9434765919", "943 476 5919", "943-476-5919", "  943 4765919 "]
)
def test_a_number_typed_any_usual_way_is_stored_as_ten_digits(typed: str) -> None:
    assert nhs_numbers.normalise(typed) == NUMBER


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("9434765918", "check digit does not match"),
        ("943 476 591", "10 digits"),
        ("94347659190", "10 digits"),
        ("943 476 591X", "10 digits"),
        ("943  476 5919", "10 digits"),
        ("", "10 digits"),
    ],
)
def test_a_wrong_number_is_refused_in_words(typed: str, words: str) -> None:
    with pytest.raises(nhs_numbers.NhsNumberError, match=words):
        nhs_numbers.normalise(typed)


def test_a_number_is_shown_the_way_the_nhs_prints_it() -> None:
    assert nhs_numbers.formatted(NUMBER) == "943 476 5919"
    assert nhs_numbers.formatted(None) is None


def test_synthetic_numbers_are_valid_distinct_and_never_live() -> None:
    numbers = [nhs_numbers.synthetic_nhs_number(serial) for serial in range(5000)]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert nhs_number.is_valid(number, for_region=nhs_number.REGION_SYNTHETIC)
        assert number.startswith("9")
    with pytest.raises(ValueError):
        nhs_numbers.synthetic_nhs_number(nhs_numbers.SYNTHETIC_SERIALS)


def test_demo_people_have_distinct_synthetic_numbers_and_the_same_ones_per_seed() -> (
    None
):
    first = [d["person"]["nhs_number"] for d in generate_documents(500, today=TODAY)]
    again = [d["person"]["nhs_number"] for d in generate_documents(500, today=TODAY)]
    assert first == again
    assert len(set(first)) == 500
    assert all(nhs_numbers.is_synthetic(number) for number in first)
    assert all(nhs_numbers.is_valid(number) for number in first)


# --- response-plan/1 and /2 files ---------------------------------------------------


def test_a_v1_document_is_upgraded_without_changing_the_original() -> None:
    original = dict(factories.document(), format="response-plan/1")
    kept = copy.deepcopy(original)
    upgraded = upgrade_document(original)
    assert original == kept
    assert upgraded["format"] == "response-plan/2"
    assert {k: v for k, v in upgraded.items() if k != "format"} == {
        k: v for k, v in kept.items() if k != "format"
    }
    v2 = factories.document()
    assert upgrade_document(v2) is v2
    assert upgrade_document(["not", "a", "document"]) == ["not", "a", "document"]


def test_a_v1_file_reads_as_v2() -> None:
    v1 = dict(factories.document(), format="response-plan/1")
    (parsed,) = read_text(json.dumps(v1))
    assert parsed.valid, parsed.problems
    assert parsed.document is not None
    assert parsed.document["format"] == "response-plan/2"


def test_a_spaced_number_is_normalised_on_the_way_in() -> None:
    (parsed,) = read_text(json.dumps(with_number(factories.document(), "943 476 5919")))
    assert parsed.valid, parsed.problems
    assert parsed.document is not None
    assert parsed.document["person"]["nhs_number"] == NUMBER


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("943 476 5918", "check digit does not match"),
        ("94347", "10 digits, such as 943 476 5919"),
        ("nine four three", "10 digits"),
    ],
)
def test_a_wrong_number_in_a_file_is_named_with_its_pointer(
    number: str, words: str
) -> None:
    (parsed,) = read_text(json.dumps(with_number(factories.document(), number)))
    assert not parsed.valid
    assert [p.pointer for p in parsed.problems if p.is_error] == ["/person/nhs_number"]
    assert words in parsed.problems[0].message


# --- landing, drafts, export ----------------------------------------------------------


def test_import_stores_the_number_and_export_writes_it_in_v2(session: Session) -> None:
    doc = with_number(factories.document(), "943-476-5919")
    report = import_documents(session, [doc], actor=None, source="test", today=TODAY)
    assert report.ok, report.problems
    person = session.scalar(select(Person).where(Person.ref == "TEST-TEAM/00001"))
    assert person is not None and person.nhs_number == NUMBER
    (exported,) = export_documents(session)
    assert exported["format"] == "response-plan/2"
    assert exported["person"]["nhs_number"] == NUMBER


def test_a_second_person_with_the_same_number_is_refused_and_named(
    session: Session,
) -> None:
    first = with_number(factories.document("TEST-TEAM/00001"), NUMBER)
    second = with_number(factories.document("TEST-TEAM/00002"), NUMBER)
    third = with_number(factories.document("TEST-TEAM/00003"), OTHER)
    report = import_documents(
        session, [first, second, third], actor=None, source="test", today=TODAY
    )
    assert [outcome.outcome for outcome in report.outcomes] == [
        "added",
        "refused",
        "added",
    ]
    (problem,) = [p for p in report.problems if p.is_error]
    assert problem.pointer == "/person/nhs_number"
    assert "TEST-TEAM/00001 already has this NHS number" in problem.message
    assert session.scalar(select(Person).where(Person.ref == "TEST-TEAM/00002")) is None


@pytest.fixture
def mentor(session: Session) -> User:
    factories.team(session)
    return create_user(
        session,
        "mentor@example.test",
        role="mentor",
        team_codes=["TEST-TEAM"],
        display_name="Mentor",
    )


def test_a_draft_normalises_the_number_and_refuses_a_wrong_one(
    session: Session, mentor: User
) -> None:
    doc = with_number(factories.document("TEST-TEAM/00001"), "943 476 5919")
    version = drafts.create_draft(session, doc, author=mentor)
    assert version.document["person"]["nhs_number"] == NUMBER
    assert version.person.nhs_number == NUMBER
    with pytest.raises(drafts.DraftError, match="check digit does not match"):
        drafts.edit_draft(
            session,
            version,
            with_number(version.document, "943 476 5918"),
            editor=mentor,
            based_on=version.edit_count,
        )
    assert version.document["person"]["nhs_number"] == NUMBER
    cleared = drafts.edit_draft(
        session,
        version,
        with_number(version.document, None),
        editor=mentor,
        based_on=version.edit_count,
    )
    assert "nhs_number" not in cleared.document["person"]


def test_a_draft_cannot_take_another_persons_number(
    session: Session, mentor: User
) -> None:
    drafts.create_draft(
        session,
        with_number(factories.document("TEST-TEAM/00001"), NUMBER),
        author=mentor,
    )
    with pytest.raises(drafts.DraftError, match="TEST-TEAM/00001 already has"):
        drafts.create_draft(
            session,
            with_number(factories.document("TEST-TEAM/00002"), "943 476 5919"),
            author=mentor,
        )


# --- search -----------------------------------------------------------------------


def _land_people(session: Session) -> None:
    docs = [
        search_document("SOTON/1", "Alexandra", "Smith", nhs_number=NUMBER),
        search_document("SOTON/2", "Alexandra", "Smyth", nhs_number=OTHER),
        search_document("SOTON/3", "Alex", "Smith"),
    ]
    report = import_documents(session, docs, actor=None, source="test", today=TODAY)
    assert report.ok, report.problems


@pytest.mark.parametrize(
    "typed",
    [
        "9434765919",
        "943 476 5919",
        "943-476-5919",
        " nhs 943 476 5919 ",
        "Smith 9434765919",
    ],
)
def test_a_search_by_nhs_number_finds_exactly_that_person(
    session: Session, typed: str
) -> None:
    _land_people(session)
    results = search(session, typed, today=TODAY)
    assert [result.ref for result in results] == ["SOTON/1"]
    assert results.total == 1
    assert results[0].match == "strong"
    assert results[0].reasons == ("NHS number matches",)


def test_a_number_nobody_has_finds_nobody_and_a_wrong_one_is_just_words(
    session: Session,
) -> None:
    _land_people(session)
    assert list(search(session, nhs_numbers.synthetic_nhs_number(7), today=TODAY)) == []
    # A wrong check digit is no NHS number: the other clues still search.
    found = search(session, "Alexandra Smith 943 476 5918", today=TODAY)
    assert "SOTON/1" in [result.ref for result in found]


def test_a_retired_plan_is_not_found_by_its_number(session: Session) -> None:
    from plans.versions import retire

    _land_people(session)
    person = session.scalar(select(Person).where(Person.ref == "SOTON/1"))
    assert person is not None
    retire(session, person, reason="test")
    session.flush()
    assert list(search(session, NUMBER, today=TODAY)) == []


def test_the_search_audit_says_a_number_was_searched_never_which() -> None:
    assert query_kind_of("943 476 5919", False, place_named=False) == "nhs_number"
    assert query_kind_of("alexandra", False, place_named=False) == "text"
