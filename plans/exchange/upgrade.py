"""Bring an exchange document up to the current format: pure, no session, no IO.

response-plan/2 is response-plan/1 plus fields (the NHS number, and what the
PRSB care plan standard and the NRL's crisis-plan model carry); nothing of
response-plan/1 changed meaning, so upgrading a v1 document only renames its
format. Readers (file import, the mentors' upload, a draft save) call
`upgrade_document` before they validate, so response-plan/1 files keep
importing; stored versions were upgraded by migration 0006.

`normalise_document` then writes values that may be typed several ways in the
one way the schema stores them (an NHS number as ten digits).
"""

from __future__ import annotations

import copy
from typing import Any

from plans import nhs_numbers

FORMAT = "response-plan/2"
FORMAT_V1 = "response-plan/1"
FORMATS: tuple[str, ...] = (FORMAT_V1, FORMAT)


def upgrade_document(document: Any) -> Any:
    """Return a response-plan/1 document as response-plan/2 (a copy); others as is.

    Anything that is not a v1 document (another format, or not a document at
    all) comes back untouched, for the schema to describe what is wrong.
    """
    if not isinstance(document, dict) or document.get("format") != FORMAT_V1:
        return document
    upgraded = copy.deepcopy(document)
    upgraded["format"] = FORMAT
    return upgraded


def normalise_document(document: Any) -> Any:
    """Return the document with typed-many-ways values in their stored form.

    An NHS number typed as "943 476 5919" or "943-476-5919" is stored as
    "9434765919"; a value of another shape is left for the schema to report.
    """
    if not isinstance(document, dict):
        return document
    person = document.get("person")
    if not isinstance(person, dict) or not isinstance(person.get("nhs_number"), str):
        return document
    typed = person["nhs_number"]
    # The shape only: a wrong check digit is reported by the domain checks,
    # in words, against the ten digits.
    digits = nhs_numbers.digits_of(typed)
    if digits is None or digits == typed:
        return document
    return dict(document, person=dict(person, nhs_number=digits))


def current(document: Any) -> Any:
    """Return the document upgraded and normalised, ready for the schema."""
    return normalise_document(upgrade_document(document))
