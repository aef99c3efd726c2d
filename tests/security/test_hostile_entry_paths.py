"""Nothing half-lands: hostile values are refused on every entry path, whole.

One table of hostile inputs, tried through the desk form, the web import and
`responder import`. Each is refused with the field named (a form error on the
web, `FILE:POSITION POINTER: message` from the CLI), nothing of the document is
stored, and no log line carries a plan value.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans.models import Person, PlanVersion
from tests.plans.factories import document
from tests.web.test_mentor import FILLED, plan_form, text_of

HOME = "1 Example Street, Testtown"


def _pretty() -> str:
    return json.dumps(document(), indent=2)


def _swap(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return change


# name, how the JSON text is spoiled, the pointer named, words of the message
HOSTILE: list[tuple[str, Callable[[str], str], str, str]] = [
    ("nan", _swap('"lat": 50.9', '"lat": NaN'), "/person/address/lat", "NaN"),
    (
        "infinity",
        _swap('"lat": 50.9', '"lat": -Infinity'),
        "/person/address/lat",
        "Infinity",
    ),
    (
        "overflowing float",
        _swap('"lat": 50.9', '"lat": 1e999'),
        "/person/address/lat",
        "too large",
    ),
    (
        "out of range",
        _swap('"lon": -1.4', '"lon": -181.5'),
        "/person/address/lon",
        "at least -180",
    ),
    (
        "lone surrogate",
        _swap('"Alexandra has', '"\\ud800 Alexandra has'),
        "/plan/summary",
        "lone surrogate",
    ),
    (
        "control character",
        _swap('"Alexandra has', '"\\u0007Alexandra has'),
        "/plan/summary",
        "control character U+0007",
    ),
    (
        "duplicate key",
        _swap('"summary":', '"summary": "First words.",\n    "summary":'),
        "/plan/summary",
        "appears twice",
    ),
    (
        "deep nesting",
        _swap('"summary":', '"x": ' + "[" * 5000 + "]" * 5000 + ',\n    "summary":'),
        "",
        "nested more than",
    ),
    (
        "huge number",
        _swap('"version": 1', '"version": 1' + "0" * 5000),
        "/plan/version",
        "5001 digits",
    ),
]
IDS = [case[0] for case in HOSTILE]


def _nothing_landed(db: Session) -> None:
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Person)) == 0
    assert db.scalar(select(func.count()).select_from(PlanVersion)) == 0


def _no_plan_values_logged(caplog: pytest.LogCaptureFixture) -> None:
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert HOME not in logged and "Alexandra" not in logged


@pytest.mark.parametrize(("name", "spoil", "pointer", "words"), HOSTILE, ids=IDS)
def test_the_cli_import_refuses_it_whole_with_file_position_pointer(
    runner: FlaskCliRunner,
    db: Session,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    name: str,
    spoil: Callable[[str], str],
    pointer: str,
    words: str,
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(spoil(_pretty()), encoding="utf-8")
    with caplog.at_level(logging.DEBUG):
        result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    problem = [line for line in result.stderr.splitlines() if words in line]
    assert problem, result.stderr
    # A file of one document has no position but for a syntax error, where
    # it is the line and column: FILE:POINTER or FILE:LINE:COLUMN POINTER.
    where = problem[0].split(": ", 1)[0]
    assert re.fullmatch(
        re.escape(f"{path}:") + r"(\d+:\d+ )?" + re.escape(pointer or "/"), where
    ), where
    assert HOME not in result.output
    assert "invalid 1" in result.stdout
    _nothing_landed(db)
    _no_plan_values_logged(caplog)


@pytest.mark.parametrize(("name", "spoil", "pointer", "words"), HOSTILE, ids=IDS)
def test_the_web_import_refuses_it_whole_with_a_form_error(
    client: FlaskClient,
    auth: Any,
    db: Session,
    caplog: pytest.LogCaptureFixture,
    name: str,
    spoil: Callable[[str], str],
    pointer: str,
    words: str,
) -> None:
    auth.login(role="mentor", teams=("TEST-TEAM",))
    with caplog.at_level(logging.DEBUG):
        response = client.post(
            "/mentor/import", data={"text": spoil(_pretty())}, follow_redirects=False
        )
    assert response.status_code == 422
    page = text_of(response.get_data(as_text=True))
    assert words in page
    if pointer:
        assert pointer in page
    _nothing_landed(db)
    _no_plan_values_logged(caplog)


# The desk form holds flat fields, so each hostile value goes where a person
# could type or post it. A form has no nesting, and a browser cannot send a
# lone surrogate (the request decodes it to U+FFFD); both are JSON-only.
DESK: list[tuple[str, dict[str, Any], str]] = [
    ("nan", {"person.address.lat": "NaN"}, "Latitude: write a number"),
    ("infinity", {"person.address.lat": "-Infinity"}, "Latitude: write a number"),
    ("overflowing float", {"person.address.lat": "1e999"}, "Latitude: write a number"),
    ("out of range", {"person.address.lon": "-181.5"}, "Longitude: write a number"),
    (
        "control character",
        {"plan.summary": "\u0007Summary"},
        "Summary: holds the control character U+0007",
    ),
    (
        "duplicate key",
        {"plan.summary": ["First words.", "Other words."]},
        "Summary: sent twice",
    ),
    (
        "huge number",
        {"person.address.lat": "1" + "0" * 5000},
        "Latitude: write a number",
    ),
]


@pytest.mark.parametrize(("name", "fields", "words"), DESK, ids=[d[0] for d in DESK])
def test_the_desk_form_refuses_it_with_a_form_error(
    client: FlaskClient,
    auth: Any,
    db: Session,
    caplog: pytest.LogCaptureFixture,
    name: str,
    fields: dict[str, Any],
    words: str,
) -> None:
    auth.login(role="mentor", teams=("TEST-TEAM",))
    page = client.get("/mentor/new").get_data(as_text=True)
    form = {
        **plan_form(page),
        **FILLED,
        "person.address.name": "Home",
        "person.address.address": HOME,
        **fields,
        "action": "save",
    }
    with caplog.at_level(logging.DEBUG):
        response = client.post("/mentor/new", data=form)
    assert response.status_code == 422
    assert words in text_of(response.get_data(as_text=True))
    _nothing_landed(db)
    _no_plan_values_logged(caplog)


def test_a_lone_surrogate_never_reaches_a_stored_draft(
    client: FlaskClient, auth: Any, db: Session
) -> None:
    auth.login(role="mentor", teams=("TEST-TEAM",))
    page = client.get("/mentor/new").get_data(as_text=True)
    form = {**plan_form(page), **FILLED, "action": "save"}
    form["plan.summary"] = "PLACEHOLDER"
    from urllib.parse import urlencode

    body = urlencode(form).replace("PLACEHOLDER", "%ED%A0%80").encode("ascii")
    response = client.post(
        "/mentor/new",
        data=body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (303, 422)
    for version in db.scalars(select(PlanVersion)):
        summary = version.document["plan"]["summary"]
        assert not any(0xD800 <= ord(char) <= 0xDFFF for char in summary)


def test_the_domain_refuses_a_nan_that_skipped_the_form(
    db: Session,
) -> None:
    from plans import drafts
    from plans.accounts import create_user
    from tests.plans import factories

    factories.team(db, "TEST-TEAM")
    mentor = create_user(db, "m@example.test", role="mentor", team_codes=["TEST-TEAM"])
    doc = document()
    doc["person"]["address"]["lat"] = float("nan")
    with pytest.raises(drafts.DraftError, match="Lat: must be a finite number"):
        drafts.create_draft(db, doc, author=mentor)
    db.rollback()
    _nothing_landed(db)
