"""FHIR R4 bundles: valid (fhir.resources R4B), UK Core, and back to the same plan."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from typing import Any

import pytest
from sqlalchemy.orm import Session

from plans.exchange import export_documents, import_documents, read_text
from plans.exchange.fhir import (
    CRISIS_PLAN_CODE,
    NHS_NUMBER_SYSTEM,
    ODS_SYSTEM,
    UK_CORE,
    BundleError,
    bundle_for,
    document_from_bundle,
    validate_bundle,
)
from plans.exchange.writing import write_documents
from responder.demo import generate_documents
from tests.plans import factories
from tests.plans.test_response_plan_v2 import v2_document

TODAY = dt.date(2026, 11, 23)


def same(document: Any) -> Any:
    """Return a JSON value as JSON would carry it (key order aside)."""
    return json.loads(json.dumps(document, sort_keys=True))


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == kind
    ]


def test_every_demo_plan_round_trips_through_a_valid_bundle() -> None:
    documents = [
        *generate_documents(80, today=TODAY),
        *generate_documents(20, seed=3, today=TODAY),
        factories.document(),
        v2_document(),
    ]
    for document in documents:
        bundle = bundle_for(document)
        validate_bundle(bundle)
        back = document_from_bundle(json.loads(json.dumps(bundle)))
        assert same(back) == same(document), document["person"]["ref"]


def test_the_bundle_speaks_uk_core_and_the_nrl_crisis_plan_terms() -> None:
    document = v2_document()
    document["person"]["nhs_number"] = "9434765919"
    bundle = bundle_for(document)
    assert bundle["type"] == "collection"
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {
        "Patient",
        "CarePlan",
        "Organization",
        "Consent",
        "Provenance",
        "Observation",
        "Location",
    } <= kinds
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert resource["meta"]["profile"] == [UK_CORE + resource["resourceType"]]
        assert resource["meta"]["security"][0]["code"] == "V"
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    (patient,) = resources(bundle, "Patient")
    assert {"system": NHS_NUMBER_SYSTEM, "value": "9434765919"} in patient["identifier"]
    (care_plan,) = resources(bundle, "CarePlan")
    assert care_plan["category"][0]["coding"][0]["code"] == CRISIS_PLAN_CODE
    assert care_plan["status"] == "active"
    assert care_plan["period"]["end"] == document["plan"]["review_by"]
    advice_codes = {
        activity["detail"]["code"]["coding"][0]["code"]
        for activity in care_plan["activity"]
    }
    assert "advice_for.street_triage" in advice_codes
    gp = [
        org
        for org in resources(bundle, "Organization")
        if any(i["system"] == ODS_SYSTEM for i in org.get("identifier", ()))
    ]
    assert gp[0]["identifier"][0]["value"] == "J82001"
    (provenance,) = resources(bundle, "Provenance")
    assert provenance["agent"][0]["who"]["display"] == "Dr Example"


def test_a_draft_and_a_retired_plan_keep_their_status() -> None:
    for status, fhir_status in (("draft", "draft"), ("retired", "revoked")):
        bundle = bundle_for(factories.document(status=status))
        (care_plan,) = resources(bundle, "CarePlan")
        assert care_plan["status"] == fhir_status
        assert document_from_bundle(bundle)["plan"]["status"] == status


def test_an_invalid_bundle_is_refused_with_where() -> None:
    bundle = bundle_for(factories.document())
    broken = copy.deepcopy(bundle)
    resources(broken, "Patient")[0]["birthDate"] = "14/03/1988"
    with pytest.raises(BundleError) as refused:
        validate_bundle(broken)
    assert "birthDate" in refused.value.pointer


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda b: b.update(type="document"), "Bundle of type collection"),
        (
            lambda b: b.update(
                entry=[
                    e for e in b["entry"] if e["resource"]["resourceType"] != "Patient"
                ]
            ),
            "exactly one Patient",
        ),
        (
            lambda b: b.update(
                entry=[
                    e for e in b["entry"] if e["resource"]["resourceType"] != "CarePlan"
                ]
            ),
            "CarePlan of category 736253002",
        ),
    ],
)
def test_an_import_of_a_bundle_that_is_not_ours_names_the_problem(
    change: Any, words: str
) -> None:
    bundle = bundle_for(factories.document())
    change(bundle)
    (parsed,) = read_text(json.dumps(bundle))
    assert not parsed.valid
    assert words in parsed.problems[0].message


def test_a_bundle_file_reads_like_a_document_file() -> None:
    documents = [factories.document(), factories.document("TEST-TEAM/00002")]
    text = "\n".join(json.dumps(bundle_for(d)) for d in documents)
    parsed = read_text(text)
    assert [p.valid for p in parsed] == [True, True]
    assert [same(p.document) for p in parsed] == [same(d) for d in documents]


def test_export_and_import_give_back_the_same_plans_on_this_database(
    session: Session,
) -> None:
    documents = list(generate_documents(60, today=TODAY))
    report = import_documents(session, documents, actor=None, source="t", today=TODAY)
    assert report.ok, report.problems[:3]
    session.commit()
    exported = list(export_documents(session))
    stream = io.StringIO()
    assert write_documents(exported, stream, format="fhir") == len(exported) == 60

    parsed = read_text(stream.getvalue(), name="plans.ndjson")
    assert all(p.valid for p in parsed), [p.problems for p in parsed if not p.valid]
    assert [same(p.document) for p in parsed] == [same(d) for d in exported]

    # Imported again, every plan is recognised as the one already held.
    again = import_documents(session, parsed, actor=None, source="t", today=TODAY)
    assert again.ok
    assert again.unchanged == 60
