"""FHIR bundles over the API (to a team's system account) and through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import accounts
from plans.audit import AuditEvent
from plans.exchange import read_file
from plans.exchange.fhir import CRISIS_PLAN_CODE, FHIR_VERSION, validate_bundle
from plans.exchange.landing import import_documents
from tests.plans import factories

pytestmark = pytest.mark.usefixtures("app")
PATH = "/api/v1/plans/TEST-TEAM/00001/fhir"


def _land(db: Session) -> None:
    doc = factories.document()
    doc["person"]["nhs_number"] = "9434765919"
    report = import_documents(db, [doc], actor=None, source="test")
    assert report.ok, report.problems
    db.commit()


def _token(db: Session, email: str, role: str, team: str = "TEST-TEAM") -> str:
    factories.team(db, team)
    user = accounts.create_user(db, email, role=role, team_codes=[team])
    _row, token = accounts.create_token(db, user)
    db.commit()
    return token


def _get(client: FlaskClient, token: str, path: str = PATH):  # type: ignore[no-untyped-def]
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_a_team_system_gets_the_live_plan_as_a_valid_bundle(
    client: FlaskClient, db: Session
) -> None:
    _land(db)
    response = _get(client, _token(db, "epr@example.org", "mentor"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    assert "fhirVersion=4.0" in response.headers["Content-Type"]
    assert FHIR_VERSION == "4.0.1"
    assert response.headers["Cache-Control"] == "no-store"
    bundle = response.get_json(force=True)
    validate_bundle(bundle)
    care_plan = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "CarePlan"
    )
    assert care_plan["category"][0]["coding"][0]["code"] == CRISIS_PLAN_CODE
    db.expire_all()
    (row,) = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "export", AuditEvent.channel == "api"
        )
    )
    assert row.person_ref == "TEST-TEAM/00001"
    assert row.detail == {"count": 1, "source": "fhir", "version": 1}


@pytest.mark.parametrize("role", ["police", "street_triage", "privacy_officer"])
def test_responders_and_other_roles_are_refused(
    client: FlaskClient, db: Session, role: str
) -> None:
    _land(db)
    assert _get(client, _token(db, f"{role}@example.org", role)).status_code == 403


def test_another_teams_system_finds_nothing_and_no_token_is_401(
    client: FlaskClient, db: Session
) -> None:
    _land(db)
    other = _token(db, "other@example.org", "mentor", team="OTHER-TEAM")
    assert _get(client, other).status_code == 404
    mine = _token(db, "epr@example.org", "lead_clinician")
    assert _get(client, mine, "/api/v1/plans/TEST-TEAM/99999/fhir").status_code == 404
    assert client.get(PATH).status_code == 401


def test_the_cli_exports_bundles_that_import_back_unchanged(
    runner: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    _land(db)
    out = tmp_path / "plans.ndjson"
    result = runner.invoke(args=["export", "--format", "fhir", "--output", str(out)])
    assert result.exit_code == 0, result.output
    (line,) = out.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["resourceType"] == "Bundle"
    (parsed,) = read_file(out)
    assert parsed.valid, parsed.problems
    assert parsed.document is not None
    assert parsed.document["person"]["nhs_number"] == "9434765919"
    result = runner.invoke(args=["import", str(out)])
    assert result.exit_code == 0, result.output
    assert "unchanged 1" in result.output or "1 unchanged" in result.output
