"""response-plan/2 on the pages: every new field round-trips through the mentor form,
the new responder kinds open plans, and the plan page leads with their advice."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from plans import drafts
from plans.models import PlanVersion, User
from tests.conftest import AuthActions
from tests.plans.test_response_plan_v2 import NEW_KINDS, v2_document
from tests.web.test_lookup import land, open_with_reason
from tests.web.test_mentor import _new_plan, plan_form, text_of


@pytest.fixture
def mentor(auth: AuthActions) -> User:
    return auth.login(role="mentor", teams=("TEST-TEAM",))


def test_every_v2_field_survives_a_save_through_the_form(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    version = _new_plan(client, db)
    full = v2_document()
    full["person"]["ref"] = version.person.ref
    full["person"]["nhs_number"] = "9434765919"
    for key in ("approved_by", "approved_on"):
        full["plan"].pop(key)
    full["plan"]["status"] = "draft"
    db.get(PlanVersion, version.id).document = full  # type: ignore[union-attr]
    db.commit()
    page = client.get(f"/mentor/drafts/{version.id}/edit").get_data(as_text=True)
    for label in (
        "Please do",
        "Early warning signs",
        "Dependants",
        "Mental Health Act",
        "Capacity for named decisions",
        "GP practice",
        "Who supported me to write it",
        "Advice for Street triage",
    ):
        assert label in text_of(page), label
    form = {**plan_form(page), "action": "save"}
    response = client.post(f"/mentor/drafts/{version.id}/edit", data=form)
    assert response.status_code == 303, text_of(response.get_data(as_text=True))
    db.expire_all()
    saved = db.get(PlanVersion, version.id)
    assert saved is not None
    for part in ("person", "plan"):
        changes = drafts.diff_documents(full[part], saved.document[part])
        assert changes == [], [(c.pointer, c.before, c.after) for c in changes]


def test_a_wrong_ods_code_is_refused_before_submission(
    client: FlaskClient, db: Session, mentor: User
) -> None:
    version = _new_plan(client, db, **{"plan.gp_practice.ods_code": "not a code"})
    problems = drafts.draft_problems(version, today=version.created_at.date())
    assert any(
        p.startswith("GP practice › ODS code") and "such as J82001" in p
        for p in problems
    ), problems


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_a_new_kind_of_responder_opens_a_plan_led_by_their_advice(
    client: FlaskClient, auth: AuthActions, db: Session, kind: str
) -> None:
    land(db, v2_document())
    auth.login(role=kind)
    assert client.get("/search?q=alexandra").status_code == 200
    assert open_with_reason(client).status_code == 303
    page = client.get("/plans/TEST-TEAM/00001").get_data(as_text=True)
    words = text_of(page)
    assert words.index(f"ADVICE-{kind}") < words.index("Summary")
    assert words.index("Please do, please don't") < words.index("Early warning signs")
    assert "Advice only: always assess and treat" in page
