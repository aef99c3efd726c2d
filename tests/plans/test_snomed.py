"""SNOMED CT codes beside the behaviour text: schema, FHIR coding, round trip."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from plans import snomed
from plans.exchange import read_text
from plans.exchange.fhir import bundle_for, document_from_bundle, validate_bundle
from plans.exchange.reading import schema
from tests.plans import factories

CODED = [
    {"description": "Cuts her arms when voices get loud", "code": "248062006"},
    {"description": "Talks of ending his life at night", "code": "6471006"},
    {"description": "Paces and shouts in crowded places"},
]


def behaviour_activities(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    [care_plan] = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "CarePlan"
    ]
    return [
        a["detail"]
        for a in care_plan["activity"]
        if any(c["code"] == "behaviours" for c in a["detail"]["code"]["coding"])
    ]


def test_the_schema_allows_exactly_the_table() -> None:
    behaviour = schema()["properties"]["plan"]["properties"]["behaviours"]["items"]
    assert behaviour["properties"]["code"]["enum"] == list(snomed.BEHAVIOUR_CODES)
    assert "code" not in behaviour["required"]


@pytest.mark.parametrize(
    "code", ["248062006", "6471006", "82313006", "1149222004", "61372001"]
)
def test_a_coded_behaviour_reads_without_a_problem(code: str) -> None:
    doc = factories.document(behaviours=[{"description": "Something", "code": code}])
    (parsed,) = read_text(json.dumps(doc))
    assert parsed.valid, parsed.problems


@pytest.mark.parametrize("code", ["55680006", "12345", "", 248062006])
def test_a_code_outside_the_table_is_refused_with_its_pointer(code: Any) -> None:
    doc = factories.document(behaviours=[{"description": "Something", "code": code}])
    (parsed,) = read_text(json.dumps(doc))
    assert not parsed.valid
    assert any(p.pointer == "/plan/behaviours/0/code" for p in parsed.problems)


def test_the_fhir_bundle_carries_the_code_as_a_snomed_coding() -> None:
    doc = factories.document(behaviours=copy.deepcopy(CODED))
    bundle = bundle_for(doc)
    validate_bundle(bundle)

    first, second, uncoded = behaviour_activities(bundle)
    assert {
        "system": "http://snomed.info/sct",
        "code": "248062006",
        "display": "Self-injurious behaviour",
    } in first["code"]["coding"]
    assert first["description"] == CODED[0]["description"]
    assert any(c.get("code") == "6471006" for c in second["code"]["coding"])
    assert [c["code"] for c in uncoded["code"]["coding"]] == ["behaviours"]


def test_coded_behaviours_round_trip() -> None:
    doc = factories.document(behaviours=copy.deepcopy(CODED))
    assert document_from_bundle(bundle_for(doc))["plan"]["behaviours"] == CODED


def test_the_code_is_read_back_from_the_coding_alone() -> None:
    doc = factories.document(behaviours=copy.deepcopy(CODED[:1]))
    bundle = bundle_for(doc)
    [detail] = behaviour_activities(bundle)
    # As if a system had kept our item but dropped the code from it.
    [item] = detail["extension"]
    kept = [e for e in item["extension"] if not e["url"].endswith("#code")]
    assert len(kept) == len(item["extension"]) - 1
    item["extension"] = kept
    back = document_from_bundle(bundle)["plan"]["behaviours"]
    assert back == CODED[:1]


def test_every_display_is_a_words_name() -> None:
    for code, name in snomed.BEHAVIOUR_CODES.items():
        assert code.isdigit() and 6 <= len(code) <= 18
        assert name and name[0].isupper()
    assert snomed.display("248062006") == "Self-injurious behaviour"
    assert snomed.display("55680006") is None
