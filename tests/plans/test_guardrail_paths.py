"""The guardrails read every free-text field, and every word that is published.

The field list comes from the schema, so a new free-text field cannot be added
without the guardrails reading it (or this test saying why not).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from plans import drafts
from plans.guardrails import ACKNOWLEDGE, BLOCK, check_plan
from plans.models import User
from tests.plans import factories
from tests.plans.test_publish_rules import TODAY, _submitted, _user

SCHEMA = Path(__file__).resolve().parents[2] / "plans" / "schema"

# Free-form string fields of response-plan/1 that are not advice: names and
# contact details. Everything else is read.
NOT_ADVICE = {
    "/team/name",
    "/team/phone",
    "/team/email",
    "/team/hours",
    "/person/given_name",
    "/person/family_name",
    "/person/preferred_name",
    "/person/aliases/*",
    "/person/address/name",
    "/person/address/address",
    "/person/address/postcode",
    "/plan/approved_by",
    "/plan/capacity/acknowledgement/by",
    "/plan/nominated_people/*/name",
    "/plan/nominated_people/*/relationship",
    "/plan/nominated_people/*/phone",
    "/plan/mentors/*/name",
    "/plan/mentors/*/phone",
    "/plan/crisis_locations/*/name",
    "/plan/crisis_locations/*/address",
    "/plan/crisis_locations/*/postcode",
    "/plan/places_of_safety/*/name",
    "/plan/places_of_safety/*/address",
    "/plan/places_of_safety/*/postcode",
}


def _string_fields(schema: dict[str, Any]) -> Iterator[str]:
    """Yield the path of every free-form string in the schema ("*" for items)."""
    definitions = schema.get("$defs", {})

    def walk(node: dict[str, Any], path: str) -> Iterator[str]:
        if "$ref" in node:
            yield from walk(definitions[node["$ref"].rsplit("/", 1)[-1]], path)
            return
        kinds = node.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        # Dates, identifiers and enumerations are checked by the schema itself.
        if "string" in kinds and not {"enum", "format", "pattern"} & set(node):
            yield path
        for key, child in node.get("properties", {}).items():
            yield from walk(child, f"{path}/{key}")
        if isinstance(node.get("items"), dict):
            yield from walk(node["items"], f"{path}/*")
        for key in ("oneOf", "anyOf", "allOf"):
            for child in node.get(key, []):
                yield from walk(child, path)

    yield from walk(schema, "")


def _schema() -> dict[str, Any]:
    return json.loads(
        (SCHEMA / "response-plan-1.schema.json").read_text(encoding="utf-8")
    )


ADVICE_FIELDS = sorted(set(_string_fields(_schema())) - NOT_ADVICE)


def test_every_schema_string_is_classified() -> None:
    fields = set(_string_fields(_schema()))
    assert NOT_ADVICE <= fields, sorted(NOT_ADVICE - fields)
    # The free-text fields the guardrails must read, as the schema has them now.
    assert "/plan/advice_for/control_room" in ADVICE_FIELDS
    assert "/plan/capacity/acknowledgement/review" in ADVICE_FIELDS
    assert "/person/address/notes" in ADVICE_FIELDS


def _put(document: dict[str, Any], path: str, text: str) -> str:
    """Write `text` at a schema path in the document; return its JSON pointer."""
    steps = path.strip("/").split("/")
    target: Any = document
    pointer = ""
    for position, step in enumerate(steps):
        last = position == len(steps) - 1
        if step == "*":
            if not target:
                target.append("" if last else {})
            step_key: Any = 0
        else:
            step_key = step
            if not last and not isinstance(target.get(step), dict | list):
                following = steps[position + 1]
                target[step] = [] if following == "*" else {}
        pointer += f"/{step_key}"
        if last:
            target[step_key] = text
        else:
            target = target[step_key]
    return pointer


@pytest.mark.parametrize("path", ADVICE_FIELDS)
def test_every_free_text_field_is_read(path: str) -> None:
    doc = factories.document()
    pointer = _put(doc, path, "Crews are asked not to convey. Professional liar.")
    findings = [(f.severity, f.pointer) for f in check_plan(doc)]
    assert (BLOCK, pointer) in findings
    assert (ACKNOWLEDGE, pointer) in findings


@pytest.mark.parametrize("path", sorted(NOT_ADVICE - {"/person/aliases/*"}))
def test_names_dates_and_contacts_are_not_read_as_advice(path: str) -> None:
    doc = factories.document()
    _put(doc, path, "Arrest")
    assert check_plan(doc) == []


# --- the approver's own words --------------------------------------------------


@pytest.fixture
def mentor(session: Session) -> User:
    return _user(session, "mentor@example.test", "mentor")


@pytest.fixture
def lead(session: Session) -> User:
    return _user(session, "lead@example.test", "lead_clinician")


@pytest.mark.parametrize(
    "review",
    [
        "Reviewed under s.21; crews are requested not to transport him.",
        "Reviewed under s.21: he is a time waster, treat as such.",
    ],
)
def test_the_s21_review_written_at_approval_is_read_before_it_goes_live(
    session: Session, mentor: User, lead: User, review: str
) -> None:
    capacity = dict(factories.BASE_DOCUMENT["plan"]["capacity"], retain=False)
    capacity["assessed_on"] = TODAY.isoformat()
    version = _submitted(session, mentor, capacity=capacity)
    with pytest.raises(drafts.PublishRefused) as refused:
        drafts.publish(
            session,
            version,
            approver=lead,
            today=TODAY,
            acknowledgements={"capacity": review},
        )
    assert any(p.startswith("Capacity review:") for p in refused.value.problems)
    assert version.status == "draft"
    assert "acknowledgement" not in version.document["plan"]["capacity"]
    drafts.publish(
        session,
        version,
        approver=lead,
        today=TODAY,
        acknowledgements={"capacity": "Reviewed under s.21: advice only, assess."},
    )
    assert version.status == "live"
