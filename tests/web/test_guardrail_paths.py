"""The guardrails on every path that writes a plan: the desk, the web import, the CLI.

The API and the chat bots only read plans, so they have no path to guard.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans.models import PlanVersion
from tests.conftest import AuthActions
from tests.plans import factories
from tests.web.test_mentor import TEAM, _new_plan, text_of

# Phrasings the first engine let through, one per structure it learned since.
WITHHOLDING = [
    "Paramedics are requested not to transport him.",
    "Doctors are advised against treating him.",
    "She is not suitable for admission.",
    "Crews should neither assess nor treat her.",
    "Staff are not permitted to treat him.",
]
MANDATES = [
    "All staff must comply with these directions.",
    "This guidance is binding on ambulance crews.",
]


@pytest.mark.parametrize("words", WITHHOLDING)
def test_the_desk_refuses_to_submit_withholding(
    client: FlaskClient, db: Session, auth: AuthActions, words: str
) -> None:
    auth.login(role="mentor", teams=(TEAM,))
    version = _new_plan(client, db, **{"plan.advice_for.ambulance": words})
    response = client.post(f"/mentor/drafts/{version.id}/submit")
    assert response.status_code == 303
    page = text_of(client.get(f"/mentor/drafts/{version.id}").get_data(as_text=True))
    assert "withholds care" in page
    db.expire_all()
    stored = db.get(PlanVersion, version.id)
    assert stored is not None and stored.submitted_at is None


def _live_document(words: str) -> dict[str, Any]:
    return factories.document(advice_for={"ambulance": words})


@pytest.mark.parametrize("words", WITHHOLDING + MANDATES)
def test_the_web_import_keeps_findings_as_drafts(
    client: FlaskClient, db: Session, auth: AuthActions, words: str
) -> None:
    auth.login(role="mentor", teams=("TEST-TEAM",))
    response = client.post(
        "/mentor/import", data={"text": json.dumps(_live_document(words))}
    )
    assert response.status_code == 200
    page = text_of(response.get_data(as_text=True))
    assert re.search(
        r"draft of TEST-TEAM/00001, version 1 \(\d flagged phrases?\)", page
    )
    statuses = db.scalars(select(PlanVersion.status)).all()
    assert statuses == ["draft"]


@pytest.mark.parametrize("words", WITHHOLDING + MANDATES)
def test_the_cli_import_keeps_findings_as_drafts(
    runner: Any, db: Session, tmp_path: Any, words: str
) -> None:
    path = tmp_path / "plans.jsonl"
    path.write_text(json.dumps(_live_document(words)) + "\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "drafted 1" in result.stdout
    assert f"{path}:1 /plan/advice_for/ambulance: warning: kept as a draft" in (
        result.stderr
    )
    assert db.scalars(select(PlanVersion.status)).all() == ["draft"]
