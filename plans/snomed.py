"""SNOMED CT codes for common crisis behaviours, beside the behaviour's own words.

A behaviour's `description` stays the source: a responder reads the words. The
optional `code` lets another system (an ambulance service's records, a FHIR
reader) match the behaviour without parsing them; it goes out as a FHIR
CodeableConcept with system http://snomed.info/sct.

The table is small on purpose: concept ids checked against published uses of
SNOMED CT (UK Emergency Care Data Set chief complaints, UK Core examples),
with the preferred term as display. 55680006 "Drug overdose" is not here: it has
been inactivated in favour of 1149222004 "Overdose". The schema's enum for
`plan.behaviours[].code` is this table (tests/plans/test_snomed.py keeps them
in step).
"""

from __future__ import annotations

SYSTEM = "http://snomed.info/sct"

BEHAVIOUR_CODES: dict[str, str] = {
    "248062006": "Self-injurious behaviour",
    "276853009": "Self-inflicted injury",
    "6471006": "Suicidal thoughts",
    "225444004": "At risk for suicide",
    "82313006": "Suicide attempt",
    "1149222004": "Overdose",
    "25702006": "Alcohol intoxication",
    "61372001": "Aggressive behaviour",
    "24199005": "Feeling agitated",
    "48694002": "Feeling anxious",
    "366979004": "Depressed mood",
    "7011001": "Hallucinations",
}


def display(code: str | None) -> str | None:
    """Return the display name of a behaviour code in the table, else None."""
    return BEHAVIOUR_CODES.get(code or "")


def coding(code: str) -> dict[str, str]:
    """Return the FHIR Coding of a behaviour code in the table."""
    return {"system": SYSTEM, "code": code, "display": BEHAVIOUR_CODES[code]}
